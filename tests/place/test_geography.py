"""needskit.place.geography: tiny hand-drawn squares first, then the real shipped Gloucestershire data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from needskit.errors import GeographyError, SchemaError
from needskit.pipeline import police_crimes
from needskit.place import geography as geo

CHELTENHAM = "E07000078"
GLOUCESTERSHIRE = "E10000013"


# ------------------------------------------------------------------ points on hand-drawn squares


def _points(coords):
    return pd.DataFrame({"id": range(len(coords)), "x": [c[0] for c in coords], "y": [c[1] for c in coords]})


def test_assign_points_within_boundary_nearest_unmatched(squares):
    x0, y0 = 394_000, 222_000
    df = _points(
        [
            (x0 + 500, y0 + 500),  # inside A
            (x0 + 1500, y0 + 1500),  # inside D
            (x0 + 1000, y0 + 500),  # on the A|B edge -> lowest code, A
            (x0 + 1000, y0 + 1000),  # the corner of all four -> A
            (x0 + 1500, y0 + 1000),  # on the B|D edge -> B
            (x0 - 50, y0 + 500),  # 50 m off A's outer edge -> nearest A
            (x0 - 5000, y0),  # 5 km away -> unmatched
            (np.nan, np.nan),  # no location -> unmatched, kept
        ]
    )
    before = df.copy()
    out = geo.assign_points(df, x="x", y="y", crs="EPSG:27700", areas=squares, tolerance=100)
    pd.testing.assert_frame_equal(df, before)  # input untouched
    assert list(out["id"]) == list(df["id"])  # same rows, same order
    assert out["area_code"].tolist()[:6] == ["A", "D", "A", "A", "B", "A"]
    assert out["area_code"].isna().tolist()[6:] == [True, True]
    assert out["match"].tolist() == ["within", "within", "within", "within", "within", "nearest", "unmatched", "unmatched"]


def test_assign_points_counts_a_boundary_point_once(squares):
    x0, y0 = 394_000, 222_000
    df = _points([(x0 + 1000, y0 + 250)] * 10)
    out = geo.assign_points(df, x="x", y="y", crs="EPSG:27700", areas=squares)
    assert out["area_code"].value_counts().to_dict() == {"A": 10}


def test_assign_points_reprojects_lonlat(squares):
    # the centre of square A, expressed in WGS84
    lonlat = gpd.GeoSeries(gpd.points_from_xy([394_500], [222_500]), crs="EPSG:27700").to_crs(4326)
    df = pd.DataFrame({"lon": lonlat.x, "lat": lonlat.y})
    out = geo.assign_points(df, x="lon", y="lat", crs="EPSG:4326", areas=squares)
    assert out["area_code"].tolist() == ["A"]


def test_assign_points_refuses_swapped_lonlat(squares):
    df = pd.DataFrame({"lon": [51.9, 51.8], "lat": [-2.1, -2.2]})
    with pytest.raises(GeographyError, match="swapped"):
        geo.assign_points(df, x="lon", y="lat", areas=squares)


def test_assign_points_refuses_grid_metres_declared_as_degrees(squares):
    df = pd.DataFrame({"e": [394_500.0], "n": [222_500.0]})
    with pytest.raises(GeographyError, match="British National Grid"):
        geo.assign_points(df, x="e", y="n", crs="EPSG:4326", areas=squares)


def test_assign_points_refuses_degrees_declared_as_grid(squares):
    df = pd.DataFrame({"lon": [-2.1], "lat": [51.9]})
    with pytest.raises(GeographyError, match="EPSG:4326"):
        geo.assign_points(df, x="lon", y="lat", crs="EPSG:27700", areas=squares)


def test_assign_points_refuses_points_outside_great_britain(squares):
    df = pd.DataFrame({"lon": [2.35, 2.36], "lat": [48.85, 48.86]})  # Paris
    with pytest.raises(GeographyError, match="outside Great Britain"):
        geo.assign_points(df, x="lon", y="lat", areas=squares)


def test_assign_points_needs_a_crs(squares):
    with pytest.raises(GeographyError, match="no CRS"):
        geo.assign_points(_points([(1, 1)]), x="x", y="y", crs=None, areas=squares)
    no_crs = squares.set_crs(None, allow_override=True)
    with pytest.raises(GeographyError, match="has no CRS"):
        geo.assign_points(_points([(394_500, 222_500)]), x="x", y="y", crs="EPSG:27700", areas=no_crs)


def test_assign_points_bad_columns(squares):
    with pytest.raises(SchemaError, match="not a column"):
        geo.assign_points(_points([(1, 1)]), x="lon", y="y", areas=squares)
    df = pd.DataFrame({"x": ["394500", "east"], "y": [222_500, 222_500]})
    with pytest.raises(SchemaError, match="not numeric"):
        geo.assign_points(df, x="x", y="y", crs="EPSG:27700", areas=squares)
    taken = _points([(394_500, 222_500)]).assign(area_code="old")
    with pytest.raises(SchemaError, match="already exists"):
        geo.assign_points(taken, x="x", y="y", crs="EPSG:27700", areas=squares)


# ------------------------------------------------------------------ apportion


def test_apportion_methods_example(squares):
    # methods.md: source A (100) split 40/60 by area between T1/T2, and B (50) wholly in T2.
    x0, y0 = 394_000, 222_000
    sources = gpd.GeoDataFrame(
        {"area_code": ["A", "B"]},
        geometry=[box(x0, y0, x0 + 1000, y0 + 1000), box(x0 + 1000, y0, x0 + 2000, y0 + 1000)],
        crs="EPSG:27700",
    )
    targets = gpd.GeoDataFrame(
        {"area_code": ["T1", "T2"]},
        geometry=[box(x0, y0, x0 + 400, y0 + 1000), box(x0 + 400, y0, x0 + 2000, y0 + 1000)],
        crs="EPSG:27700",
    )
    counts = pd.DataFrame({"area_code": ["A", "B"], "n": [100, 50]})
    out = geo.apportion(counts, source_areas=sources, target_areas=targets, value_cols="n")
    assert out.set_index("area_code")["n"].to_dict() == pytest.approx({"T1": 40.0, "T2": 110.0})
    assert out["n"].sum() == pytest.approx(150.0)
    assert out.attrs["outside"]["n"] == pytest.approx(0.0)


def test_apportion_by_points_and_outside(squares):
    x0, y0 = 394_000, 222_000
    target = gpd.GeoDataFrame({"area_code": ["T"]}, geometry=[box(x0, y0, x0 + 500, y0 + 2000)], crs="EPSG:27700")
    # three weight points in A: two inside T (west half), one outside
    points = gpd.GeoDataFrame(
        {"weight": [1.0, 1.0, 1.0]},
        geometry=gpd.points_from_xy([x0 + 100, x0 + 200, x0 + 900], [y0 + 100, y0 + 200, y0 + 900]),
        crs="EPSG:27700",
    )
    counts = pd.DataFrame({"area_code": ["A", "C"], "n": [90.0, 10.0]})
    out = geo.apportion(counts, source_areas=squares, target_areas=target, value_cols="n", weights=points)
    # A goes by its points (2 of 3 inside T); C has no points and falls back to area (half)
    assert out["n"].iloc[0] == pytest.approx(60.0 + 5.0)
    assert out.attrs["outside"]["n"] == pytest.approx(35.0)
    assert out.attrs["method"] == {"points": 1, "area": 1}


def test_apportion_refuses_crs_problems(squares):
    counts = pd.DataFrame({"area_code": ["A"], "n": [1]})
    with pytest.raises(GeographyError, match="CRS differ"):
        geo.apportion(counts, source_areas=squares, target_areas=squares.to_crs(3857), value_cols="n")
    lonlat = squares.to_crs(4326)
    with pytest.raises(GeographyError, match="degrees"):
        geo.apportion(counts, source_areas=lonlat, target_areas=lonlat, value_cols="n")
    with pytest.raises(GeographyError, match="no CRS"):
        geo.apportion(counts, source_areas=squares.set_crs(None, allow_override=True), target_areas=squares, value_cols="n")
    with pytest.raises(GeographyError, match="not among the source areas"):
        geo.apportion(pd.DataFrame({"area_code": ["Z"], "n": [1]}), source_areas=squares, target_areas=squares, value_cols="n")
    with pytest.raises(SchemaError, match="negative"):
        geo.apportion(pd.DataFrame({"area_code": ["A"], "n": [-1]}), source_areas=squares, target_areas=squares, value_cols="n")


# ------------------------------------------------------------------ shipped areas and lookups


def test_shipped_lsoa_counts():
    assert len(geo.load_areas("lsoa", vintage=2011, within=CHELTENHAM)) == 75
    assert len(geo.load_areas("lsoa", vintage=2021, within=CHELTENHAM)) == 77
    assert len(geo.load_areas("lsoa", vintage=2011)) == 373
    assert len(geo.load_areas("lsoa", vintage=2021, within=GLOUCESTERSHIRE)) == 393
    districts = geo.load_areas("district")
    assert districts["area_name"].tolist() == ["Cheltenham", "Cotswold", "Forest of Dean", "Gloucester", "Stroud", "Tewkesbury"]
    assert str(districts.crs) == "EPSG:27700"


def test_every_lsoa_in_exactly_one_district():
    for vintage in (2011, 2021):
        lsoas = geo.load_areas("lsoa", vintage=vintage)
        table = geo.lookup("lsoa", "district", vintage=vintage)
        glos = table[table["lsoa_code"].isin(lsoas["area_code"])]
        assert len(glos) == len(lsoas)
        assert glos["lsoa_code"].is_unique
        assert set(glos["district_code"]) == set(geo.load_areas("district", vintage=vintage)["area_code"])


def test_shipped_levels_nest_and_tile():
    lsoas = geo.load_areas("lsoa")
    county = geo.load_areas("county")
    assert len(county) == 1 and county["area_code"].item() == GLOUCESTERSHIRE
    assert lsoas.area.sum() == pytest.approx(county.area.sum(), rel=1e-6)
    for level in ("msoa", "ward", "district"):
        assert geo.load_areas(level).area.sum() == pytest.approx(county.area.sum(), rel=1e-6)
    # 2021 LSOAs were built to the detailed 2011 outline: same county
    assert geo.load_areas("lsoa", vintage=2011).area.sum() == pytest.approx(lsoas.area.sum(), rel=1e-9)


def test_load_areas_errors():
    with pytest.raises(GeographyError, match="unknown level"):
        geo.load_areas("parish")
    with pytest.raises(GeographyError, match="unknown vintage"):
        geo.load_areas("lsoa", vintage=2015)
    with pytest.raises(GeographyError, match="not a district, county"):
        geo.load_areas("lsoa", within="E99999999")
    with pytest.raises(GeographyError, match="no shipped boundaries"):
        geo.load_areas("lsoa", within="E07000136")  # Boston, Lincolnshire
    with pytest.raises(GeographyError, match="is not inside"):
        geo.load_areas("county", within=CHELTENHAM)


def test_lookup_shapes_and_errors():
    table = geo.lookup("lsoa", "county")
    assert list(table.columns) == ["lsoa_code", "county_code", "county_name"]
    assert len(table) == 35_672  # England and Wales, 2021
    assert table.loc[table["lsoa_code"] == "E01022100", "county_code"].item() == GLOUCESTERSHIRE
    assert len(geo.lookup("ward", "district")) > 7_000
    with pytest.raises(GeographyError, match="up the hierarchy"):
        geo.lookup("district", "lsoa")
    with pytest.raises(GeographyError, match="do not nest"):
        geo.lookup("msoa", "ward")


# ------------------------------------------------------------------ aggregate


def _lsoa_counts(vintage=2021):
    lsoas = geo.load_areas("lsoa", vintage=vintage)
    rng = np.random.default_rng(1)
    return pd.DataFrame({"area_code": lsoas["area_code"], "n": rng.integers(0, 50, len(lsoas))})


def test_aggregate_conserves_totals_at_every_level():
    counts = _lsoa_counts()
    for level in ("msoa", "ward", "district", "county"):
        out = geo.aggregate(counts, to=level, value_cols="n")
        assert out["n"].sum() == counts["n"].sum()
        assert set(out["level"]) == {level}
        assert out["area_name"].notna().all()
    assert len(geo.aggregate(counts, to="district", value_cols="n")) == 6


def test_aggregate_keys_and_weighted_mean():
    counts = _lsoa_counts()
    twice = pd.concat([counts.assign(period="2024-01"), counts.assign(period="2024-02", n=counts["n"] * 2)])
    out = geo.aggregate(twice, to="county", value_cols="n")
    assert out.set_index("period")["n"].to_dict() == {"2024-01": counts["n"].sum(), "2024-02": 2 * counts["n"].sum()}
    scored = counts.drop(columns="n").assign(score=np.where(counts.index % 2, 10.0, 20.0), pop=np.where(counts.index % 2, 1.0, 3.0))
    out = geo.aggregate(scored, to="county", value_cols=["score", "pop"], how={"score": "mean:pop", "pop": "sum"})
    expected = (scored["score"] * scored["pop"]).sum() / scored["pop"].sum()
    assert out["score"].item() == pytest.approx(expected)


def test_aggregate_refuses_what_it_cannot_sum():
    counts = _lsoa_counts().assign(crime_rate=1.5)
    with pytest.raises(SchemaError, match="non-additive"):
        geo.aggregate(counts, to="district", value_cols=["n", "crime_rate"])
    with pytest.raises(SchemaError, match="neither values nor keys"):
        geo.aggregate(counts, to="district", value_cols="n")
    with pytest.raises(SchemaError, match="unknown method"):
        geo.aggregate(counts, to="district", value_cols=["crime_rate"], how={"crime_rate": "median"})


def test_aggregate_unknown_codes_name_the_vintage():
    old = _lsoa_counts(vintage=2011)
    with pytest.raises(GeographyError, match="vintage=2011"):
        geo.aggregate(old, to="district", value_cols="n", from_level="lsoa", vintage=2021)
    bad = pd.DataFrame({"area_code": ["E01022100", "NOTACODE"], "n": [1, 2]})
    with pytest.raises(GeographyError, match="NOTACODE"):
        geo.aggregate(bad, to="district", value_cols="n", from_level="lsoa")
    missing = pd.DataFrame({"area_code": ["E01022100", None], "n": [1, 2]})
    with pytest.raises(GeographyError, match="missing area codes"):
        geo.aggregate(missing, to="district", value_cols="n", from_level="lsoa")


# ------------------------------------------------------------------ vintages


def test_convert_vintage_conserves_gloucestershire_population_exactly():
    pop = pd.read_csv(geo.raw_path("population/mye2020_lsoa11_persons_syoa.csv.gz"))
    glos = pop[pop["lsoa11_code"].isin(geo.load_areas("lsoa", vintage=2011)["area_code"])]
    glos = glos[["lsoa11_code", "total_population", "0", "90+"]]
    out = geo.convert_vintage(glos, code_col="lsoa11_code", value_cols=["total_population", "0", "90+"])
    assert len(out) == 393
    assert out["total_population"].sum() == glos["total_population"].sum() == 640_650
    assert out["90+"].sum() == glos["90+"].sum()
    assert pd.api.types.is_integer_dtype(out["total_population"])
    report = out.attrs["conversion_report"]
    assert report["U"] == {"rows_in": 354, "rows_out": 354}
    assert report["S"] == {"rows_in": 19, "rows_out": 39}
    # children of a split share their parent's count exactly
    parent = glos.set_index("lsoa11_code").loc["E01022158", "total_population"]
    assert out.set_index("lsoa11_code").loc[["E01034777", "E01034778"], "total_population"].sum() == parent


def test_convert_vintage_back_and_weights():
    counts = _lsoa_counts(vintage=2021).rename(columns={"area_code": "code"})
    back = geo.convert_vintage(counts, code_col="code", value_cols="n", from_vintage=2021, to_vintage=2011)
    assert len(back) == 373 and back["n"].sum() == counts["n"].sum()
    assert set(back["conversion"]) == {"U", "M"}
    floats = counts.assign(n=counts["n"].astype(float))
    by_area = geo.convert_vintage(floats.rename(columns={"code": "c"}), code_col="c", value_cols="n", from_vintage=2021, to_vintage=2011, weights="area")
    assert by_area["n"].sum() == pytest.approx(floats["n"].sum())
    with pytest.raises(GeographyError, match="same"):
        geo.convert_vintage(counts, code_col="code", value_cols="n", from_vintage=2021, to_vintage=2021)
    with pytest.raises(GeographyError, match="vintage=2021"):
        geo.convert_vintage(counts, code_col="code", value_cols="n", from_vintage=2011)


# ------------------------------------------------------------------ postcodes


def test_geocode_postcodes_normalises_and_marks():
    df = pd.DataFrame({"pc": ["gl503pp", "GL50 3PP", " GL50  3PP ", "SW1A 1AA", "nonsense", None, "GL1 9AB"]})
    out = geo.geocode_postcodes(df, postcode_col="pc")
    assert len(out) == len(df)
    assert out["postcode_clean"].tolist()[:3] == ["GL50 3PP"] * 3
    assert out["easting"].iloc[0] == out["easting"].iloc[2] == 394_619
    assert out["postcode_status"].tolist() == ["found", "found", "found", "not_found", "invalid", "missing", "no_coordinates"]
    with pytest.raises(SchemaError, match="not a column"):
        geo.geocode_postcodes(df, postcode_col="postcode")


# ------------------------------------------------------------------ custom places


def test_custom_places_from_lsoas_polygons_and_postcodes():
    counts = _lsoa_counts()
    codes = counts["area_code"].iloc[:3].tolist()
    places = geo.places_from_lsoas({"North patch": codes[:2], "South patch": codes[2:]}, name="patches")
    out = geo.aggregate(counts, to=places, value_cols="n")
    assert out.set_index("area_code")["n"].to_dict() == {
        "north-patch": counts["n"].iloc[:2].sum(), "south-patch": counts["n"].iloc[2],
    }
    assert out["level"].unique().tolist() == ["patches"]
    assert len(geo.load_areas(places)) == 2

    # a polygon that is exactly one LSOA takes all of it
    lsoa = geo.load_areas("lsoa").iloc[[10]]
    poly = geo.places_from_polygons(lsoa.assign(area_code="P1"), weights="area")
    assert poly.members.set_index("lsoa_code")["weight"].max() == pytest.approx(1.0, abs=1e-6)

    pcs = geo.places_from_postcodes({"Town centre": ["GL50 3PP", "gl503pq"]})
    assert pcs.members["weight"].between(0, 1).all() and len(pcs.areas) == 1
    with pytest.raises(GeographyError, match="not in the shipped postcode directory"):
        geo.places_from_postcodes({"Bad": ["SW1A 1AA"]})
    with pytest.raises(GeographyError, match="not made of shipped LSOAs"):
        geo.places_from_lsoas({"Bad": ["E01000001"]})


# ------------------------------------------------------------------ the police.uk check


def test_police_crimes_agree_with_police_uk_lsoa():
    crimes = police_crimes()
    out = geo.assign_points(crimes, x="Longitude", y="Latitude", crs="EPSG:4326", level="lsoa", vintage=2021)
    assert len(out) == len(crimes) == 19_869
    lsoas = set(geo.load_areas("lsoa")["area_code"])
    county = out[out["LSOA code"].isin(lsoas) & out["Longitude"].notna()]
    agreement = (county["area_code"] == county["LSOA code"]).mean()
    print(f"\npolice.uk LSOA agreement: {agreement:.2%} of {len(county):,} located Gloucestershire crimes")
    assert agreement >= 0.96
    # nothing is lost: no-location rows are kept as unmatched
    assert (out.loc[crimes["Longitude"].isna(), "match"] == "unmatched").all()

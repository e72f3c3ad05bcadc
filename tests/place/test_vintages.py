"""needskit.place.vintages: a hand-drawn change lookup first, then the shipped Gloucestershire data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from needskit.errors import GeographyError, SchemaError
from needskit.place import Geography, convert_vintage, load_areas
from needskit.place.geography import LEVELS

# ------------------------------------------------------------------ a hand-drawn change lookup
#
#   2011             2021
#   E01100001  U ->  E01000001
#   E01100002  S ->  E01000002, E01000003
#   E01100003  M ->  E01000004  <- M  E01100004
#   E01100005  X ->  E01000005, E01000006  <- X  E01100006

CHANGES = pd.DataFrame(
    [
        ("E01100001", "E01000001", "U"),
        ("E01100002", "E01000002", "S"),
        ("E01100002", "E01000003", "S"),
        ("E01100003", "E01000004", "M"),
        ("E01100004", "E01000004", "M"),
        ("E01100005", "E01000005", "X"),
        ("E01100005", "E01000006", "X"),
        ("E01100006", "E01000006", "X"),
    ],
    columns=["lsoa11_code", "lsoa21_code", "change_code"],
)
POP21 = pd.Series(
    {
        "E01000001": 100.0,
        "E01000002": 300.0,
        "E01000003": 100.0,
        "E01000004": 50.0,
        "E01000005": 10.0,
        "E01000006": 30.0,
    }
)
POP11 = pd.Series(
    {
        "E01100001": 90.0,
        "E01100002": 400.0,
        "E01100003": 10.0,
        "E01100004": 30.0,
        "E01100005": 40.0,
        "E01100006": 5.0,
    }
)


def _hierarchy(codes):
    """One district's hierarchy of these LSOAs (every other level the same area)."""
    table = pd.DataFrame({"lsoa": codes, "lsoa_name": codes})
    for level in LEVELS[1:]:
        table[level], table[f"{level}_name"] = f"{level}-1", f"{level} one"
    return table


@pytest.fixture
def changing():
    calls = []

    def changes():
        calls.append("changes")
        return CHANGES

    geography = Geography(
        hierarchies={2011: _hierarchy(list(POP11.index)), 2021: _hierarchy(list(POP21.index))},
        changes=changes,
        population={2021: POP21, 2011: lambda: POP11},
    )
    geography.calls = calls
    return geography


def test_convert_vintage_paths_and_exact_integers(changing):
    counts = pd.DataFrame({"code": POP11.index, "n": [10, 9, 5, 6, 8, 4]})
    out = convert_vintage(counts, code_col="code", value_cols="n", geography=changing)
    assert out.set_index("code")["n"].to_dict() == {
        "E01000001": 10,  # unchanged
        "E01000002": 7,
        "E01000003": 2,  # 9 split 300:100 (6.75, 2.25), largest remainder
        "E01000004": 11,  # merged
        "E01000005": 2,
        "E01000006": 6 + 4,  # irregular: 8 split 10:30, then summed with 4
    }
    assert out["n"].dtype == counts["n"].dtype and out["n"].sum() == counts["n"].sum()
    assert out.set_index("code")["conversion"].to_dict() == {
        "E01000001": "U",
        "E01000002": "S",
        "E01000003": "S",
        "E01000004": "M",
        "E01000005": "X",
        "E01000006": "X",
    }
    assert out.attrs["conversion_report"] == {
        "U": {"rows_in": 1, "rows_out": 1},
        "S": {"rows_in": 1, "rows_out": 2},
        "M": {"rows_in": 2, "rows_out": 1},
        "X": {"rows_in": 2, "rows_out": 2},
    }
    # the change lookup is read once, on first use
    convert_vintage(counts, code_col="code", value_cols="n", geography=changing, path_col=None)
    assert changing.calls == ["changes"]


def test_convert_vintage_weights_keys_and_intensive_values(changing):
    counts = pd.DataFrame({"code": ["E01100002", "E01100002"], "period": ["2020", "2021"], "n": [8.0, 4.0]})
    equal = convert_vintage(counts, code_col="code", value_cols="n", geography=changing, weights="equal")
    assert equal.set_index(["code", "period"])["n"].to_dict() == {
        ("E01000002", "2020"): 4.0,
        ("E01000002", "2021"): 2.0,
        ("E01000003", "2020"): 4.0,
        ("E01000003", "2021"): 2.0,
    }
    series = convert_vintage(
        counts,
        code_col="code",
        value_cols="n",
        geography=changing,
        weights=pd.Series({"E01000002": 1, "E01000003": 3}),
    )
    assert series.loc[series["period"] == "2020", "n"].tolist() == [2.0, 6.0]
    # intensive values: split children inherit, a merge takes the population-weighted mean
    scores = pd.DataFrame({"code": ["E01100002", "E01100003", "E01100004"], "score": [7.0, 1.0, 5.0]})
    out = convert_vintage(
        scores, code_col="code", value_cols="score", geography=changing, intensive=True
    ).set_index("code")
    assert out.loc[["E01000002", "E01000003"], "score"].tolist() == [7.0, 7.0]
    assert out.loc["E01000004", "score"] == pytest.approx((1.0 * 10 + 5.0 * 30) / 40)
    # 2021 -> 2011 reverses the roles: the split becomes a merge
    back = convert_vintage(
        pd.DataFrame({"code": ["E01000002", "E01000003"], "n": [3, 4]}),
        code_col="code",
        value_cols="n",
        geography=changing,
        from_vintage=2021,
        to_vintage=2011,
    )
    assert back[["code", "n", "conversion"]].values.tolist() == [["E01100002", 7, "M"]]


def test_convert_vintage_errors(changing, toy_geography):
    counts = pd.DataFrame({"code": ["E01100002"], "n": [8]})
    with pytest.raises(
        GeographyError, match="no LSOA change lookup.*reference.lsoa_changes in conf/partnership.yml"
    ):
        convert_vintage(
            counts.assign(code="E01000002"),
            code_col="code",
            value_cols="n",
            geography=toy_geography,
            from_vintage=2021,
            to_vintage=2011,
        )
    no_pop = Geography(
        hierarchies={2011: _hierarchy(list(POP11.index)), 2021: _hierarchy(list(POP21.index))},
        changes=CHANGES,
    )
    with pytest.raises(
        GeographyError, match="no 2021 LSOA populations.*reference.population in conf/partnership.yml"
    ):
        convert_vintage(counts, code_col="code", value_cols="n", geography=no_pop)
    with pytest.raises(GeographyError, match="no lsoa boundaries of the 2021 geography"):
        convert_vintage(counts, code_col="code", value_cols="n", geography=changing, weights="area")
    with pytest.raises(GeographyError, match="no weight for target LSOAs.*'E01000003'"):
        convert_vintage(
            counts, code_col="code", value_cols="n", geography=changing, weights=pd.Series({"E01000002": 1.0})
        )
    with pytest.raises(GeographyError, match="unknown weights"):
        convert_vintage(counts, code_col="code", value_cols="n", geography=changing, weights="households")
    with pytest.raises(SchemaError, match="output column already exists"):
        convert_vintage(
            counts.assign(conversion="x"), code_col="code", value_cols="n", geography=changing, by=[]
        )
    with pytest.raises(SchemaError, match="names columns that are not value columns"):
        convert_vintage(counts, code_col="code", value_cols="n", geography=changing, intensive="score")
    with pytest.raises(GeographyError, match="unknown vintage"):
        convert_vintage(counts, code_col="code", value_cols="n", geography=changing, to_vintage=2031)


# ------------------------------------------------------------------ the shipped example


def _lsoa_counts(geography, vintage=2021):
    lsoas = load_areas("lsoa", geography=geography, vintage=vintage)
    rng = np.random.default_rng(1)
    return pd.DataFrame({"area_code": lsoas["area_code"], "n": rng.integers(0, 50, len(lsoas))})


def test_convert_vintage_conserves_gloucestershire_population_exactly(shipped_catalog, shipped_geography):
    geo = shipped_geography
    (path,) = shipped_catalog["population_mye2020"].files()
    pop = pd.read_csv(path)
    glos = pop[pop["lsoa11_code"].isin(load_areas("lsoa", geography=geo, vintage=2011)["area_code"])]
    glos = glos[["lsoa11_code", "total_population", "0", "90+"]]
    out = convert_vintage(
        glos, code_col="lsoa11_code", value_cols=["total_population", "0", "90+"], geography=geo
    )
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


def test_convert_vintage_back_and_weights(shipped_geography):
    geo = shipped_geography
    counts = _lsoa_counts(geo, vintage=2021).rename(columns={"area_code": "code"})
    back = convert_vintage(
        counts, code_col="code", value_cols="n", geography=geo, from_vintage=2021, to_vintage=2011
    )
    assert len(back) == 373 and back["n"].sum() == counts["n"].sum()
    assert set(back["conversion"]) == {"U", "M"}
    floats = counts.assign(n=counts["n"].astype(float))
    by_area = convert_vintage(
        floats.rename(columns={"code": "c"}),
        code_col="c",
        value_cols="n",
        geography=geo,
        from_vintage=2021,
        to_vintage=2011,
        weights="area",
    )
    assert by_area["n"].sum() == pytest.approx(floats["n"].sum())
    with pytest.raises(GeographyError, match="same"):
        convert_vintage(
            counts, code_col="code", value_cols="n", geography=geo, from_vintage=2021, to_vintage=2021
        )
    with pytest.raises(GeographyError, match="vintage=2021"):
        convert_vintage(counts, code_col="code", value_cols="n", geography=geo, from_vintage=2011)

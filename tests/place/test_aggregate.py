"""needskit.place.aggregate: the hand-drawn toy geography first, then the shipped Gloucestershire data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from needskit.errors import GeographyError, SchemaError
from needskit.place import aggregate, load_areas, places_from_lsoas

# ------------------------------------------------------------------ the toy geography


def _toy_counts():
    codes = [f"E010000{k:02d}" for k in range(1, 11)]
    return pd.DataFrame({"area_code": codes, "n": range(1, 11)})


def test_aggregate_toy_levels(toy_geography):
    counts = _toy_counts()
    out = aggregate(counts, to="district", value_cols="n", geography=toy_geography)
    assert out[["area_code", "area_name", "level", "n"]].values.tolist() == [
        ["E06000001", "Unitown", "district", 7 + 8 + 9 + 10],
        ["E07000001", "Northtown", "district", 1 + 2 + 3 + 4],
        ["E07000002", "Southtown", "district", 5 + 6],
    ]
    county = aggregate(counts, to="county", value_cols="n", geography=toy_geography)
    assert county.set_index("area_code")["n"].to_dict() == {"E06000001": 34, "E10000001": 21}
    # from wards (inferred) to counties, and a level onto itself
    wards = aggregate(counts, to="ward", value_cols="n", geography=toy_geography)
    again = aggregate(wards, to="county", value_cols="n", geography=toy_geography, by=[])
    assert again.set_index("area_code")["n"].to_dict() == {"E06000001": 34, "E10000001": 21}
    same = aggregate(wards, to="ward", value_cols="n", geography=toy_geography, by=[])
    assert same["n"].tolist() == wards["n"].tolist()


def test_aggregate_min_max_mean(toy_geography):
    counts = _toy_counts().assign(
        low=lambda d: d["n"], high=lambda d: d["n"], avg=lambda d: d["n"].astype(float)
    )
    out = aggregate(
        counts,
        to="district",
        value_cols=["low", "high", "avg"],
        how={"low": "min", "high": "max", "avg": "mean"},
        geography=toy_geography,
        by=[],
    ).set_index("area_code")
    assert out.loc["E07000001", ["low", "high", "avg"]].tolist() == [1, 4, 2.5]
    with pytest.raises(SchemaError, match="names columns that are not in value_cols"):
        aggregate(counts, to="district", value_cols="n", how={"avg": "mean"}, geography=toy_geography, by=[])
    with pytest.raises(SchemaError, match="unknown method"):
        aggregate(
            counts, to="district", value_cols="avg", how={"avg": "max:n"}, geography=toy_geography, by=[]
        )


def test_aggregate_onto_custom_places(toy_geography):
    places = places_from_lsoas(
        {"North end": ["E01000001", "E01000002"], "Across": ["E01000004", "E01000005"]},
        geography=toy_geography,
        name="patches",
    )
    out = aggregate(_toy_counts(), to=places, value_cols="n", geography=toy_geography)
    assert out[["area_code", "area_name", "level", "n"]].values.tolist() == [
        ["across", "Across", "patches", 4 + 5],
        ["north-end", "North end", "patches", 1 + 2],
    ]
    with pytest.raises(GeographyError, match="custom places are built from LSOAs"):
        aggregate(_toy_counts(), to=places, value_cols="n", from_level="ward", geography=toy_geography)
    with pytest.raises(GeographyError, match="not lsoa codes"):
        aggregate(
            pd.DataFrame({"area_code": ["E05000001"], "n": [1]}),
            to=places,
            value_cols="n",
            geography=toy_geography,
        )


# ------------------------------------------------------------------ the shipped example


def _lsoa_counts(geography, vintage=2021):
    lsoas = load_areas("lsoa", geography=geography, vintage=vintage)
    rng = np.random.default_rng(1)
    return pd.DataFrame({"area_code": lsoas["area_code"], "n": rng.integers(0, 50, len(lsoas))})


def test_aggregate_conserves_totals_at_every_level(shipped_geography):
    counts = _lsoa_counts(shipped_geography)
    for level in ("msoa", "ward", "district", "county"):
        out = aggregate(counts, to=level, value_cols="n", geography=shipped_geography)
        assert out["n"].sum() == counts["n"].sum()
        assert set(out["level"]) == {level}
        assert out["area_name"].notna().all()
    assert len(aggregate(counts, to="district", value_cols="n", geography=shipped_geography)) == 6


def test_aggregate_keys_and_weighted_mean(shipped_geography):
    counts = _lsoa_counts(shipped_geography)
    twice = pd.concat([counts.assign(period="2024-01"), counts.assign(period="2024-02", n=counts["n"] * 2)])
    out = aggregate(twice, to="county", value_cols="n", geography=shipped_geography)
    assert out.set_index("period")["n"].to_dict() == {
        "2024-01": counts["n"].sum(),
        "2024-02": 2 * counts["n"].sum(),
    }
    scored = counts.drop(columns="n").assign(
        score=np.where(counts.index % 2, 10.0, 20.0), pop=np.where(counts.index % 2, 1.0, 3.0)
    )
    out = aggregate(
        scored,
        to="county",
        value_cols=["score", "pop"],
        how={"score": "mean:pop", "pop": "sum"},
        geography=shipped_geography,
    )
    expected = (scored["score"] * scored["pop"]).sum() / scored["pop"].sum()
    assert out["score"].item() == pytest.approx(expected)


def test_aggregate_refuses_what_it_cannot_sum(shipped_geography):
    counts = _lsoa_counts(shipped_geography).assign(crime_rate=1.5)
    with pytest.raises(SchemaError, match="non-additive"):
        aggregate(counts, to="district", value_cols=["n", "crime_rate"], geography=shipped_geography)
    with pytest.raises(SchemaError, match="neither values nor keys"):
        aggregate(counts, to="district", value_cols="n", geography=shipped_geography)
    with pytest.raises(SchemaError, match="unknown method"):
        aggregate(
            counts,
            to="district",
            value_cols=["crime_rate"],
            how={"crime_rate": "median"},
            geography=shipped_geography,
        )


def test_aggregate_unknown_codes_name_the_vintage(shipped_geography):
    old = _lsoa_counts(shipped_geography, vintage=2011)
    with pytest.raises(GeographyError, match="vintage=2011"):
        aggregate(
            old, to="district", value_cols="n", from_level="lsoa", vintage=2021, geography=shipped_geography
        )
    bad = pd.DataFrame({"area_code": ["E01022100", "NOTACODE"], "n": [1, 2]})
    with pytest.raises(GeographyError, match="NOTACODE"):
        aggregate(bad, to="district", value_cols="n", from_level="lsoa", geography=shipped_geography)
    missing = pd.DataFrame({"area_code": ["E01022100", None], "n": [1, 2]})
    with pytest.raises(GeographyError, match="missing area codes"):
        aggregate(missing, to="district", value_cols="n", from_level="lsoa", geography=shipped_geography)

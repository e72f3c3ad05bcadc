"""needskit.place.postcodes: a hand-made postcode directory first, then the shipped ONS Postcode Directory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from needskit.errors import GeographyError, SchemaError
from needskit.place import Geography, geocode_postcodes, normalise_postcode


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("gl503pp", "GL50 3PP"),
        (" GL50  3PP ", "GL50 3PP"),
        ("sw1a1aa", "SW1A 1AA"),
        ("M1 1AE", "M1 1AE"),
        ("GL50", None),
        ("nonsense", None),
        ("", None),
        (None, None),
        (np.nan, None),
        (pd.NA, None),
    ],
)
def test_normalise_postcode(raw, clean):
    assert normalise_postcode(raw) == clean


def test_geocode_postcodes_on_a_hand_made_directory(toy_hierarchy):
    calls = []

    def directory():
        calls.append(1)
        return pd.DataFrame(
            {
                "postcode_clean": ["AB1 2CD", "AB1 2CE"],
                "easting": [394_500.0, np.nan],
                "northing": [222_500.0, np.nan],
            }
        )

    geography = Geography(hierarchies={2021: toy_hierarchy}, postcodes=directory)
    df = pd.DataFrame({"pc": ["ab12cd", "AB1 2CE", "ZZ9 9ZZ", "  ", "AB1"], "other": range(5)})
    out = geocode_postcodes(df, postcode_col="pc", geography=geography)
    assert out["postcode_status"].tolist() == ["found", "no_coordinates", "not_found", "missing", "invalid"]
    assert out["easting"].tolist()[0] == 394_500.0 and out["easting"].isna().tolist()[1:] == [True] * 4
    assert out["other"].tolist() == list(range(5))
    geocode_postcodes(df, postcode_col="pc", geography=geography)
    assert calls == [1]  # the directory is read once
    with pytest.raises(SchemaError, match="output columns already exist"):
        geocode_postcodes(out, postcode_col="pc", geography=geography)
    with pytest.raises(
        GeographyError, match="no postcode directory.*reference.postcodes in conf/partnership.yml"
    ):
        geocode_postcodes(df, postcode_col="pc", geography=Geography(hierarchies={2021: toy_hierarchy}))


def test_geocode_postcodes_says_which_postcodes_are_terminated(toy_hierarchy):
    directory = pd.DataFrame(
        {
            "postcode_clean": ["AB1 2CD", "AB1 2CE", "AB1 2CF"],
            "easting": [394_500.0, 394_600.0, np.nan],
            "northing": [222_500.0, 222_600.0, np.nan],
            "terminated": pd.array([False, True, pd.NA], dtype="boolean"),
        }
    )
    geography = Geography(hierarchies={2021: toy_hierarchy}, postcodes=directory)
    df = pd.DataFrame({"pc": ["AB1 2CD", "ab12ce", "AB1 2CF", "ZZ9 9ZZ", None]})
    out = geocode_postcodes(df, postcode_col="pc", geography=geography)
    assert out["postcode_status"].tolist() == ["found", "found", "no_coordinates", "not_found", "missing"]
    assert out["easting"].tolist()[1] == 394_600.0  # a terminated postcode keeps its grid reference
    assert out["postcode_terminated"].dtype == "boolean"
    assert out["postcode_terminated"].tolist() == [False, True, pd.NA, pd.NA, pd.NA]
    # a directory that does not say
    plain = Geography(hierarchies={2021: toy_hierarchy}, postcodes=directory.drop(columns="terminated"))
    assert geocode_postcodes(df, postcode_col="pc", geography=plain)["postcode_terminated"].isna().all()


def test_geocode_postcodes_without_a_directory_marks_or_raises(toy_hierarchy):
    bare = Geography(hierarchies={2021: toy_hierarchy}, hints={"postcodes": "drop a postcode file into pc/"})
    df = pd.DataFrame({"pc": ["ab12cd", "AB1", "", None]})
    with pytest.raises(GeographyError, match="no postcode directory.*drop a postcode file into pc/"):
        geocode_postcodes(df, postcode_col="pc", geography=bare)
    out = geocode_postcodes(df, postcode_col="pc", geography=bare, if_no_directory="mark")
    assert out["postcode_status"].tolist() == ["no_directory", "invalid", "missing", "missing"]
    assert out["postcode_clean"].tolist()[0] == "AB1 2CD" and out["easting"].isna().all()
    assert list(out.columns) == [
        "pc",
        "postcode_clean",
        "easting",
        "northing",
        "postcode_terminated",
        "postcode_status",
    ]
    with pytest.raises(SchemaError, match="if_no_directory: unknown choice.*got 'skip'"):
        geocode_postcodes(df, postcode_col="pc", geography=bare, if_no_directory="skip")  # type: ignore[arg-type]


def test_geocode_postcodes_normalises_and_marks(shipped_geography):
    df = pd.DataFrame({"pc": ["gl503pp", "GL50 3PP", " GL50  3PP ", "SW1A 1AA", "nonsense", None, "GL1 9AB"]})
    out = geocode_postcodes(df, postcode_col="pc", geography=shipped_geography)
    assert len(out) == len(df)
    assert out["postcode_clean"].tolist()[:3] == ["GL50 3PP"] * 3
    assert out["easting"].iloc[0] == out["easting"].iloc[2] == 394_619
    assert out["postcode_status"].tolist() == [
        "found",
        "found",
        "found",
        "not_found",
        "invalid",
        "missing",
        "no_coordinates",
    ]
    with pytest.raises(SchemaError, match="not a column"):
        geocode_postcodes(df, postcode_col="postcode", geography=shipped_geography)

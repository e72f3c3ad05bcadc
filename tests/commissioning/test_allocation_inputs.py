"""needskit.commissioning.allocation_inputs: need, population, budget, floors and caps refused with
a reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commissioning.cases import places
from needskit import commissioning as com
from needskit.errors import SchemaError


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"floor": 20_000}, "add up to more than the budget"),
        ({"cap": 10_000}, "add up to less than the budget"),
        ({"budget": 50_050, "unit": 100}, "is not a whole number of units"),
        ({"budget": -5}, "is not a sum that can be shared"),
        ({"budget": "lots"}, "is not a number"),
        ({"unit": 0}, "is not a positive number"),
        ({"floor": 150, "unit": 100}, "is not a whole number of units"),
        ({"floor": 5_000, "cap": 4_000}, "is above the cap"),
        ({"floor": -1}, "has negative values"),
        ({"floor": "nope"}, "floor='nope' is not a column"),
        ({"floor": True}, "is not a number"),
        ({"cap": [1, 2]}, "is not a number"),
        ({"need": "nope"}, "need='nope' is not a column"),
        ({"need": None}, "is required with a DataFrame"),
        ({"place": "code"}, "place='code' is not a column"),
        ({"population": "people"}, "population='people' is not a column"),
    ],
)
def test_allocate_errors(kwargs, match):
    arguments = {"budget": 50_000, "need": "need"} | kwargs
    with pytest.raises(SchemaError, match=match):
        com.allocate(places([3.0, 2.0, 1.0]), **arguments)


@pytest.mark.parametrize(
    ("df", "match"),
    [
        (places([3.0, -2.0, 1.0]), "has negative values"),
        (places([3.0, np.nan, 1.0]), "has missing or infinite values"),
        (places([0.0, 0.0, 0.0]), "is zero for every place"),
        (places(["a", "b", "c"]), "is not numeric"),
        (places([1.0, 2.0]).assign(area_code=["A", "A"]), "repeats places"),
        (places([1.0, 2.0]).assign(area_code=["A", None]), "missing place names"),
        (places([]), "has no places"),
        (places([1.0, 2.0], people=[0, 0]), "times population is zero for every place"),
        (places([1.0, 2.0], people=[10, -1]), "has negative values"),
    ],
)
def test_allocate_bad_need(df, match):
    population = "people" if "people" in df.columns else None
    with pytest.raises(SchemaError, match=match):
        com.allocate(df, budget=100, need="need", population=population)


def test_per_place_series_must_cover_every_place():
    need = pd.Series({"A": 1.0, "B": 2.0})
    with pytest.raises(SchemaError, match="does not match the places"):
        com.allocate(need, budget=100, floor=pd.Series({"A": 10}))
    with pytest.raises(SchemaError, match="does not match the places"):
        com.allocate(need, budget=100, cap=pd.Series({"A": 100, "B": 100, "Z": 1}))
    with pytest.raises(SchemaError, match="names a column but the need is a Series"):
        com.allocate(need, budget=100, floor="floor")
    with pytest.raises(SchemaError, match="must be a Series when the need is a Series"):
        com.allocate(need, budget=100, population="people")
    with pytest.raises(SchemaError, match="is not numeric"):
        com.allocate(need, budget=100, cap=pd.Series({"A": "x", "B": "y"}))
    with pytest.raises(SchemaError, match="is not a DataFrame"):
        com.allocate([1.0, 2.0], budget=100, need="need")

"""needskit.reports.classes: one classification (mapclassify) for both renderings."""

from __future__ import annotations

import re

import numpy as np
import pytest

from needskit.errors import SchemaError
from needskit.reports import classes


def test_classify_quantiles_natural_breaks_user_defined():
    q = classes.classify([1, 2, 3, 4, 5, 6], scheme="quantiles", k=3)
    assert q.counts == [2, 2, 2] and list(q.class_of) == [0, 0, 1, 1, 2, 2]
    assert q.bins.tolist() == pytest.approx([8 / 3, 13 / 3, 6.0])  # numpy percentiles, linear interpolation
    jenks = classes.classify([1, 2, 3, 10, 11, 12], scheme="natural_breaks", k=2)
    assert jenks.bins.tolist() == [3.0, 12.0] and jenks.counts == [3, 3]
    user = classes.classify([1, 5, 9, np.nan], scheme="user_defined", bins=[4, 10], fmt="{:.0f}")
    assert list(user.class_of) == [0, 1, 1, -1] and user.labels == ["1 \u2013 4", "4 \u2013 10"]
    assert len(set(q.colours)) == 3 and all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in q.colours)
    # fewer distinct values than classes: fewer classes, no error
    assert len(classes.classify([1, 1, 2, 2], k=5).labels) <= 2
    assert classes.classify([7, 7, 7], k=3).counts == [3]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scheme": "jenks"}, "unknown classification scheme"),
        ({"k": 1}, "needs at least two classes"),
        ({"scheme": "user_defined"}, "needs class bounds"),
    ],
)
def test_classify_errors(kwargs, message):
    with pytest.raises(SchemaError, match=message):
        classes.classify([1, 2, 3], **kwargs)


def test_classify_all_missing():
    with pytest.raises(SchemaError, match="has no numbers to map"):
        classes.classify([np.nan, None])

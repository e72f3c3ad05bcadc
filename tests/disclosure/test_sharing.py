"""Tests for needskit.disclosure.sharing: sharing levels, audiences and publication markings."""

from __future__ import annotations

import pandas as pd
import pytest

from needskit.disclosure import (
    AUDIENCES,
    check_sharing,
    filter_for_audience,
    publication_marking,
)
from needskit.errors import DisclosureError, NeedskitWarning, SchemaError


def test_check_sharing_allows_by_audience() -> None:
    used = {"police_crimes": "open", "gp_registers": "partner", "social_care": "restricted"}
    check_sharing(used, audience="internal")
    check_sharing({k: v for k, v in used.items() if v != "restricted"}, audience="partner")
    check_sharing({"police_crimes": "open"}, audience="public")


def test_check_sharing_refuses_restricted_in_publishable_outputs() -> None:
    used = {"police_crimes": "open", "social_care": "restricted", "gp_registers": "partner"}
    with pytest.raises(
        DisclosureError, match=r"audience='partner': restricted data .*'social_care' \(restricted\)"
    ):
        check_sharing(used, audience="partner")
    with pytest.raises(DisclosureError, match=r"restricted data.*'social_care'.*'gp_registers' \(partner\)"):
        check_sharing(used, audience="public")
    with pytest.raises(
        ValueError, match=r"partner-only data cannot be published for the public.*'gp_registers'"
    ):
        check_sharing({"gp_registers": "partner"}, audience="public")


def test_check_sharing_invalid_input() -> None:
    with pytest.raises(SchemaError, match="audience: is not a known option"):
        check_sharing({"a": "open"}, audience="everyone")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match=r"has unknown sharing levels.*'a': 'secret'"):
        check_sharing({"a": "secret"}, audience="public")
    with pytest.raises(SchemaError, match="datasets_used: is not a mapping"):
        check_sharing(["a"], audience="public")  # type: ignore[arg-type]


@pytest.fixture
def pooled() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_code": ["A", "A", "B", "B", "C"],
            "dataset": ["crimes", "gp", "crimes", "care", "gp"],
            "sharing": ["open", "partner", "open", "restricted", "partner"],
            "value": [12, 30, 8, 4, 25],
        }
    )


def test_filter_for_audience_drops_and_marks(pooled: pd.DataFrame) -> None:
    before = pooled.copy()
    with pytest.warns(
        NeedskitWarning, match=r"dropped 3 rows from 'gp' \(partner, 2 rows\), 'care' \(restricted, 1"
    ):
        public = filter_for_audience(pooled, audience="public")
    assert public["dataset"].tolist() == ["crimes", "crimes"] and public.index.tolist() == [0, 2]
    with pytest.warns(NeedskitWarning, match=r"dropped 1 rows from 'care'"):
        partner = filter_for_audience(pooled, audience="partner")
    assert set(partner["dataset"]) == {"crimes", "gp"}
    internal = filter_for_audience(pooled, audience="internal")
    assert len(internal) == 5 and internal["value"].tolist() == before["value"].tolist()
    assert "NOT FOR PUBLICATION" in internal.attrs["publication_marking"]
    assert public.attrs["audience"] == "public" and public.attrs[
        "publication_marking"
    ] == publication_marking("public")
    pd.testing.assert_frame_equal(pooled, before)


def test_filter_for_audience_with_a_mapping_and_raise(pooled: pd.DataFrame) -> None:
    frame = pooled.drop(columns="sharing")
    levels = {"crimes": "open", "gp": "partner", "care": "restricted"}
    with pytest.warns(NeedskitWarning):
        assert filter_for_audience(frame, audience="partner", sharing=levels)["dataset"].tolist() == [
            "crimes",
            "gp",
            "crimes",
            "gp",
        ]
    with pytest.raises(DisclosureError, match=r"restricted data cannot be written.*'care' \(restricted\)"):
        filter_for_audience(frame, audience="public", sharing=levels, errors="raise")


def test_filter_for_audience_invalid_input(pooled: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match=r"has datasets without a sharing level.*'care'"):
        filter_for_audience(pooled, audience="public", sharing={"crimes": "open", "gp": "partner"})
    bad = pooled.assign(sharing=["open", "partner", None, "restricted", "shared"])
    with pytest.raises(SchemaError, match=r"column 'sharing': has unknown or missing sharing levels"):
        filter_for_audience(bad, audience="public")
    with pytest.raises(SchemaError, match="sharing='tier' is not a column"):
        filter_for_audience(pooled, audience="public", sharing="tier")
    with pytest.raises(SchemaError, match="errors: is not a known option"):
        filter_for_audience(pooled, audience="public", errors="ignore")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="audience: is not a known option"):
        filter_for_audience(pooled, audience="press")  # type: ignore[arg-type]


def test_publication_markings() -> None:
    marks = {a: publication_marking(a) for a in AUDIENCES}
    assert len(set(marks.values())) == 3
    assert "NOT FOR PUBLICATION" in marks["internal"] and "exact figures" in marks["internal"]
    assert "PARTNERS ONLY" in marks["partner"] and "PUBLIC" in marks["public"]
    with pytest.raises(SchemaError, match="audience: is not a known option"):
        publication_marking("web")  # type: ignore[arg-type]

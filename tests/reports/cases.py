"""Shared cases of the commissioning report tests: the shipped example's codes, a store without
a register, a store whose register sources could not be located, and a context in which some
indicators could not be made (as in a partnership with no police data given)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pandas as pd

CHELTENHAM = "E07000078"
COUNTY = "E10000013"


class StoreWithoutRegister:
    """A store whose register tables are empty (a partnership that has not added its services yet)."""

    def __init__(self, store):
        self.inner = store

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def read_register(self, table: str) -> pd.DataFrame:
        return pd.DataFrame()


NO_POSTCODES = "no postcode directory given"
DROP_POSTCODES = "drop a postcode file into data/raw/postcodes/"


class StoreWithUnlocatedRegister(StoreWithoutRegister):
    """A store whose NHS register sources were read but none of their rows located (no postcode
    directory given), as in a workspace made by `needskit init` before postcodes are dropped in."""

    def register_sources(self) -> dict[str, dict]:
        return {
            dataset: {**known, "located": 0, "reason": NO_POSTCODES, "hint": DROP_POSTCODES}
            for dataset, known in {
                "gp_practices": {
                    "title": "GP practices (NHS ODS epraccur)",
                    "table": "services",
                    "service_type": "gp_practice",
                },
                "pharmacies": {
                    "title": "Dispensaries and community pharmacies (NHS ODS edispensary)",
                    "table": "services",
                    "service_type": "pharmacy",
                },
            }.items()
        }


def without_indicators(ctx, indicators: Sequence[str], *, reason: str):
    """``ctx`` as if ``indicators`` could not be made (no values, and in ``ctx.unavailable`` with
    ``reason``), as the store says of the crime rates when no police data were given."""
    unavailable = {
        i: {"title": str(ctx.info(i)["title"]), "theme": str(ctx.info(i)["theme"]), "reason": reason}
        for i in indicators
    }
    return dataclasses.replace(
        ctx,
        results=ctx.results[~ctx.results["indicator"].isin(list(indicators))],
        unavailable={**ctx.unavailable, **unavailable},
    )


def crime_rates(ctx) -> list[str]:
    """The crime-rate indicators of the store (made from police.uk data)."""
    return sorted(i for i in ctx.results["indicator"].unique() if str(i).startswith("crime_rate"))


def lsoas_of(ctx, code: str) -> set[str]:
    """The LSOAs of a district or county, from the store's hierarchy."""
    table = ctx.hierarchy
    level = "district" if (table["district"] == code).any() else "county"
    return set(table.loc[table[level] == code, "lsoa"])


def wards_of(ctx, code: str) -> list[str]:
    """The wards of a district, sorted."""
    table = ctx.hierarchy
    return sorted(table.loc[table["district"] == code, "ward"].unique())

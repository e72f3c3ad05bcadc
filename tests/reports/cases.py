"""Shared cases of the commissioning report tests: the shipped example's codes and a store without
a register."""

from __future__ import annotations

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


def lsoas_of(ctx, code: str) -> set[str]:
    """The LSOAs of a district or county, from the store's hierarchy."""
    table = ctx.hierarchy
    level = "district" if (table["district"] == code).any() else "county"
    return set(table.loc[table[level] == code, "lsoa"])


def wards_of(ctx, code: str) -> list[str]:
    """The wards of a district, sorted."""
    table = ctx.hierarchy
    return sorted(table.loc[table["district"] == code, "ward"].unique())

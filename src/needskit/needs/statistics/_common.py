"""Shared plumbing of the indicator functions: argument checks, grouped sums, output assembly."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from needskit._checks import as_list, require_columns
from needskit.errors import SchemaError, describe_values
from needskit.needs.statistics.limits import level_label

POLARITIES: tuple[str, ...] = ("high_is_bad", "high_is_good", "no_judgement")
POLARITY_ALIASES: dict[str, str] = {"low_is_good": "high_is_bad", "low_is_bad": "high_is_good"}


def limit_columns(levels: Sequence[float]) -> list[str]:
    """``lower_95, upper_95, lower_99_8, upper_99_8`` for levels (0.95, 0.998)."""
    out: list[str] = []
    for level in levels:
        out += [f"lower_{level_label(level)}", f"upper_{level_label(level)}"]
    return out


def require_column_name(value: object, *, argument: str) -> str:
    if not isinstance(value, str):
        raise SchemaError("is not a column name", where=argument, expected="a string", got=repr(value))
    return value


def group_keys(df: pd.DataFrame, by: str | Sequence[str] | None, *, used: Iterable[str]) -> list[str]:
    """Validate ``by``: existing columns, not also used as inputs."""
    keys = as_list(by)
    require_columns(df, keys, argument="by")
    clash = [k for k in keys if k in set(used)]
    if clash:
        raise SchemaError(
            "groups by a column that is also an input",
            where="by",
            expected="grouping columns distinct from the count/population/value columns",
            got=repr(clash),
        )
    if len(set(keys)) != len(keys):
        raise SchemaError("repeats a column", where="by", got=repr(keys))
    return keys


def refuse_collisions(columns: Iterable[str], produced: Iterable[str], *, what: str) -> None:
    """Raise when an input column would be overwritten by an output column."""
    clash = sorted(set(columns) & set(produced))
    if clash:
        raise SchemaError(
            f"the frame already has columns that {what} writes",
            expected=f"none of {sorted(set(produced))}",
            got=repr(clash),
            hint="rename or drop those columns first",
        )


def require_greater_equal(df: pd.DataFrame, high: str, low: str, *, what: str) -> None:
    """Raise if ``df[low] > df[high]`` anywhere (missing values pass)."""
    with np.errstate(invalid="ignore"):
        above = df[low].to_numpy(dtype=float, na_value=np.nan) > df[high].to_numpy(
            dtype=float, na_value=np.nan
        )
    bad = df.index[above]
    if len(bad):
        pairs = [f"{a:g}/{b:g}" for a, b in zip(df.loc[bad[:5], low], df.loc[bad[:5], high], strict=True)]
        raise SchemaError(
            what,
            where=f"columns {low!r} and {high!r}",
            expected=f"{low} <= {high} in every row",
            got=f"{len(bad)} rows, e.g. {', '.join(pairs)} at rows {list(bad[:5])}",
        )


def grouped_sums(df: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Sum ``columns`` within ``keys`` (one group when ``keys`` is empty).

    A group sum is missing when any contributing value is missing: a missing count never
    silently becomes zero. Missing group keys form their own group. Returns a frame with the
    keys and the sums, one row per group, sorted by the keys, on a RangeIndex.
    """
    values = df[columns].astype(float)
    if not keys:
        sums = values.sum(skipna=True)
        sums[values.isna().any()] = np.nan
        return pd.DataFrame([sums.to_dict()], columns=columns)
    frame = pd.concat([df[keys], values], axis=1)
    grouped = frame.groupby(keys, sort=True, dropna=False, observed=True)
    sums = grouped[columns].sum()
    any_missing = values.isna().groupby([df[k] for k in keys], sort=True, dropna=False, observed=True).any()
    any_missing.index = sums.index
    sums = sums.mask(any_missing)
    return sums.reset_index()


def group_index(df: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer group id per row and the frame of group keys (sorted; missing keys form a group).

    With no keys every row is in group 0 and the key frame has one row and no columns.
    """
    if not keys:
        return np.zeros(len(df), dtype=np.int64), pd.DataFrame(index=range(1))
    grouped = df.groupby(keys, sort=True, dropna=False, observed=True)
    return grouped.ngroup().to_numpy(dtype=np.int64), grouped.size().reset_index()[keys]


def first_reason(conditions: Sequence[tuple[npt.NDArray[np.bool_] | np.bool_, str]], size: int) -> np.ndarray:
    """Suppression reason per row: the first condition that holds, else ``""``."""
    if not conditions:
        return np.full(size, "", dtype=object)
    return np.select([c for c, _ in conditions], [r for _, r in conditions], default="").astype(object)


def judge(direction: np.ndarray, polarity: np.ndarray) -> np.ndarray:
    """Turn higher/lower into better/worse by polarity (no_judgement keeps higher/lower)."""
    return np.select(
        [
            (direction == "higher") & (polarity == "high_is_good"),
            (direction == "higher") & (polarity == "high_is_bad"),
            (direction == "lower") & (polarity == "high_is_good"),
            (direction == "lower") & (polarity == "high_is_bad"),
        ],
        ["better", "worse", "worse", "better"],
        default=direction,
    ).astype(object)


def normalise_polarity(polarity: object, *, argument: str = "polarity") -> str:
    if isinstance(polarity, str):
        value = POLARITY_ALIASES.get(polarity, polarity)
        if value in POLARITIES:
            return value
    raise SchemaError(
        "is not a known polarity",
        where=argument,
        expected=f"one of {list(POLARITIES)} (or the alias 'low_is_good')",
        got=repr(polarity),
    )


def polarity_per_row(df: pd.DataFrame, polarity: str) -> np.ndarray:
    """A polarity given as an option (same for every row) or as a column of the frame."""
    if isinstance(polarity, str) and (polarity in POLARITIES or polarity in POLARITY_ALIASES):
        return np.full(len(df), normalise_polarity(polarity), dtype=object)
    if isinstance(polarity, str) and polarity in df.columns:
        raw = df[polarity]
        mapped = raw.map(lambda p: POLARITY_ALIASES.get(p, p) if isinstance(p, str) else p)
        bad = raw[~mapped.isin(POLARITIES)]
        if len(bad):
            raise SchemaError(
                "holds unknown polarities",
                where=f"column {polarity!r}",
                expected=f"one of {list(POLARITIES)} (or 'low_is_good')",
                got=describe_values(bad.astype(str).tolist()),
            )
        return mapped.to_numpy(dtype=object)
    raise SchemaError(
        "is neither a polarity nor a column of the frame",
        where="polarity",
        expected=f"one of {list(POLARITIES)} or a column name",
        got=repr(polarity),
    )

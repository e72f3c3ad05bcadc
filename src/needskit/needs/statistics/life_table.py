"""Life expectancy from an abridged life table (Chiang II) with Silcocks confidence limits.

Vectorised over groups: the deaths and populations of all groups are laid out as a
(groups × 20 bands) array and the life table is built column by column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from needskit._checks import require_columns, require_frame, require_numeric
from needskit.errors import SchemaError
from needskit.needs.statistics._common import first_reason, group_index, group_keys, require_column_name
from needskit.needs.statistics.ages import LIFE_TABLE_BANDS, band_index
from needskit.needs.statistics.limits import confidence_levels, level_label, z_value

__all__ = ["life_expectancy", "LE_MIN_POPULATION", "LE_MAX_CI_WIDTH"]

LE_MIN_POPULATION = 5_000
"""Life expectancy is not calculated when a group's total population is this or less."""
LE_MAX_CI_WIDTH = 20.0
"""A value whose 95% interval is wider than this many years is suppressed (limits are kept)."""

_STARTS = np.array([first for first, _ in LIFE_TABLE_BANDS], dtype=float)
_WIDTHS = np.diff(_STARTS)  # 19 closed-band widths: 1, 4, 5, ... 5
_A = np.where(_STARTS == 0, 0.1, 0.5)
_RADIX = 100_000.0
METHOD = "Chiang II, Silcocks"


def _life_table(deaths: np.ndarray, pops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Life expectancy and its standard error at every band start, for rows of valid groups.

    ``deaths`` and ``pops`` are (groups × 20) arrays without missing or invalid values and
    with at least one death in the last band.
    """
    k = deaths.shape[1]
    m = deaths / pops
    n = _WIDTHS[None, :]
    a = _A[None, : k - 1]
    closed_m = m[:, :-1]
    # Chiang's q, with PHEindicatormethods' guard: q = 1 when deaths exceed P / (n·a).
    q_closed = np.where(
        deaths[:, :-1] <= pops[:, :-1] / n / a,
        n * closed_m / (1 + n * closed_m * (1 - a)),
        1.0,
    )
    q = np.concatenate([q_closed, np.ones((len(m), 1))], axis=1)
    survivors = np.concatenate(
        [np.full((len(m), 1), _RADIX), _RADIX * np.cumprod(1 - q_closed, axis=1)], axis=1
    )
    next_l = np.concatenate([survivors[:, 1:], np.zeros((len(m), 1))], axis=1)
    dying = survivors - next_l
    years = np.empty_like(survivors)
    years[:, :-1] = n * (next_l[:, :-1] + a * dying[:, :-1])
    years[:, -1] = survivors[:, -1] / m[:, -1]
    total_years = np.cumsum(years[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        expectancy = np.where(survivors == 0, 0.0, total_years / survivors)
        var_q = np.where(dying == 0, 0.0, q**2 * (1 - q) / deaths)
        var_q[:, -1] = 4 / (deaths[:, -1] * m[:, -1] ** 2)
        weighted = np.empty_like(survivors)
        weighted[:, :-1] = var_q[:, :-1] * survivors[:, :-1] ** 2 * ((1 - a) * n + expectancy[:, 1:]) ** 2
        weighted[:, -1] = (survivors[:, -1] / 2) ** 2 * var_q[:, -1]
        total_weighted = np.cumsum(weighted[:, ::-1], axis=1)[:, ::-1]
        se = np.sqrt(total_weighted / survivors**2)
    return expectancy, se


def life_expectancy(
    df: pd.DataFrame,
    *,
    deaths: str,
    population: str,
    age_band: str,
    by: str | Sequence[str] | None = None,
    confidence: float | Sequence[float] = (0.95, 0.998),
    at_age: int | Sequence[int] | Literal["all"] = 0,
) -> pd.DataFrame:
    """Period life expectancy (Chiang II abridged life table) with Silcocks confidence limits.

    Parameters
    ----------
    df
        One row per age band per group; several rows for the same group and band are summed.
    deaths, population
        Deaths and mid-year population (person-years) per band.
    age_band
        Band labels: the 20 bands ``"0"`` (or ``"<1"``), ``"1-4"``, ``"5-9"`` ... ``"85-89"``,
        ``"90+"``; start ages 0, 1, 5 ... 90 are also understood.
    by
        Grouping columns; ``None``: the whole frame is one group.
    confidence
        One level or several in [0.9, 1).
    at_age
        Age(s) at which life expectancy is returned (band starts), or ``"all"``; default 0
        (at birth).

    Returns
    -------
    DataFrame
        One row per group and age: the ``by`` columns, ``start_age``, ``deaths`` and
        ``population`` (summed over the bands from ``start_age`` up), ``value`` (years),
        ``lower_<level>``/``upper_<level>`` pairs, ``method`` and ``suppressed_reason``.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, unknown band labels, ``at_age`` not a band start, a
        level outside [0.9, 1).

    Notes
    -----
    Chiang (1968) abridged life table as in PHEindicatormethods ``phe_life_expectancy`` and the
    PHE life expectancy calculator: ``a = 0.1`` at age 0 and 0.5 elsewhere,
    ``q = nM/(1 + nM(1 − a))``, last ``q = 1`` and ``L = l/M``; variance of ``q`` as Chiang with
    the final band's term ``4/(D·M²)`` after Silcocks et al. (2001, JECH 55:38-43).

    Suppression (value and limits missing, with the reason) follows PHEindicatormethods:
    a missing band (``"age band missing"``), missing deaths or population, negative deaths,
    a population of zero or less in a band, deaths above population in a band, a total
    population of 5,000 or less, and no deaths in the 90+ band (the table cannot close). These
    are data conditions of one group, so they suppress that group rather than raise. When the
    95% interval is wider than 20 years the value is suppressed but the limits are kept, as
    in ``phe_life_expectancy``.

    Examples
    --------
    >>> ages = ["0", "1-4"] + [f"{a}-{a + 4}" for a in range(5, 90, 5)] + ["90+"]
    >>> frame = pd.DataFrame({"age": ages, "deaths": [17, 9, 4, 8, 20, 15, 24, 33, 50, 71, 100,
    ...     163, 263, 304, 536, 872, 1390, 1605, 1936, 1937], "pop": [7060, 35059, 46974, 48489,
    ...     43219, 38561, 46009, 57208, 61435, 55601, 50209, 56416, 46411, 39820, 37978, 37039,
    ...     33288, 23306, 11936, 11936]})
    >>> round(life_expectancy(frame, deaths="deaths", population="pop", age_band="age")["value"].item(), 4)
    80.1696
    """
    require_frame(df)
    deaths = require_column_name(deaths, argument="deaths")
    population = require_column_name(population, argument="population")
    age_band = require_column_name(age_band, argument="age_band")
    require_columns(df, [deaths], argument="deaths")
    require_columns(df, [population], argument="population")
    require_columns(df, [age_band], argument="age_band")
    keys = group_keys(df, by, used=[deaths, population, age_band])
    require_numeric(df, [deaths, population])
    levels = confidence_levels(confidence)
    n_bands = len(LIFE_TABLE_BANDS)
    if isinstance(at_age, str):
        if at_age != "all":
            raise SchemaError(
                "is not a known option",
                where="at_age",
                expected="an age, a list of ages or 'all'",
                got=repr(at_age),
            )
        positions = list(range(n_bands))
    else:
        # one age or a sequence of them (np.isscalar narrows only one way); each is checked below
        ages: list[Any] = [at_age] if np.isscalar(at_age) else list(cast(Sequence[int], at_age))
        lookup = {int(s): i for i, s in enumerate(_STARTS)}
        wrong = [a for a in ages if isinstance(a, bool) or not float(a).is_integer() or int(a) not in lookup]
        if wrong or not ages:
            raise SchemaError(
                "is not the start of a life-table band",
                where="at_age",
                expected=f"one or more of {sorted(lookup)} or 'all'",
                got=repr(at_age),
            )
        positions = [lookup[int(a)] for a in dict.fromkeys(ages)]

    band = band_index(df[age_band], LIFE_TABLE_BANDS, argument=age_band, scheme="life-table")
    gid, groups = group_index(df, keys)
    n_groups = len(groups)
    cell = gid * n_bands + band

    def table(values: np.ndarray) -> np.ndarray:
        return np.bincount(cell, weights=values, minlength=n_groups * n_bands).reshape(n_groups, n_bands)

    raw_d = df[deaths].to_numpy(dtype=float, na_value=np.nan)
    raw_p = df[population].to_numpy(dtype=float, na_value=np.nan)
    present = table(np.ones(len(cell))) > 0
    d_missing = table(np.isnan(raw_d).astype(float)) > 0
    p_missing = table(np.isnan(raw_p).astype(float)) > 0
    # Negative deaths are a suppression reason here (methods.md), so look for them per row.
    negative = table((raw_d < 0).astype(float)).any(axis=1)
    d = np.where(present, table(np.nan_to_num(raw_d, nan=0.0)), np.nan)
    p = np.where(present, table(np.nan_to_num(raw_p, nan=0.0)), np.nan)

    with np.errstate(invalid="ignore"):
        reason = first_reason(
            [
                (~present.all(axis=1), "age band missing"),
                (d_missing.any(axis=1), "missing deaths"),
                (p_missing.any(axis=1), "missing population"),
                (negative, "negative deaths in an age band"),
                ((p <= 0).any(axis=1), "population of zero or less in an age band"),
                ((d > p).any(axis=1), "deaths exceed population in an age band"),
                (
                    np.nansum(p, axis=1) <= LE_MIN_POPULATION,
                    f"total population of {LE_MIN_POPULATION:,} or fewer",
                ),
                (d[:, -1] == 0, "no deaths in the 90+ band"),
            ],
            n_groups,
        )
    valid = reason == ""
    expectancy = np.full((n_groups, n_bands), np.nan)
    se = np.full((n_groups, n_bands), np.nan)
    if valid.any():
        expectancy[valid], se[valid] = _life_table(d[valid], p[valid])

    # Long output: one row per group and requested age.
    rows = np.repeat(np.arange(n_groups), len(positions))
    ages_at = np.tile(np.asarray(positions), n_groups)
    out = groups.iloc[rows].reset_index(drop=True)
    cum_d = np.cumsum(np.where(d_missing, np.nan, d)[:, ::-1], axis=1)[:, ::-1]
    cum_p = np.cumsum(np.where(p_missing, np.nan, p)[:, ::-1], axis=1)[:, ::-1]
    out["start_age"] = _STARTS[ages_at].astype(np.int64)
    out[deaths] = cum_d[rows, ages_at]
    out[population] = cum_p[rows, ages_at]
    value = expectancy[rows, ages_at]
    error = se[rows, ages_at]
    row_reason = reason[rows].copy()
    with np.errstate(invalid="ignore"):
        wide = (2 * z_value(0.95) * error > LE_MAX_CI_WIDTH) & (row_reason == "")
        unfinished = ~np.isfinite(value) | ~np.isfinite(error)
    row_reason = np.where(wide, "95% confidence interval wider than 20 years", row_reason)
    row_reason = np.where((row_reason == "") & unfinished, "life table could not be completed", row_reason)
    out["value"] = np.where(row_reason == "", value, np.nan)
    limits_ok = (reason[rows] == "") & ~unfinished
    for level in levels:
        z = z_value(level)
        out[f"lower_{level_label(level)}"] = np.where(limits_ok, value - z * error, np.nan)
        out[f"upper_{level_label(level)}"] = np.where(limits_ok, value + z * error, np.nan)
    out["method"] = METHOD
    out["suppressed_reason"] = row_reason.astype(object)
    return out

"""Age-standardised rates and ratios: DSR (Dobson) and ISR (indirect standardisation).

Both functions take one row per age band per group (several rows for the same group and band,
e.g. LSOA rows under ``by="district"``, are summed first) and return one row per group;
``by=None`` means the whole frame is one group.

Missing values follow PHEindicatormethods: a missing *count* in an age band reads as zero
events (that is how ``phe_dsr`` / ``calculate_ISRatio`` total them, and the oracle agrees); a
missing *population* makes the group's value missing with reason ``"missing population"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from needskit._checks import require_columns, require_frame, require_non_negative, require_numeric
from needskit.errors import SchemaError, describe_values
from needskit.needs.statistics._common import first_reason, group_index, group_keys, require_column_name
from needskit.needs.statistics.ages import ESP2013, ESP2013_BANDS, band_index, band_labels
from needskit.needs.statistics.limits import (
    byars_limits,
    confidence_levels,
    level_label,
    poisson_limits,
    poisson_method,
)

__all__ = ["dsr", "isr", "DSR_MIN_EVENTS"]

DSR_MIN_EVENTS = 10
"""DSRs (value and limits) are suppressed when the group has fewer events than this."""

_STANDARDS = ("esp2013",)


def _check_complete(present: np.ndarray, groups: pd.DataFrame, keys: list[str], labels: list[str]) -> None:
    """Every group must hold every band: raise naming up to five groups and their missing bands."""
    short = np.flatnonzero(~present.all(axis=1))
    if not len(short):
        return
    n_bands = len(labels)
    if not keys:
        missing = [labels[j] for j in np.flatnonzero(~present[0])]
        raise SchemaError(
            "is missing age bands",
            where="the frame",
            expected=f"all {n_bands} bands: {', '.join(labels)}",
            got=f"no rows for {', '.join(missing)}",
            hint="add the band with a zero count (or group with by=)",
        )
    examples = []
    for g in short[:5]:
        key = tuple(groups.iloc[g][keys])
        name = key if len(keys) > 1 else key[0]
        missing = [labels[j] for j in np.flatnonzero(~present[g])]
        examples.append(f"{name!r} lacks {', '.join(missing)}")
    raise SchemaError(
        "has groups that are missing age bands",
        where="by=" + repr(keys if len(keys) > 1 else keys[0]),
        expected=f"all {n_bands} bands in every group: {', '.join(labels)}",
        got=f"{len(short)} groups, e.g. " + "; ".join(examples),
        hint="add the missing bands with a zero count",
    )


def dsr(
    df: pd.DataFrame,
    *,
    count: str,
    population: str,
    age_band: str,
    by: str | Sequence[str] | None = None,
    standard: str = "esp2013",
    confidence: float | Sequence[float] = (0.95, 0.998),
    multiplier: float = 100_000,
) -> pd.DataFrame:
    """Directly age-standardised rate with Dobson confidence limits.

    Parameters
    ----------
    df
        One row per age band per group (area, sex, period ...).
    count, population
        Columns of events and population per band.
    age_band
        Column of band labels. With ``standard="esp2013"`` the 19 ESP2013 bands are required
        in every group: ``"0-4"``, ``"5-9"`` ... ``"85-89"``, ``"90+"`` (spaces, ``"90 +"``,
        ``"90 and over"`` and start ages 0, 5 ... 90 are also understood). With a standard
        column, labels are free text and every group must hold every label in the frame.
    by
        Grouping columns; ``None``: the whole frame is one group.
    standard
        ``"esp2013"`` (European Standard Population 2013) or the name of a column holding the
        standard population of each row's band (the same for a band in every group).
    confidence
        One level or several in [0.9, 1).
    multiplier
        Rate per ``multiplier`` people; default 100,000.

    Returns
    -------
    DataFrame
        One row per group: the ``by`` columns, summed ``count`` and ``population``,
        ``value``, ``lower_<level>``/``upper_<level>`` pairs, ``method`` (``"Dobson"``) and
        ``suppressed_reason`` (``"fewer than 10 events"``, ``"missing population"``,
        ``"population is zero in an age band"`` or ``""``).

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, negative counts or populations, unknown band labels,
        a group missing a band, an unknown standard, a standard that differs between groups
        for the same band, a level outside [0.9, 1).

    Notes
    -----
    ``DSR = Σ(wᵢxᵢ/nᵢ)/Σwᵢ``, ``var = Σ(wᵢ²xᵢ/nᵢ²)/(Σwᵢ)²`` and
    ``L, U = DSR + √(var/O)·(O_{L,U} − O)`` with ``O = Σxᵢ`` and Byar's limits of O
    (Dobson et al. 1991, Stat Med 10:457-62; PHEindicatormethods ``phe_dsr``). Value and limits
    are suppressed below 10 events. A missing count in a band reads as zero events, as in
    ``phe_dsr``.

    Examples
    --------
    >>> bands = [f"{a}-{a + 4}" for a in range(0, 90, 5)] + ["90+"]
    >>> frame = pd.DataFrame({"age": bands, "deaths": [10] * 19, "pop": [1000] * 19})
    >>> round(dsr(frame, count="deaths", population="pop", age_band="age")["value"].item(), 6)
    1000.0
    """
    require_frame(df)
    count = require_column_name(count, argument="count")
    population = require_column_name(population, argument="population")
    age_band = require_column_name(age_band, argument="age_band")
    require_columns(df, [count], argument="count")
    require_columns(df, [population], argument="population")
    require_columns(df, [age_band], argument="age_band")
    if not isinstance(standard, str):
        raise SchemaError(
            "is not a standard", where="standard", expected="'esp2013' or a column name", got=repr(standard)
        )
    keys = group_keys(df, by, used=[count, population, age_band, standard])
    require_numeric(df, [count, population])
    levels = confidence_levels(confidence)
    require_non_negative(df, [count, population])

    x = df[count].to_numpy(dtype=float, na_value=np.nan)
    n = df[population].to_numpy(dtype=float, na_value=np.nan)
    if standard.lower() in _STANDARDS:
        band = band_index(df[age_band], ESP2013_BANDS, argument=age_band, scheme="ESP2013")
        weights = np.asarray(ESP2013, dtype=float)
        labels = band_labels(ESP2013_BANDS)
    elif standard in df.columns:
        require_numeric(df, [standard], allow_missing=False)
        require_non_negative(df, [standard])
        if df[age_band].isna().any():
            raise SchemaError(
                "has missing labels", where=f"column {age_band!r}", expected="a band label in every row"
            )
        band, uniques = pd.factorize(df[age_band], sort=False)
        labels = [str(u) for u in uniques]
        std = df[standard].to_numpy(dtype=float)
        weights = np.full(len(uniques), -np.inf)
        np.maximum.at(weights, band, std)
        differs = np.flatnonzero(weights[band] != std)
        if len(differs):
            raise SchemaError(
                "gives different standard populations for the same band",
                where=f"column {standard!r}",
                expected="one standard population per band",
                got=f"bands {describe_values([labels[j] for j in band[differs]])}",
            )
        if not weights.sum() > 0:
            raise SchemaError(
                "sums to zero", where=f"column {standard!r}", expected="a positive standard population"
            )
    else:
        raise SchemaError(
            "is not a known standard population or a column of the frame",
            where="standard",
            expected=f"one of {list(_STANDARDS)} or a column name",
            got=repr(standard),
        )

    # (groups x bands) arrays by integer bincount: rows of the same group and band are summed.
    gid, groups = group_index(df, keys)
    n_groups, n_bands = len(groups), len(labels)
    cell = gid * n_bands + band

    def table(values: np.ndarray) -> np.ndarray:
        return np.bincount(cell, weights=values, minlength=n_groups * n_bands).reshape(n_groups, n_bands)

    present = table(np.ones(len(cell))) > 0
    _check_complete(present, groups, keys, labels)
    events = table(np.nan_to_num(x, nan=0.0))  # a missing count reads as zero events (phe_dsr)
    pops = table(np.nan_to_num(n, nan=0.0))
    pop_missing = (table(np.isnan(n).astype(float)) > 0).any(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        weighted = np.where(pops > 0, weights * events / pops, 0.0).sum(axis=1)
        squared = np.where(pops > 0, weights**2 * events / pops**2, 0.0).sum(axis=1)
    zero_pop = (pops == 0).any(axis=1)
    observed = events.sum(axis=1)
    total_w = weights.sum()
    reason = first_reason(
        [
            (pop_missing, "missing population"),
            (zero_pop, "population is zero in an age band"),
            (observed < DSR_MIN_EVENTS, f"fewer than {DSR_MIN_EVENTS} events"),
        ],
        n_groups,
    )
    ok = reason == ""
    out = groups.copy()
    out[count] = observed
    out[population] = np.where(pop_missing, np.nan, pops.sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = weighted / total_w
        spread = np.sqrt(squared / total_w**2 / observed)
        out["value"] = np.where(ok, rate * multiplier, np.nan)
        for level in levels:
            o_lower, o_upper = byars_limits(observed, level)
            label = level_label(level)
            out[f"lower_{label}"] = np.where(ok, (rate + spread * (o_lower - observed)) * multiplier, np.nan)
            out[f"upper_{label}"] = np.where(ok, (rate + spread * (o_upper - observed)) * multiplier, np.nan)
    out["method"] = "Dobson"
    out["suppressed_reason"] = reason
    return out


def isr(
    df: pd.DataFrame,
    *,
    count: str,
    population: str,
    reference_count: str,
    reference_population: str,
    by: str | Sequence[str] | None = None,
    confidence: float | Sequence[float] = (0.95, 0.998),
    kind: Literal["ratio", "rate"] = "ratio",
    multiplier: float | None = None,
) -> pd.DataFrame:
    """Indirectly standardised ratio (observed / expected) or rate.

    Parameters
    ----------
    df
        One row per age band (or other standardisation category) per group, with the
        reference events and population of that band on the same row.
    count, population
        Observed events and population per band.
    reference_count, reference_population
        Events and population of the reference (e.g. England) in the same band. No missing
        values; the reference population must be positive.
    by
        Grouping columns; ``None``: the whole frame is one group.
    confidence
        One level or several in [0.9, 1).
    kind
        ``"ratio"``: O/E (an SMR when × 100). ``"rate"``: the ratio times the reference crude
        rate Σ reference_count / Σ reference_population of the group's rows.
    multiplier
        Default 1 for a ratio (use 100 for an SMR shown as 100 = reference) and 100,000 for
        a rate.

    Returns
    -------
    DataFrame
        One row per group: the ``by`` columns, summed ``count`` (observed) and
        ``population``, ``expected``, ``value``, ``lower_<level>``/``upper_<level>`` pairs,
        ``method`` (``"Exact Poisson"`` below 10 observed events, ``"Byar"`` from 10) and
        ``suppressed_reason`` (``"missing population"``, ``"expected count is zero"`` or ``""``).

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, negative values, missing or non-positive reference
        populations, unknown ``kind``, a level outside [0.9, 1).

    Notes
    -----
    ``E = Σ nᵢ · refcountᵢ / refpopᵢ``; ratio ``O/E`` with limits ``O_L/E, O_U/E`` from
    Poisson limits of O (exact below 10, Byar's from 10); rate = ratio × Σrefcount/Σrefpop
    (PHEindicatormethods ``calculate_ISRatio`` / ``calculate_ISRate``). With ``kind="rate"``
    each group should hold each band once (or every band equally often), so that the
    reference rate is the reference's crude rate.

    Examples
    --------
    >>> frame = pd.DataFrame({"obs": [3, 6], "pop": [1000, 500], "ref_x": [20, 100], "ref_n": [10000, 5000]})
    >>> isr(
    ...     frame, count="obs", population="pop", reference_count="ref_x", reference_population="ref_n"
    ... )["value"].item()
    0.75
    """
    require_frame(df)
    names = {
        "count": count,
        "population": population,
        "reference_count": reference_count,
        "reference_population": reference_population,
    }
    for argument, column in names.items():
        require_column_name(column, argument=argument)
        require_columns(df, [column], argument=argument)
    if kind not in ("ratio", "rate"):
        raise SchemaError("is not a known option", where="kind", expected="'ratio' or 'rate'", got=repr(kind))
    keys = group_keys(df, by, used=list(names.values()))
    require_numeric(df, [count, population])
    require_numeric(df, [reference_count, reference_population], allow_missing=False)
    levels = confidence_levels(confidence)
    require_non_negative(df, [count, population, reference_count])
    bad = df.index[(df[reference_population] <= 0).to_numpy()]
    if len(bad):
        raise SchemaError(
            "has values of zero or less",
            where=f"column {reference_population!r}",
            expected="a positive reference population in every band",
            got=f"{describe_values(df.loc[bad, reference_population].tolist())} at rows {list(bad[:5])}",
        )
    if multiplier is None:
        multiplier = 1.0 if kind == "ratio" else 100_000.0

    gid, groups = group_index(df, keys)
    n_groups = len(groups)
    x = df[count].to_numpy(dtype=float, na_value=np.nan)
    n = df[population].to_numpy(dtype=float, na_value=np.nan)
    ref_x = df[reference_count].to_numpy(dtype=float)
    ref_n = df[reference_population].to_numpy(dtype=float)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(gid, weights=values, minlength=n_groups)

    observed = total(np.nan_to_num(x, nan=0.0))  # a missing count reads as zero events
    missing_n = total(np.isnan(n).astype(float)) > 0
    expected = total(np.nan_to_num(n, nan=0.0) * ref_x / ref_n)
    reason = first_reason(
        [(missing_n, "missing population"), (expected == 0, "expected count is zero")], n_groups
    )
    ok = reason == ""
    scale = multiplier * (total(ref_x) / total(ref_n) if kind == "rate" else 1.0)
    out = groups.copy()
    out[count] = observed
    out[population] = np.where(missing_n, np.nan, total(np.nan_to_num(n, nan=0.0)))
    out["expected"] = np.where(missing_n, np.nan, expected)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["value"] = np.where(ok, observed / expected * scale, np.nan)
        for level in levels:
            lower, upper = poisson_limits(observed, level)
            out[f"lower_{level_label(level)}"] = np.where(ok, lower / expected * scale, np.nan)
            out[f"upper_{level_label(level)}"] = np.where(ok, upper / expected * scale, np.nan)
    out["method"] = poisson_method(observed)
    out["suppressed_reason"] = reason
    return out

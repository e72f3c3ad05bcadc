"""Composite needs index: domains combined the English Indices of Deprivation way.

A needs index turns several domains (income, health, crime, ...) into one score and rank per area.
:func:`combine_domains` follows the method of the English Indices of Deprivation (IoD): rank each
domain, scale the rank to (0, 1], pass it through the IoD exponential transform so that one
extreme domain is not averaged away, weight and sum, then rank the sum. The :data:`IOD2019`
preset, fed the published domain ranks read by
:func:`~needskit.partner_data.ingest.iod.read_iod2019_domain_ranks`, reproduces the published
Index of Multiple Deprivation 2019 from its seven published domain ranks.

Priority flags on an index (the most deprived 10% and 20%, double disadvantage) are in
:mod:`needskit.needs.priorities`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from needskit._checks import require_choice, require_columns, require_frame, require_numeric
from needskit.errors import NeedskitWarning, SchemaError, describe_values

__all__ = ["IOD2019", "combine_domains"]

IOD2019: dict[str, float] = {
    "income": 0.225,
    "employment": 0.225,
    "education": 0.135,
    "health": 0.135,
    "crime": 0.093,
    "barriers": 0.093,
    "living_environment": 0.093,
}
"""Domain weights of the Index of Multiple Deprivation 2019 (IoD2019 technical report, section 3.9).

They are the published rounded percentages and sum to 0.999; :func:`combine_domains` uses them as
given, which is what reproduces the published IMD scores.
"""

# Weights whose sum is this close to 1 are used exactly as given (published weights are rounded
# percentages: the IoD2019 weights sum to 0.999). Others are rescaled to sum to 1, with a warning.
_WEIGHT_SUM_TOLERANCE = 0.005

_EXP_CONSTANT = 1.0 - np.exp(-100.0 / 23.0)

_OUTPUT_COLUMNS = ("score", "rank", "decile", "quintile", "local_rank", "local_decile", "local_quintile")

Standardise = Literal["rank", "zscore"]
Transform = Literal["exponential", "none"]


# --------------------------------------------------------------------------------------------
# Composite index


def combine_domains(
    df: pd.DataFrame,
    *,
    domains: Sequence[str],
    weights: Mapping[str, float],
    higher_is_more_deprived: bool | Mapping[str, bool] = True,
    transform: Transform = "exponential",
    standardise: Standardise = "rank",
    rank_within: str | None = None,
    code_col: str | None = None,
) -> pd.DataFrame:
    """Combine domain columns into a composite needs index, the English Indices of Deprivation way.

    Parameters
    ----------
    df
        One row per area; the domains are columns of it (domain scores or domain ranks).
    domains
        Names of the domain columns, e.g. ``list(IOD2019)``.
    weights
        Domain name → weight; one positive finite weight per domain and none for other names.
        Weights whose sum is within 0.005 of 1 are used exactly as given (published weights are
        rounded: :data:`IOD2019` sums to 0.999). Other weights are rescaled to sum to 1 and a
        :class:`~needskit.errors.NeedskitWarning` says so; ranks do not depend on the rescaling.
    higher_is_more_deprived
        Direction of the inputs: ``True`` for scores where a higher value means more deprived
        (IoD domain scores, rates of need), ``False`` for values where a lower value means more
        deprived - in particular **published ranks, where 1 is the most deprived**. A mapping
        domain → bool gives the direction per domain and must name every domain.
    transform
        ``"exponential"`` (default): the IoD exponential transform of the scaled rank.
        ``"none"``: the standardised values are weighted and summed as they are.
    standardise
        ``"rank"`` (default): each domain is ranked (1 = most deprived, ties share the mean rank)
        and scaled to R = (N - rank + 1)/N, so the most deprived area has R = 1 and the least 1/N.
        ``"zscore"``: each domain is oriented so that higher = more deprived and standardised to
        mean 0, standard deviation 1 (population sd, ddof = 0) over the areas. With
        ``transform="none"`` the score is the plain weighted sum of z-scores (a Townsend-style
        index for a partnership's own indicators). With ``transform="exponential"`` the z-scores
        are ranked and transformed, which gives exactly the ``"rank"`` result (ranking ignores
        the linear rescaling); it is allowed so that the two options can be swapped freely.
    rank_within
        Optional column of groups (e.g. the district code) within which local ranks, deciles and
        quintiles of the (national) score are added.
    code_col
        Optional column of area codes; it is copied to the output, must be unique, and breaks
        ties in the score. Without it the frame's index labels break ties.

    Returns
    -------
    pandas.DataFrame
        A new frame with the same index as ``df`` and the columns

        - ``<code_col>`` and ``<rank_within>`` when given, copied from ``df``;
        - ``score`` (float): weighted sum of the transformed domains; higher = more in need;
        - ``rank`` (int): 1 = most in need; a permutation of 1..N;
        - ``decile`` (int): ceil(rank / (N/10)), 1 = most in need 10%; balanced to N/10 ± 1;
        - ``quintile`` (int): ceil(rank / (N/5));
        - ``local_rank``, ``local_decile``, ``local_quintile`` (int), only with ``rank_within``:
          the same within each group;
        - ``<domain>_transformed`` (float), one per domain: the value that was weighted (the
          exponentially transformed rank, 0-100; the scaled rank R; or the z-score), so a report
          can say which domains drive an area's need.

    Raises
    ------
    SchemaError
        ``df`` is not a frame or is empty; a domain, ``code_col`` or ``rank_within`` column is
        missing; a domain is not numeric, has missing or infinite values (the rows are named);
        weights are not a mapping, not positive and finite, lack a domain or name a non-domain;
        a direction mapping lacks a domain or is not boolean; an option is unknown; ``code_col``
        has duplicates or missing values; ``rank_within`` has missing values; a z-scored domain
        is constant.

    Warns
    -----
    NeedskitWarning
        When the weights are rescaled to sum to 1.

    Notes
    -----
    For each domain d over N areas: rank_d (1 = most deprived; ties take the mean of the ranks
    they span, the SAS ``PROC RANK`` default the IoD uses), R_d = (N - rank_d + 1)/N and
    X_d = -23 ln(1 - R_d (1 - e^(-100/23))), which runs from about 0 (least deprived) to 100
    (most deprived), with about 10% of areas above 50. score = sum_d w_d X_d.

    The area ranks are ordered by score, highest first; equal scores are ordered by
    ``code_col`` (or the index label) ascending, so the result is deterministic and does not
    depend on row order (positions are used only when the labels cannot be sorted). Deciles use
    integer arithmetic, decile = ceil(10 rank / N); with fewer than 10 areas (overall or in a
    ``rank_within`` group) the most deprived area is not in decile 1 (e.g. N = 4 gives deciles
    3, 5, 8, 10).

    Fed the published IoD2019 domain ranks of the 32,844 LSOAs
    (:func:`~needskit.partner_data.ingest.iod.read_iod2019_domain_ranks`,
    ``higher_is_more_deprived=False``), the :data:`IOD2019` preset reproduces every published IMD
    score to within its 3-decimal rounding (plus ~4e-6, the precision of MHCLG's own
    arithmetic) and every published decile; ranks differ only between areas whose scores agree
    to within that precision (MHCLG publishes some of them as ties).

    Reference: Ministry of Housing, Communities and Local Government (2019), *The English
    Indices of Deprivation 2019: Technical report*, sections 3.8-3.9 and appendix A
    (exponential transformation).

    Examples
    --------
    >>> from needskit.config.project import raw_path  # doctest: +SKIP
    >>> from needskit.partner_data.ingest.iod import IOD2019_FILE, read_iod2019_domain_ranks  # doctest: +SKIP
    >>> ranks = read_iod2019_domain_ranks(raw_path(IOD2019_FILE))  # doctest: +SKIP
    >>> imd = combine_domains(ranks, domains=list(IOD2019), weights=IOD2019,
    ...                       higher_is_more_deprived=False, code_col="area_code",
    ...                       rank_within="lad_code")  # doctest: +SKIP
    >>> df = pd.DataFrame({"a": [3.0, 1.0, 2.0], "b": [0.2, 0.9, 0.1]}, index=["X", "Y", "Z"])
    >>> combine_domains(df, domains=["a", "b"], weights={"a": 0.5, "b": 0.5})["rank"].tolist()
    [1, 2, 3]
    """
    df = require_frame(df)
    domains = _check_domains(df, domains)
    weight_values = _check_weights(weights, domains)
    directions = _check_directions(higher_is_more_deprived, domains)
    require_choice(transform, ("exponential", "none"), argument="transform")
    require_choice(standardise, ("rank", "zscore"), argument="standardise")
    if len(df) == 0:
        raise SchemaError("has no rows", where="df", expected="at least one area", got="an empty frame")
    extra = list(dict.fromkeys(c for c in (code_col, rank_within) if c is not None))
    for argument, column in (("code_col", code_col), ("rank_within", rank_within)):
        if column is not None:
            require_columns(df, [column], argument=argument)
    names = [f"{d}_transformed" for d in domains]
    clash = [c for c in extra if c in set(names) | set(_OUTPUT_COLUMNS)]
    if clash:
        raise SchemaError(
            "would be overwritten by an output column",
            where=f"column {clash[0]!r}",
            expected=f"code_col and rank_within not named like an output ({', '.join(_OUTPUT_COLUMNS)}, "
            "<domain>_transformed)",
            got=f"code_col={code_col!r}, rank_within={rank_within!r}",
            hint="rename the column first",
        )
    labels = df[code_col] if code_col is not None else df.index.to_series()
    if code_col is not None:
        _check_codes(df[code_col], code_col)
    if rank_within is not None and df[rank_within].isna().any():
        rows = labels[df[rank_within].isna().to_numpy()].tolist()
        raise SchemaError(
            "has missing values",
            where=f"rank_within={rank_within!r}",
            expected="a group for every area",
            got=f"{len(rows)} missing, e.g. for {rows[:5]}",
        )
    values = _domain_matrix(df, domains, labels)

    n = len(df)
    # Orient every domain so that a higher value is more deprived.
    values = values * np.where(directions, 1.0, -1.0)
    if standardise == "zscore":
        values = _zscores(values, domains, n)
    if standardise == "rank" or transform == "exponential":
        # Mean rank of ties, 1 = most deprived; scaled so the most deprived is 1 and the least 1/N.
        rank = rankdata(-values, method="average", axis=0)
        scaled = (n - rank + 1.0) / n
        transformed = _exponential(scaled) if transform == "exponential" else scaled
    else:
        transformed = values
    score = transformed @ weight_values

    tiebreak = _tiebreak_key(labels)
    order = np.lexsort((tiebreak, -score))
    area_rank = np.empty(n, dtype=np.int64)
    area_rank[order] = np.arange(1, n + 1)

    out = pd.DataFrame(index=df.index.copy())
    for column in extra:
        out[column] = df[column].array.copy()
    out["score"] = score
    out["rank"] = area_rank
    out["decile"] = quantile_of_rank(area_rank, n, 10)
    out["quintile"] = quantile_of_rank(area_rank, n, 5)
    if rank_within is not None:
        groups = pd.factorize(df[rank_within])[0]
        local, sizes = _rank_within_groups(groups, -score, tiebreak)
        out["local_rank"] = local
        out["local_decile"] = quantile_of_rank(local, sizes, 10)
        out["local_quintile"] = quantile_of_rank(local, sizes, 5)
    transformed_frame = pd.DataFrame(transformed, index=out.index, columns=names)
    return pd.concat([out, transformed_frame], axis=1)


def _check_domains(df: pd.DataFrame, domains: Sequence[str]) -> list[str]:
    if isinstance(domains, str):
        domains = [domains]
    domains = list(domains)
    if not domains:
        raise SchemaError("names no domain", where="domains", expected="at least one column name", got="[]")
    duplicated = sorted({d for d in domains if domains.count(d) > 1})
    if duplicated:
        raise SchemaError(
            "names a domain more than once",
            where="domains",
            expected="distinct column names",
            got=describe_values(duplicated),
        )
    require_columns(df, domains, argument="domains")
    require_numeric(df, domains)
    return domains


def _check_weights(weights: Mapping[str, float], domains: list[str]) -> np.ndarray:
    if not isinstance(weights, Mapping):
        raise SchemaError(
            "is not a mapping",
            where="weights",
            expected="a dict of domain -> weight, e.g. IOD2019",
            got=type(weights).__name__,
        )
    unweighted = [d for d in domains if d not in weights]
    if unweighted:
        raise SchemaError(
            "lacks a weight for some domains",
            where="weights",
            expected=f"a weight for each of {domains}",
            got=f"no weight for {unweighted}",
        )
    unknown = [k for k in weights if k not in domains]
    if unknown:
        raise SchemaError(
            "names domains that are not in domains",
            where="weights",
            expected=f"only keys from {domains}",
            got=f"{unknown}",
            hint="add them to domains, or drop them from weights",
        )
    try:
        values = np.array([float(weights[d]) for d in domains], dtype=float)
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            "holds a value that is not a number",
            where="weights",
            expected="positive finite numbers",
            got=repr(dict(weights)),
        ) from exc
    bad = [d for d, w in zip(domains, values, strict=True) if not (np.isfinite(w) and w > 0)]
    if bad:
        raise SchemaError(
            "holds weights that are not positive and finite",
            where="weights",
            expected="positive finite numbers",
            got=", ".join(f"{d}={weights[d]!r}" for d in bad[:5]),
        )
    total = float(values.sum())
    if abs(total - 1.0) > _WEIGHT_SUM_TOLERANCE:
        warnings.warn(
            f"weights sum to {total:g}, not 1; they were rescaled to sum to 1 "
            f"({', '.join(f'{d}={w / total:.4g}' for d, w in zip(domains, values, strict=True))})",
            NeedskitWarning,
            stacklevel=3,
        )
        values = values / total
    return values


def _check_directions(direction: bool | Mapping[str, bool], domains: list[str]) -> np.ndarray:
    if isinstance(direction, (bool, np.bool_)):
        return np.full(len(domains), bool(direction))
    if not isinstance(direction, Mapping):
        raise SchemaError(
            "is neither a bool nor a mapping",
            where="higher_is_more_deprived",
            expected="True, False, or a dict of domain -> bool",
            got=type(direction).__name__,
            hint="published ranks (1 = most deprived) need higher_is_more_deprived=False",
        )
    missing = [d for d in domains if d not in direction]
    unknown = [k for k in direction if k not in domains]
    if missing or unknown:
        raise SchemaError(
            "does not give a direction for exactly the domains",
            where="higher_is_more_deprived",
            expected=f"one bool for each of {domains}",
            got=f"missing {missing}, unknown {unknown}",
        )
    not_bool = [d for d in domains if not isinstance(direction[d], (bool, np.bool_))]
    if not_bool:
        raise SchemaError(
            "holds values that are not True or False",
            where="higher_is_more_deprived",
            expected="bool per domain",
            got=", ".join(f"{d}={direction[d]!r}" for d in not_bool[:5]),
        )
    return np.array([bool(direction[d]) for d in domains])


def _check_codes(codes: pd.Series, code_col: str) -> None:
    if codes.isna().any():
        rows = codes.index[codes.isna()].tolist()
        raise SchemaError(
            "has missing area codes",
            where=f"code_col={code_col!r}",
            expected="a code for every area",
            got=f"{len(rows)} missing, e.g. at rows {rows[:5]}",
        )
    duplicated = codes[codes.duplicated(keep=False)]
    if len(duplicated):
        raise SchemaError(
            "has duplicate area codes",
            where=f"code_col={code_col!r}",
            expected="one row per area",
            got=describe_values(duplicated.tolist()),
            hint="aggregate to one row per area, or check the join that built the frame",
        )


def _domain_matrix(df: pd.DataFrame, domains: list[str], labels: pd.Series) -> np.ndarray:
    """The domains as an N x D float array; missing or infinite values raise, naming the rows."""
    values = df[domains].to_numpy(dtype=float, na_value=np.nan)
    for problem, bad in (("missing", np.isnan(values)), ("infinite", np.isinf(values))):
        rows = bad.any(axis=1)
        if rows.any():
            which = [d for d, b in zip(domains, bad.any(axis=0), strict=True) if b]
            examples = labels.to_numpy()[rows][:5].tolist()
            raise SchemaError(
                f"domain values are {problem}",
                where=f"domains {which}",
                expected="a finite value for every area and domain",
                got=f"{int(rows.sum())} row{'s' if rows.sum() != 1 else ''} with {problem} values, "
                f"e.g. {examples}",
                hint="impute or drop these areas before combining (the IoD shrinks small-area "
                "indicators rather than leaving gaps)",
            )
    return values


def _zscores(values: np.ndarray, domains: list[str], n: int) -> np.ndarray:
    sd = values.std(axis=0)
    constant = [d for d, s in zip(domains, sd, strict=True) if not s > 0]
    if constant:
        raise SchemaError(
            "cannot be z-scored: every area has the same value"
            if n > 1
            else "cannot be z-scored from a single area",
            where=f"domains {constant}",
            expected="values that vary between areas",
            got=f"{n} area{'s' if n != 1 else ''}",
            hint="drop the constant domain, or use standardise='rank'",
        )
    return (values - values.mean(axis=0)) / sd


def _exponential(scaled: np.ndarray) -> np.ndarray:
    """IoD exponential transform X = -23 ln(1 - R (1 - e^(-100/23))) of R in (0, 1]."""
    return -23.0 * np.log1p(-scaled * _EXP_CONSTANT)


def _tiebreak_key(labels: pd.Series) -> np.ndarray:
    """Integer key ordering the area labels ascending; row positions if they cannot be sorted."""
    try:
        return pd.factorize(labels.to_numpy(), sort=True)[0]
    except TypeError:
        return np.arange(len(labels))


def _rank_within_groups(
    groups: np.ndarray, primary: np.ndarray, tiebreak: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rank 1..n_g by ``primary`` ascending (then ``tiebreak``) within each group, vectorised."""
    n = len(groups)
    order = np.lexsort((tiebreak, primary, groups))
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    sizes = np.diff(np.r_[starts, n])
    position = np.arange(n) - np.repeat(starts, sizes)
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = position + 1
    group_size = np.empty(n, dtype=np.int64)
    group_size[order] = np.repeat(sizes, sizes)
    return ranks, group_size


def quantile_of_rank(rank: np.ndarray, n: int | np.ndarray, q: int) -> np.ndarray:
    """Quantile of a rank, ceil(rank / (n / q)), in exact integer arithmetic: 1 = most deprived.

    Parameters
    ----------
    rank
        Ranks 1..n (1 = most deprived).
    n
        Number of areas ranked, one number or one per rank (the size of its group).
    q
        Number of quantiles: 10 for deciles, 5 for quintiles.
    """
    rank = np.asarray(rank, dtype=np.int64)
    return (rank * q + np.asarray(n, dtype=np.int64) - 1) // np.asarray(n, dtype=np.int64)

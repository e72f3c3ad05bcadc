"""Sharing levels: which datasets may reach which audience, and the marking each output carries.

Each dataset is ``open``, ``partner`` or ``restricted`` and each output is for the ``public``,
for ``partner`` organisations or ``internal``. :func:`check_sharing` refuses an output whose
datasets may not reach its audience, :func:`filter_for_audience` keeps the rows that may, and
:func:`publication_marking` gives the banner the output must carry.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

import pandas as pd

from needskit._checks import require_choice, require_columns, require_frame
from needskit.errors import DisclosureError, NeedskitWarning, SchemaError, describe_values

__all__ = ["SHARING_LEVELS", "AUDIENCES", "check_sharing", "filter_for_audience", "publication_marking"]

Sharing = Literal["open", "partner", "restricted"]
Audience = Literal["public", "partner", "internal"]

SHARING_LEVELS: tuple[str, ...] = ("open", "partner", "restricted")
AUDIENCES: tuple[str, ...] = ("public", "partner", "internal")
_ALLOWED: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "public": frozenset({"open"}),
        "partner": frozenset({"open", "partner"}),
        "internal": frozenset({"open", "partner", "restricted"}),
    }
)


def _require_audience(audience: str) -> None:
    require_choice(audience, AUDIENCES, argument="audience")


def _unknown_levels(levels: Mapping[str, object]) -> None:
    bad = {name: level for name, level in levels.items() if level not in SHARING_LEVELS}
    if bad:
        raise SchemaError(
            "has unknown sharing levels",
            where="sharing",
            expected=f"one of {list(SHARING_LEVELS)} for every dataset",
            got=", ".join(f"{name!r}: {level!r}" for name, level in list(bad.items())[:5])
            + (f" and {len(bad) - 5} more" if len(bad) > 5 else ""),
            hint="set `sharing` for each dataset in conf/catalog.yml",
        )


def check_sharing(datasets_used: Mapping[str, str], *, audience: Audience) -> None:
    """Refuse an output whose datasets may not reach ``audience``.

    ``restricted`` data never goes into a publishable output (public or partner); ``partner``
    data only into outputs for partners and internal ones; ``open`` data anywhere.

    Parameters
    ----------
    datasets_used
        Dataset name -> sharing level (``"open"``, ``"partner"``, ``"restricted"``).
    audience
        ``"public"``, ``"partner"`` or ``"internal"``.

    Raises
    ------
    DisclosureError
        If any dataset is above the audience's level; the message names every such dataset.
    SchemaError
        Unknown audience or sharing level.

    Example
    -------
    >>> check_sharing({"police_crimes": "open", "gp_registers": "partner"}, audience="partner")
    """
    _require_audience(audience)
    if not isinstance(datasets_used, Mapping):
        raise SchemaError(
            "is not a mapping",
            where="datasets_used",
            expected="a dict of dataset name -> sharing level",
            got=type(datasets_used).__name__,
        )
    _unknown_levels(datasets_used)
    allowed = _ALLOWED[audience]
    refused = {name: level for name, level in datasets_used.items() if level not in allowed}
    if refused:
        restricted = [n for n, lv in refused.items() if lv == "restricted"]
        what = (
            "restricted data cannot be written into a publishable output"
            if restricted
            else f"partner-only data cannot be published for the {audience}"
        )
        raise DisclosureError(
            what,
            where=f"audience={audience!r}",
            expected=f"only {' or '.join(sorted(allowed))} data",
            got=", ".join(f"{name!r} ({level})" for name, level in refused.items()),
            hint="drop these datasets (filter_for_audience), or produce the output for "
            + ("audience='internal'" if restricted else "audience='partner' or 'internal'"),
        )


def filter_for_audience(
    df: pd.DataFrame,
    *,
    audience: Audience,
    sharing: str | Mapping[str, str] = "sharing",
    dataset: str = "dataset",
    errors: Literal["drop", "raise"] = "drop",
) -> pd.DataFrame:
    """Keep only the rows whose dataset may reach ``audience``.

    Parameters
    ----------
    df
        Pooled long frame with a ``dataset`` column (and a ``sharing`` column, unless a mapping
        is given). Not modified.
    audience
        ``"public"``, ``"partner"`` or ``"internal"``.
    sharing
        The column holding each row's sharing level, or a mapping dataset -> level.
    dataset
        The column naming each row's dataset.
    errors
        ``"drop"``: drop rows above the audience's level with a :class:`NeedskitWarning` naming
        the datasets; ``"raise"``: raise :class:`DisclosureError` instead.

    Returns
    -------
    pandas.DataFrame
        The allowed rows (original index and columns). ``attrs["audience"]`` and
        ``attrs["publication_marking"]`` (:func:`publication_marking`) are set for the writer.

    Raises
    ------
    DisclosureError
        ``errors="raise"`` and some rows are above the audience's level.
    SchemaError
        Unknown audience or errors option, missing columns, a dataset absent from the mapping,
        an unknown or missing sharing level.

    Notes
    -----
    Filter first, then :func:`apply_rules` for ``public`` and ``partner`` outputs; ``internal``
    outputs keep exact figures and carry the "not for publication" marking.

    Example
    -------
    >>> pooled = pd.DataFrame(
    ...     {"dataset": ["crimes", "gp"], "sharing": ["open", "partner"], "value": [12, 30]}
    ... )
    >>> len(filter_for_audience(pooled, audience="partner"))
    2
    """
    df = require_frame(df)
    _require_audience(audience)
    require_choice(errors, ["drop", "raise"], argument="errors")
    if isinstance(sharing, Mapping):
        require_columns(df, [dataset], argument="dataset")
        names = df[dataset]
        unmapped = sorted({str(v) for v in names[~names.isin(list(sharing))].tolist()})
        if unmapped:
            raise SchemaError(
                "has datasets without a sharing level",
                where="sharing",
                expected=f"a level for every value of column {dataset!r}",
                got=describe_values(unmapped),
                hint="add them to the mapping (or to conf/catalog.yml)",
            )
        levels = names.map(dict(sharing))
    else:
        require_columns(df, [sharing], argument="sharing")
        levels = df[sharing]
        names = df[dataset] if dataset in df.columns else levels.astype(str).radd("rows with sharing ")
    bad = levels[~levels.isin(SHARING_LEVELS)]
    if len(bad):
        raise SchemaError(
            "has unknown or missing sharing levels",
            where="sharing" if isinstance(sharing, Mapping) else f"column {sharing!r}",
            expected=f"one of {list(SHARING_LEVELS)}",
            got=f"{describe_values(bad.astype(object).tolist())} at rows {list(bad.index[:5])}",
        )
    keep = levels.isin(sorted(_ALLOWED[audience])).to_numpy()
    if not keep.all():
        refused = dict(zip(names[~keep].astype(str).tolist(), levels[~keep].tolist(), strict=True))
        if errors == "raise":
            check_sharing(refused, audience=audience)
        counts = names[~keep].astype(str).value_counts()
        warnings.warn(
            f"filter_for_audience(audience={audience!r}): dropped {int((~keep).sum())} rows from "
            + ", ".join(f"{n!r} ({refused[n]}, {int(c)} rows)" for n, c in counts.items()),
            NeedskitWarning,
            stacklevel=2,
        )
    out = df.loc[keep].copy()
    out.attrs["audience"] = audience
    out.attrs["publication_marking"] = publication_marking(audience)
    return out


_MARKINGS: Mapping[str, str] = MappingProxyType(
    {
        "public": "OFFICIAL \u2014 PUBLIC. Open and partner-approved data only; small numbers have been "
        "controlled before publication and \u201c*\u201d marks a withheld figure.",
        "partner": "OFFICIAL-SENSITIVE \u2014 PARTNERS ONLY. For the organisations in the data sharing "
        "agreement; do not publish or pass on. Small numbers have been controlled; \u201c*\u201d marks "
        "a withheld figure.",
        "internal": "OFFICIAL-SENSITIVE \u2014 INTERNAL: NOT FOR PUBLICATION. Contains exact figures, "
        "including small numbers, and may contain restricted data; do not share outside the producing "
        "organisation.",
    }
)


def publication_marking(audience: Audience) -> str:
    """The banner an output for ``audience`` must carry (top of every page, sheet and file).

    Raises
    ------
    SchemaError
        Unknown audience.

    Example
    -------
    >>> "NOT FOR PUBLICATION" in publication_marking("internal")
    True
    """
    _require_audience(audience)
    return _MARKINGS[audience]

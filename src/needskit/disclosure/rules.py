"""Small-number rule sets: what each rule withholds and rounds, and how a report states it.

:class:`RuleSet` holds a rule's settings and :data:`RULE_SETS` the built-in ones;
:func:`describe_rule` words a rule for the methods appendix. :func:`withheld_by_primary` and
:func:`round_half_up` apply a rule's primary suppression and rounding to an array of counts, the
two cell-by-cell steps :func:`~needskit.disclosure.suppression.apply_rules` builds on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from needskit._checks import require_choice
from needskit.errors import SchemaError

__all__ = [
    "SUPPRESSED",
    "RuleSet",
    "RULE_SETS",
    "describe_rule",
    "resolve_rule",
    "withheld_by_primary",
    "round_half_up",
]

SUPPRESSED = "*"
"""The mark a withheld figure carries in ``value_published`` and ``percent_published``."""


@dataclass(frozen=True)
class RuleSet:
    """A small-number disclosure rule: primary suppression, optional secondary suppression, rounding.

    Attributes
    ----------
    name
        Registry key, also written to ``disclosure_rule`` and the log.
    title
        Who uses the rule, for the methods statement (e.g. ``"NHS Digital"``).
    threshold
        Counts up to and including this are withheld (primary suppression).
    suppress_zero
        Whether a zero is withheld too (OpenSAFELY: "redact <= 7"); otherwise zero stays 0.
    rounding_base
        Published counts (not withheld) are rounded to the nearest multiple; ``None`` keeps exact.
    secondary
        Protect withheld cells from recovery by subtraction from published totals.
    totals_from_redacted
        Totals are recomputed from the cells left after withholding (OpenSAFELY), before rounding.
    """

    name: str
    title: str
    threshold: int
    suppress_zero: bool = False
    rounding_base: int | None = None
    secondary: bool = False
    totals_from_redacted: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.threshold, int | np.integer) or self.threshold < 0:
            raise SchemaError(
                "is not a count",
                where="RuleSet.threshold",
                expected="an integer >= 0",
                got=repr(self.threshold),
            )
        if self.rounding_base is not None and (
            not isinstance(self.rounding_base, int | np.integer) or self.rounding_base < 1
        ):
            raise SchemaError(
                "is not a rounding base",
                where="RuleSet.rounding_base",
                expected="None or an integer >= 1",
                got=repr(self.rounding_base),
            )
        if self.secondary and self.suppress_zero:
            raise SchemaError(
                "withholds zeros and uses secondary suppression",
                where=f"RuleSet {self.name!r}",
                expected="suppress_zero=False when secondary=True",
                got="both",
                hint="withheld cells that sum to zero along a published total are recovered exactly "
                "(all are 0)",
            )
        if self.secondary and self.totals_from_redacted:
            raise SchemaError(
                "combines secondary suppression with totals recomputed from redacted cells",
                where=f"RuleSet {self.name!r}",
                expected="one of secondary=True or totals_from_redacted=True",
                got="both",
                hint="totals built from redacted cells reveal nothing about them; "
                "secondary suppression is not needed",
            )

    @property
    def primary_reason(self) -> str:
        """``"primary: 1-7"`` (``"primary: 0-7"`` when zeros are withheld too)."""
        return f"primary: {0 if self.suppress_zero else 1}-{self.threshold}"


RULE_SETS: Mapping[str, RuleSet] = MappingProxyType(
    {
        "nhs_digital": RuleSet("nhs_digital", "NHS Digital", threshold=7, rounding_base=5),
        "opensafely": RuleSet(
            "opensafely",
            "OpenSAFELY",
            threshold=7,
            suppress_zero=True,
            rounding_base=5,
            totals_from_redacted=True,
        ),
        "lt5_secondary": RuleSet(
            "lt5_secondary", "fewer than 5 with secondary suppression", threshold=4, secondary=True
        ),
    }
)
"""Built-in rule sets by name. Pass your own :class:`RuleSet` to :func:`apply_rules` for house rules."""


def resolve_rule(rule: str | RuleSet) -> RuleSet:
    """The :class:`RuleSet` a ``rule=`` argument names.

    Parameters
    ----------
    rule
        A name in :data:`RULE_SETS` or a :class:`RuleSet` (returned as it is).

    Returns
    -------
    RuleSet

    Raises
    ------
    SchemaError
        If ``rule`` is not a known name.
    """
    if isinstance(rule, RuleSet):
        return rule
    require_choice(rule, list(RULE_SETS), argument="rule")
    return RULE_SETS[rule]


def describe_rule(rule: str | RuleSet) -> str:
    """One plain-English paragraph stating a rule set, for the methods appendix of a report.

    Parameters
    ----------
    rule
        A name in :data:`RULE_SETS` or a :class:`RuleSet`.

    Returns
    -------
    str
        The paragraph; built from the rule's settings, so custom rule sets are described too.

    Raises
    ------
    SchemaError
        If ``rule`` is not a known name.

    Example
    -------
    >>> describe_rule("nhs_digital").startswith("Small numbers were controlled with the NHS Digital rule")
    True
    """
    rs = resolve_rule(rule)
    star = f"\u201c{SUPPRESSED}\u201d"
    text = [
        f"Small numbers were controlled with the {rs.title} rule (needskit rule set \u2018{rs.name}\u2019)."
    ]
    if rs.suppress_zero:
        text.append(
            f"Every count of {rs.threshold} or fewer, including zero, was withheld and is shown as {star}."
        )
    else:
        text.append(
            f"Counts from 1 to {rs.threshold} were withheld and are shown as {star}; zeros are shown as 0."
        )
    if rs.secondary:
        text.append(
            "Where a row or column is published with its total and only one of its figures had been "
            "withheld, its next smallest figure was withheld as well, repeating until every such row and "
            "column had none or at least two withheld figures; the pattern was then checked, and extended "
            "where needed, so that no withheld figure can be worked out exactly by adding and subtracting "
            "published rows, columns and totals."
        )
    if rs.rounding_base:
        text.append(
            f"All other counts were rounded to the nearest {rs.rounding_base} "
            "(a value exactly halfway is rounded up), so figures may not add up exactly to the totals shown."
        )
    if rs.totals_from_redacted:
        text.append("Totals were recalculated from the figures left after withholding, before rounding.")
    elif rs.rounding_base:
        text.append("Totals were calculated from the exact figures and then treated in the same way.")
    if rs.rounding_base:
        text.append("Percentages were calculated from the published, rounded figures.")
    text.append(
        "Every published figure was then checked together, as an attacker would combine them: the "
        "neighbourhoods that make up a ward, a district or one of the partnership's own places, the "
        "months that make up a longer period, the categories an indicator adds up, and a rate times "
        "its population, even knowing which withheld figures are small; wherever a withheld figure "
        "could still be worked out, another figure was withheld as well."
    )
    if not rs.suppress_zero:
        text.append(
            "Because zeros are shown, a withheld figure is at least 1: where every figure of a total is "
            "withheld and the total is itself small (seven neighbourhoods withheld in an area of at most "
            "seven), each can be told to be 1, and withholding more cannot prevent it."
        )
    text.append(
        f"A figure shown as {star} is not missing: it is small, or it was withheld to protect a small "
        "figure, and which of the two is not said."
    )
    return " ".join(text)


# --------------------------------------------------------------------------------------------
# Primary suppression and rounding, cell by cell


def withheld_by_primary(x: np.ndarray, rs: RuleSet) -> np.ndarray:
    """Withheld by the primary rule. Non-integers are tested as rounded half up: x < threshold + 0.5.

    Parameters
    ----------
    x
        Counts (float; ``nan`` for missing, never withheld).
    rs
        The rule set: ``threshold`` and ``suppress_zero`` decide.

    Returns
    -------
    numpy.ndarray
        Boolean mask, ``True`` where the count is withheld.
    """
    with np.errstate(invalid="ignore"):
        small = x < rs.threshold + 0.5
        return small & (x >= 0) if rs.suppress_zero else small & (x > 0)


def round_half_up(x: np.ndarray, base: int) -> np.ndarray:
    """Round to the nearest multiple of ``base``, halves up (7.5 -> 10, 12.5 -> 15), as Excel's MROUND.

    Parameters
    ----------
    x
        Values to round.
    base
        The rule set's ``rounding_base``.

    Returns
    -------
    numpy.ndarray
        The rounded values (float).
    """
    return np.floor(x / base + 0.5) * base

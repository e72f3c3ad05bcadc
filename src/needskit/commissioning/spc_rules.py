"""SPC rules: Making Data Count's special-cause tests, the house settings, and their vocabulary.

:class:`SpcRules` holds which tests a chart applies (run lengths, two of three, outside the
limits, moving-range screening) and words them for a report; :func:`apply_rules` flags the
points of every series and segment at once. The labels a chart gives (:data:`POLARITIES`,
:data:`VARIATIONS`, :data:`ASSURANCES`) live here too, so that the charts
(:mod:`needskit.commissioning.spc`), the board (:mod:`needskit.commissioning.spc_board`) and the
plot (:mod:`needskit.commissioning.spc_plot`) share one vocabulary.

References
----------
NHS England and NHS Improvement (2019, updated 2021), *Making Data Count: Getting started* and
*Strengthening your decisions*. NHS-R Community, NHSRplotthedots (R package), ``ptd_spc``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from needskit.errors import SchemaError

__all__ = ["SpcRules", "Polarity", "POLARITIES", "VARIATIONS", "ASSURANCES", "apply_rules"]

Polarity = Literal["high_is_good", "high_is_bad", "no_judgement"]
Chart = Literal["xmr", "p"]
POLARITIES: tuple[str, ...] = ("high_is_good", "high_is_bad", "no_judgement")
VARIATIONS: tuple[str, ...] = (
    "common cause",
    "special cause improving",
    "special cause concerning",
    "special cause (no judgement)",
)
ASSURANCES: tuple[str, ...] = (
    "consistently meets target",
    "consistently fails target",
    "inconsistent",
    "no target",
)


@dataclass(frozen=True)
class SpcRules:
    """The special-cause rules applied to a chart (Making Data Count defaults).

    Parameters
    ----------
    shift_run
        A run of this many consecutive points on the same side of the mean is a shift
        (Making Data Count: 7). ``None`` switches the rule off.
    trend_run
        This many consecutive points each higher (or each lower) than the one before is a trend
        (Making Data Count: 7). ``None`` switches the rule off.
    two_of_three
        Flag 2 of 3 consecutive points beyond the 2σ line (two thirds of the way from the mean to
        a process limit) on the same side.
    outside_limits
        Flag a point above the upper or below the lower process limit.
    screen_moving_ranges
        XmR charts only: leave moving ranges above 3.267 × the mean moving range out of the mean
        moving range before the limits are computed (one pass), so that one freak month does not
        widen the limits. NHSRplotthedots ``ptd_spc(screen_outliers = TRUE)`` does the same.

    Notes
    -----
    A point exactly on the mean breaks a shift, and two equal consecutive values break a trend
    (as NHSRplotthedots). Every point of a qualifying run is flagged, not only the seventh.
    Two of three: any window of three consecutive points with two beyond the same 2σ line
    flags those two; a point beyond the process limit also counts as beyond 2σ, and the third
    point may lie anywhere (NHSRplotthedots counts only points between 2σ and 3σ and asks all
    three to sit on the same side of the mean). Screening keeps moving ranges ≤ 3.267 × mean
    (NHSRplotthedots: <), so a constant series keeps zero-width limits rather than none.

    Examples
    --------
    >>> SpcRules(shift_run=6).describe()  # doctest: +ELLIPSIS
    'Rules used: a point outside the process limits; a run of 6 or more points ...'
    """

    shift_run: int | None = 7
    trend_run: int | None = 7
    two_of_three: bool = True
    outside_limits: bool = True
    screen_moving_ranges: bool = True

    def __post_init__(self) -> None:
        for name in ("shift_run", "trend_run"):
            run = getattr(self, name)
            if run is not None and (
                isinstance(run, bool) or not isinstance(run, int | np.integer) or run < 2
            ):
                raise SchemaError(
                    "is not a usable run length",
                    where=f"SpcRules({name}=...)",
                    expected="a whole number of 2 or more, or None to switch the rule off",
                    got=repr(run),
                )
        for name in ("two_of_three", "outside_limits", "screen_moving_ranges"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise SchemaError(
                    "is not True or False", where=f"SpcRules({name}=...)", got=repr(getattr(self, name))
                )

    def describe(self, *, chart: Chart = "xmr") -> str:
        """The sentence a report prints under the chart: which rules flagged special causes."""
        rules = []
        if self.outside_limits:
            rules.append("a point outside the process limits")
        if self.shift_run is not None:
            rules.append(f"a run of {self.shift_run} or more points on one side of the mean")
        if self.trend_run is not None:
            rules.append(
                f"{self.trend_run} or more points in a row each higher (or each lower) than the one before"
            )
        if self.two_of_three:
            rules.append(
                "2 of 3 consecutive points beyond two thirds of the way to a process limit, on the same side"
            )
        text = (
            "Rules used: "
            + ("; ".join(rules) if rules else "none (no special-cause rule is switched on)")
            + "."
        )
        if chart == "xmr":
            text += " Limits: mean ± 2.66 × mean moving range"
            text += (
                ", moving ranges above 3.267 × their mean left out."
                if self.screen_moving_ranges
                else ", all moving ranges used."
            )
        else:
            text += " Limits: p̄ ± 3 standard errors for each period's denominator."
        return text


def apply_rules(
    y: np.ndarray,
    centre: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    lower2: np.ndarray,
    upper2: np.ndarray,
    seg: np.ndarray,
    first: np.ndarray,
    rules: SpcRules,
) -> dict[str, np.ndarray]:
    """Flag the points that the special-cause rules pick out, for many series and segments at once.

    Parameters
    ----------
    y
        The values, sorted by series and time.
    centre, lower, upper, lower2, upper2
        Each point's mean, process limits and 2σ lines.
    seg
        Segment numbers (rows of a segment consecutive); runs and windows never cross segments.
    first
        Whether each row is the first of its segment.
    rules
        The rules to apply (switched-off rules flag nothing).

    Returns
    -------
    ``{"outside_limits", "shift", "trend", "two_of_three", "special_cause": boolean arrays,
    "direction": +1 high, -1 low, 0 none}``; the direction of a point flagged only by a trend is
    the trend's.
    """
    n = len(y)
    side = np.sign(y - centre).astype(int)
    same_as_prev = ~first

    outside = (y > upper) | (y < lower) if rules.outside_limits else np.zeros(n, dtype=bool)

    if rules.shift_run is not None:
        shift = (side != 0) & (_run_lengths(side, seg) >= rules.shift_run)
    else:
        shift = np.zeros(n, dtype=bool)

    trend = np.zeros(n, dtype=bool)
    trend_dir = np.zeros(n, dtype=int)
    if rules.trend_run is not None and n > 1:
        step = np.zeros(n, dtype=int)  # sign of the change into each point (0 at a segment start)
        step[1:] = np.where(same_as_prev[1:], np.sign(np.diff(y)), 0)
        into = (step != 0) & (_run_lengths(step, seg) >= rules.trend_run - 1)
        out_of = np.zeros(n, dtype=bool)
        out_of[:-1] = into[1:]
        trend = into | out_of
        step_out = np.zeros(n, dtype=int)
        step_out[:-1] = step[1:]
        trend_dir = np.where(into, step, np.where(out_of, step_out, 0))

    two = np.zeros(n, dtype=bool)
    if rules.two_of_three and n >= 3:
        for beyond in (y > upper2, y < lower2):
            count = beyond[2:].astype(int) + beyond[1:-1] + beyond[:-2]
            window = np.zeros(n, dtype=bool)  # window of three ending at each point qualifies
            window[2:] = (count >= 2) & (seg[2:] == seg[:-2])
            covered = window.copy()
            covered[:-1] |= window[1:]
            covered[:-2] |= window[2:]
            two |= beyond & covered

    level = outside | shift | two
    special = level | trend
    direction = np.where(level, side, np.where(trend, trend_dir, 0))
    return {
        "outside_limits": outside,
        "shift": shift,
        "trend": trend,
        "two_of_three": two,
        "special_cause": special,
        "direction": direction,
    }


def _run_lengths(labels: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Length of the run of equal ``labels`` (within a segment) each element belongs to."""
    new = np.ones(len(labels), dtype=bool)
    new[1:] = (labels[1:] != labels[:-1]) | (seg[1:] != seg[:-1])
    run = np.cumsum(new) - 1
    return np.bincount(run)[run]

"""Public-health indicator statistics and benchmarking (Fingertips / PHEindicatormethods methods).

DataFrame in, DataFrame out; the frame is the only positional argument. Every statistic
returns ``value``, one ``lower_<level>``/``upper_<level>`` pair per confidence level
(``lower_95``, ``upper_95``, ``lower_99_8``, ``upper_99_8`` by default), ``method`` and
``suppressed_reason`` (``""`` unless the value or limits are withheld, and then why).

Grouping: :func:`proportion` and :func:`crude_rate` compute one result per row when
``by=None`` (other columns kept) and sum within groups first when ``by`` is given;
:func:`mean`, :func:`dsr`, :func:`isr` and :func:`life_expectancy` always summarise, and
``by=None`` means the whole frame is one group.

Modules: :mod:`.limits` (array-level confidence limits), :mod:`.stats` (proportion, crude
rate, mean), :mod:`.standardised` (DSR, ISR), :mod:`.life_table` (life expectancy),
:mod:`.benchmark` (comparisons, quantiles, trend), :mod:`.funnel` (control limits
for funnel plots and SPC comparisons), :mod:`.ages` (age bands, ESP2013).
"""

from needskit.needs.statistics.ages import ESP2013, ESP2013_BANDS, LIFE_TABLE_BANDS, parse_band
from needskit.needs.statistics.benchmark import (
    COMPARISON_METHODS,
    TREND_CRITICAL_VALUE,
    compare,
    quantiles,
    trend,
)
from needskit.needs.statistics.funnel import FUNNEL_STATISTICS, control_limits, funnel_limits
from needskit.needs.statistics.life_table import life_expectancy
from needskit.needs.statistics.limits import (
    byars_limits,
    confidence_levels,
    exact_poisson_limits,
    level_label,
    poisson_limits,
    wilson_limits,
    z_value,
)
from needskit.needs.statistics.standardised import DSR_MIN_EVENTS, dsr, isr
from needskit.needs.statistics.stats import crude_rate, mean, proportion

__all__ = [
    "proportion",
    "crude_rate",
    "mean",
    "dsr",
    "isr",
    "life_expectancy",
    "compare",
    "quantiles",
    "trend",
    "funnel_limits",
    "control_limits",
    "FUNNEL_STATISTICS",
    "wilson_limits",
    "byars_limits",
    "exact_poisson_limits",
    "poisson_limits",
    "z_value",
    "confidence_levels",
    "level_label",
    "parse_band",
    "ESP2013",
    "ESP2013_BANDS",
    "LIFE_TABLE_BANDS",
    "DSR_MIN_EVENTS",
    "COMPARISON_METHODS",
    "TREND_CRITICAL_VALUE",
]

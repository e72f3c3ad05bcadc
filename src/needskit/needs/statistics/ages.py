"""Age-band labels: parse ``"0-4"``, ``"90+"``, ``"85 - 89"``, ``"<1"`` or start ages into bands.

Also holds the European Standard Population 2013 and the abridged life-table bands.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from needskit.errors import SchemaError, describe_values

__all__ = ["ESP2013", "ESP2013_BANDS", "LIFE_TABLE_BANDS", "parse_band", "band_index"]

OPEN = math.inf

ESP2013_BANDS: tuple[tuple[int, float], ...] = tuple((a, a + 4) for a in range(0, 90, 5)) + ((90, OPEN),)
"""The 19 ESP2013 bands as (first age, last age): (0, 4), (5, 9) ... (85, 89), (90, inf)."""

ESP2013: tuple[int, ...] = (
    5000,
    5500,
    5500,
    5500,
    6000,
    6000,
    6500,
    7000,
    7000,
    7000,
    7000,
    6500,
    6000,
    5500,
    5000,
    4000,
    2500,
    1500,
    1000,
)
"""European Standard Population 2013 for the bands in :data:`ESP2013_BANDS` (sums to 100,000)."""

LIFE_TABLE_BANDS: tuple[tuple[int, float], ...] = (
    ((0, 0), (1, 4)) + tuple((a, a + 4) for a in range(5, 90, 5)) + ((90, OPEN),)
)
"""The 20 abridged life-table bands: 0, 1-4, 5-9 ... 85-89, 90+."""

_RANGE = re.compile(r"^(?:aged?\s*)?(\d+)\s*(?:-|–|—|to)\s*(\d+)(?:\s*years?)?$")
_OPEN_END = re.compile(r"^(?:aged?\s*)?(\d+)\s*(?:\+|plus|and\s+over|and\s+older|or\s+over)(?:\s*years?)?$")
_SINGLE = re.compile(r"^(?:aged?\s*)?(\d+)(?:\s*years?)?$")
_UNDER_ONE = re.compile(r"^(?:<\s*1|under\s*1|0\s*-\s*<\s*1)$")


def parse_band(label: object) -> tuple[int, float | None] | None:
    """``(first, last)`` ages of a band label; ``last`` is ``inf`` for an open band and
    ``None`` for a bare number (read as a start age). ``None`` if the label is not understood.

    Examples
    --------
    >>> parse_band("0-4"), parse_band("90+"), parse_band("1 - 4"), parse_band(85)
    ((0, 4), (90, inf), (1, 4), (85, None))
    """
    if isinstance(label, (bool, np.bool_)):
        return None
    if isinstance(label, (int, np.integer)) or (
        isinstance(label, (float, np.floating)) and float(label).is_integer()
    ):
        return (int(label), None)
    if not isinstance(label, str):
        return None
    text = label.strip().lower()
    if match := _RANGE.match(text):
        first, last = int(match[1]), int(match[2])
        return (first, last) if last >= first else None
    if match := _OPEN_END.match(text):
        return (int(match[1]), OPEN)
    if _UNDER_ONE.match(text):
        return (0, 0)
    if match := _SINGLE.match(text):
        return (int(match[1]), int(match[1]))
    return None


def _band_label(band: tuple[int, float]) -> str:
    first, last = band
    if last == OPEN:
        return f"{first}+"
    return f"{first}" if first == last else f"{first}-{int(last)}"


def band_index(
    labels: pd.Series, bands: Sequence[tuple[int, float]], *, argument: str, scheme: str
) -> np.ndarray:
    """Position of each label in ``bands``; raises SchemaError naming labels that do not fit.

    A bare number matches the band that starts at that age.
    """
    codes, uniques = pd.factorize(labels, use_na_sentinel=True)
    starts = {first: i for i, (first, _) in enumerate(bands)}
    positions = np.empty(len(uniques), dtype=np.int64)
    unknown: list[object] = ["<missing>"] if (codes < 0).any() else []
    for j, label in enumerate(uniques):
        parsed = parse_band(label)
        position = None
        if parsed is not None:
            first, last = parsed
            position = starts.get(first)
            if position is not None and last is not None and bands[position][1] != last:
                position = None
        if position is None:
            unknown.append(label)
        else:
            positions[j] = position
    if unknown:
        raise SchemaError(
            f"has labels that are not {scheme} age bands",
            where=f"column {argument!r}",
            expected=", ".join(_band_label(b) for b in bands),
            got=describe_values(unknown),
            hint="labels such as '0-4', '5 - 9', '90+' or start ages 0, 5, ... 90 are understood",
        )
    return positions[codes]


def band_labels(bands: Sequence[tuple[int, float]]) -> list[str]:
    return [_band_label(b) for b in bands]

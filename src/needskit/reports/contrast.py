"""Colour contrast as WCAG 2.2 measures it: text on a coloured table cell or label stays readable.

WCAG 2.2 success criterion 1.4.3 (contrast, minimum, level AA) asks for a contrast ratio of at
least 4.5:1 between text and its background (3:1 for large text). :func:`text_colour` picks
black or white text for a background, whichever contrasts more; every colour in a report that
carries text should go through it rather than a hand-picked "white".
"""

from __future__ import annotations

from typing import Literal

__all__ = ["AA_TEXT", "relative_luminance", "contrast_ratio", "text_colour"]

AA_TEXT = 4.5
"""The least contrast ratio for normal-size text at WCAG level AA."""


def _rgb(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    try:
        return to_rgb(colour)
    except ValueError as error:
        from needskit.errors import SchemaError

        raise SchemaError(
            "is not a colour",
            where="needskit.reports.contrast",
            expected="a CSS hex colour such as '#e46c0a' or a colour name",
            got=repr(colour),
        ) from error


def relative_luminance(colour: str) -> float:
    """The relative luminance of an sRGB colour (0 black to 1 white), as WCAG 2.2 defines it.

    >>> round(relative_luminance("#767676"), 3)
    0.181
    """

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in _rgb(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG's contrast ratio of two colours, from 1 (none) to 21 (black on white).

    >>> round(contrast_ratio("#ffffff", "#e46c0a"), 1)  # white on Making Data Count orange: fails AA
    3.3
    >>> round(contrast_ratio("#000000", "#ffffff"), 1)
    21.0
    """
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_colour(background: str) -> Literal["#000000", "#ffffff"]:
    """Black or white text for ``background``, whichever contrasts more (never less than 4.58:1,
    so always at least level AA).

    >>> text_colour("#e46c0a"), text_colour("#490092")
    ('#000000', '#ffffff')
    """
    black = contrast_ratio("#000000", background)
    return "#000000" if black >= contrast_ratio("#ffffff", background) else "#ffffff"

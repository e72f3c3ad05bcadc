"""The SPC board: one row per indicator with its latest value and Making Data Count's icons."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from needskit.commissioning.spc import chart_meta
from needskit.errors import SchemaError

__all__ = ["board_summary"]

_VARIATION_ICONS = {
    ("common cause", ""): "common_cause",
    ("special cause improving", "high"): "improvement_high",
    ("special cause improving", "low"): "improvement_low",
    ("special cause concerning", "high"): "concern_high",
    ("special cause concerning", "low"): "concern_low",
    ("special cause (no judgement)", "high"): "neither_high",
    ("special cause (no judgement)", "low"): "neither_low",
}
_ASSURANCE_ICONS = {
    "consistently meets target": "pass",
    "consistently fails target": "fail",
    "inconsistent": "hit_or_miss",
    "no target": "no_target",
}


def board_summary(*results: pd.DataFrame, names: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per indicator (per series): latest value, variation and assurance, with icon codes.

    Parameters
    ----------
    *results
        Frames returned by :func:`~needskit.commissioning.spc.xmr` or
        :func:`~needskit.commissioning.spc.p_chart`, one per indicator (each may hold several series
        through ``by``).
    names
        Indicator names, one per result; default the value (or numerator) column's name.

    Returns
    -------
    DataFrame with ``indicator`` (a ``by`` column of that name is used as it is, prefixed by
    ``names`` when given), the ``by`` columns of any result, ``time`` (latest period),
    ``value``, ``mean``, ``lower_limit``, ``upper_limit``, ``target``, ``polarity``, ``chart``,
    ``n_points`` (points in the latest segment), ``variation`` and ``variation_icon``
    (``common_cause``, ``improvement_high``/``_low``, ``concern_high``/``_low``,
    ``neither_high``/``_low``), ``assurance`` and ``assurance_icon`` (``pass``, ``fail``,
    ``hit_or_miss``, ``no_target``).

    Raises
    ------
    SchemaError
        No results, a frame that did not come from :func:`~needskit.commissioning.spc.xmr` or
        :func:`~needskit.commissioning.spc.p_chart`, or ``names`` of the wrong length.

    Notes
    -----
    The variation icon describes the latest point (as Making Data Count and NHSRplotthedots);
    assurance uses the latest segment's limits. Icon codes name Making Data Count's icons: the
    letter H or L and the colour (blue improving, orange concerning, purple neither, grey common
    cause); assurance P (pass), F (fail) or ? (hit and miss).

    Examples
    --------
    >>> board_summary(xmr(a, value="v", time="t"), p_chart(b, numerator="x", denominator="n", time="t"),
    ...               names=["A&E waits", "Screening uptake"])  # doctest: +SKIP
    """
    if not results:
        raise SchemaError(
            "no charts given", where="results", expected="one or more frames from xmr() or p_chart()"
        )
    if names is not None and (isinstance(names, str) or len(names) != len(results)):
        raise SchemaError(
            "does not name every result", where="names", expected=f"{len(results)} names", got=repr(names)
        )
    pieces = []
    for i, result in enumerate(results):
        meta = chart_meta(result, argument=f"results[{i}]")
        keys, time = meta["by"], meta["time"]
        latest = result.groupby(keys, sort=False, dropna=False).tail(1) if keys else result.tail(1)
        last_seg = (
            result.groupby(keys, sort=False, dropna=False)["segment"].transform("max")
            if keys
            else result["segment"].max()
        )
        in_last = result[result["segment"] == last_seg]
        sizes = in_last.groupby(keys, sort=False, dropna=False).size() if keys else pd.Series([len(in_last)])
        piece = (
            latest[
                keys
                + [
                    time,
                    "value",
                    "mean",
                    "lower_limit",
                    "upper_limit",
                    "target",
                    "variation",
                    "direction",
                    "assurance",
                ]
            ]
            .rename(columns={time: "time"})
            .reset_index(drop=True)
        )
        if "indicator" in keys:  # the series are themselves indicators
            if names is not None:
                piece["indicator"] = f"{names[i]}: " + piece["indicator"].astype(str)
        else:
            piece.insert(0, "indicator", names[i] if names is not None else meta["value"])
        piece["polarity"] = meta["polarity"]
        piece["chart"] = meta["chart"]
        piece["n_points"] = sizes.to_numpy()
        pieces.append(piece)
    out = pd.concat(pieces, ignore_index=True)
    direction = out["direction"].fillna("").astype(str)
    out["variation_icon"] = [
        _VARIATION_ICONS[(v, d)] for v, d in zip(out["variation"], direction, strict=True)
    ]
    out["assurance_icon"] = out["assurance"].map(_ASSURANCE_ICONS)
    order = [
        c
        for c in out.columns
        if c not in ("variation", "direction", "variation_icon", "assurance", "assurance_icon")
    ]
    return out[order + ["variation", "variation_icon", "assurance", "assurance_icon"]]

"""A QGIS-ready GeoPackage of a published store: the indicators on the map, documented and styled.

``needskit publish`` (and ``needskit run``) writes ``indicators.gpkg`` into each published store
(``data/published/<audience>/``); ``needskit export gpkg`` writes one anywhere. It is made from
the published store only, so it carries the audience's disclosure control: a withheld figure is
empty (NULL) and flagged, never the internal value. It holds

* one polygon layer per level with boundaries (``lsoa``, ``msoa``, ``ward``, ``district``,
  ``county``) and the partnership's places (``places``): for every indicator, its value in the
  period shown, the 95% confidence interval, the published numerator and denominator, a withheld
  flag and the comparison with each comparator (parent, England ...);
* short field names (at most 10 characters, so that a shapefile export keeps them whole; made
  unique before they are cut, so no two fields of a layer share a name): an indicator's stem,
  e.g. ``crrall``, then ``crrall_lo``, ``crrall_hi``, ``crrall_n``, ``crrall_d``, ``crrall_wh``,
  ``crrall_cp`` (compared with the parent), ``crrall_ce`` (with England);
* ``field_dictionary``: every field of every layer with its title, unit, source, period and
  statistic (also written to the GeoPackage's own ``gpkg_data_columns`` schema table and, as
  aliases, into each layer's style);
* ``layer_styles``: the table QGIS reads a layer's default style from, with a graduated style
  per layer classified on its headline indicator (:mod:`needskit.reports.qgis_style`), so each
  layer opens already classified, withheld areas grey;
* ``sources``: the datasets, their licences and the attribution lines the Open Government
  Licence requires; the same lines, the publication marking and the disclosure rule are the
  GeoPackage's metadata (``gpkg_metadata``) and each layer's description.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from needskit.errors import ReportError, SchemaError, StoreError
from needskit.partner_data.store import Store
from needskit.place.geography import BOUNDARY_LEVELS
from needskit.reports.qgis_style import LayerStyle, graduated_style

__all__ = [
    "GEOPACKAGE",
    "PLACES_LAYER",
    "GeoPackageContent",
    "short_names",
    "indicator_layer",
    "geopackage_content",
    "write_geopackage",
]

GEOPACKAGE = "indicators.gpkg"
"""File name of the GeoPackage in a published store."""
PLACES_LAYER = "places"
MAX_FIELD = 10
"""Longest field name written (a shapefile's limit)."""
_STEM = MAX_FIELD - 4  # room for "_lo", "_wh", "_cp" ...
_LEVEL_WORDS = {
    "lsoa": "Lower layer super output areas (LSOA 2021): neighbourhoods of about 1,500 residents",
    "msoa": "Middle layer super output areas (MSOA 2021)",
    "ward": "Electoral wards",
    "district": "Districts and unitary authorities",
    "county": "Counties and unitary authorities",
    PLACES_LAYER: "The partnership's own places (conf/places.yml), made of whole neighbourhoods",
}
_COMPARATOR_WORDS = {"parent": "the parent area", "england": "England", "region": "the region"}
_STATISTIC_WORDS = {
    "proportion": "proportion",
    "crude_rate": "crude rate",
    "dsr": "directly age-standardised rate",
    "isr": "indirectly standardised ratio",
    "life_expectancy": "life expectancy",
    "mean": "mean of the area's neighbourhoods",
    "value": "published value",
}
_COUNTED = ("proportion", "crude_rate", "dsr", "isr")
_COLUMNS = [
    "indicator",
    "title",
    "unit",
    "statistic",
    "sources",
    "method",
    "level",
    "area_code",
    "period",
    "value",
    "lower_95",
    "upper_95",
    "numerator",
    "denominator",
    "suppressed_reason",
    "comparator",
    "comparison",
    "comparison_method",
]


@dataclass
class GeoPackageContent:
    """What :func:`write_geopackage` writes: the layers, the field dictionary, a style per layer,
    the sources, the metadata and the period shown."""

    layers: dict[str, gpd.GeoDataFrame]
    dictionary: pd.DataFrame
    styles: dict[str, LayerStyle]
    sources: pd.DataFrame
    metadata: dict[str, str]
    period: str
    descriptions: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------------- field names


def _stem_candidates(identifier: str) -> list[str]:
    words = [w for w in re.split(r"[^a-z0-9]+", identifier.lower()) if w]
    if not words:
        return ["ind"]
    if len(words) == 1:
        first = [words[0][:_STEM]]
    elif len(words) == 2:
        first = [words[0][:3] + words[1][: _STEM - 3]]
    else:
        initials = "".join(w[0] for w in words[1:-1])
        head = words[0][:2] + initials
        first = [(head + words[-1])[:_STEM]]
    out = first + [(words[0] + "".join(words[1:]))[:_STEM]]
    if out[0][0].isdigit():
        out = ["i" + s[: _STEM - 1] for s in out]
    return out


def short_names(identifiers: Sequence[str], *, reserved: Sequence[str] = ()) -> dict[str, str]:
    """A unique stem of at most 6 characters for each indicator id (``crime_rate_all`` ->
    ``crrall``), so that every field made from it (stem and a suffix of up to 4) is at most
    :data:`MAX_FIELD` characters and no two stems, once cut, are the same.

    Parameters
    ----------
    identifiers
        Indicator ids, in order (earlier ids keep the plain stem when two would collide).
    reserved
        Names no stem may take (the layer's other fields).

    Returns
    -------
    dict
        Id -> stem.

    Example
    -------
    >>> short_names(["crime_rate_all", "crime_rate_asb", "imd_score"])
    {'crime_rate_all': 'crrall', 'crime_rate_asb': 'crrasb', 'imd_score': 'imdsco'}
    """
    taken = {r.lower() for r in reserved}
    out: dict[str, str] = {}
    for identifier in identifiers:
        candidates = _stem_candidates(str(identifier))
        chosen = next((c for c in candidates if c not in taken), None)
        n = 2
        while chosen is None:
            suffix = str(n)
            option = candidates[0][: _STEM - len(suffix)] + suffix
            chosen = option if option not in taken else None
            n += 1
        taken.add(chosen)
        out[str(identifier)] = chosen
    return out


def _comparator_codes(kinds: Sequence[str]) -> dict[str, str]:
    """Comparator kind -> one or two letters (``parent`` -> ``p``, ``england`` -> ``e``)."""
    out: dict[str, str] = {}
    for kind in kinds:
        for width in (1, 2):
            code = re.sub(r"[^a-z0-9]", "", kind.lower())[:width] or "x"
            if code not in out.values():
                out[kind] = code
                break
        else:
            out[kind] = f"{len(out)}"
    return out


# ---------------------------------------------------------------------------------- one layer


def _source_text(ids: str, titles: Mapping[str, str]) -> str:
    names = [n.strip() for n in str(ids or "").split(",") if n.strip()]
    return "; ".join(titles.get(n, n) for n in names)


def _mode(series: pd.Series) -> str:
    values = series.dropna().astype(str)
    values = values[values != ""]
    return str(values.mode().iloc[0]) if len(values) else ""


def _integral(series: pd.Series) -> pd.Series:
    """Counts as whole numbers (nullable) when every published count is whole."""
    finite = series.dropna()
    if len(finite) and np.allclose(finite, np.round(finite)):
        return series.round().astype("Int64")
    return series


def indicator_layer(
    indicators: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    *,
    layer: str,
    order: Sequence[str],
    stems: Mapping[str, str],
    withheld_text: str,
    source_titles: Mapping[str, str] | None = None,
    extra: Sequence[str] = (),
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """One layer: the ``areas`` with, for each indicator, the fields of its (one) period.

    Parameters
    ----------
    indicators
        Published indicator rows of the layer's areas, one period per indicator (every
        comparator kind): ``indicator``, ``title``, ``unit``, ``statistic``, ``area_code``,
        ``period``, ``value``, ``lower_95``, ``upper_95``, ``numerator``, ``denominator``,
        ``suppressed_reason``, ``comparator``, ``comparison``, ``comparison_method``,
        ``method``, ``sources``.
    areas
        The layer's polygons: ``area_code``, ``area_name`` (and ``extra`` columns), geometry.
    layer
        The layer's name.
    order
        Indicator ids in the order their fields appear.
    stems
        Indicator id -> short stem (:func:`short_names`).
    withheld_text
        The ``suppressed_reason`` of a figure withheld by the disclosure rule.
    source_titles
        Dataset id -> its title and publisher, for the dictionary's ``source``.
    extra
        Other columns of ``areas`` to keep (e.g. the place set of a place).

    Returns
    -------
    (GeoDataFrame, DataFrame)
        The layer (``area_code``, ``area_name``, extra, indicator fields, geometry) and its
        dictionary rows (``layer``, ``field``, ``title``, ``unit``, ``source``, ``period``,
        ``statistic``, ``indicator``, ``description``).

    Raises
    ------
    SchemaError
        A column is missing, or an indicator has rows of more than one period.
    """
    needed = {"indicator", "area_code", "period", "value", "comparator", "suppressed_reason"}
    missing = sorted(needed - set(indicators.columns))
    if missing:
        raise SchemaError(
            "lacks indicator columns",
            where="indicators",
            expected=str(sorted(needed)),
            got=f"missing {missing}",
        )
    several = indicators.groupby("indicator")["period"].nunique()
    if (several > 1).any():
        raise SchemaError(
            "has more than one period for an indicator",
            where=f"layer {layer!r}",
            expected="one period per indicator (see needskit.reports.context.select_period)",
            got=", ".join(several[several > 1].index[:5]),
        )
    titles = dict(source_titles or {})
    base = areas[["area_code", "area_name", *extra, "geometry"]].reset_index(drop=True)
    codes = base["area_code"].astype(str)
    columns: dict[str, Any] = {}
    rows: list[dict[str, str]] = []
    boundary = str(areas.attrs.get("source", "ONS boundaries (Open Geography Portal)"))

    def describe(name: str, title: str, **info: str) -> None:
        rows.append(
            {
                "layer": layer,
                "field": name,
                "title": title,
                "unit": info.get("unit", ""),
                "source": info.get("source", ""),
                "period": info.get("period", ""),
                "statistic": info.get("statistic", ""),
                "indicator": info.get("indicator", ""),
                "description": info.get("description", ""),
            }
        )

    describe("area_code", "Area code", source=boundary, description="ONS (GSS) code, or the place's id")
    describe("area_name", "Area name", source=boundary)
    for name in extra:
        describe(name, "Place set", description="the set of places in conf/places.yml the place belongs to")
    kinds = [k for k in ("parent", "england", "region") if k in set(indicators["comparator"])]
    kinds += sorted(set(indicators["comparator"].dropna()) - set(kinds))
    letters = _comparator_codes(kinds)
    present = [i for i in order if i in set(indicators["indicator"])]
    groups = dict(list(indicators.groupby("indicator", sort=False, observed=True)))
    for indicator in present:
        rows_of = groups[indicator]
        by_kind = dict(list(rows_of.groupby("comparator", sort=False, observed=True)))
        own = rows_of.drop_duplicates("area_code").set_index("area_code")
        first = rows_of.iloc[0]
        stem = stems[indicator]
        title = str(first.get("title", indicator))
        unit = str(first.get("unit", "") or "")
        statistic = str(first.get("statistic", ""))
        period = str(first["period"])
        source = _source_text(str(first.get("sources", "")), titles)
        method = _mode(rows_of["method"]) if "method" in rows_of else ""
        words = _STATISTIC_WORDS.get(statistic, statistic)
        info = {"source": source, "period": period, "indicator": indicator}
        withheld = own["suppressed_reason"].fillna("").astype(str).eq(withheld_text)
        flag = codes.map(withheld).astype("boolean")
        value = codes.map(own["value"].where(~withheld)).astype(float)
        columns[stem] = value
        describe(stem, title, unit=unit, statistic=f"value ({words})", **info)
        for column, suffix, label in (("lower_95", "lo", "lower"), ("upper_95", "hi", "upper")):
            if column in own and own[column].notna().any():
                columns[f"{stem}_{suffix}"] = codes.map(own[column].where(~withheld)).astype(float)
                describe(
                    f"{stem}_{suffix}",
                    f"{title}: {label} 95% confidence limit",
                    unit=unit,
                    statistic=f"{label} 95% confidence limit" + (f" ({method})" if method else ""),
                    **info,
                )
        if statistic in _COUNTED:
            for column, suffix, label in (
                ("numerator", "n", "numerator"),
                ("denominator", "d", "denominator"),
            ):
                if column in own and own[column].notna().any():
                    data = own[column].where(~withheld) if column == "numerator" else own[column]
                    columns[f"{stem}_{suffix}"] = _integral(codes.map(data).astype(float))
                    describe(
                        f"{stem}_{suffix}",
                        f"{title}: {label}",
                        statistic=f"{label} (published count)",
                        description="rounded as the disclosure rule rounds" if column == "numerator" else "",
                        **info,
                    )
        columns[f"{stem}_wh"] = flag
        describe(
            f"{stem}_wh",
            f"{title}: withheld",
            statistic="flag: true where the disclosure rule withheld the figure (its fields are empty)",
            description=withheld_text,
            **info,
        )
        for kind in kinds:
            if kind not in by_kind:
                continue
            part = by_kind[kind].drop_duplicates("area_code").set_index("area_code")
            if part.empty or "comparison" not in part:
                continue
            if part["comparison"].fillna("no comparator").eq("no comparator").all():
                continue  # no comparator value for this indicator at this level (England's for an LSOA)
            name = f"{stem}_c{letters[kind]}"
            columns[name] = codes.map(part["comparison"]).astype("string")
            compared = _COMPARATOR_WORDS.get(kind, kind)
            how = _mode(part["comparison_method"]) if "comparison_method" in part else ""
            describe(
                name,
                f"{title}: compared with {compared}",
                statistic="comparison" + (f" ({how})" if how else ""),
                description="higher, lower or similar (better, worse by the indicator's polarity); "
                "not_compared where withheld",
                **info,
            )
    frame = pd.concat([base.drop(columns="geometry"), pd.DataFrame(columns, index=base.index)], axis=1)
    out = gpd.GeoDataFrame(frame, geometry=base.geometry, crs=areas.crs)
    describe(
        "geom",
        "Boundary",
        source=boundary,
        statistic="polygon",
        description=f"{_LEVEL_WORDS.get(layer, layer)}; {areas.crs.name if areas.crs else 'no CRS'}",
    )
    return out, pd.DataFrame(rows)


# ---------------------------------------------------------------------------------- the store


def _latest_complete(store: Store) -> str:
    from needskit.reports.params import latest_of

    table = store.period_table()
    complete = table.loc[table["complete"].astype(bool), "period"].tolist() if len(table) else []
    found = latest_of(complete) or latest_of(store.periods())
    if found is None:
        raise StoreError("has no period to show", where=str(store.path), hint="run `needskit run`")
    return found


def _check_period(store: Store, period: str, *, audience: str) -> None:
    """A period asked for is one of the store's, and complete when it is for the public."""
    known = store.periods()
    if period not in known:
        raise ReportError(
            "is not an analysis period of the store",
            where=f"--period {period}",
            expected=f"one of {known[-6:]}",
            got=period,
        )
    table = store.period_table()
    row = table[table["period"] == period]
    if audience == "public" and len(row) and not bool(row["complete"].iloc[0]):
        raise ReportError(
            "is not complete: its figures would change as the missing months arrive",
            where=f"--period {period}",
            expected="a complete period for the public",
            got=f"months missing: {row['missing'].iloc[0]}",
            hint=f"export {_latest_complete(store)!r}, or --audience partner",
        )


def _headline(frame: pd.DataFrame, *, order: Sequence[str], stems: Mapping[str, str]) -> str | None:
    """The first indicator (in the configuration's order) with a value for at least half the
    layer's areas and at least two different values; else the one with most values."""
    counts = {}
    for indicator in order:
        stem = stems.get(indicator)
        if stem is None or stem not in frame:
            continue
        values = pd.to_numeric(frame[stem], errors="coerce").dropna()
        counts[stem] = len(values)
        if len(values) * 2 >= len(frame) and values.nunique() >= 2:
            return stem
    best = max(counts.items(), key=lambda kv: kv[1], default=(None, 0))
    return best[0] if best[1] else None


def geopackage_content(
    store: Store,
    *,
    period: str | None = None,
    headline: str | None = None,
    levels: Sequence[str] = BOUNDARY_LEVELS,
) -> GeoPackageContent:
    """What the GeoPackage of a published ``store`` holds (see the module docstring).

    Parameters
    ----------
    store
        A published store (``data/published/<audience>``); the internal store is refused.
    period
        The analysis period shown (default: the latest complete one); each indicator shows its
        latest period not after it, as a report for that period does.
    headline
        The indicator each layer's style is classified on (default: the first in
        ``conf/indicators.yml`` with values for at least half the layer's areas).
    levels
        Levels with boundaries to write (those the store has).

    Raises
    ------
    StoreError
        The internal store, or a store without indicators.
    ReportError
        ``period`` is not one of the store's, or is incomplete and the store is public.
    """
    from needskit.config.attribution import ATTRIBUTION
    from needskit.disclosure.publish import withheld_reason
    from needskit.reports.context import select_period

    manifest = store.manifest()
    audience = str(manifest.get("audience", "internal"))
    if audience == "internal":
        raise StoreError(
            "is the internal store: a GeoPackage is made from a published store only",
            where=str(store.path),
            expected="data/published/<audience>",
            hint="run `needskit publish`, then `needskit export gpkg --audience public`",
        )
    rule = str(manifest.get("disclosure_rule", ""))
    shown = period or _latest_complete(store)
    if period is not None:
        _check_period(store, period, audience=audience)
    order = list(store.stage("indicators").get("indicators", []))
    available = store.area_levels()
    places_levels = (
        sorted(set(store.read_areas(PLACES_LAYER)["level"].astype(str))) if PLACES_LAYER in available else []
    )
    import pyarrow.parquet as pq

    present = set(pq.read_schema(store.path / "indicators.parquet").names)
    indicators = store.read_indicators(
        levels=[lv for lv in levels if lv in available] + places_levels,
        columns=[c for c in _COLUMNS if c in present],
    )
    # plain Python strings: the many small selections below are several times faster than on
    # Arrow-backed strings
    indicators = indicators.astype(
        {c: object for c in indicators.columns if pd.api.types.is_string_dtype(indicators[c])}
    )
    order += sorted(set(indicators["indicator"]) - set(order))
    if headline is not None and headline not in order:
        raise SchemaError(
            "is not an indicator of the store", where=f"headline={headline!r}", expected=f"one of {order}"
        )
    stems = short_names(order, reserved=["area_code", "area_name", "place_set", "geom", "fid"])
    sources = pd.DataFrame(manifest.get("sources", []))
    titles = (
        {
            str(r["dataset"]): f"{r['title']} ({r['partner']})" if r.get("partner") else str(r["title"])
            for r in sources.to_dict("records")
        }
        if len(sources)
        else {}
    )
    boundary = next(
        (t for d, t in titles.items() if d == "boundaries"), "ONS boundaries (Open Geography Portal)"
    )
    wanted = [lv for lv in levels if lv in available]
    if PLACES_LAYER in available:
        wanted.append(PLACES_LAYER)
    layers: dict[str, gpd.GeoDataFrame] = {}
    parts: list[pd.DataFrame] = []
    styles: dict[str, LayerStyle] = {}
    descriptions: dict[str, str] = {}
    withheld_text = withheld_reason(rule) if rule else ""
    for name in wanted:
        areas = store.read_areas(name)
        areas.attrs["source"] = boundary
        extra: list[str] = []
        if name == PLACES_LAYER:
            areas = areas.rename(columns={"level": "place_set"})
            extra = ["place_set"] if "place_set" in areas else []
            rows = indicators[indicators["level"].isin(set(areas.get("place_set", [])))]
        else:
            rows = indicators[indicators["level"] == name]
        rows = rows[rows["area_code"].isin(set(areas["area_code"]))]
        rows = select_period(rows, shown) if len(rows) else rows
        frame, dictionary = indicator_layer(
            rows,
            areas,
            layer=name,
            order=order,
            stems=stems,
            withheld_text=withheld_text,
            source_titles=titles,
            extra=extra,
        )
        layers[name] = frame
        parts.append(dictionary)
        stem = stems[headline] if headline else _headline(frame, order=order, stems=stems)
        described = dictionary.set_index("field")
        if stem is not None and stem in frame and frame[stem].notna().any():
            styles[name] = graduated_style(
                frame.drop(columns="geometry"),
                layer=name,
                field=stem,
                aliases=dict(zip(dictionary["field"], dictionary["title"], strict=True)),
                title=str(described.loc[stem, "title"]),
                unit=str(described.loc[stem, "unit"]),
            )
        headline_words = (
            f"; styled on {described.loc[stem, 'title']} ({described.loc[stem, 'period']})"
            if name in styles
            else ""
        )
        descriptions[name] = (
            f"{_LEVEL_WORDS.get(name, name)}: {len(frame):,} areas, "
            f"{int(dictionary['indicator'].replace('', np.nan).nunique())} indicators{headline_words}. "
            f"Field titles: field_dictionary. {manifest.get('publication_marking', '')}"
        ).strip()
    keys = sorted(
        {
            k.strip()
            for text in sources.get("attribution", pd.Series(dtype=str)).fillna("")
            for k in str(text).split(",")
        }
        - {""}
    )
    lines = [ATTRIBUTION[k] for k in keys if k in ATTRIBUTION]
    source_table = (
        sources.reindex(columns=["dataset", "title", "partner", "period", "licence", "attribution"]).fillna(
            ""
        )
        if len(sources)
        else pd.DataFrame(columns=["dataset", "title", "partner", "period", "licence", "attribution"])
    )
    source_table = source_table.assign(
        attribution=source_table["attribution"].map(
            lambda text: " ".join(
                ATTRIBUTION.get(k.strip(), k.strip()) for k in str(text).split(",") if k.strip()
            )
        )
    )
    partnership = manifest.get("partnership", {}).get("name", "")
    metadata = {
        "TITLE": f"{partnership}: needs indicators ({audience}, {shown})".strip(": "),
        "ABSTRACT": (
            "Indicators of the needs profile for every neighbourhood, ward, district and place, with "
            "95% confidence intervals and comparisons; made by needskit from the published store. "
            "Field titles, units, sources and periods: the field_dictionary table."
        ),
        "AUDIENCE": audience,
        "PUBLICATION_MARKING": str(manifest.get("publication_marking", "")),
        "DISCLOSURE_RULE": str(manifest.get("disclosure_rule_text", rule)),
        "PERIOD": shown,
        "LICENCE": "Open Government Licence v3.0 (and the licences of the sources table)",
        "ATTRIBUTION": " ".join(lines),
        "GENERATOR": _generator(),
    }
    return GeoPackageContent(
        layers=layers,
        dictionary=pd.concat(parts, ignore_index=True),
        styles=styles,
        sources=source_table,
        metadata=metadata,
        period=shown,
        descriptions=descriptions,
    )


def _generator() -> str:
    from needskit import __version__

    return f"needskit {__version__}"


# ---------------------------------------------------------------------------------- writing


_DATA_COLUMNS = """
CREATE TABLE IF NOT EXISTS gpkg_data_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT,
  mime_type TEXT, constraint_name TEXT,
  CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
  CONSTRAINT gdc_tn UNIQUE (table_name, name)
)"""


def _write_tables(path: Path, content: GeoPackageContent) -> None:
    """The GeoPackage schema extension: each field's title and description (``gpkg_data_columns``)."""
    rows = [
        (
            r["layer"],
            r["field"],
            r["field"],
            r["title"],
            "; ".join(
                x for x in (r["statistic"], r["unit"], r["period"], r["source"], r["description"]) if x
            ),
        )
        for r in content.dictionary.to_dict("records")
        if r["field"] != "geom"
    ]
    with sqlite3.connect(path) as con:
        con.execute(_DATA_COLUMNS)
        con.execute(
            "INSERT OR IGNORE INTO gpkg_extensions "
            "(table_name, column_name, extension_name, definition, scope) "
            "VALUES ('gpkg_data_columns', NULL, 'gpkg_schema', "
            "'http://www.geopackage.org/spec/#extension_schema', 'read-write')"
        )
        con.executemany(
            "INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, title, description) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    con.close()


def write_geopackage(content: GeoPackageContent, path: str | Path) -> Path:
    """Write ``content`` to ``path`` (built beside it and renamed into place: a reader never
    sees half a file; an existing file is replaced).

    Returns
    -------
    Path
        The file written.
    """
    import pyogrio

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.stem}.tmp-{uuid.uuid4().hex[:8]}{target.suffix or '.gpkg'}"
    try:
        first = True
        for name, frame in content.layers.items():
            pyogrio.write_dataframe(
                frame,
                tmp,
                layer=name,
                driver="GPKG",
                promote_to_multi=True,
                dataset_metadata=content.metadata if first else None,
                layer_metadata={"DESCRIPTION": content.descriptions.get(name, "")},
                layer_options={"IDENTIFIER": name, "DESCRIPTION": content.descriptions.get(name, "")},
            )
            first = False
        geometry = {name: str(pyogrio.read_info(tmp, layer=name)["geometry_name"]) for name in content.layers}
        pyogrio.write_dataframe(
            content.dictionary,
            tmp,
            layer="field_dictionary",
            driver="GPKG",
            layer_options={
                "DESCRIPTION": "Every field of every layer: title, unit, source, period, statistic"
            },
        )
        pyogrio.write_dataframe(
            content.sources.astype(str),
            tmp,
            layer="sources",
            driver="GPKG",
            layer_options={"DESCRIPTION": "Data sources, licences and the attribution each requires"},
        )
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        styles = pd.DataFrame(
            [
                {
                    "f_table_catalog": "",
                    "f_table_schema": "",
                    "f_table_name": name,
                    "f_geometry_column": geometry[name],
                    "styleName": f"needskit {style.field}"[:30],
                    "styleQML": style.qml,
                    "styleSLD": style.sld,
                    "useAsDefault": True,
                    "description": style.description,
                    "owner": "needskit",
                    "ui": "",
                    "update_time": now,
                }
                for name, style in content.styles.items()
            ]
        )
        if len(styles):
            pyogrio.write_dataframe(
                styles, tmp, layer="layer_styles", driver="GPKG", layer_options={"FID": "id"}
            )
        _write_tables(tmp, content)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target

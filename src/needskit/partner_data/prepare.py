"""Row checks: every row of a partner dataset assigned, unlocated or rejected, with its reason.

:func:`prepare_dataset` reads a catalogue entry with its adapter and decides, row by row:
invalid (an unparseable period or number, a duplicated id, a negative count, a code the
geography does not know), outside the partnership's area or scope, unlocated (no coordinates,
postcode or code), or assigned to an LSOA (``within`` / ``nearest`` a point, by postcode, by
code). Points with the publisher's own LSOA code beside them (``code:`` in the catalogue, e.g.
police.uk) are assigned by that code first (``by_code``, ``by_code_2011``, ``split_by_point``: see
:mod:`~needskit.partner_data.published_codes`), and the agreement of code and point is measured.
``needskit validate`` and ``needskit pool`` share it, so they agree on every row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from needskit._checks import BNG, GB_LONLAT_EXTENT, isin
from needskit.config.catalog import DatasetSpec, MeasureSpec
from needskit.errors import DataError, SchemaError
from needskit.partner_data.ingest import read_dataset
from needskit.partner_data.ingest.reading import to_numbers
from needskit.partner_data.problems import Problem, rows_problem
from needskit.partner_data.published_codes import (
    SPLIT,
    agreement_table,
    code_lookup,
    code_paths,
    codes_agree,
    place_by_code,
)
from needskit.place.areas import load_areas, vintage_hint
from needskit.place.extent import PartnershipArea
from needskit.place.geography import Geography
from needskit.place.points import assign_points, check_coordinates, to_bng
from needskit.place.postcodes import geocode_postcodes

__all__ = [
    "ASSIGNED_HOW",
    "META_COLUMNS",
    "Prepared",
    "prepare_dataset",
    "measure_columns",
    "partnership_codes",
    "partnership_lsoas",
    "parse_period",
    "measure_records",
]


def partnership_lsoas(area: PartnershipArea, geography: Geography) -> gpd.GeoDataFrame:
    """Polygons of the LSOAs inside the partnership's area (points are assigned to these)."""
    lsoas = load_areas("lsoa", geography=geography, vintage=area.vintage)
    return lsoas[lsoas["area_code"].isin(area.lsoas())].reset_index(drop=True)


ASSIGNED_HOW = ("within", "nearest", "by_code", "by_code_2011", SPLIT, "by_postcode", "apportioned")
"""How assigned rows got their LSOA (the ledger's ``assigned_<how>`` columns): a point within or
nearest (100 m) an LSOA; a code of the profile's vintage (an unchanged 2011 code is one); a
merged 2011 code converted; a split or irregular 2011 code placed by the point; a postcode;
apportioned between vintages. (A 2011-vintage profile converts 2021 codes, ``by_code_2021``:
the ledger adds that column when a dataset takes it.)"""
META_COLUMNS = {"_file", "_row", "_invalid"}


@dataclass
class Prepared:
    """One dataset after row checks and geography: every row with its status."""

    spec: DatasetSpec
    rows: pd.DataFrame  # _file, _row, period, status, reason, how, area_code, level, vintage
    records: (
        pd.DataFrame
    )  # _row, area_code, level, vintage, period, measure, category, value, kind, aggregate
    problems: list[Problem] = field(default_factory=list)
    comparator_records: pd.DataFrame | None = None
    conversion: set[str] | None = None
    coords: pd.DataFrame | None = None  # easting, northing (BNG) of located rows, for the register
    agreement: pd.DataFrame | None = None  # code vs point per period, for points with a code column


# ----------------------------------------------------------------------------------- periods


def parse_period(values: pd.Series, fmt: str | None) -> tuple[pd.Series, pd.Series]:
    """Periods as text (``"2024-01"`` for months, ``"2021"`` for years); mask of unparseable."""
    text = values.astype("string").str.strip()
    if fmt is None:
        return text, text.isna()
    parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    out_fmt = "%Y-%m" if "%m" in fmt and "%d" not in fmt else ("%Y" if fmt.strip() == "%Y" else "%Y-%m-%d")
    return parsed.dt.strftime(out_fmt).astype("string"), parsed.isna()


# -------------------------------------------------------------------------------- row checks


def measure_columns(spec: DatasetSpec, frame: pd.DataFrame) -> list[tuple[MeasureSpec, str | None, str]]:
    """(measure spec, source column or None for row counts, measure name) for every measure of
    ``spec`` (a ``columns:`` pattern expands to every matching column of ``frame``)."""
    reserved = {
        spec.geography.x,
        spec.geography.y,
        spec.geography.code,
        spec.geography.postcode,
        spec.geography.column,
        spec.period.column,
        spec.record_id,
    } | META_COLUMNS
    out: list[tuple[MeasureSpec, str | None, str]] = []
    for m in spec.measures:
        if m.count_rows:
            assert m.name is not None  # the catalogue refuses a row count without a name
            out.append((m, None, m.name))
        elif m.column is not None:
            out.append((m, m.column, m.name or m.column))
        else:
            assert m.columns is not None  # the catalogue asks for one of count, column or columns
            pattern = re.compile(m.columns)
            matched = [c for c in frame.columns if c not in reserved and pattern.search(c)]
            if not matched:
                raise DataError(
                    "measure pattern matches no column",
                    where=f"dataset {spec.id!r}",
                    expected=f"columns matching {m.columns!r}",
                    got=f"columns {list(frame.columns)[:12]}",
                )
            out += [(m, c, c) for c in matched]
    return out


def _required_columns(spec: DatasetSpec, measures) -> list[str]:
    g = spec.geography
    cols = [c for c in (g.x, g.y, g.code, g.postcode, g.column, spec.period.column, spec.record_id) if c]
    cols += [c for _, c, _ in measures if c]
    cols += [m.category for m, _, _ in measures if m.category]
    cols += [s.column for s in spec.scope]
    return list(dict.fromkeys(cols))


def _scope_mask(frame: pd.DataFrame, flt) -> pd.Series:
    col = frame[flt.column].astype("string")
    if flt.op == "equals":
        keep = col == str(flt.value)
    elif flt.op == "not_equals":
        keep = col != str(flt.value)
    elif flt.op == "in":
        keep = pd.Series(isin(col, [str(v) for v in flt.value]), index=col.index)
    elif flt.op == "not_in":
        keep = pd.Series(~isin(col, [str(v) for v in flt.value]), index=col.index)
    elif flt.op == "startswith":
        keep = col.str.startswith(str(flt.value))
    elif flt.op == "matches":
        keep = col.str.contains(str(flt.value), regex=True)
    else:  # not_null
        keep = col.notna()
    return keep.fillna(False).astype(bool)


def partnership_codes(area: PartnershipArea, geography: Geography, *, level: str, vintage: int) -> set[str]:
    """Codes of ``level`` (of LSOA vintage ``vintage``) that lie inside the partnership's area."""
    if vintage == area.vintage:
        return area.codes_at(level)
    table = geography.hierarchy(vintage, copy=False)
    return set(table.loc[table["lsoa"].isin(area.lsoas(vintage)), level].dropna())


def prepare_dataset(
    spec: DatasetSpec,
    *,
    area: PartnershipArea,
    geography: Geography,
    frame: pd.DataFrame | None = None,
    lsoas: gpd.GeoDataFrame | None = None,
) -> Prepared:
    """Read one dataset and decide every row's fate; the shared core of validate and pool.

    Parameters
    ----------
    spec
        The catalogue entry.
    area, geography
        The partnership's area and reference geography: rows located outside the area are
        "outside", codes unknown to the geography are "invalid".
    frame
        The dataset as read by its adapter (read here when not given).
    lsoas
        The partnership's LSOA polygons (computed from ``geography`` when not given).

    Raises
    ------
    DataError, GeographyError, SchemaError
        Structural problems: the dataset cannot be pooled as declared.
    """
    frame = read_dataset(spec) if frame is None else frame
    measures = measure_columns(spec, frame)
    required = _required_columns(spec, measures)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        files = ", ".join(sorted(frame["_file"].unique())[:3]) if "_file" in frame else spec.path
        close = {
            m: [c for c in frame.columns if re.sub(r"\W", "", c.lower()) == re.sub(r"\W", "", m.lower())]
            for m in missing
        }
        renamed = {m: c[0] for m, c in close.items() if c}
        raise DataError(
            f"missing column{'s' if len(missing) > 1 else ''} {missing}",
            where=f"dataset {spec.id!r} ({files})",
            expected="the columns the catalogue entry names",
            got=f"columns {[c for c in frame.columns if c not in META_COLUMNS][:15]}",
            hint=f"renamed? {renamed}" if renamed else "update the catalogue entry or the file",
        )
    n = len(frame)
    coords = agreement = None
    status = pd.Series("ok", index=frame.index, dtype="object")
    reason = pd.Series("", index=frame.index, dtype="object")
    problems: list[Problem] = []

    def mark(
        mask: pd.Series,
        new_status: str,
        why: str,
        *,
        column=None,
        expected=None,
        values=None,
        hint=None,
        severity="warning",
    ):
        mask = mask & (status == "ok")
        if not mask.any():
            return
        status[mask] = new_status
        reason[mask] = why
        p = rows_problem(
            spec.id,
            frame,
            mask,
            what=why,
            severity=severity,
            column=column,
            expected=expected,
            values=values,
            hint=hint,
        )
        if p is not None:
            problems.append(p)

    if "_invalid" in frame:
        bad = frame["_invalid"].notna()
        mark(bad, "invalid", "invalid row", values=frame["_invalid"])

    for flt in spec.scope:
        mark(
            ~_scope_mask(frame, flt),
            "outside",
            f"outside scope: {flt.reason}",
            column=flt.column,
            values=frame[flt.column],
            severity="info",
        )

    # period
    if spec.period.column:
        period, unparsed = parse_period(frame[spec.period.column], spec.period.format)
        mark(
            unparsed,
            "invalid",
            "period is not a date",
            column=spec.period.column,
            expected=f"dates like {spec.period.format or 'text'}",
            values=frame[spec.period.column],
        )
    else:
        period = pd.Series(spec.period.value, index=frame.index, dtype="string")
    if spec.period.range:
        first, last = spec.period.range
        outside = period.notna() & ((period < first) | (period > last))
        mark(
            outside,
            "invalid",
            "period outside the declared range",
            column=spec.period.column,
            expected=f"{first} to {last}",
            values=period,
            hint="update period.range in the catalogue if the data are newer",
        )

    # record ids
    if spec.record_id:
        ids = frame[spec.record_id]
        dup = ids.notna() & ids.duplicated(keep="first")
        mark(
            dup,
            "invalid",
            "duplicated record id",
            column=spec.record_id,
            values=ids,
            hint="the first occurrence is kept; check whether the partner sent overlapping extracts",
        )

    # measures
    parsed: dict[str, pd.Series] = {}
    for m, column, _name in measures:
        if column is None or column in parsed or m.kind == "class":
            continue
        text = frame[column]
        values = to_numbers(text) if not pd.api.types.is_numeric_dtype(text) else text.astype(float)
        parsed[column] = values
        mark(
            values.isna() & text.notna(),
            "invalid",
            "value is not a number",
            column=column,
            expected="a number",
            values=text,
        )
        if m.kind == "count":
            mark(values < 0, "invalid", "negative count", column=column, expected="0 or more", values=text)

    # geography
    g = spec.geography
    assigned_code = pd.Series(pd.NA, index=frame.index, dtype="string")
    how = pd.Series("", index=frame.index, dtype="object")
    vintage = area.vintage
    native_level, native_vintage = "lsoa", vintage
    terminated = pd.Series(False, index=frame.index)
    if g.kind in ("points", "postcode"):
        if g.kind == "points":
            assert g.x is not None and g.y is not None  # the catalogue requires them for points
            xs_text, ys_text = frame[g.x], frame[g.y]
            xs, ys = to_numbers(xs_text), to_numbers(ys_text)
            no_point = xs_text.isna() | ys_text.isna()
            if g.code is not None:  # the publisher's own code first; the point where it cannot decide
                lookup = code_lookup(geography, vintage=vintage)
                paths = code_paths(frame[g.code], lookup=lookup)
                mark(
                    no_point & (paths["path"] == SPLIT),
                    "unlocated",
                    "LSOA code split between vintages and no coordinates to choose among its LSOAs",
                    column=g.code,
                    values=paths["code"],
                )
                no_point &= paths["path"] == ""
                unknown = rows_problem(
                    spec.id,
                    frame,
                    paths["code"].notna() & (paths["path"] == ""),
                    what="LSOA code unknown to the geography (the point places the row)",
                    severity="info",
                    column=g.code,
                    values=paths["code"],
                    expected="LSOA codes of 2011 or 2021",
                )
                problems += [unknown] if unknown is not None else []
            mark(no_point, "unlocated", "no coordinates", column=f"{g.x}/{g.y}")
            mark(
                (xs.isna() & xs_text.notna()) | (ys.isna() & ys_text.notna()),
                "invalid",
                "coordinate is not a number",
                column=f"{g.x}/{g.y}",
                values=xs_text.astype("string") + "," + ys_text.astype("string"),
            )
            crs, label = g.crs, None
        else:
            assert g.postcode is not None  # the catalogue requires it for postcodes
            coded = geocode_postcodes(
                frame[[g.postcode]], postcode_col=g.postcode, geography=geography, if_no_directory="mark"
            )
            st = coded["postcode_status"]
            mark(st == "missing", "unlocated", "no postcode", column=g.postcode)
            mark(
                st == "invalid",
                "invalid",
                "not a postcode",
                column=g.postcode,
                values=frame[g.postcode],
                expected="a UK postcode such as GL50 3PP",
            )
            mark(
                st == "no_directory",
                "unlocated",
                "no postcode directory given",
                column=g.postcode,
                values=frame[g.postcode],
                hint=geography.hints.get(
                    "postcodes", "name a postcode directory under reference.postcodes in conf/partnership.yml"
                ),
            )
            mark(
                st == "not_found",
                "unlocated",
                "postcode not in the postcode directory",
                column=g.postcode,
                values=frame[g.postcode],
                hint=f"the postcode directory ({geography.sources.get('postcodes', 'reference.postcodes')}) "
                "may not cover this postcode area: add its postcode table",
            )
            mark(
                st == "no_coordinates",
                "unlocated",
                "postcode has no coordinates (terminated or non-geographic)",
                column=g.postcode,
                values=frame[g.postcode],
            )
            xs, ys, crs, label = coded["easting"], coded["northing"], BNG, "by_postcode"
            terminated = coded["postcode_terminated"].fillna(False).astype(bool)
        ok = status == "ok"
        points = pd.DataFrame({"x": xs.where(ok), "y": ys.where(ok)})
        if g.kind == "points":
            assert g.x is not None and g.y is not None  # as above
            lon0, lat0, lon1, lat1 = GB_LONLAT_EXTENT
            if CRS.from_user_input(crs).is_geographic:
                outside_gb = ok & xs.notna() & ys.notna() & ~(xs.between(lon0, lon1) & ys.between(lat0, lat1))
                check_coordinates(
                    xs[ok].to_numpy(), ys[ok].to_numpy(), CRS.from_user_input(crs), x_name=g.x, y_name=g.y
                )
                mark(
                    outside_gb,
                    "invalid",
                    "coordinates outside Great Britain",
                    column=f"{g.x}/{g.y}",
                    values=xs_text.astype("string") + "," + ys_text.astype("string"),
                    hint="swapped or mistyped coordinates?",
                )
                points = pd.DataFrame({"x": xs.where(status == "ok"), "y": ys.where(status == "ok")})
        if lsoas is None:
            lsoas = partnership_lsoas(area, geography)
        located = assign_points(points, x="x", y="y", crs=crs, areas=lsoas)
        chosen = located["area_code"].where(located["match"].isin(["within", "nearest"]))
        how = located["match"].astype("object")
        bng = None
        if g.kind == "points" and (spec.register is not None or g.code is not None):
            bng = to_bng(points["x"].to_numpy(dtype=float), points["y"].to_numpy(dtype=float), crs)[:2]
        if g.code is not None:
            assert bng is not None  # computed above for datasets with a code column
            by_code = paths["path"] != ""
            placed = place_by_code(paths, x=bng[0], y=bng[1], areas=lsoas, lookup=lookup)
            chosen = placed.where(by_code, chosen)
            how = paths["path"].where(by_code, how)
        inside = chosen.notna() & (status == "ok")
        located_by = f"{g.x}/{g.y}" if g.code is None else f"{g.code}, else {g.x}/{g.y}"
        if g.kind == "postcode":
            located_by = str(g.postcode)
        mark(
            (status == "ok") & ~inside,
            "outside",
            "outside the partnership area",
            column=located_by,
            severity="info",
        )
        assigned_code = chosen.where(inside).astype("string")
        if g.kind == "postcode":
            # a terminated postcode keeps its last grid reference (a partner may still hold it): say so
            note = rows_problem(
                spec.id,
                frame,
                inside & terminated,
                what="located by a terminated postcode (at its last grid reference)",
                severity="info",
                column=g.postcode,
                values=frame[g.postcode],
                hint="the partner may want to update the address",
            )
            if note is not None:
                problems.append(note)
        if spec.register is not None:
            bx, by = (
                bng
                if bng is not None
                else (xs.to_numpy(dtype=float), ys.to_numpy(dtype=float))
                if crs == BNG
                else to_bng(xs.to_numpy(dtype=float), ys.to_numpy(dtype=float), crs)[:2]
            )
            coords = pd.DataFrame({"easting": bx, "northing": by}, index=frame.index)
        how = pd.Series(np.where(inside, label or how, ""), index=frame.index, dtype="object")
        if g.code is not None:
            compared = inside & by_code & points["x"].notna() & points["y"].notna()
            agrees = codes_agree(paths, located["area_code"], lookup=lookup)
            agreement = agreement_table(period, compared=compared, agrees=agrees, dataset=spec.id)
    elif g.kind == "area_code":
        assert g.level is not None and g.vintage is not None  # the catalogue requires them for area codes
        native_level, native_vintage = g.level, g.vintage
        codes = frame[g.column].astype("string").str.strip()
        mark(codes.isna() | (codes == ""), "unlocated", "no area code", column=g.column)
        known = set(geography.hierarchy(native_vintage, copy=False)[native_level].dropna())
        is_known = pd.Series(isin(codes, known), index=codes.index)
        mark(
            ~is_known,
            "invalid",
            f"not a {native_level} code of the {native_vintage} geography",
            column=g.column,
            values=codes,
            expected=f"ONS {native_level} codes of vintage {native_vintage}",
            hint=vintage_hint(
                codes[~is_known].dropna().unique()[:5].tolist(),
                native_level,
                native_vintage,
                geography=geography,
            ),
        )
        ours = partnership_codes(area, geography, level=native_level, vintage=native_vintage)
        mark(
            pd.Series(~isin(codes, ours), index=codes.index),
            "outside",
            "outside the partnership area",
            column=g.column,
            severity="info",
        )
        # a table of figures by area (not records, which have an id or feed the register): a row
        # sent twice is rejected; rows that share an area, period and category but differ
        # elsewhere (e.g. one per partner) are added up, and a warning says so
        from_columns = [m for m, column, _ in measures if column is not None]
        if from_columns and not spec.record_id and spec.register is None:
            code_column = str(g.column)
            categories = sorted({str(m.category) for m in from_columns if m.category})
            keys = [code_column] + ([str(spec.period.column)] if spec.period.column else []) + categories
            keyed = frame[keys].astype("string").apply(lambda c: c.str.strip())
            keyed[code_column] = codes
            content = [c for c in frame.columns if c not in META_COLUMNS]
            twice = (status == "ok") & frame[content].duplicated(keep="first")
            shown = keyed.astype("string").agg(" / ".join, axis=1)
            mark(
                twice,
                "invalid",
                "the same row appears twice",
                column=", ".join(keys),
                values=shown,
                expected="each row once",
                hint="the first is kept: remove the repeat, or give the dataset a record_id if each row "
                "is one record",
                severity="error",
            )
            ok = status == "ok"
            shared = pd.Series(False, index=frame.index)
            shared[ok] = keyed[ok].duplicated(keep=False)
            summed = rows_problem(
                spec.id,
                frame,
                shared,
                what="rows share an area" + (" and category" if categories else "") + " and are added up",
                severity="warning",
                column=", ".join(keys),
                values=shown,
                expected="one row per area" + (" and category" if categories else "") + " (and period)",
                hint="check that the rows are parts of one figure (e.g. one per partner), not two "
                "versions of it; give the dataset a record_id to say so",
            )
            if summed is not None and shared.any():
                problems.append(summed)
        assigned_code = codes.where(status == "ok")
        how = pd.Series(np.where(status == "ok", "by_code", ""), index=frame.index, dtype="object")
    else:
        raise SchemaError(
            "polygon datasets are not pooled yet",
            where=f"dataset {spec.id!r}",
            hint="use apportion() directly",
        )

    rows = pd.DataFrame(
        {
            "_file": frame["_file"],
            "_row": frame["_row"],
            "period": period.fillna("unknown"),
            "status": status.map({"ok": "assigned"}).fillna(status),
            "reason": reason,
            "how": how,
            "area_code": assigned_code,
            "level": native_level,
            "vintage": native_vintage,
        }
    )

    # invalid share above the entry's tolerance is an error for the dataset
    invalid_share = float((rows["status"] == "invalid").mean()) if n else 0.0
    if invalid_share > spec.max_invalid:
        problems.append(
            Problem(
                dataset=spec.id,
                severity="error",
                what="too many invalid rows",
                count=int((rows["status"] == "invalid").sum()),
                expected=f"at most {spec.max_invalid:.0%} of {n:,} rows",
                got=f"{invalid_share:.1%}",
                hint="fix the file, or raise max_invalid in the catalogue if this is expected",
            )
        )

    # a file none of whose rows is usable (lat/lon swapped in one month's file) is an error even
    # when the dataset's share of invalid rows is small: the month would be missing silently
    if n and rows["_file"].nunique() > 1 and (rows["status"] == "assigned").any():
        invalid = (rows["status"] == "invalid") | (rows["reason"] == "outside the partnership area")
        by_file = invalid.groupby(rows["_file"], sort=True).agg(["sum", "size"])
        for name, counts in by_file[by_file["sum"] == by_file["size"]].iterrows():
            first = rows.loc[invalid & (rows["_file"] == name), "reason"].value_counts().index[0]
            problems.append(
                Problem(
                    dataset=spec.id,
                    severity="error",
                    what="no row of the file is usable (invalid, or outside the partnership area)",
                    file=str(name),
                    count=int(counts["size"]),
                    expected="usable rows in every file of the dataset",
                    got=f"{int(counts['size']):,} of {int(counts['size']):,} rows, mostly: {first}",
                    hint="fix or remove the file (swapped columns? another format?) and pool again",
                )
            )

    records = measure_records(spec, frame, rows, measures, parsed, keep=rows["status"] == "assigned")
    comparator_records = None
    if spec.comparators and g.kind == "area_code":
        usable = rows["status"].isin(["assigned", "outside"]) & ~rows["reason"].str.startswith(
            "outside scope"
        )
        comp = measure_records(
            spec,
            frame,
            rows.assign(area_code=frame[g.column].astype("string").str.strip()),
            measures,
            parsed,
            keep=usable,
        )
        comparator_records = comp[comp["kind"] != "value"]
    return Prepared(spec, rows, records, problems, comparator_records, coords=coords, agreement=agreement)


def measure_records(spec, frame, rows, measures, parsed, *, keep) -> pd.DataFrame:
    """Long measure records for the kept rows: one per row × measure (× its category)."""
    pieces = []
    base = rows.loc[keep, ["_row", "area_code", "level", "vintage", "period"]]
    for m, column, name in measures:
        if column is None:
            value = pd.Series(1.0, index=base.index)
        else:
            value = parsed[column][keep]
        if m.kind == "class":
            value = pd.Series(1.0, index=base.index)
        category = (
            frame.loc[keep, m.category].astype("string").fillna("(missing)")
            if m.category
            else pd.Series("all", index=base.index, dtype="string")
        )
        piece = base.assign(
            measure=name,
            category=category,
            value=value.to_numpy(dtype=float),
            kind=m.kind,
            aggregate=m.aggregate,
        )
        pieces.append(piece[piece["value"].notna()])
    if not pieces:
        return pd.DataFrame(
            columns=[
                "_row",
                "area_code",
                "level",
                "vintage",
                "period",
                "measure",
                "category",
                "value",
                "kind",
                "aggregate",
            ]
        )
    return pd.concat(pieces, ignore_index=True)

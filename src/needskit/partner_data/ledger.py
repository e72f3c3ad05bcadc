"""The ledger: every line read is accounted for — assigned, unlocated or rejected, with a reason.

Per dataset and period, lines read = assigned (by how) + unlocated + rejected (invalid or
outside); per count measure, the value read = assigned + unlocated + rejected and the assigned
value is what the profile holds. Rejected and unlocated lines are kept with their reasons.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from needskit._checks import isin
from needskit.config.catalog import DatasetSpec
from needskit.partner_data.ingest.reading import to_numbers
from needskit.partner_data.prepare import ASSIGNED_HOW, Prepared, measure_columns

__all__ = ["dataset_ledger", "measure_ledger", "count_values", "rejected_rows", "line_status"]

_SEVERITY = {"assigned": 0, "unlocated": 1, "outside": 2, "invalid": 3}


def line_status(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per line of the input files: a line split into several records (e.g. age bands)
    takes the worst status of its records, so the ledger counts lines as they were read."""
    if not rows.duplicated(["_file", "_row"]).any():
        return rows
    worst = rows.assign(_sev=rows["status"].map(_SEVERITY)).sort_values("_sev", kind="stable")
    return worst.drop_duplicates(["_file", "_row"], keep="last").drop(columns="_sev")


def dataset_ledger(prepared: Prepared) -> pd.DataFrame:
    """Per period: lines read, assigned (by how), unlocated and rejected (invalid or outside)."""
    rows = line_status(prepared.rows)
    assigned = rows["status"] == "assigned"
    if prepared.conversion:
        # lines by code whose LSOA was split or merged between vintages were apportioned
        moved = assigned & isin(rows["area_code"], prepared.conversion)
        rows = rows.assign(how=rows["how"].where(~moved, "apportioned"))
    counts = pd.crosstab(rows["period"], [rows["status"], rows["how"]])
    out = pd.DataFrame({"period": counts.index})
    out["read"] = counts.sum(axis=1).to_numpy()

    def col(status, how=None):
        cols = [c for c in counts.columns if c[0] == status and (how is None or c[1] == how)]
        return counts[cols].sum(axis=1).to_numpy() if cols else 0

    others = sorted(set(rows.loc[assigned, "how"]) - set(ASSIGNED_HOW) - {""})  # e.g. by_code_2021
    for how in (*ASSIGNED_HOW, *others):
        out[f"assigned_{how}"] = col("assigned", how)
    out["assigned"] = col("assigned")
    out["unlocated"] = col("unlocated")
    out["rejected_invalid"] = col("invalid")
    out["rejected_outside"] = col("outside")
    out["rejected"] = out["rejected_invalid"] + out["rejected_outside"]
    bad = rows[rows["status"].isin(["invalid", "outside", "unlocated"])]
    reasons = bad.groupby(["period", "reason"]).size()
    out["reasons"] = [
        "; ".join(f"{r}: {n:,}" for (pp, r), n in reasons.items() if pp == p) for p in out["period"]
    ]
    out.insert(0, "dataset", prepared.spec.id)
    out["vintage_from"] = (
        prepared.spec.geography.vintage if prepared.spec.geography.kind == "area_code" else None
    )
    out["balanced"] = out["read"] == out["assigned"] + out["unlocated"] + out["rejected"]
    return out


def measure_ledger(
    prepared: Prepared, frame_values: pd.DataFrame, base_profile: pd.DataFrame
) -> pd.DataFrame:
    """Per count measure and period: value read, assigned, unlocated, rejected, in the profile."""
    if frame_values.empty:
        return pd.DataFrame()
    v = frame_values.join(prepared.rows[["status", "period"]], on="_i")
    grouped = v.groupby(["measure", "period", "status"])["value"].sum().unstack("status", fill_value=0.0)
    for col in ("assigned", "unlocated", "invalid", "outside"):
        if col not in grouped:
            grouped[col] = 0.0
    out = grouped.reset_index()
    out["read"] = out[["assigned", "unlocated", "invalid", "outside"]].sum(axis=1)
    out["rejected"] = out["invalid"] + out["outside"]
    in_profile = base_profile.groupby(["measure", "period"])["value"].sum()
    out["in_profile"] = pd.MultiIndex.from_frame(out[["measure", "period"]]).map(
        lambda k: in_profile.get(k, 0.0)
    )
    out.insert(0, "dataset", prepared.spec.id)
    out["conserved"] = np.isclose(out["in_profile"], out["assigned"], rtol=1e-9, atol=1e-6)
    return out[
        [
            "dataset",
            "measure",
            "period",
            "read",
            "assigned",
            "unlocated",
            "rejected",
            "in_profile",
            "conserved",
        ]
    ]


def count_values(prepared: Prepared, frame: pd.DataFrame) -> pd.DataFrame:
    """Count-measure values of every row (any status) for the value ledger."""
    spec = prepared.spec
    measures = measure_columns(spec, frame)
    pieces = []
    for m, column, name in measures:
        if m.kind != "count":
            continue
        value = (
            pd.Series(1.0, index=frame.index)
            if column is None
            else to_numbers(frame[column])
            if not pd.api.types.is_numeric_dtype(frame[column])
            else frame[column].astype(float)
        )
        pieces.append(
            pd.DataFrame({"_i": frame.index, "measure": name, "value": value.fillna(0.0).to_numpy()})
        )
    return pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame()


def rejected_rows(spec: DatasetSpec, frame: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Every line not assigned, with its status and reason. Invalid and unlocated lines keep all
    their columns (someone must fix them); lines that are simply outside the partnership's area
    or scope keep only the columns that say where and why, to keep the files small."""
    lines = line_status(rows)
    bad = lines[lines["status"] != "assigned"]
    if bad.empty:
        return bad
    g = spec.geography
    where_cols = [c for c in (g.x, g.y, g.postcode, g.column, spec.record_id) if c] + [
        s.column for s in spec.scope
    ]
    first = frame.loc[bad.index]
    keep_all = bad["status"].isin(["invalid", "unlocated"])
    columns = [c for c in frame.columns if c != "_invalid"]
    slim = ["_file", "_row"] + [c for c in dict.fromkeys(where_cols) if c in frame.columns]
    out = first[columns].copy()
    out.loc[~keep_all.to_numpy(), [c for c in columns if c not in slim]] = None
    out["status"] = bad["status"].replace({"invalid": "rejected", "outside": "rejected"}).to_numpy()
    out["reason"] = bad["reason"].to_numpy()
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------------- writing

"""NHS Organisation Data Service (ODS) standard extracts: headerless 27-column CSVs.

Column names follow the ODS data dictionary for the standard extracts (``epraccur`` GP
practices, ``edispensary`` dispensaries and pharmacies, and the other e-files). Status codes:
A active, C closed, D dormant, P proposed. Prescribing setting 4 = GP practice (epraccur).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from needskit.errors import DataError
from needskit.partner_data.ingest.reading import number_rows, read_csv_text

COLUMNS = [
    "organisation_code",
    "name",
    "national_grouping",
    "high_level_health_geography",
    "address_line_1",
    "address_line_2",
    "address_line_3",
    "address_line_4",
    "address_line_5",
    "postcode",
    "open_date",
    "close_date",
    "status_code",
    "organisation_sub_type_code",
    "commissioner",
    "join_parent_date",
    "left_parent_date",
    "contact_telephone_number",
    "null_18",
    "null_19",
    "null_20",
    "amended_record_indicator",
    "null_22",
    "provider_purchaser",
    "null_24",
    "prescribing_setting",
    "null_26",
]
STATUS = {"A": "active", "C": "closed", "D": "dormant", "P": "proposed"}
_CODE = re.compile(r"^[A-Z0-9]{3,8}$")


def read(path: Path, options: dict) -> pd.DataFrame:
    frame = read_csv_text(path, encoding=options.get("encoding", "utf-8"), header=None)
    if frame.shape[1] != len(COLUMNS):
        raise DataError(
            "is not an ODS standard extract",
            where=str(path),
            expected=f"{len(COLUMNS)} columns without a header",
            got=f"{frame.shape[1]} columns",
            hint="ODS 'e' files (epraccur, edispensary ...) are headerless 27-column CSVs",
        )
    first = str(frame.iloc[0, 0])
    if not _CODE.match(first):
        raise DataError(
            "has a header row or is not an ODS extract",
            where=f"{path}, line 1",
            expected="an organisation code such as A81001 in the first column",
            got=repr(first),
        )
    frame.columns = COLUMNS
    frame = frame.drop(columns=[c for c in COLUMNS if c.startswith("null_")])
    frame["status"] = frame["status_code"].map(STATUS).fillna("unknown")
    return number_rows(frame, path, first_row=1)

"""The English Indices of Deprivation 2019, File 2: published domain ranks of every LSOA (2011).

Not a catalogue adapter (those return text columns with ``_file`` and ``_row``): a typed reader of
one shipped reference file, whose result feeds :func:`needskit.needs.index.combine_domains` with
the :data:`~needskit.needs.index.IOD2019` preset.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from needskit.errors import DataError, describe_values

__all__ = ["IOD2019_FILE", "read_iod2019_domain_ranks"]

IOD2019_FILE = "imd2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
"""Shipped official IoD2019 File 2 (domain ranks and deciles for the 32,844 LSOAs of 2011)."""

# Preset name -> the column of File 2 that holds its rank (1 = most deprived).
_IOD2019_FILE_COLUMNS: dict[str, str] = {
    "area_code": "LSOA code (2011)",
    "lad_code": "Local Authority District code (2019)",
    "imd_rank": "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
    "imd_decile": "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
    "income": "Income Rank (where 1 is most deprived)",
    "employment": "Employment Rank (where 1 is most deprived)",
    "education": "Education, Skills and Training Rank (where 1 is most deprived)",
    "health": "Health Deprivation and Disability Rank (where 1 is most deprived)",
    "crime": "Crime Rank (where 1 is most deprived)",
    "barriers": "Barriers to Housing and Services Rank (where 1 is most deprived)",
    "living_environment": "Living Environment Rank (where 1 is most deprived)",
}


def read_iod2019_domain_ranks(path: str | Path) -> pd.DataFrame:
    """The published IoD2019 domain ranks of the 32,844 LSOAs (2011), under the preset names.

    Parameters
    ----------
    path
        File 2 of the IoD2019 (``File_2_-_IoD2019_Domains_of_Deprivation.csv[.gz]``), e.g. the
        shipped copy, ``needskit.config.project.raw_path(IOD2019_FILE)``.

    Returns
    -------
    pandas.DataFrame
        One row per LSOA (file order), columns ``area_code`` (LSOA 2011 code), ``lad_code``
        (local authority district 2019), ``imd_rank`` and ``imd_decile`` (the published IMD,
        1 = most deprived) and the seven domain ranks ``income``, ``employment``, ``education``,
        ``health``, ``crime``, ``barriers``, ``living_environment`` (int, 1 = most deprived; tied
        areas share the lower rank, as published).

    Raises
    ------
    DataError
        The file is missing, or lacks an expected column, or codes are repeated.

    Notes
    -----
    The file is UTF-8 with a byte-order mark. Feed the result to
    :func:`~needskit.needs.index.combine_domains` with ``higher_is_more_deprived=False``
    (ranks: 1 = most deprived). Source: MHCLG, English
    Indices of Deprivation 2019, File 2 (Open Government Licence v3.0).

    Examples
    --------
    >>> from needskit.config.project import raw_path  # doctest: +SKIP
    >>> ranks = read_iod2019_domain_ranks(raw_path(IOD2019_FILE))  # doctest: +SKIP
    >>> ranks.shape  # doctest: +SKIP
    (32844, 11)
    """
    source = Path(path)
    if not source.exists():
        raise DataError(
            "IoD2019 File 2 is missing", where=str(source), expected="an existing file", got="no such file"
        )
    header = pd.read_csv(source, encoding="utf-8-sig", nrows=0).columns
    missing = [c for c in _IOD2019_FILE_COLUMNS.values() if c not in header]
    if missing:
        raise DataError(
            "is not IoD2019 File 2: columns are missing",
            where=str(source),
            expected=f"columns such as {missing[0]!r}",
            got=f"{len(missing)} missing of {len(header)} columns",
        )
    raw = pd.read_csv(source, encoding="utf-8-sig", usecols=list(_IOD2019_FILE_COLUMNS.values()))
    out = raw.rename(columns={v: k for k, v in _IOD2019_FILE_COLUMNS.items()})[list(_IOD2019_FILE_COLUMNS)]
    if out["area_code"].duplicated().any():
        raise DataError(
            "repeats LSOA codes",
            where=str(source),
            expected="one row per LSOA",
            got=describe_values(out.loc[out["area_code"].duplicated(), "area_code"].tolist()),
        )
    return out.reset_index(drop=True)

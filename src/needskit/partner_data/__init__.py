"""Partner data: adapters, row checks, pooling, the ledger, reference data and the store.

- :mod:`.ingest` — one reader per real format (police.uk, NHS ODS, ONS tables, CSV/Excel/GPKG/Parquet);
- :mod:`.prepare`, :mod:`.ledger`, :mod:`.problems`, :mod:`.validate` — every row accounted for;
- :mod:`.pooling` — partner data onto one neighbourhood geography;
- :mod:`.reference` — the partnership's geography from its catalogue entries;
- :mod:`.store`, :mod:`.stages` — the store the pipeline writes and reports read;
- :mod:`.build` — rebuild ``data/raw`` from the shared raw data (maintainers).
"""

from needskit.partner_data.pooling import PROFILE_COLUMNS, PoolResult, pool_catalog
from needskit.partner_data.prepare import prepare_dataset
from needskit.partner_data.reference import load_geography
from needskit.partner_data.store import Store
from needskit.partner_data.validate import validate_catalog

__all__ = [
    "PROFILE_COLUMNS",
    "PoolResult",
    "pool_catalog",
    "prepare_dataset",
    "load_geography",
    "Store",
    "validate_catalog",
]

"""Attribution lines the Open Government Licence requires; every report reproduces those of its sources.

Catalogue entries name them by key (``attribution: [ONS, POLICE]``).
"""

from __future__ import annotations

__all__ = ["ATTRIBUTION"]

# Attribution lines the Open Government Licence requires; every report reproduces them.
ATTRIBUTION = {
    "MHCLG": (
        "Contains public sector information licensed under the Open Government Licence v3.0. "
        "Source: English Indices of Deprivation 2019 / 2025, Ministry of Housing, Communities and "
        "Local Government."
    ),
    "ONS": "Source: Office for National Statistics licensed under the Open Government Licence v.3.0.",
    "ONSGEO": (
        "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
        "Contains OS data © Crown copyright and database right 2021-2024."
    ),
    "ONSPD": (
        "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
        "Contains OS data © Crown copyright and database right 2025. Contains Royal Mail data © Royal "
        "Mail copyright and database right 2025. Contains GeoPlace data © Local Government Information "
        "House Limited copyright and database right 2025."
    ),
    "POLICE": (
        "Contains public sector information licensed under the Open Government Licence v3.0. "
        "Source: data.police.uk (the police force named with each dataset)."
    ),
    "NHS": (
        "Contains public sector information licensed under the Open Government Licence v3.0. "
        "Source: NHS England Organisation Data Service (ODS)."
    ),
}

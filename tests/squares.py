"""A partnership made of hand-drawn squares: a whole project (conf/ and data/raw/) in a folder.

The squares partnership runs the whole pipeline (pool → indicators → publish → a report) in the
tests, so that anything that assumes the built-in example fails at once. Its geography:

::

    county E10999901 (Squareshire), one district E07999901 (Squareton), two wards:
        ward E05999901 (West Ward) = LSOAs A, C      ward E05999902 (East Ward) = LSOAs B, D
        C D
        A B          each LSOA a 1 km square; MSOAs E02999901 = A, B and E02999902 = C, D
    and next door, outside the partnership: county E10999902 (Elsewhere), LSOA E (E01999905)

Codes are not real ONS codes (E01999901 …); region and England are real (E12000009, E92000001).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

X0, Y0 = 394_000, 222_000
LSOAS = {  # code: (letter, column, row, msoa, ward)
    "E01999901": ("A", 0, 0, "E02999901", "E05999901"),
    "E01999902": ("B", 1, 0, "E02999901", "E05999902"),
    "E01999903": ("C", 0, 1, "E02999902", "E05999901"),
    "E01999904": ("D", 1, 1, "E02999902", "E05999902"),
}
OUTSIDE = "E01999905"
COUNTY, DISTRICT = "E10999901", "E07999901"
ESP_BANDS = [f"{a}-{a + 4}" for a in range(0, 90, 5)] + ["90+"]
LIFE_BANDS = ["0", "1-4"] + [f"{a}-{a + 4}" for a in range(5, 90, 5)] + ["90+"]


def square(col: int, row: int):
    return box(X0 + 1000 * col, Y0 + 1000 * row, X0 + 1000 * (col + 1), Y0 + 1000 * (row + 1))


def _csv(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def _lookup() -> pd.DataFrame:
    rows = []
    for code, (letter, _c, _r, msoa, ward) in LSOAS.items():
        rows.append(
            {
                "lsoa21_code": code,
                "lsoa21_name": f"Squareton 00{letter}",
                "msoa21_code": msoa,
                "msoa21_name": f"Squareton 00{msoa[-1]}",
                "ward24_code": ward,
                "ward24_name": "West Ward" if ward.endswith("1") else "East Ward",
                "ltla24_code": DISTRICT,
                "ltla24_name": "Squareton",
                "utla24_code": COUNTY,
                "utla24_name": "Squareshire",
                "region24_code": "E12000009",
                "region24_name": "South West",
            }
        )
    rows.append(
        {
            "lsoa21_code": OUTSIDE,
            "lsoa21_name": "Elsewhere 001A",
            "msoa21_code": "E02999903",
            "msoa21_name": "Elsewhere 001",
            "ward24_code": "E05999903",
            "ward24_name": "Far Ward",
            "ltla24_code": "E07999902",
            "ltla24_name": "Elsewhere",
            "utla24_code": "E10999902",
            "utla24_name": "Elsewhere",
            "region24_code": "E12000009",
            "region24_name": "South West",
        }
    )
    return pd.DataFrame(rows)


def _boundaries(path: Path) -> None:
    lookup = _lookup().set_index("lsoa21_code")
    lsoas = gpd.GeoDataFrame(
        {
            "area_code": list(LSOAS) + [OUTSIDE],
            "area_name": [lookup.loc[c, "lsoa21_name"] for c in [*LSOAS, OUTSIDE]],
        },
        geometry=[square(c, r) for _l, c, r, _m, _w in LSOAS.values()] + [square(3, 0)],
        crs="EPSG:27700",
    )
    lsoas.to_file(path, layer="lsoa_2021", driver="GPKG", engine="pyogrio")
    for level, code_col, name_col in (
        ("msoa", "msoa21_code", "msoa21_name"),
        ("ward", "ward24_code", "ward24_name"),
        ("district", "ltla24_code", "ltla24_name"),
        ("county", "utla24_code", "utla24_name"),
    ):
        frame = lsoas.assign(
            code=lsoas["area_code"].map(lookup[code_col]), name=lsoas["area_code"].map(lookup[name_col])
        )
        dissolved = frame.dissolve(by=["code", "name"], as_index=False)[["code", "name", "geometry"]]
        dissolved.rename(columns={"code": "area_code", "name": "area_name"}).to_file(
            path, layer=f"{level}_2021", driver="GPKG", engine="pyogrio"
        )


def write_squares_project(root: Path) -> Path:
    """Write the squares partnership's project into ``root``; return ``root``."""
    raw = root / "data" / "raw"
    rng = np.random.default_rng(20240401)
    codes = [*LSOAS, OUTSIDE]
    _csv(raw / "lookups" / "squares_lookup.csv", _lookup())
    _csv(
        raw / "lookups" / "lsoa_changes.csv",
        pd.DataFrame({"lsoa11_code": codes, "lsoa21_code": codes, "change_code": "U"}),
    )
    (raw / "boundaries").mkdir(parents=True, exist_ok=True)
    _boundaries(raw / "boundaries" / "squares.gpkg")
    # postcodes: a grid of points, some in each square and one outside
    pcs = []
    for i, (_code, (letter, col, row, _m, _w)) in enumerate(LSOAS.items()):
        for j in range(5):
            pcs.append(
                {
                    "pcds": f"SQ{i + 1} {j}A{letter}",
                    "oseast1m": X0 + 1000 * col + 150 + 150 * j,
                    "osnrth1m": Y0 + 1000 * row + 200 + 120 * j,
                }
            )
    pcs.append({"pcds": "SQ9 9ZZ", "oseast1m": X0 + 3500, "osnrth1m": Y0 + 500})
    _csv(raw / "postcodes" / "postcodes.csv", pd.DataFrame(pcs))
    # residents by age band (ESP 2013) and by Census six groups
    ages = pd.DataFrame(
        [(c, b, int(rng.integers(40, 120))) for c in codes for b in ESP_BANDS],
        columns=["lsoa21_code", "age_band", "population"],
    )
    _csv(raw / "population" / "residents_esp.csv", ages)
    six = [
        "Aged 15 years and under",
        "Aged 16 to 24 years",
        "Aged 25 to 34 years",
        "Aged 35 to 49 years",
        "Aged 50 to 64 years",
        "Aged 65 years and over",
    ]
    _csv(
        raw / "population" / "residents.csv",
        pd.DataFrame(
            [(c, g, int(rng.integers(150, 400))) for c in codes for g in six],
            columns=["lsoa21_code", "age_group", "usual_residents"],
        ),
    )
    life = pd.DataFrame(
        [(c, b, int(rng.integers(200, 400))) for c in codes for b in LIFE_BANDS],
        columns=["lsoa21_code", "age_band", "population"],
    )
    life["deaths"] = [
        int(rng.integers(1, 4)) if b not in ("80-84", "85-89", "90+") else int(rng.integers(20, 60))
        for b in life["age_band"]
    ]
    _csv(raw / "population" / "life_table.csv", life)
    deaths = ages.assign(deaths=[int(rng.integers(0, 6)) for _ in range(len(ages))])
    _csv(raw / "health" / "deaths_esp.csv", deaths[["lsoa21_code", "age_band", "deaths"]])
    # a deprivation index: score, rank, decile and two domains
    _csv(
        raw / "deprivation" / "index.csv",
        pd.DataFrame(
            {
                "lsoa21_code": codes,
                "imd_score": [45.0, 12.0, 30.0, 5.0, 20.0],
                "imd_rank": [900, 25000, 4000, 31000, 15000],
                "imd_decile": [1, 8, 2, 10, 5],
                "income_decile": [1, 7, 3, 10, 5],
                "crime_decile": [2, 9, 1, 10, 6],
            }
        ),
    )
    # partner data: street crimes as points (British National Grid), three months
    crimes = []
    for month in ("2024-01", "2024-02", "2024-03"):
        for code, (_letter, col, row, _m, _w) in LSOAS.items():
            for k in range(int(rng.integers(3, 12))):
                crimes.append(
                    {
                        "crime_id": f"{month}-{code}-{k}",
                        "month": month,
                        "x": X0 + 1000 * col + 100 + 80 * k,
                        "y": Y0 + 1000 * row + 500,
                        "crime_type": "Burglary" if k % 3 == 0 else "Violence",
                    }
                )
        crimes.append(
            {
                "crime_id": f"{month}-far",
                "month": month,
                "x": X0 + 3500,
                "y": Y0 + 500,
                "crime_type": "Burglary",
            }
        )
        crimes.append(
            {"crime_id": f"{month}-nowhere", "month": month, "x": None, "y": None, "crime_type": "Violence"}
        )
    _csv(raw / "partner" / "crimes.csv", pd.DataFrame(crimes))
    # a partner's services, located by postcode, feeding the resource register
    _csv(
        raw / "partner" / "services.csv",
        pd.DataFrame(
            {
                "service_id": ["S1", "S2", "S3"],
                "name": ["Hub <b>one</b>", "Library", "Youth club"],
                "service_type": ["community_hub", "library", "youth_club"],
                "postcode": ["SQ1 1AA", "SQ2 2AB", "SQ4 0AD"],
                "theme": ["safer_stronger_communities", "economy_skills", "children_young_people"],
            }
        ),
    )
    _write_conf(root / "conf")
    return root


def _write_conf(conf: Path) -> None:
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "partnership.yml").write_text(
        textwrap.dedent("""\
        name: Squares Community Partnership
        area: [E10999901]
        comparators: [parent, england]
        period: quarter            # its crimes are three months, 2024-01 ... 03: one whole quarter
        disclosure: {rule: nhs_digital, audiences: [public]}
        residents: {dataset: residents, measure: usual_residents}
        deprivation: {dataset: deprivation}
        reference:
          lookups: [lookups]
          lsoa_changes: changes
          boundaries: [squares]
          postcodes: postcodes
          population: {2021: residents}
        """),
        encoding="utf-8",
    )
    area = "geography: {kind: area_code, column: lsoa21_code, level: lsoa, vintage: 2021}"
    (conf / "catalog.yml").write_text(
        textwrap.dedent(f"""\
        name: Squares catalogue
        root: ..
        defaults: {{licence: OGL-3.0, sharing: open, refresh: once, last_updated: 2024-04-30}}
        datasets:
          crimes:
            title: Street crimes (made up)
            partner: Squares Police
            theme: safer_stronger_communities
            path: data/raw/partner/crimes*.csv
            format: csv
            geography: {{kind: points, x: x, y: y, crs: "EPSG:27700"}}
            period: {{column: month, format: "%Y-%m"}}
            record_id: crime_id
            measures: [{{name: crimes, count: rows, category: crime_type}}]
            comparators: []
          residents:
            title: Residents by age group (made up)
            partner: Office for National Statistics
            theme: cross_cutting
            role: denominator
            path: data/raw/population/residents.csv
            format: csv
            {area}
            period: "2021"
            measures: [{{name: usual_residents, column: usual_residents, category: age_group}}]
            comparators: [country]
          residents_esp:
            title: Residents by ESP 2013 band (made up)
            partner: Office for National Statistics
            theme: cross_cutting
            role: denominator
            path: data/raw/population/residents_esp.csv
            format: csv
            {area}
            period: "2021"
            measures: [{{name: population, column: population, category: age_band}}]
            comparators: [country]
          deaths:
            title: Deaths by ESP 2013 band (made up)
            partner: Squares NHS
            theme: health_older_people
            path: data/raw/health/deaths_esp.csv
            format: csv
            {area}
            period: "2021"
            measures: [{{name: deaths, column: deaths, category: age_band}}]
            comparators: [country]
          life_table:
            title: Deaths and population by life-table band (made up)
            partner: Squares NHS
            theme: health_older_people
            path: data/raw/population/life_table.csv
            format: csv
            {area}
            period: "2021"
            measures:
              - {{name: life_deaths, column: deaths, category: age_band}}
              - {{name: life_population, column: population, category: age_band}}
          deprivation:
            title: A deprivation index (made up)
            partner: Squares Council
            theme: cross_cutting
            path: data/raw/deprivation/index.csv
            format: csv
            {area}
            period: "2025"
            measures:
              - {{columns: "score$|rank$|decile$", kind: value, aggregate: none}}
          postcodes:
            title: Postcodes (made up)
            partner: Office for National Statistics
            theme: cross_cutting
            role: context
            path: data/raw/postcodes/postcodes.csv
            format: csv
            geography: {{kind: points, x: oseast1m, y: osnrth1m, crs: "EPSG:27700"}}
            period: "2025"
            record_id: pcds
            measures: [{{name: postcodes, count: rows}}]
          services:
            title: Partner services (made up)
            partner: Squares Council
            theme: cross_cutting
            path: data/raw/partner/services.csv
            format: csv
            geography: {{kind: postcode, postcode: postcode}}
            period: "2024/25"
            record_id: service_id
            measures: [{{name: services, count: rows, category: service_type}}]
            register: {{table: services, partner: Squares Council, partner_sector: council}}
            illustrative: true
        reference:
          lookups:
            title: Squares lookup
            format: ons_lookups
            vintage: 2021
            path: data/raw/lookups/squares_lookup.csv
            publisher: tests
            licence: MIT
          changes:
            title: Squares LSOA changes
            format: ons_lsoa_changes
            path: data/raw/lookups/lsoa_changes.csv
            publisher: tests
            licence: MIT
          squares:
            title: Squares boundaries
            format: area_layers
            path: data/raw/boundaries/squares.gpkg
            publisher: tests
            licence: MIT
        """),
        encoding="utf-8",
    )
    (conf / "indicators.yml").write_text(
        textwrap.dedent("""\
        indicators:
          crime_rate:
            title: Crimes per 1,000 residents
            theme: safer_stronger_communities
            unit: per 1,000 residents
            statistic: crude_rate
            multiplier: 1000
            numerator: {dataset: crimes, measure: crimes}
            denominator: {dataset: residents, measure: usual_residents}
            polarity: high_is_bad
            combine_periods: true
          older_people:
            title: Residents aged 65 and over, %
            theme: health_older_people
            unit: "%"
            statistic: proportion
            numerator: {dataset: residents, measure: usual_residents, category: Aged 65 years and over}
            denominator: {dataset: residents, measure: usual_residents}
            polarity: no_judgement
          mortality_dsr:
            title: Deaths, directly age-standardised per 100,000
            theme: health_older_people
            unit: per 100,000
            statistic: dsr
            numerator: {dataset: deaths, measure: deaths}
            denominator: {dataset: residents_esp, measure: population}
            polarity: high_is_bad
          mortality_smr:
            title: Standardised mortality ratio (England = 100)
            theme: health_older_people
            statistic: isr
            multiplier: 100
            reference: E92000001
            numerator: {dataset: deaths, measure: deaths}
            denominator: {dataset: residents_esp, measure: population}
            polarity: high_is_bad
          life_expectancy:
            title: Life expectancy at birth
            theme: health_older_people
            unit: years
            statistic: life_expectancy
            numerator: {dataset: life_table, measure: life_deaths}
            denominator: {dataset: life_table, measure: life_population}
            polarity: high_is_good
          deprivation_mean:
            title: Mean deprivation score of the neighbourhoods
            theme: cross_cutting
            unit: score
            statistic: mean
            value: {dataset: deprivation, measure: imd_score}
            polarity: high_is_bad
          imd_score:
            title: Deprivation score
            theme: cross_cutting
            unit: score
            statistic: value
            value: {dataset: deprivation, measure: imd_score}
            polarity: high_is_bad
        """),
        encoding="utf-8",
    )
    (conf / "places.yml").write_text(
        textwrap.dedent("""\
        name: squares places
        places:
          South Side:
            lsoas: [E01999901, E01999902]
        """),
        encoding="utf-8",
    )


POSTCODE_TABLES = """\
  postcode_tables:
    title: Postcode tables as downloaded (ONSPD, NSPL, Code-Point Open)
    format: postcode_directory
    path: data/raw/postcodes/*
    publisher: tests
    licence: OGL-3.0
"""


def use_postcode_tables(root: Path, *, keep_dataset_file: bool = True) -> Path:
    """Make the squares' postcode directory a ``postcode_directory`` entry over
    ``data/raw/postcodes/*`` (the ``postcodes`` dataset then reads its own copy in
    ``data/raw/lookups/``, so the folder can be left empty); return the folder."""
    folder = root / "data" / "raw" / "postcodes"
    moved = root / "data" / "raw" / "lookups" / "squares_postcodes.csv"
    (folder / "postcodes.csv").rename(moved)
    if keep_dataset_file:
        (folder / "postcodes.csv").write_bytes(moved.read_bytes())
    for path, old, new in (
        (
            root / "conf" / "catalog.yml",
            "path: data/raw/postcodes/postcodes.csv",
            "path: data/raw/lookups/squares_postcodes.csv",
        ),
        (root / "conf" / "catalog.yml", "reference:\n", "reference:\n" + POSTCODE_TABLES),
        (root / "conf" / "partnership.yml", "postcodes: postcodes", "postcodes: postcode_tables"),
    ):
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder

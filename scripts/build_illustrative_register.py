"""Build the ILLUSTRATIVE Gloucestershire resource register (made-up data, real anchors).

Council, police and voluntary-sector services and spend have no open source, so needskit ships
an **illustrative** register to show how resource mapping, gap and duplication analysis work.
Nothing in it describes a real service, budget or catchment. It is generated, deterministically,
from real anchors:

* real GL postcodes and their grid references (ONS Postcode Directory, Nov 2025, shipped in
  ``data/raw/lookups/``), each checked to lie in the district the service is said to be in;
* real 2021 LSOAs, 2024 best-fit wards and districts (shipped boundaries and lookups);
* real Census 2021 usual residents and IoD2025 IMD scores, which make services more likely in
  populous (and, for some types, deprived) neighbourhoods and scale the area-level spend.

Files written (plain CSV, UTF-8, ``\\n`` line ends, every row ``illustrative=True``):

* ``services.csv`` — one row per service point: type, partner, theme, postcode, easting and
  northing, capacity and its unit, opening hours, annual cost (£);
* ``spend.csv`` — partner spend by 2024 best-fit ward and theme (£, financial year 2024/25);
* ``catchments.csv`` — the LSOAs each service with a catchment serves;
* ``README.md`` — what the files are, how they were made, the seed.

Determinism: one ``numpy.random.Generator(PCG64(seed))`` drives every random draw, in a fixed
order over sorted inputs, and numbers are written as integers, so the same seed and the same
shipped anchors give byte-identical files.

Usage::

    python scripts/build_illustrative_register.py                 # default seed, data/raw/illustrative
    python scripts/build_illustrative_register.py --seed 7 --out /tmp/register
    python scripts/build_illustrative_register.py --force          # replace files that differ
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from needskit import place as geo
from needskit.config import load_catalog, load_partnership
from needskit.config.project import project_dir
from needskit.partner_data.reference import load_geography

ROOT = project_dir() or Path(__file__).resolve().parents[1]
COUNTY_CODE = "E10000013"
"""The built-in example's county: this script makes an ILLUSTRATIVE register for it only."""
DISTRICT_CODES = {
    "E07000078": "Cheltenham",
    "E07000079": "Cotswold",
    "E07000080": "Forest of Dean",
    "E07000081": "Gloucester",
    "E07000082": "Stroud",
    "E07000083": "Tewkesbury",
}


def raw_path(relative: str) -> Path:
    return ROOT / "data" / "raw" / relative


def _geography() -> geo.Geography:
    return load_geography(
        load_catalog(ROOT / "conf" / "catalog.yml"), load_partnership(ROOT / "conf" / "partnership.yml")
    )


SEED = 20100312
"""Default seed: the date of the Gloucester Partnership's recommendations to the board (12/3/10)."""

FINANCIAL_YEAR = "2024/25"
FILES = ("services.csv", "spend.csv", "catchments.csv", "README.md")

COUNTY_COUNCIL = "Gloucestershire County Council"
POLICE = "Gloucestershire Constabulary"
NHS = "NHS Gloucestershire ICB"
VCS = "Voluntary and community sector"
DWP = "Jobcentre Plus (DWP)"
DISTRICT_COUNCILS = {
    "E07000078": "Cheltenham Borough Council",
    "E07000079": "Cotswold District Council",
    "E07000080": "Forest of Dean District Council",
    "E07000081": "Gloucester City Council",
    "E07000082": "Stroud District Council",
    "E07000083": "Tewkesbury Borough Council",
}
SECTOR = {
    COUNTY_COUNCIL: "council",
    POLICE: "police",
    NHS: "nhs",
    VCS: "voluntary",
    DWP: "central_government",
}
SECTOR.update({name: "council" for name in DISTRICT_COUNCILS.values()})


@dataclass(frozen=True)
class ServiceType:
    """How to make services of one type (all numbers illustrative)."""

    code: str
    label: str
    partners: tuple[str, ...]  # "district" = the district council of the place
    theme: str
    per_100k: float  # services per 100,000 residents, per partner
    need_weight: float  # 0: placed by population; 1: by population x IMD score
    capacity: tuple[int, int]
    capacity_unit: str
    hours: tuple[tuple[str, float], ...]  # (OSM opening_hours, hours per week)
    cost: tuple[int, int]  # annual cost range, £
    catchment: str  # "" none, "radius:<m>", "district", "policing"


TYPES: tuple[ServiceType, ...] = (
    ServiceType(
        "childrens_centre",
        "Children's Centre",
        (COUNTY_COUNCIL,),
        "children_young_people",
        2.0,
        1.0,
        (250, 900),
        "families registered",
        (("Mo-Fr 09:00-17:00", 40.0), ("Mo-Th 08:30-17:00; Fr 08:30-16:30", 42.0)),
        (120_000, 380_000),
        "radius:2500",
    ),
    ServiceType(
        "youth_service",
        "Youth Service",
        (COUNTY_COUNCIL, VCS),
        "children_young_people",
        3.5,
        1.0,
        (20, 120),
        "young people per week",
        (("Tu,Th 18:00-21:00", 6.0), ("Mo,We,Fr 17:30-21:30", 12.0)),
        (25_000, 180_000),
        "radius:2000",
    ),
    ServiceType(
        "library",
        "Library",
        (COUNTY_COUNCIL,),
        "economy_skills",
        5.0,
        0.0,
        (300, 3000),
        "visits per week",
        (("Mo-Sa 09:30-17:00", 45.0), ("Tu,Th,Sa 10:00-13:00; We,Fr 14:00-18:00", 17.0)),
        (60_000, 350_000),
        "",
    ),
    ServiceType(
        "community_centre",
        "Community Centre",
        ("district", VCS),
        "safer_stronger_communities",
        2.5,
        0.5,
        (40, 250),
        "people (main hall)",
        (("Mo-Su 08:00-22:00", 98.0), ("Mo-Fr 09:00-21:00; Sa 09:00-13:00", 64.0)),
        (15_000, 90_000),
        "",
    ),
    ServiceType(
        "food_bank",
        "Food Bank",
        (VCS,),
        "economy_skills",
        2.0,
        1.0,
        (50, 400),
        "food parcels per month",
        (("Tu,Fr 10:00-13:00", 6.0), ("Mo,We,Sa 10:00-12:30", 7.5)),
        (10_000, 60_000),
        "radius:4000",
    ),
    ServiceType(
        "debt_advice",
        "Debt Advice",
        ("district", VCS),
        "economy_skills",
        0.8,
        1.0,
        (20, 150),
        "appointments per week",
        (("Mo-Fr 09:30-16:30", 35.0), ("Tu-Th 10:00-15:00", 15.0)),
        (40_000, 200_000),
        "radius:5000",
    ),
    ServiceType(
        "neighbourhood_policing_team",
        "Neighbourhood Policing Team",
        (POLICE,),
        "safer_stronger_communities",
        3.0,
        0.5,
        (4, 14),
        "officers and PCSOs (FTE)",
        (("24/7", 168.0),),
        (250_000, 800_000),
        "policing",
    ),
    ServiceType(
        "older_people_day_centre",
        "Day Centre for Older People",
        (COUNTY_COUNCIL, VCS),
        "health_older_people",
        1.0,
        0.5,
        (15, 60),
        "places per day",
        (("Mo-Fr 10:00-15:30", 27.5), ("Tu-Th 10:00-15:00", 15.0)),
        (60_000, 250_000),
        "radius:5000",
    ),
    ServiceType(
        "health_wellbeing",
        "Health and Wellbeing Service",
        (NHS,),
        "health_older_people",
        1.5,
        1.0,
        (20, 100),
        "clients per week",
        (("Mo-Fr 09:00-17:00", 40.0), ("Mo,We,Fr 09:00-13:00", 12.0)),
        (50_000, 200_000),
        "radius:4000",
    ),
    ServiceType(
        "housing_advice",
        "Housing Advice",
        ("district",),
        "housing_environment",
        0.0,
        0.0,
        (30, 200),
        "cases per month",
        (("Mo-Fr 09:00-17:00", 40.0),),
        (100_000, 400_000),
        "district",
    ),
    ServiceType(
        "employment_support",
        "Employment Support",
        (DWP, VCS),
        "economy_skills",
        0.8,
        1.0,
        (15, 80),
        "people per week",
        (("Mo-Fr 09:00-17:00", 40.0), ("Tu,Th 09:30-12:30", 6.0)),
        (30_000, 150_000),
        "radius:5000",
    ),
)

# Area-level spend: £ per resident per year, by partner and theme, and how strongly it follows
# need (elasticity to the ward's IMD score relative to the county). Illustrative magnitudes.
SPEND_RULES: tuple[tuple[str, str, float, float], ...] = (
    (COUNTY_COUNCIL, "children_young_people", 230.0, 0.6),
    (COUNTY_COUNCIL, "health_older_people", 300.0, 0.4),
    (COUNTY_COUNCIL, "housing_environment", 90.0, 0.0),
    (COUNTY_COUNCIL, "economy_skills", 15.0, 0.2),
    ("district", "housing_environment", 60.0, 0.3),
    ("district", "safer_stronger_communities", 20.0, 0.4),
    ("district", "economy_skills", 12.0, 0.3),
    (POLICE, "safer_stronger_communities", 200.0, 0.5),
    (NHS, "health_older_people", 80.0, 0.5),
    (VCS, "children_young_people", 8.0, 0.5),
    (VCS, "health_older_people", 10.0, 0.3),
    (VCS, "economy_skills", 6.0, 0.6),
    (VCS, "safer_stronger_communities", 5.0, 0.4),
)


# --------------------------------------------------------------------------------- anchors


def load_anchors() -> dict[str, pd.DataFrame]:
    """The real shipped data the register is built on (Gloucestershire only)."""
    geography = _geography()
    table = geo.hierarchy(geography=geography, vintage=2021)
    lsoas = table[table["county"] == COUNTY_CODE][
        ["lsoa", "lsoa_name", "ward", "ward_name", "district", "district_name"]
    ].sort_values("lsoa")
    residents = pd.read_csv(raw_path("census/census2021_lsoa21_age6_usual_residents.csv.gz"))
    residents = residents.groupby("lsoa21_code")["usual_residents"].sum()
    imd = pd.read_csv(raw_path("imd2025/iod2025_lsoa21_scores_ranks_deciles.csv.gz"))
    imd = imd.set_index("lsoa21_code")["IMD_score"]
    lsoas = lsoas.assign(
        residents=lsoas["lsoa"].map(residents).astype("int64"), imd_score=lsoas["lsoa"].map(imd).astype(float)
    )
    if lsoas[["residents", "imd_score"]].isna().any().any():
        raise SystemExit("anchors: a Gloucestershire LSOA lacks residents or an IMD score")

    postcodes = pd.read_csv(
        raw_path("lookups/onspd_nov2025_GL_postcodes.csv.gz"), dtype={"pcds": str, "laua": str}
    )
    postcodes = postcodes.dropna(subset=["oseast1m", "osnrth1m"])
    postcodes = postcodes[postcodes["laua"].isin(list(DISTRICT_CODES))]
    postcodes = postcodes.assign(pcds=postcodes["pcds"].map(geo.normalise_postcode))
    postcodes = postcodes[["pcds", "laua", "oseast1m", "osnrth1m"]].rename(
        columns={"pcds": "postcode", "laua": "district", "oseast1m": "easting", "osnrth1m": "northing"}
    )
    located = geo.assign_points(
        postcodes, x="easting", y="northing", crs="EPSG:27700", out_col="lsoa", geography=geography
    )
    located = located[located["match"] == "within"].drop(columns="match")
    # the right district: the postcode directory's district agrees with the LSOA the point lies in
    located = located.merge(lsoas[["lsoa", "district"]], on="lsoa", suffixes=("", "_of_lsoa"))
    located = located[located["district"] == located["district_of_lsoa"]].drop(columns="district_of_lsoa")
    located = located.astype({"easting": "int64", "northing": "int64", "lsoa": str}).sort_values("postcode")

    # an LSOA's centre weighted by where its postcodes are (a proxy for where people live)
    centres = located.groupby("lsoa")[["easting", "northing"]].mean().reindex(lsoas["lsoa"])
    missing = centres["easting"].isna()
    if missing.any():  # an LSOA without a postcode of its own district: use its polygon's centre
        polys = geo.load_areas("lsoa", geography=geography).set_index("area_code").loc[centres.index[missing]]
        points = polys.geometry.representative_point()
        centres.loc[missing, "easting"] = points.x.to_numpy()
        centres.loc[missing, "northing"] = points.y.to_numpy()
    lsoas = lsoas.assign(cx=centres["easting"].to_numpy(), cy=centres["northing"].to_numpy())
    return {"lsoas": lsoas.reset_index(drop=True), "postcodes": located.reset_index(drop=True)}


# -------------------------------------------------------------------------------- services


def _partner_name(partner: str, district: str) -> str:
    return DISTRICT_COUNCILS[district] if partner == "district" else partner


def build_services(anchors: dict[str, pd.DataFrame], rng: np.random.Generator) -> pd.DataFrame:
    """Service points: for each type, partner and district, a number of services proportional to
    residents, each at a real postcode of an LSOA drawn with probability ∝ residents × IMD^w."""
    lsoas, postcodes = anchors["lsoas"], anchors["postcodes"]
    by_lsoa = {code: group for code, group in postcodes.groupby("lsoa", sort=True)}
    rows = []
    for kind in TYPES:
        for partner in kind.partners:
            for district in sorted(DISTRICT_CODES):
                pool = lsoas[(lsoas["district"] == district) & lsoas["lsoa"].isin(list(by_lsoa))]
                people = int(lsoas.loc[lsoas["district"] == district, "residents"].sum())
                expected = kind.per_100k * people / 100_000
                n = max(1, int(rng.poisson(expected))) if kind.per_100k > 0 else 1
                weight = (
                    pool["residents"].to_numpy(float) * pool["imd_score"].to_numpy(float) ** kind.need_weight
                )
                picks = rng.choice(len(pool), size=n, replace=n > len(pool), p=weight / weight.sum())
                for pick in np.sort(picks):
                    home = pool.iloc[int(pick)]
                    candidates = by_lsoa[home["lsoa"]]
                    at = candidates.iloc[int(rng.integers(len(candidates)))]
                    hours, per_week = kind.hours[int(rng.integers(len(kind.hours)))]
                    low, high = kind.capacity
                    cost_low, cost_high = kind.cost
                    rows.append(
                        {
                            "service_type": kind.code,
                            "label": kind.label,
                            "partner": _partner_name(partner, district),
                            "theme": kind.theme,
                            "postcode": at["postcode"],
                            "easting": int(at["easting"]),
                            "northing": int(at["northing"]),
                            "lsoa": home["lsoa"],
                            "ward_name": home["ward_name"],
                            "district_code": district,
                            "district_name": DISTRICT_CODES[district],
                            "capacity": int(rng.integers(low, high + 1)),
                            "capacity_unit": kind.capacity_unit,
                            "opening_hours": hours,
                            "hours_per_week": per_week,
                            "annual_cost_gbp": int(round(rng.uniform(cost_low, cost_high) / 500.0) * 500),
                            "catchment": kind.catchment,
                        }
                    )
    services = pd.DataFrame(rows)
    services["partner_sector"] = services["partner"].map(SECTOR)
    services = services.sort_values(["service_type", "district_code", "partner", "postcode"], kind="stable")
    services["service_id"] = [
        f"ILL-{kind[:3].upper()}{i:03d}" for i, kind in enumerate(services["service_type"], start=1)
    ]
    base = (
        services["ward_name"]
        + " "
        + services["label"]
        + np.where(services["partner_sector"] == "voluntary", " (community-run)", "")
    )
    repeat = base.groupby(base).cumcount()
    services["name"] = base + np.where(repeat > 0, " " + (repeat + 1).astype(str), "") + " (illustrative)"
    services["catchment"] = services["catchment"].map(_describe_catchment)
    services["financial_year"] = FINANCIAL_YEAR
    services["illustrative"] = True
    columns = [
        "service_id",
        "name",
        "service_type",
        "partner",
        "partner_sector",
        "theme",
        "postcode",
        "easting",
        "northing",
        "district_code",
        "district_name",
        "capacity",
        "capacity_unit",
        "opening_hours",
        "hours_per_week",
        "annual_cost_gbp",
        "financial_year",
        "catchment",
        "illustrative",
        "lsoa",
    ]
    return services[columns].reset_index(drop=True)


def _describe_catchment(rule: str) -> str:
    if rule.startswith("radius:"):
        return f"LSOAs within {int(rule.split(':')[1]):,} m"
    return {"district": "the whole district", "policing": "nearest team base in the district", "": ""}[rule]


# ------------------------------------------------------------------------------ catchments


def build_catchments(services: pd.DataFrame, anchors: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The LSOAs each service serves: within a radius of the service (by LSOA centre), the whole
    district, or (policing teams) the LSOAs of the district nearer that team's base than any other."""
    lsoas = anchors["lsoas"]
    centres = np.column_stack([lsoas["cx"].to_numpy(float), lsoas["cy"].to_numpy(float)])
    tree = cKDTree(centres)
    kinds = {t.code: t for t in TYPES}
    pieces = []
    for kind_code, group in services.groupby("service_type", sort=True):
        rule = kinds[kind_code].catchment
        if not rule:
            continue
        if rule.startswith("radius:"):
            radius = float(rule.split(":")[1])
            xy = group[["easting", "northing"]].to_numpy(float)
            for sid, own, near in zip(
                group["service_id"], group["lsoa"], tree.query_ball_point(xy, r=radius), strict=True
            ):
                codes = set(lsoas["lsoa"].iloc[sorted(near)]) | {own}
                pieces.append(pd.DataFrame({"service_id": sid, "lsoa21_code": sorted(codes)}))
        elif rule == "district":
            for sid, district in zip(group["service_id"], group["district_code"], strict=True):
                codes = lsoas.loc[lsoas["district"] == district, "lsoa"]
                pieces.append(pd.DataFrame({"service_id": sid, "lsoa21_code": sorted(codes)}))
        elif rule == "policing":
            for district, teams in group.groupby("district_code", sort=True):
                inside = lsoas[lsoas["district"] == district]
                bases = cKDTree(teams[["easting", "northing"]].to_numpy(float))
                _, nearest = bases.query(inside[["cx", "cy"]].to_numpy(float))
                pieces.append(
                    pd.DataFrame(
                        {
                            "service_id": teams["service_id"].to_numpy()[nearest],
                            "lsoa21_code": inside["lsoa"].to_numpy(),
                        }
                    )
                )
    catchments = pd.concat(pieces, ignore_index=True)
    catchments = catchments.merge(services[["service_id", "partner", "theme"]], on="service_id")
    catchments["illustrative"] = True
    return catchments.sort_values(["service_id", "lsoa21_code"]).reset_index(drop=True)


# ----------------------------------------------------------------------------------- spend


def build_spend(anchors: dict[str, pd.DataFrame], rng: np.random.Generator) -> pd.DataFrame:
    """Spend by ward, partner and theme: residents × £ per head × (ward IMD / county IMD)^elasticity
    × lognormal noise (σ = 0.25), rounded to £100."""
    lsoas = anchors["lsoas"]
    lsoas = lsoas.assign(weighted=lsoas["imd_score"] * lsoas["residents"])
    wards = (
        lsoas.groupby(["ward", "ward_name", "district", "district_name"], as_index=False)[
            ["residents", "weighted"]
        ]
        .sum()
        .sort_values("ward")
    )
    county_imd = float(lsoas["weighted"].sum() / lsoas["residents"].sum())
    relative = (wards["weighted"] / wards["residents"]).to_numpy(float) / county_imd
    pieces = []
    for partner, theme, per_head, elasticity in SPEND_RULES:
        noise = rng.lognormal(mean=0.0, sigma=0.25, size=len(wards))
        spend = wards["residents"].to_numpy(float) * per_head * relative**elasticity * noise
        pieces.append(
            pd.DataFrame(
                {
                    "ward_code": wards["ward"].to_numpy(),
                    "ward_name": wards["ward_name"].to_numpy(),
                    "district_code": wards["district"].to_numpy(),
                    "partner": [_partner_name(partner, d) for d in wards["district"]],
                    "theme": theme,
                    "spend_gbp": (np.round(spend / 100.0) * 100).astype("int64"),
                }
            )
        )
    spend = pd.concat(pieces, ignore_index=True)
    spend["partner_sector"] = spend["partner"].map(SECTOR)
    spend["financial_year"] = FINANCIAL_YEAR
    spend["illustrative"] = True
    columns = [
        "ward_code",
        "ward_name",
        "district_code",
        "partner",
        "partner_sector",
        "theme",
        "financial_year",
        "spend_gbp",
        "illustrative",
    ]
    return spend.sort_values(["ward_code", "partner", "theme"])[columns].reset_index(drop=True)


# ---------------------------------------------------------------------------------- README


def readme(seed: int, services: pd.DataFrame, spend: pd.DataFrame, catchments: pd.DataFrame) -> str:
    counts = services.groupby(["service_type", "partner_sector"]).size()
    lines = "\n".join(f"| `{t}` | {s} | {n} |" for (t, s), n in counts.items())
    files = "\n".join(
        [
            f"| `services.csv` | {len(services)} | service points: `service_id`, `name`, `service_type`, "
            "`partner`, `partner_sector`, `theme` (catalogue theme key), `postcode`, `easting`, `northing` "
            "(EPSG:27700, the postcode's ONSPD grid reference), `district_code`, `district_name`, "
            "`capacity`, `capacity_unit`, `opening_hours` (OpenStreetMap syntax), `hours_per_week`, "
            "`annual_cost_gbp`, `financial_year`, `catchment` (how the catchment was drawn), `illustrative`, "
            "`lsoa` (the 2021 LSOA the postcode lies in) |",
            f"| `spend.csv` | {len(spend)} | partner spend by 2024 best-fit ward and theme, financial year "
            f"{FINANCIAL_YEAR}: `ward_code`, `ward_name`, `district_code`, `partner`, `partner_sector`, "
            "`theme`, `financial_year`, `spend_gbp`, `illustrative` |",
            f"| `catchments.csv` | {len(catchments)} | the 2021 LSOAs each service with a catchment serves: "
            "`service_id`, `lsoa21_code`, `partner`, `theme`, `illustrative` |",
        ]
    )
    return f"""# ILLUSTRATIVE resource register — NOT REAL DATA

**Everything in this folder is made up.** The services, partners' budgets, capacities, opening
hours, costs and catchments do not describe any real service in Gloucestershire. They exist so
that needskit's resource mapping, gap and duplication analyses can be shown and tested on a
realistic-looking register, because council, police and voluntary-sector service registers and
spend by area have no open source. Every row carries `illustrative=True`; the catalogue entries
say `illustrative: true`; reports built on them must say so. Replace these files with your
partners' own registers (same columns) to use needskit for real.

The real service data needskit ships are the NHS GP practices and dispensaries
(`data/raw/nhs/`); the catalogue's `register:` blocks add them to this register with
`illustrative=False`. The ODS extracts have **no registered-list size**, so GP capacity is
missing there.

## How it was generated

`python scripts/build_illustrative_register.py --seed {seed}` (seed **{seed}**). One
`numpy.random.Generator(PCG64(seed))` drives every draw in a fixed order, so the same seed gives
byte-identical files. Real anchors:

* each service sits at a **real GL postcode** (ONS Postcode Directory, Nov 2025) whose point lies
  in an LSOA of the district the service is said to serve, and whose ONSPD district agrees;
* the number of services of each type and partner per district is Poisson with mean
  proportional to the district's Census 2021 usual residents; the LSOA is drawn with probability
  ∝ residents × IMD2025 score^w (w = 1 for targeted services such as children's centres, food
  banks, debt advice; 0 for libraries);
* capacity, opening hours and annual cost are drawn from plausible ranges per service type;
* catchments: LSOAs whose postcode-weighted centre is within a radius of the service (2–5 km by
  type, plus the service's own LSOA), the whole district (housing advice), or the district's
  LSOAs nearest each neighbourhood policing team base;
* spend by ward = ward residents × £ per head for the partner and theme × (ward IMD score /
  county IMD score)^elasticity × lognormal noise (σ = 0.25), rounded to £100.

## Files

| file | rows | what |
|---|---|---|
{files}

Service points by type and sector:

| service_type | partner_sector | services |
|---|---|---|
{lines}

Spend totals are not reconciled with the services' annual costs: they are two separate
illustrations (area-level spend of whole partner budgets; running costs of listed services).

Licence: the anchors are ONS data under the Open Government Licence v3.0 (Source: Office for
National Statistics licensed under the Open Government Licence v.3.0. Contains OS data © Crown
copyright and database right 2025. Contains Royal Mail data © Royal Mail copyright and database
right 2025. Contains GeoPlace data © Local Government Information House Limited copyright and
database right 2025). The made-up values are released with needskit.
"""


# ------------------------------------------------------------------------------------ main


def build(seed: int = SEED) -> dict[str, bytes]:
    """Every file of the register as bytes, keyed by file name."""
    rng = np.random.Generator(np.random.PCG64(seed))
    anchors = load_anchors()
    services = build_services(anchors, rng)
    catchments = build_catchments(services, anchors)
    spend = build_spend(anchors, rng)

    def csv(frame: pd.DataFrame) -> bytes:
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, lineterminator="\n")
        return buffer.getvalue().encode("utf-8")

    return {
        "services.csv": csv(services),
        "spend.csv": csv(spend),
        "catchments.csv": csv(catchments),
        "README.md": readme(seed, services, spend, catchments).encode("utf-8"),
    }


def write(files: dict[str, bytes], out: Path, *, force: bool = False) -> list[str]:
    """Write the files; refuse to replace a different existing file unless ``force``."""
    out.mkdir(parents=True, exist_ok=True)
    changed = [
        name for name, data in files.items() if (out / name).exists() and (out / name).read_bytes() != data
    ]
    if changed and not force:
        raise SystemExit(
            f"{out}: {changed} already exist with different contents; raw data is not modified "
            "silently (pass --force to replace them)"
        )
    for name, data in files.items():
        (out / name).write_bytes(data)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "raw" / "illustrative"
    )
    parser.add_argument("--force", action="store_true", help="replace existing files that differ")
    args = parser.parse_args(argv)
    files = build(args.seed)
    changed = write(files, args.out, force=args.force)
    for name, data in files.items():
        print(f"{args.out / name}  {len(data):>8,} bytes  sha256 {hashlib.sha256(data).hexdigest()[:16]}")
    if changed:
        print(f"replaced: {changed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

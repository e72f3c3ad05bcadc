"""needskit.workspace: `needskit init` for any set of English areas, from the shipped national data.

The slow test builds a real partnership that is not Gloucestershire, Cheshire West and Chester
(E06000050, one unitary: the second county of the partnership papers), from the national backbone
alone: init, pool, indicators, publish and the needs-profile report.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
import yaml

from needskit.config import load_catalog, load_partnership
from needskit.errors import CatalogError
from needskit.workspace import check_area_codes, init_workspace
from partner_files import RAW

CHESHIRE_WEST = "E06000050"
AVON = ["E06000022", "E06000023", "E06000024", "E06000025"]  # the four unitaries of Avon


def _lookup_lsoas(column: str, code: str) -> set[str]:
    table = pd.read_csv(RAW / "lookups" / "lookup_lsoa21_ward24_ltla24.csv.gz", dtype=str)
    return set(table.loc[table[column] == code, "lsoa21_code"])


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (["W06000015"], r"--area W06000015: is a Welsh code: needskit covers England"),
        (["S12000036"], r"is a Scottish code: needskit covers England"),
        (["N09000003"], r"is a Northern Irish code"),
        (
            ["E07000004"],
            r"--area E07000004: is a retired code \(Aylesbury Vale\): its area is now E06000060 "
            r"Buckinghamshire.*hint: pass --area E06000060",
        ),
        (
            ["E10000006"],
            r"Cumbria\): its area is now E06000063 Cumberland and E06000064 Westmorland and Furness"
            r".*--area E06000063 --area E06000064",
        ),
        (["E10000021"], r"Northamptonshire\): its area is now E06000061 North Northamptonshire"),
        (["E01014520"], r"is an LSOA code: a partnership's area is a district or larger"),
        (["E99999999"], r"is not an area code the 2021 lookups know"),
        (["bristol"], r"--area bristol: is not an ONS area code.*got 'bristol'"),
        ([], r"needs at least one area"),
        (["E10000013", "E07000078"], r"--area E07000078: lies inside E10000013 Gloucestershire"),
        (["E06000023", "E06000023"], r"is given twice"),
    ],
)
def test_bad_area_codes_are_one_clear_message(codes, message):
    with pytest.raises(CatalogError, match=message):
        check_area_codes(codes)


def test_area_codes_of_every_kind_are_known():
    found = {a.code: (a.level, a.name) for a in check_area_codes(["E10000013", "E06000050", "E09000001"])}
    assert found["E10000013"] == ("county", "Gloucestershire")
    assert found["E06000050"][1] == "Cheshire West and Chester"
    icb, pfa = check_area_codes(["E54000043"]), check_area_codes(["E23000036"])
    assert icb[0].level == "icb" and pfa[0].level == "pfa"
    avon = set().union(*(_lookup_lsoas("ltla24_code", code) for code in AVON))
    somerset = _lookup_lsoas("ltla24_code", "E06000066")
    assert pfa[0].lsoas == avon | somerset  # Avon and Somerset: the four unitaries and Somerset
    assert check_area_codes(["e06000023"])[0].code == "E06000023"  # lower case is forgiven


def test_init_writes_a_workspace_that_loads(tmp_path):
    created = init_workspace(tmp_path / "avon", areas=AVON, today=dt.date(2026, 12, 2))
    root = created.root
    assert created.lsoas == sum(len(_lookup_lsoas("ltla24_code", code)) for code in AVON)
    assert created.chapter_level == "county" and created.chapters == 4
    assert created.name == (
        "Bath and North East Somerset, City of Bristol, North Somerset and South Gloucestershire partnership"
    )
    partnership = load_partnership(root / "conf" / "partnership.yml")
    assert partnership.areas == tuple(AVON) and partnership.comparators == ("parent", "region", "england")
    catalog = load_catalog(root / "conf" / "catalog.yml")
    police = catalog["police_street_crime"]
    assert police.optional and police.files() == []  # the drop folder holds only its README
    assert police.partner == "Avon and Somerset police force (police.uk)"
    assert police.last_updated == "2026-12-02"
    assert all(spec.files() for spec in catalog if not spec.optional)  # shipped national files, found
    assert catalog.reference_entry("national_boundaries").files()
    for folder in ("police", "postcodes", "partner"):
        assert (root / "data" / "raw" / folder / "README.md").is_file()
    assert sorted(p.name for p in (root / "notebooks").glob("*.ipynb"))[:2] == [
        "00-start-here.ipynb",
        "01-needs-profile.ipynb",
    ]
    text = "\n".join(p.read_text(encoding="utf-8") for p in (root / "conf").glob("*.yml"))
    assert "{{" not in text and "Cheltenham" not in text
    assert not re.search(r"(?<!South )Gloucester", text)  # South Gloucestershire is one of Avon's
    assert yaml.safe_load((root / "conf" / "places.yml").read_text(encoding="utf-8"))["places"] == {}
    summary = "\n".join(created.summary())
    assert "chapters: 4 counties and unitaries" in summary and "needskit run" in summary
    with pytest.raises(CatalogError, match="already holds a needskit workspace"):
        init_workspace(root, areas=["E06000023"])


def test_init_from_the_command_line(tmp_path, capsys):
    from needskit.cli import main

    assert (
        main(["init", str(tmp_path / "ws"), "--area", "E06000050", "--name", "West Cheshire Together"]) == 0
    )
    out = capsys.readouterr().out
    assert "for West Cheshire Together" in out and "chapters: 45 wards" in out
    assert main(["init", str(tmp_path / "wales"), "--area", "W06000015"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needskit covers England" in err and "Traceback" not in err
    assert not (tmp_path / "wales").exists()


# ------------------------------------------------------------------ a real partnership, end to end


@pytest.fixture(scope="session")
def cheshire_west(tmp_path_factory):
    """Cheshire West and Chester, initialised and run (pool, indicators, publish) once."""
    from needskit.pipeline import open_workspace, run

    created = init_workspace(tmp_path_factory.mktemp("cheshire") / "ws", areas=[CHESHIRE_WEST])
    ws = open_workspace(created.root)
    result = run(ws, progress=False)
    return created, ws, result


@pytest.mark.slow
def test_a_partnership_from_national_data_alone(cheshire_west):
    created, ws, result = cheshire_west
    lsoas = _lookup_lsoas("ltla24_code", CHESHIRE_WEST)
    assert len(lsoas) == 222 and set(ws.area.lsoas()) == lsoas  # the area's LSOAs are the lookup's
    assert ws.area.area_name == "Cheshire West and Chester" and ws.area.regions == ("E12000002",)
    ledger = result.ledger
    assert ledger["balanced"].all()
    assert (ledger["read"] == ledger["assigned"] + ledger["unlocated"] + ledger["rejected"]).all()
    assert result.missing == {
        "police_street_crime": "no Street-level crime and anti-social behaviour (police.uk) data given: "
        "drop the files into data/raw/police/ and run `needskit run`"
    }
    iod = ledger[ledger["dataset"] == "iod2025_scores"].iloc[0]
    assert iod["assigned"] == 222 and iod["read"] == 33_755
    gp = ledger[ledger["dataset"] == "gp_practices"]
    assert gp["assigned"].sum() == 0 and gp["reasons"].str.contains("no postcode directory given").all()
    store = ws.store
    unavailable = store.unavailable_indicators()
    assert {"crime_rate_all", "gp_practices_per_100k"} <= set(unavailable)
    assert "data/raw/postcodes/" in unavailable["gp_practices_per_100k"]["reason"]
    results = store.read_indicators(comparator="region")
    county = results[(results["area_code"] == CHESHIRE_WEST) & (results["level"] == "county")]
    disability = county[county["indicator"] == "disability"].iloc[0]
    assert disability["comparator_code"] == "E12000002"  # North West, from the national tables
    assert 0.15 < disability["comparator_value"] / 100 < 0.25
    england = store.read_indicators(comparator="england")
    assert (england.loc[england["indicator"] == "disability", "comparator_code"] == "E92000001").all()
    sources = pd.DataFrame(store.manifest()["sources"])
    assert "LSOA 2021 boundaries: 222 super-generalised outlines (ONS, 200 m)" in set(sources["title"])


@pytest.mark.slow
def test_the_needs_profile_of_a_partnership_from_national_data_alone(cheshire_west, tmp_path):
    from needskit.reports import run_report

    created, ws, _ = cheshire_west
    result = run_report("needs-profile", area="", project=created.root, out=tmp_path, formats="html")
    assert result.area == CHESHIRE_WEST and result.area_name == "Cheshire West and Chester"
    page = result.files["html"].read_text(encoding="utf-8")
    text = re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style).*?</\1>", "", page, flags=re.S))
    )
    assert "Cheshire West and Chester" in text and "Compared with England" in text
    assert re.search(r"had 3\d\d,\d{3} residents \(2021\)", text)
    assert "Recorded crime (excluding anti-social behaviour) per 1,000 residents: not available, no " in text
    assert "super-generalised outlines" in text
    for word in ("Gloucestershire", "Gloucester", "Cheltenham", "Stroud", "Tewkesbury", "GL50"):
        assert word not in text, word


def test_police_uk_files_of_any_force_pool_in_a_new_workspace(tmp_path):
    """Cheshire Constabulary files dropped into a new workspace's police folder as downloaded (a
    2011-coded month, a 2021-coded month as .csv.gz and a month mixing both with a "No Location" row,
    anti-social behaviour rows without a crime id and a crime in Bristol), pooled with the
    catalogue entry `needskit init` wrote: one 2021 series, every row counted, each by its path."""
    import gzip

    import geopandas as gpd

    from needskit.partner_data.pooling import pool_catalog
    from needskit.pipeline import open_workspace
    from partner_files import POLICE_HEADER

    created = init_workspace(tmp_path / "ws", areas=[CHESHIRE_WEST])
    lsoas = gpd.read_file(RAW / "national" / "england_areas_2021.gpkg", layer="lsoa_2021").set_index(
        "area_code"
    )
    changes = pd.read_csv(RAW / "lookups" / "lookup_lsoa11_lsoa21_ltla22.csv.gz", dtype=str)
    changes = changes[changes["ltla22_code"] == CHESHIRE_WEST]
    same = sorted(changes.loc[changes["change_code"] == "U", "lsoa21_code"])[0]  # 2011 code = 2021 code
    split = changes[changes["change_code"] == "S"].sort_values(["lsoa11_code", "lsoa21_code"])
    parent, child, sibling = split["lsoa11_code"].iloc[0], *split["lsoa21_code"].iloc[:2]
    assert (split["lsoa11_code"].iloc[1] == parent) and parent not in set(lsoas.index)

    def lonlat(code: str) -> tuple[float, float]:
        point = gpd.GeoSeries([lsoas.loc[code, "geometry"].representative_point()], crs=lsoas.crs)
        where = point.to_crs("EPSG:4326").iloc[0]
        return round(where.x, 6), round(where.y, 6)

    force = "Cheshire Constabulary"

    def text(month: str, rows: list[tuple]) -> str:
        lines = [POLICE_HEADER]
        for crime_id, point, code, crime_type in rows:
            lon, lat = point if point else ("", "")
            where = "On or near Parking Area" if point else "No Location"
            name = f"{code} name" if code else ""
            lines.append(
                f"{crime_id},{month},{force},{force},{lon},{lat},{where},{code},{name},{crime_type},,"
            )
        return "\n".join(lines) + "\n"

    police = created.root / "data" / "raw" / "police"
    (police / "2022-01-cheshire-street.csv").write_text(  # 2011 codes
        text(
            "2022-01",
            [("c1", lonlat(same), same, "Burglary"), ("", lonlat(sibling), parent, "Anti-social behaviour")],
        )
    )
    (police / "2024-01-cheshire-street.csv.gz").write_bytes(  # 2021 codes, compressed
        gzip.compress(text("2024-01", [("c2", lonlat(child), child, "Shoplifting")]).encode(), mtime=0)
    )
    bristol = lonlat(sorted(_lookup_lsoas("ltla24_code", "E06000023"))[0])
    (police / "2023-06-cheshire-street.csv").write_text(  # both, and the quirks
        text(
            "2023-06",
            [
                ("c3", lonlat(child), parent, "Burglary"),
                ("c4", None, "", "Burglary"),
                ("c5", bristol, "", "Vehicle crime"),
                ("", lonlat(child), same, "Anti-social behaviour"),
            ],
        )
    )
    ws = open_workspace(created.root)
    result = pool_catalog(ws.catalog, area=ws.area, geography=ws.geography, datasets=["police_street_crime"])
    assert not result.errors
    ledger = result.ledger.set_index("period")
    assert ledger["read"].to_dict() == {"2022-01": 2, "2023-06": 4, "2024-01": 1}
    assert ledger["assigned"].to_dict() == {"2022-01": 2, "2023-06": 2, "2024-01": 1}
    assert (ledger.loc["2023-06", "unlocated"], ledger.loc["2023-06", "rejected_outside"]) == (1, 1)
    assert ledger["balanced"].all()
    assert ledger[["assigned_by_code", "assigned_split_by_point"]].sum().tolist() == [3, 2]
    crimes = result.profile[
        (result.profile["dataset"] == "police_street_crime") & (result.profile["level"] == "lsoa")
    ]
    assert set(crimes["vintage"]) == {2021} and crimes["value"].sum() == 5
    by_area = crimes.groupby("area_code")["value"].sum()
    # the split parent's rows go by their point among its children; a usable code wins over the point
    assert (by_area[same], by_area[child], by_area[sibling]) == (2, 2, 1)


# ------------------------------------------------------ the commissioning reports, national data only


def _page_text(path) -> str:
    """A report page's words: no markup, scripts or styles; runs of white space made one."""
    page = path.read_text(encoding="utf-8")
    return re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style).*?</\1>", "", page, flags=re.S))
    )


_NO_POLICE = (
    "no Street-level crime and anti-social behaviour (police.uk) data given: "
    "drop the files into data/raw/police/"
)
_CRIME = "Recorded crime (excluding anti-social behaviour) per 1,000 residents"
_NOT_LOCATED = (
    "GP practices (NHS ODS epraccur) and Dispensaries and community pharmacies (NHS ODS edispensary) "
    "could not be located"
)
# what each report says where a part cannot be made from the national data alone
_SAYS_WHY = {
    "resource-map": [
        f"{_NOT_LOCATED}, so the register has none of them: no postcode directory given (drop a "
        "postcode file (ONS Postcode Directory, NSPL or OS Code-Point Open; CSV, .gz or .zip) into "
        "data/raw/postcodes/",
        "The partnership has no register of its own services yet: only the national NHS registers "
        "(GP practices, pharmacies) are used. To add partners' services, spend or catchments, drop their "
        "files into data/raw/partner/ and list them in conf/catalog.yml",
        f"No service point of the register lies in this area, so nothing to summarise. {_NOT_LOCATED}: "
        "no postcode directory given.",
        "The register has no gp practice, pharmacy, library: not measured.",
        "GP accessibility in Cheshire West and Chester is not measured. GP practices (NHS ODS epraccur) "
        "could not be located: no postcode directory given.",
        f"Safer and stronger communities is not compared: {_CRIME}: not available, {_NO_POLICE}",
        "No service of the register has a catchment on record, so none can be compared.",
        "The register has no spend by area for this area, so nothing is compared.",
    ],
    "commissioning-priorities": [
        "2 of the 2 outcomes in 'Starter outcomes framework (replace with the partnership's own)' are "
        "made up in full",
        "No delivery is recorded in conf/delivery.yml yet: list the partners' activities there",
        "No delivery to set out by place and outcome: nothing is recorded in conf/delivery.yml yet.",
        "No delivery is recorded in conf/delivery.yml yet, so none can be compared with need.",
        f"Indicators that could not be made are not used to flag themes. Not available ({_NO_POLICE}",
        f"Not shared by recorded crimes: {_CRIME}: not available, {_NO_POLICE}",
        "Each scenario sums exactly to the pot",
    ],
    "outcomes-monitoring": [
        f"No outcome indicator has a monthly series in the data. Not available ({_NO_POLICE}",
        f"{_CRIME}; Anti-social behaviour incidents per 1,000 residents.",
        "No chart to draw: no outcome indicator has a monthly series in the data",
        "No indicator is charted, so no target is read on a chart.",
        f"not available: {_NO_POLICE}",
        "no delivery recorded in conf/delivery.yml yet",
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("report", sorted(_SAYS_WHY))
def test_the_commissioning_reports_of_a_partnership_from_national_data_alone(cheshire_west, tmp_path, report):
    """No police data, no postcode directory, no register of its own and nothing in
    conf/delivery.yml: each report runs to HTML and PDF and says why for every part it cannot make."""
    import nbformat

    from needskit.reports import run_report

    created, _, _ = cheshire_west
    result = run_report(report, area="", project=created.root, out=tmp_path, formats=("html", "pdf"))
    assert result.area == CHESHIRE_WEST and result.files["pdf"].stat().st_size > 10_000
    executed = nbformat.read(result.files["ipynb"], as_version=4)
    assert not [o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    text = _page_text(result.files["html"])
    for sentence in _SAYS_WHY[report]:
        assert sentence in text, sentence
    assert "Cheshire West and Chester" in text and "Traceback" not in text
    for word in ("Gloucestershire", "Gloucester", "Cheltenham", "Stroud", "Tewkesbury", "GL50"):
        assert word not in text, word


@pytest.mark.slow
def test_the_store_of_a_partnership_says_why_its_register_is_empty(cheshire_west):
    from needskit.reports import load_context, scope

    created, ws, _ = cheshire_west
    for store in (ws.store, ws.published("public")):
        sources = store.register_sources()
        assert set(sources) == {"gp_practices", "pharmacies"}
        assert all(
            s["located"] == 0 and s["reason"] == "no postcode directory given" for s in sources.values()
        )
        assert all("data/raw/postcodes/" in s["hint"] for s in sources.values())
    ctx = load_context(area="", project=created.root)
    assert ctx.is_whole_area and scope.default_place_level(ctx) == "ward"  # one unitary: its wards
    unitary = scope.residents(ctx, level="district")  # a unitary's rows are its county's
    wards = scope.residents(ctx, level="ward").sum()  # rounded cell by cell, so close, not equal
    assert list(unitary.index) == [CHESHIRE_WEST] and abs(unitary.iloc[0] - wards) / wards < 0.001

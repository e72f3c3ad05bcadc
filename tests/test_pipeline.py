"""needskit.pipeline: one partnership that is not the built-in example, from its conf/ to its stores.

The squares partnership (tests/squares.py) runs open_workspace -> run (pool -> indicators ->
publish) in a temporary folder, so anything that assumes Gloucestershire fails here.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from needskit.config import Project, load_indicators
from needskit.config.indicators import STATISTICS
from needskit.errors import CatalogError, StoreError
from needskit.partner_data.store import Store
from needskit.pipeline import Workspace, compute, open_workspace, pool, publish, run
from partner_files import ROOT
from squares import COUNTY, LSOAS, use_postcode_tables, write_squares_project

CHECKOUT_STORE = ROOT / "data" / "processed"


def _listing(folder) -> dict[str, int]:
    """Files under ``folder`` and their modification times (empty when there is no folder)."""
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


CHECKOUT_PUBLISHED = ROOT / "data" / "published"
CHECKOUT_BEFORE = (
    _listing(CHECKOUT_STORE),
    _listing(CHECKOUT_PUBLISHED),
)  # at collection, before any test ran


@pytest.fixture(scope="module")
def squares_run(tmp_path_factory):
    root = write_squares_project(tmp_path_factory.mktemp("pipeline"))
    ws = open_workspace(root)
    lines: list[str] = []
    result = run(ws, progress=False, echo=lines.append)
    return ws, result, lines


def test_open_workspace_reads_the_project(squares_run):
    ws, _result, _lines = squares_run
    assert isinstance(ws, Workspace) and isinstance(ws.project, Project)
    assert ws.partnership.name == "Squares Community Partnership" and ws.partnership.areas == (COUNTY,)
    assert [spec.id for spec in ws.catalog][:2] == ["crimes", "residents"]
    assert ws.area.lsoas() == set(LSOAS) and ws.area.area_name == "Squareshire"
    assert (
        ws.area.chapter_level == "ward" and len(ws.area.chapters) == 2
    )  # the next level down with two units
    assert ws.store.path == ws.project.root / "data" / "processed"
    assert ws.published("public").path == ws.project.root / "data" / "published" / "public"


def test_the_ledger_balances(squares_run):
    ws, result, lines = squares_run
    ledger = ws.store.read_ledger()
    assert (ledger["read"] == ledger["assigned"] + ledger["unlocated"] + ledger["rejected"]).all()
    assert ledger["balanced"].all() and not result.errors
    crimes = ledger[ledger["dataset"] == "crimes"]
    assert crimes["unlocated"].sum() == 3 and crimes["rejected_outside"].sum() == 3  # one of each a month
    assert (
        crimes["assigned"].sum()
        == result.profile.query("dataset == 'crimes' and level == 'county'")["value"].sum()
    )
    measures = pd.read_csv(ws.store.path / "ledger_measures.csv")
    assert measures["conserved"].all()
    assert any(line.startswith("ledger balances for every dataset and period") for line in lines)
    assert lines[-1].startswith(f"store: {ws.store.path}")


def test_every_statistic_of_its_indicators_has_values(squares_run):
    ws, _result, _lines = squares_run
    specs = load_indicators(ws.project.indicators_file, catalog=ws.catalog)
    assert {s.statistic for s in specs} == set(STATISTICS)
    indicators = ws.store.read_indicators()
    for spec in specs:
        rows = indicators[indicators["indicator"] == spec.id]
        # a published value (an index score) is carried for the neighbourhoods only
        area = (
            rows[rows["level"] == "lsoa"] if spec.statistic == "value" else rows[rows["area_code"] == COUNTY]
        )
        assert len(area) and area["value"].notna().any(), (spec.id, spec.statistic)
        assert (area["statistic"] == spec.statistic).all()
    by_id = indicators[indicators["area_code"] == COUNTY].drop_duplicates("indicator").set_index("indicator")
    crime_periods = set(
        indicators.loc[
            (indicators["indicator"] == "crime_rate") & (indicators["area_code"] == COUNTY), "period"
        ]
    )
    # each month (for SPC) and the analysis period (a quarter for the squares) summed from them
    assert crime_periods == {"2024-01", "2024-02", "2024-03", "2024-Q1"}
    assert 0 < by_id.loc["older_people", "value"] < 100
    assert by_id.loc["mortality_dsr", "method"] == "Dobson"
    assert 40 < by_id.loc["life_expectancy", "value"] < 100
    assert by_id.loc["deprivation_mean", "value"] == pytest.approx(np.mean([45.0, 12.0, 30.0, 5.0]))
    smr = indicators[(indicators["indicator"] == "mortality_smr") & (indicators["area_code"] == COUNTY)]
    assert smr["value"].notna().all() and smr["value"].between(10, 1000).all()  # against England (E92000001)
    lsoa = indicators[(indicators["indicator"] == "imd_score") & (indicators["level"] == "lsoa")]
    assert lsoa.drop_duplicates("area_code").set_index("area_code")["value"].to_dict() == {
        "E01999901": 45.0,
        "E01999902": 12.0,
        "E01999903": 30.0,
        "E01999904": 5.0,
    }
    assert set(indicators["comparator"]) == {"parent", "england"}
    assert set(indicators["level"]) >= {"lsoa", "msoa", "ward", "district", "county", "squares places"}
    assert ws.store.stage("indicators")["indicators"] == [s.id for s in specs]


def test_the_published_store_exists_with_the_rule_in_its_manifest(squares_run):
    ws, _result, lines = squares_run
    public = ws.published("public")
    assert public.exists() and public.path != ws.store.path
    manifest = public.manifest()
    assert manifest["audience"] == "public" and manifest["disclosure_rule"] == "nhs_digital"
    assert manifest["stages"]["publish"]["rule"] == "nhs_digital" and manifest["disclosure_rule_text"]
    assert manifest["partnership"]["name"] == "Squares Community Partnership"
    public.check_fresh(internal=ws.store)
    ws.store.check_fresh()
    assert f"published (public, nhs_digital): {public.path}" in lines
    assert not (ws.project.root / "data" / "published" / "partner").exists()  # only the audiences asked for


def test_the_register_holds_its_services(squares_run):
    ws, _result, _lines = squares_run
    services = ws.store.read_register("services")
    assert services["service_id"].tolist() == ["S1", "S2", "S3"]
    assert services["name"].tolist() == [
        "Hub <b>one</b>",
        "Library",
        "Youth club",
    ]  # as written; escaped when shown
    assert set(services["partner"]) == {"Squares Council"} and set(services["partner_sector"]) == {"council"}
    assert set(services["area_code"]) <= set(LSOAS) and services[["easting", "northing"]].notna().all().all()
    assert services["illustrative"].all()
    assert ws.published("public").read_register("services")["service_id"].tolist() == ["S1", "S2", "S3"]


def test_nothing_in_the_stores_mentions_gloucestershire(squares_run):
    ws, _result, _lines = squares_run
    checked = 0
    for store in (ws.store, ws.published("public")):
        for path in store.path.rglob("*"):
            if not path.is_file() or path.name == ".lock":
                continue
            if path.suffix == ".parquet":
                frame = pd.read_parquet(path)  # geometries (WKB) are bytes
                text = frame.map(lambda v: v.decode("latin-1") if isinstance(v, bytes) else str(v)).to_csv()
            elif path.suffix == ".gpkg":
                text = path.read_bytes().decode("latin-1")
            elif path.suffix == ".gz":
                text = pd.read_csv(path).to_csv()
            else:
                text = path.read_text(encoding="utf-8")
            for word in ("Gloucestershire", "Gloucester", "Cheltenham", "E10000013"):
                assert word not in text, (word, path)
            checked += 1
    assert checked > 20


def test_each_step_alone_and_the_store_it_needs(tmp_path):
    root = write_squares_project(tmp_path / "squares")
    ws = open_workspace(root, store=tmp_path / "elsewhere")
    assert ws.store.path == tmp_path / "elsewhere"
    assert ws.published("public").path == tmp_path / "published" / "public"  # beside the moved store
    with pytest.raises(StoreError, match="no store here"):
        compute(ws)
    result = pool(ws, progress=False)
    assert set(result.profile["dataset"]) == {spec.id for spec in ws.catalog}
    with pytest.raises(StoreError, match="has no indicators stage"):
        publish(ws)
    written = compute(ws)
    assert set(written) == {"lsoa", "ward", "district", "county"}
    stores = publish(ws, audiences=["partner"])
    assert list(stores) == ["partner"] and stores["partner"].audience == "partner"
    assert not (root / "data" / "processed").exists()  # the project's own store was never written


def test_postcode_located_rows_are_unlocated_until_a_postcode_file_is_dropped(tmp_path):
    """A new partnership has not dropped a postcode file yet: its services stay in the ledger as
    unlocated, the store is written, and a file dropped later makes the store stale."""
    root = write_squares_project(tmp_path / "squares")
    folder = use_postcode_tables(root, keep_dataset_file=False)
    ws = open_workspace(root)
    assert not ws.geography.has_postcodes()
    result = pool(ws, progress=False)
    ledger = result.ledger.set_index("dataset").loc["services"]
    assert (ledger["read"], ledger["assigned"], ledger["unlocated"], ledger["rejected"]) == (3, 0, 3, 0)
    assert ledger["balanced"] and ledger["reasons"] == "no postcode directory given: 3"
    assert result.ledger["balanced"].all() and not result.errors
    (problem,) = [p for p in result.problems if p.what == "no postcode directory given"]
    assert problem.severity == "warning" and problem.count == 3 and "into data/raw/postcodes/" in problem.hint
    rejected = pd.read_csv(ws.store.path / "rejected" / "services.csv.gz")
    assert len(rejected) == 3 and set(rejected["reason"]) == {"no postcode directory given"}
    assert result.profile.query("dataset == 'services'")["value"].sum() == 0
    compute(ws)
    ws.store.check_fresh()
    # the partnership drops Code-Point Open: the store is older than its inputs until pooled again
    with zipfile.ZipFile(folder / "codepo_gb.zip", "w") as archive:
        archive.writestr("Data/CSV/sq.csv", _code_point(root))
    with pytest.raises(StoreError, match="data/raw/postcodes/codepo_gb.zip is new since `needskit pool` ran"):
        ws.store.check_fresh()
    ws = open_workspace(root)
    result = pool(ws, progress=False)
    ledger = result.ledger.set_index("dataset").loc["services"]
    assert (ledger["assigned_by_postcode"], ledger["unlocated"]) == (3, 0)
    assert "data/raw/postcodes/codepo_gb.zip" in {r["file"] for r in ws.store.stage("pool")["inputs"]}
    # a table without doterm does not say which postcodes are terminated: all count as live
    (folder / "codepo_gb.zip").unlink()
    (folder / "plain.csv").write_bytes((root / "data/raw/lookups/squares_postcodes.csv").read_bytes())
    pool(open_workspace(root), progress=False)
    centres = pd.read_parquet(ws.store.path / "geography" / "centres.parquet")
    assert centres["n_postcodes"].sum() == 20  # the squares' 20 postcodes (SQ9 9ZZ is outside)


def test_a_terminated_postcode_still_locates_and_says_so(tmp_path):
    root = write_squares_project(tmp_path / "squares")
    folder = use_postcode_tables(root)
    table = pd.read_csv(folder / "postcodes.csv")
    table["doterm"] = np.where(table["pcds"] == "SQ1 1AA", "202405", "")  # the hub's postcode
    table.to_csv(folder / "postcodes.csv", index=False)
    ws = open_workspace(root)
    result = pool(ws, progress=False)
    ledger = result.ledger.set_index("dataset").loc["services"]
    assert (ledger["assigned_by_postcode"], ledger["unlocated"]) == (3, 0)
    (note,) = [p for p in result.problems if p.what.startswith("located by a terminated postcode")]
    assert note.severity == "info" and note.count == 1 and note.got == "'SQ1 1AA'"
    centres = pd.read_parquet(ws.store.path / "geography" / "centres.parquet")
    assert centres["n_postcodes"].sum() == 19  # 20 postcodes in the squares, less the terminated one


def _code_point(root) -> str:
    """The squares' postcodes as Code-Point Open rows (no header, 10 columns, no space)."""
    table = pd.read_csv(root / "data/raw/lookups/squares_postcodes.csv")
    return "".join(
        f'{pc.replace(" ", "")},10,{e},{n},"E92000001","","","E10999901","E07999901",""\n'
        for pc, e, n in table[["pcds", "oseast1m", "osnrth1m"]].itertuples(index=False)
    )


def test_open_workspace_finds_the_project_from_inside_it(tmp_path, monkeypatch):
    root = write_squares_project(tmp_path / "squares")
    (root / "notebooks").mkdir()
    monkeypatch.delenv("NEEDSKIT_PROJECT", raising=False)
    monkeypatch.chdir(root / "notebooks")
    assert open_workspace().project.root == root.resolve()
    assert open_workspace(root / "notebooks").project.root == root.resolve()
    assert open_workspace(Project(root)).partnership.name == "Squares Community Partnership"
    monkeypatch.setenv("NEEDSKIT_PROJECT", str(root))
    monkeypatch.chdir(tmp_path)
    assert open_workspace().project.root == root.resolve()
    (root / "conf" / "catalog.yml").write_text("datasets: [not, a, mapping]\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="'datasets' has the wrong type") as info:
        open_workspace(root)
    assert "catalog.yml" in str(info.value)


def test_the_pipeline_never_writes_into_the_checkouts_store(squares_run, shipped_store):
    """Tests pool into temporary folders; the checkout's data/processed is never written."""
    assert Store(CHECKOUT_STORE).path != shipped_store.path
    assert not shipped_store.path.is_relative_to(ROOT)
    ws, _result, _lines = squares_run
    assert not ws.store.path.is_relative_to(ROOT)
    assert (_listing(CHECKOUT_STORE), _listing(CHECKOUT_PUBLISHED)) == CHECKOUT_BEFORE


@pytest.mark.slow
def test_a_needs_profile_report_for_the_squares_partnership(squares_run, tmp_path):
    """pool -> indicators -> publish -> one public report, for a partnership that is not the example."""
    from needskit.reports import run_report

    ws, _result, _lines = squares_run
    result = run_report(
        "needs-profile",
        area=COUNTY,
        publish="public",
        formats=("html",),
        out=tmp_path,
        project=ws.project,
        parameters={
            "headline": "['crime_rate']",
            "mapped": "['imd_score', 'crime_rate']",
            "focus": "crime_rate",
        },
    )
    html = result.files["html"].read_text(encoding="utf-8")
    assert "Squareshire: needs profile" in html and "Squares Community Partnership" in html
    assert "Crimes per 1,000 residents" in html and "Traceback" not in html
    for word in ("Gloucestershire", "Gloucester", "Cheltenham", "E10000013"):
        assert word not in html, word
    assert result.manifest["disclosure_rule"] == "nhs_digital"
    assert all("published/public" in item["file"] for item in result.manifest["inputs"])

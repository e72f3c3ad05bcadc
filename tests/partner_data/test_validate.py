"""needskit.partner_data.validate and .problems: one clear line per problem, before anything is pooled."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from needskit.cli import main
from needskit.config import load_catalog
from needskit.partner_data.problems import Problem, problems_frame
from partner_files import CHELTENHAM_POINT, ROOT, entry, good_rows, points_csv, validate, write_catalog
from squares import write_squares_project


def _problems(tmp_path, spec_entry, rows=None, *, content: bytes | None = None, **kwargs):
    if content is not None:
        (tmp_path / "data.csv").write_bytes(content)
    elif rows is not None:
        points_csv(tmp_path, rows)
    catalog = load_catalog(write_catalog(tmp_path, {"test": spec_entry}))
    return validate(catalog, **kwargs)


def test_clean_file_has_no_problems(tmp_path):
    assert _problems(tmp_path, entry(), good_rows()) == []


@pytest.mark.parametrize(
    ("mutate", "what", "severity"),
    [
        (
            lambda r: r.__setitem__(3, ("c3", "2024-01", "east", 51.9, "Burglary")),
            "coordinate is not a number",
            "warning",
        ),
        (
            lambda r: r.__setitem__(4, ("c4", "2024-07", -2.08, 51.91, "Burglary")),
            "period outside the declared range",
            "warning",
        ),
        (
            lambda r: r.__setitem__(5, ("c5", "Jan 24", -2.08, 51.91, "Burglary")),
            "period is not a date",
            "warning",
        ),
        (
            lambda r: r.__setitem__(6, ("c1", "2024-01", -2.08, 51.91, "Burglary")),
            "duplicated record id",
            "warning",
        ),
        (
            lambda r: r.__setitem__(7, ("c7", "2024-01", 2.35, 48.85, "Burglary")),
            "coordinates outside Great Britain",
            "warning",
        ),
        (lambda r: r.__setitem__(8, ("c8", "2024-01", None, None, "Burglary")), "no coordinates", "warning"),
    ],
)
def test_row_problems_are_reported_with_line_numbers(tmp_path, mutate, what, severity):
    rows = good_rows()
    mutate(rows)
    problems = [p for p in _problems(tmp_path, entry(max_invalid=0.5), rows) if p.severity != "info"]
    assert [p.what for p in problems] == [what]
    problem = problems[0]
    assert problem.severity == severity and problem.count == 1 and len(problem.rows) == 1
    line = problem.line()
    assert line.startswith("WARNING test: data.csv: line ") and what in line


def test_problem_lines_show_five_rows_and_the_count(tmp_path):
    lon, lat = CHELTENHAM_POINT
    rows = good_rows(20) + [(f"n{i}", "2024-01", None, None, "Burglary") for i in range(7)]
    problems = _problems(tmp_path, entry(max_invalid=0.5), rows)
    assert len(problems) == 1
    problem = problems[0]
    assert problem.rows == (22, 23, 24, 25, 26) and problem.count == 7
    assert (
        problem.line()
        == "WARNING test: data.csv: lines 22, 23, 24, 25, 26 (7 rows): column 'lon/lat': no coordinates"
    )
    frame = problems_frame(problems)
    assert frame.loc[0, "rows"] == "22 23 24 25 26" and list(frame.columns)[:3] == [
        "dataset",
        "severity",
        "what",
    ]
    assert problems_frame([]).empty


def test_too_many_invalid_rows_is_an_error(tmp_path):
    rows = [(f"x{i}", "2024-09", -2.08, 51.91, "Burglary") for i in range(5)] + good_rows()
    problems = _problems(tmp_path, entry(), rows)
    error = next(p for p in problems if p.severity == "error")
    assert error.what == "too many invalid rows" and error.count == 5
    assert error.expected == "at most 1% of 25 rows" and error.got == "20.0%"
    assert "raise max_invalid" in error.line()


def test_swapped_coordinates_are_an_error_for_the_dataset(tmp_path):
    lon, lat = CHELTENHAM_POINT
    rows = [(f"c{i}", "2024-01", lat, lon, "Burglary") for i in range(10)]
    problems = _problems(tmp_path, entry(), rows)
    assert len(problems) == 1 and problems[0].severity == "error" and "swapped" in problems[0].what
    assert problems[0].line().startswith("ERROR test: ")


def test_structural_file_problems(tmp_path):
    cases = [
        (b"", "file is empty"),
        ("id,month,lon,lat,type\nc1,2024-01,-2.08,51.91,Caf\xe9\n".encode("cp1252"), "is not utf-8 text"),
        (b"id,month,longitude,lat,type\nc1,2024-01,-2.08,51.91,Burglary\n", "missing column"),
        (b"id,month,lon,lat,type\n", "no data rows"),
    ]
    for content, what in cases:
        problems = _problems(tmp_path, entry(), content=content)
        assert len(problems) == 1 and problems[0].severity == "error", content
        assert what in problems[0].what.lower(), (what, problems[0].what)
    renamed = _problems(tmp_path, entry(), content=b"ID,Month,lon,lat,type\nc1,2024-01,-2.08,51.91,B\n")
    assert "renamed?" in (renamed[0].hint or "")
    ods = _problems(tmp_path, entry(format="ods"), content=b"A,B,C\n1,2,3\n")
    assert ods[0].what == "is not an ODS standard extract"
    (tmp_path / "data.csv.gz").write_bytes(b"not gzip at all")
    gz = validate(load_catalog(write_catalog(tmp_path, {"test": entry(path="data.csv.gz")})))
    assert "not gzip" in gz[0].what
    missing = validate(load_catalog(write_catalog(tmp_path, {"test": entry(path="nothing*.csv")})))
    assert "no file matches" in missing[0].what


def test_area_code_problems_negative_counts_and_numbers(tmp_path):
    frame = pd.DataFrame(
        {
            "lsoa": ["E01022163", "E01022164", "E01022165", "E01034777", "E01000001", "NOTACODE"],
            "n": ["5", "-2", "seven", "4", "3", "1"],
        }
    )
    frame.to_csv(tmp_path / "data.csv", index=False)
    spec_entry = entry(
        geography={"kind": "area_code", "column": "lsoa", "level": "lsoa", "vintage": 2011},
        period="2020",
        record_id=None,
        measures=[{"name": "n", "column": "n"}],
        max_invalid=0.9,
    )
    problems = {p.what: p for p in _problems(tmp_path, spec_entry)}
    assert problems["negative count"].count == 1
    assert problems["value is not a number"].got == "'seven'"
    code = problems["not a lsoa code of the 2011 geography"]
    assert code.count == 2 and "vintage=2021" in code.hint  # E01034777 is a 2021 LSOA
    assert problems["outside the partnership area"].severity == "info"  # E01000001 is in London


def test_postcode_problems(tmp_path):
    frame = pd.DataFrame(
        {"id": ["a", "b", "c", "d", "e"], "pc": ["GL50 3PP", "gl503pq", "SW1A 1AA", "banana", None]}
    )
    frame.to_csv(tmp_path / "data.csv", index=False)
    spec_entry = entry(
        geography={"kind": "postcode", "postcode": "pc"},
        period="2024-01",
        measures=[{"name": "services", "count": "rows"}],
        max_invalid=0.5,
    )
    problems = {p.what: p for p in _problems(tmp_path, spec_entry)}
    assert problems["postcode not in the postcode directory"].got == "'SW1A 1AA'"
    assert problems["not a postcode"].got == "'banana'"
    assert problems["no postcode"].count == 1


def test_only_the_datasets_asked_for_are_checked(tmp_path):
    points_csv(tmp_path, good_rows())
    entries = {"good": entry(), "broken": entry(path="nothing*.csv")}
    catalog = load_catalog(write_catalog(tmp_path, entries))
    assert [p.dataset for p in validate(catalog)] == ["broken"]
    assert validate(catalog, datasets=["good"]) == []


def test_problem_line_without_rows():
    problem = Problem(
        "x", "error", "no file matches the catalogue path", file="dataset 'x'", hint="check the glob"
    )
    assert problem.line() == "ERROR x: dataset 'x': no file matches the catalogue path (hint: check the glob)"
    assert Problem("x", "info", "outside", count=12).line() == "INFO x: 12 rows: outside"


# ---------------------------------------------------------------------------------- the command


def _add_datasets(root, entries: dict) -> None:
    path = root / "conf" / "catalog.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["datasets"].update(entries)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_cli_validate_and_pool(tmp_path, capsys):
    assert main(["--project", str(ROOT), "validate", "--dataset", "police_street_crime"]) == 0
    out = capsys.readouterr().out
    assert "1 datasets checked: 0 errors, 1 warnings" in out
    root = write_squares_project(tmp_path / "squares")
    assert main(["--project", str(root), "validate"]) == 0
    assert "8 datasets checked: 0 errors" in capsys.readouterr().out
    # swapped longitude and latitude near the squares: an error-level problem, exit 1
    points_csv(
        root / "data" / "raw" / "partner", [("c1", "2024-01", 51.9, -2.08, "Burglary")] * 3, name="bad.csv"
    )
    _add_datasets(
        root,
        {"bad": {**entry(path="data/raw/partner/bad.csv", period={"column": "month", "format": "%Y-%m"})}},
    )
    assert main(["--project", str(root), "validate"]) == 1
    assert "ERROR bad" in capsys.readouterr().out
    code = main(["--project", str(root), "pool", "--dataset", "crimes", "--store", str(tmp_path / "p")])
    assert code == 0 and (tmp_path / "p" / "ledger.csv").exists()
    # warnings stay warnings, each listed with its dataset and file
    assert "needskit: warning: WARNING crimes: crimes.csv:" in capsys.readouterr().err
    (root / "conf" / "partnership.yml").write_text("name: Squares\narea: [Squareshire]\n", encoding="utf-8")
    assert main(["--project", str(root), "validate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("needskit: error:") and "partnership.yml" in err and "Traceback" not in err

"""needskit.config.project: finding the project from anywhere, and its folders."""

from __future__ import annotations

import pytest

import needskit.config.project as project_module
from needskit.config import Project, find_project
from needskit.config.project import PARTNERSHIP_FILE, project_dir, sha256_file
from needskit.errors import CatalogError
from partner_files import ROOT


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv("NEEDSKIT_PROJECT", raising=False)


def _project(folder):
    (folder / "conf").mkdir(parents=True)
    (folder / PARTNERSHIP_FILE).write_text("name: x\narea: [E10000013]\n", encoding="utf-8")
    return folder


def test_found_from_a_nested_folder(tmp_path, monkeypatch):
    root = _project(tmp_path / "partnership")
    nested = root / "notebooks" / "drafts"
    nested.mkdir(parents=True)
    assert find_project(nested) == Project(root.resolve())
    assert find_project(root) == Project(root.resolve())
    monkeypatch.chdir(nested)  # a JupyterLab kernel in notebooks/
    assert find_project().root == root.resolve()


def test_the_nearest_project_wins(tmp_path):
    outer = _project(tmp_path / "outer")
    inner = _project(outer / "pilots" / "inner")
    assert find_project(inner / "conf").root == inner.resolve()
    assert find_project(outer / "pilots").root == outer.resolve()


def test_needskit_project_comes_first(tmp_path, monkeypatch):
    here = _project(tmp_path / "here")
    there = _project(tmp_path / "there")
    monkeypatch.setenv("NEEDSKIT_PROJECT", str(there))
    assert find_project(here).root == there.resolve()
    monkeypatch.setenv("NEEDSKIT_PROJECT", str(tmp_path / "empty"))
    with pytest.raises(CatalogError, match="is not a needskit project") as info:
        find_project(here)
    message = str(info.value)
    assert f"NEEDSKIT_PROJECT={tmp_path / 'empty'}" in message and "unset it" in message


def test_the_checkout_when_nothing_else(tmp_path):
    assert project_dir() == ROOT
    assert find_project(tmp_path).root == ROOT  # tmp_path has no project above it


def test_no_project_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(project_module, "project_dir", lambda: None)  # an installed package, no checkout
    with pytest.raises(CatalogError) as info:
        find_project(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{tmp_path.resolve()}: no needskit project here")
    assert "conf/partnership.yml" in message and "NEEDSKIT_PROJECT" in message and "--project" in message
    assert "\n" not in message


def test_project_folders_and_paths(tmp_path):
    project = Project(_project(tmp_path / "p"))
    root = project.root
    assert project.partnership_file == root / "conf" / "partnership.yml"
    assert project.catalog_file == root / "conf" / "catalog.yml"
    assert project.indicators_file.name == "indicators.yml" and project.places_file.name == "places.yml"
    assert project.outcomes_file.name == "outcomes.yml" and project.delivery_file.name == "delivery.yml"
    assert project.raw == root / "data" / "raw" and project.store == root / "data" / "processed"
    assert project.published("public") == root / "data" / "published" / "public"
    assert project.reports == root / "reports" and project.notebooks == root / "notebooks"
    assert project.resolve("data/raw/x.csv") == root / "data" / "raw" / "x.csv"
    assert project.resolve(tmp_path / "elsewhere.csv") == tmp_path / "elsewhere.csv"
    assert project.relative(root / "data" / "raw" / "x.csv") == "data/raw/x.csv"
    assert project.relative(tmp_path / "elsewhere.csv") == (tmp_path / "elsewhere.csv").as_posix()


def test_sha256_file(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(b"abc")
    assert sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

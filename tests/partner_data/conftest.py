"""Fixtures of the partner-data tests: the squares partnership's project with its store built once."""

from __future__ import annotations

import shutil

import pytest

from squares import write_squares_project


@pytest.fixture(scope="session")
def squares_built(tmp_path_factory):
    """The squares partnership's project folder with its store built (pool, indicators, publish)."""
    from needskit.pipeline import open_workspace, run

    root = write_squares_project(tmp_path_factory.mktemp("squares_built"))
    run(open_workspace(root), progress=False)
    return root


@pytest.fixture
def squares_ws(squares_built, tmp_path):
    """A copy of the built squares project (files keep their times) opened as a workspace, for
    tests that change inputs or the store."""
    from needskit.pipeline import open_workspace

    root = tmp_path / "squares"
    shutil.copytree(squares_built, root)
    return open_workspace(root)

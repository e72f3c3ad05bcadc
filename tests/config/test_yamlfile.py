"""needskit.config.yamlfile: the one YAML reader, with line numbers in every error."""

from __future__ import annotations

import textwrap

import pytest

from needskit.config.yamlfile import Entry, LineMapping, describe_location, read_yaml
from needskit.errors import CatalogError

TEXT = textwrap.dedent(
    """\
    # a comment
    name: Test
    datasets:
      crimes:
        title: Crimes
        path: crimes.csv

      visits:
        title: Visits
        count: 3
    """
)


def _write(tmp_path, text: str, name: str = "conf.yml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_mappings_know_their_lines_and_the_lines_of_their_keys(tmp_path):
    data = read_yaml(_write(tmp_path, TEXT), what="test")
    assert isinstance(data, LineMapping) and isinstance(data["datasets"]["crimes"], LineMapping)
    assert data.line_of("name") == 2 and data.line_of("datasets") == 3
    crimes = data["datasets"]["crimes"]
    assert crimes.line == 5 and crimes.line_of("path") == 6
    assert data["datasets"].line_of("visits") == 8
    assert data["datasets"]["visits"].line_of("count") == 10
    assert crimes.line_of("nothing") == crimes.line  # an absent key: the mapping's own line
    assert data == {
        "name": "Test",
        "datasets": {
            "crimes": {"title": "Crimes", "path": "crimes.csv"},
            "visits": {"title": "Visits", "count": 3},
        },
    }


def test_missing_file_names_the_file_and_the_hint(tmp_path):
    with pytest.raises(CatalogError, match="catalogue file not found") as info:
        read_yaml(tmp_path / "nope.yml", what="catalogue", hint="pass --catalog")
    assert str(tmp_path / "nope.yml") in str(info.value) and "hint: pass --catalog" in str(info.value)
    with pytest.raises(CatalogError, match="not found"):
        read_yaml(tmp_path, what="catalogue")  # a folder is not a file


def test_not_utf8_is_one_clear_error(tmp_path):
    path = tmp_path / "latin1.yml"
    path.write_bytes("name: Caf\xe9\n".encode("cp1252"))
    with pytest.raises(CatalogError, match="is not UTF-8 text") as info:
        read_yaml(path, what="test")
    assert str(path) in str(info.value) and "save the file as UTF-8" in str(info.value)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("datasets: [unclosed\n", 2, 1),
        ("name: x\ndatasets:\n  a: 1\n b: 2\n", 4, 2),
        ("name: x\n\tindented: with a tab\n", 2, 1),
        ("a: 1\nb: [1, 2\nc: 3\n", 3, 2),
    ],
)
def test_invalid_yaml_gives_line_and_column(tmp_path, text, line, column):
    path = _write(tmp_path, text)
    with pytest.raises(CatalogError, match="is not valid YAML") as info:
        read_yaml(path, what="test")
    assert f"{path} line {line}, column {column}" in str(info.value)
    assert info.value.got  # what YAML found, in words


def test_unhashable_key_is_invalid_yaml(tmp_path):
    with pytest.raises(CatalogError, match="is not valid YAML") as info:
        read_yaml(_write(tmp_path, "? [a, b]\n: 1\n"), what="test")
    assert "unhashable" in str(info.value)


def test_anchors_and_merge_keys_still_work(tmp_path):
    text = "base: &b {licence: OGL-3.0, sharing: open}\nentry:\n  <<: *b\n  title: x\n"
    data = read_yaml(_write(tmp_path, text), what="test")
    assert data["entry"] == {"licence": "OGL-3.0", "sharing": "open", "title": "x"}


def test_safe_loader_refuses_python_objects(tmp_path):
    with pytest.raises(CatalogError, match="is not valid YAML"):
        read_yaml(_write(tmp_path, "x: !!python/object/apply:os.system ['true']\n"), what="test")


def test_empty_file_is_none(tmp_path):
    assert read_yaml(_write(tmp_path, ""), what="test") is None
    with pytest.raises(CatalogError, match="is not a mapping"):
        Entry(read_yaml(_write(tmp_path, ""), what="test"), "conf.yml")


# ------------------------------------------------------------------------------------- Entry


def _entry(tmp_path, text=TEXT):
    path = _write(tmp_path, text)
    data = read_yaml(path, what="test")
    return path, Entry(data["datasets"]["visits"], f"{path}: datasets.visits")


def test_entry_where_carries_the_line(tmp_path):
    path, entry = _entry(tmp_path)
    assert entry.where == f"{path}: datasets.visits (line 9)"
    assert entry.at("count") == f"{path}: datasets.visits.count (line 10)"
    assert entry.at("absent") == f"{path}: datasets.visits.absent"
    plain = Entry({"a": 1}, "somewhere")
    assert plain.where == "somewhere" and plain.at("a") == "somewhere.a"


def test_unknown_keys_are_named_with_their_line(tmp_path):
    path, entry = _entry(tmp_path)
    entry.get("title")
    with pytest.raises(CatalogError, match=r"unknown key \['count'\]") as info:
        entry.finish()
    message = str(info.value)
    assert f"{path}: datasets.visits.count (line 10)" in message
    assert "keys among ['title']" in message and "check the spelling" in message
    several = Entry({"a": 1, "b": 2, "c": 3}, "x")
    with pytest.raises(CatalogError, match=r"unknown keys \['b', 'c'\]"):
        several.get("a")
        several.finish()


def test_wrong_types_name_the_key_line_expected_and_got(tmp_path):
    path, entry = _entry(tmp_path)
    with pytest.raises(CatalogError, match="'count' has the wrong type") as info:
        entry.get("count", kind=str)
    message = str(info.value)
    assert f"{path}: datasets.visits.count (line 10)" in message
    assert "expected str" in message and "got 3" in message
    with pytest.raises(CatalogError, match="expected str or list"):
        entry.get("count", kind=(str, list))
    assert entry.get("count", kind=int) == 3


def test_required_defaults_and_nulls(tmp_path):
    path, entry = _entry(tmp_path)
    with pytest.raises(CatalogError, match="missing required key 'path'") as info:
        entry.get("path", required=True)
    assert f"{path}: datasets.visits (line 9)" in str(info.value)
    assert "got keys ['count', 'title']" in str(info.value)
    assert entry.get("path", "default.csv") == "default.csv"
    nulls = Entry({"a": None}, "x")
    assert nulls.get("a", 5) == 5
    with pytest.raises(CatalogError, match="missing required key 'a'"):
        nulls.get("a", required=True)


def test_choices(tmp_path):
    _path, entry = _entry(tmp_path)
    assert entry.choice("title", ["Visits", "Crimes"]) == "Visits"
    with pytest.raises(CatalogError, match="'count' is not a known value") as info:
        entry.choice("count", [1, 2])
    assert "expected one of [1, 2]" in str(info.value) and "(line 10)" in str(info.value)
    assert entry.choice("absent", ["a"], "a") == "a"
    with pytest.raises(CatalogError, match="missing required key 'absent'"):
        entry.choice("absent", ["a"], required=True)


def test_entry_refuses_what_is_not_a_mapping():
    with pytest.raises(CatalogError, match="is not a mapping") as info:
        Entry(["a", "b"], "conf.yml: datasets.x")
    assert "conf.yml: datasets.x" in str(info.value) and "got list" in str(info.value)


def test_describe_location():
    assert (
        describe_location("conf/catalog.yml", 24, "datasets.police")
        == "conf/catalog.yml line 24, datasets.police"
    )
    assert describe_location("conf/catalog.yml", None) == "conf/catalog.yml"
    assert describe_location("conf/catalog.yml", None, "x") == "conf/catalog.yml, x"

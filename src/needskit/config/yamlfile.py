"""The one YAML reader of needskit: files under ``conf/``, with line numbers in every error.

:func:`read_yaml` loads a file with PyYAML's safe loader, recording the line of every mapping and
of every key in it; :class:`Entry` reads one mapping key by key, checking types and choices and
refusing unknown keys, so that a mistake is reported as
``conf/catalog.yml line 24, datasets.police_street_crime: 'period' has the wrong type ...``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import yaml

from needskit.errors import CatalogError

__all__ = ["LineMapping", "read_yaml", "Entry", "describe_location"]


class LineMapping(dict):  # type: ignore[type-arg]
    """A dict loaded from YAML that knows the line of itself and of each of its keys (1-based)."""

    line: int | None = None
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int | None:
        return getattr(self, "key_lines", {}).get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    """The safe loader, building :class:`LineMapping` objects with line numbers."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> LineMapping:
    loader.flatten_mapping(node)
    mapping = LineMapping()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError as exc:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found an unhashable key",
                key_node.start_mark,
            ) from exc
        mapping[key] = loader.construct_object(value_node, deep=deep)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def describe_location(source: str, line: int | None, path: str = "") -> str:
    """``"conf/catalog.yml line 24, datasets.police"``: where a problem is, for error messages."""
    where = f"{source} line {line}" if line else source
    return f"{where}, {path}" if path else where


def read_yaml(path: str | Path, *, what: str, hint: str | None = None) -> Any:
    """Load a YAML file (mappings as :class:`LineMapping`).

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for messages (``"catalogue"``, ``"partnership"`` ...).
    hint
        What to do when the file is missing.

    Raises
    ------
    CatalogError
        Missing file, not UTF-8, or not valid YAML (with the line and column).
    """
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"{what} file not found", where=str(path), hint=hint)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError("is not UTF-8 text", where=str(path), hint="save the file as UTF-8") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CatalogError(
            "is not valid YAML",
            where=f"{path}{at}",
            got=str(getattr(exc, "problem", None) or exc).splitlines()[0],
        ) from exc


class Entry:
    """A mapping being read, which knows where it is for error messages.

    Parameters
    ----------
    data
        The mapping (a :class:`LineMapping` from :func:`read_yaml`, or any mapping).
    where
        Where it is: ``"conf/catalog.yml: datasets.police"``; the line is added when known.
    """

    def __init__(self, data: Any, where: str) -> None:
        line = getattr(data, "line", None)
        self.base = where
        self.where = f"{where} (line {line})" if line else where
        if not isinstance(data, Mapping):
            raise CatalogError(
                "is not a mapping",
                where=self.where,
                expected="key: value pairs",
                got=f"{type(data).__name__} {data!r}",
            )
        self.data = dict(data)
        self.lines: dict[Any, int] = dict(getattr(data, "key_lines", {}))
        self.used: set[str] = set()

    def at(self, key: str) -> str:
        """Where ``key`` of this entry is (with its line when known)."""
        line = self.lines.get(key)
        return f"{self.base}.{key} (line {line})" if line else f"{self.base}.{key}"

    def get(
        self, key: str, default: Any = None, *, required: bool = False, kind: type | tuple[type, ...] = object
    ) -> Any:
        """The value of ``key`` (``default`` when absent or null), checked against ``kind``."""
        self.used.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                raise CatalogError(
                    f"missing required key {key!r}",
                    where=self.where,
                    expected=f"{key}: ...",
                    got=f"keys {sorted(map(str, self.data))}",
                )
            return default
        value = self.data[key]
        if kind is not object and not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise CatalogError(
                f"{key!r} has the wrong type", where=self.at(key), expected=names, got=f"{value!r}"
            )
        return value

    def choice(
        self, key: str, choices: Collection[Any], default: Any = None, *, required: bool = False
    ) -> Any:
        """The value of ``key``, which must be one of ``choices``."""
        value = self.get(key, default, required=required)
        if value is not None and value not in choices:
            raise CatalogError(
                f"{key!r} is not a known value",
                where=self.at(key),
                expected=f"one of {list(choices)}",
                got=repr(value),
            )
        return value

    def finish(self) -> None:
        """Refuse keys that were never read (misspelt or unknown)."""
        unknown = sorted(str(k) for k in set(self.data) - self.used)
        if unknown:
            raise CatalogError(
                f"unknown key{'s' if len(unknown) > 1 else ''} {unknown}",
                where=self.at(unknown[0]),
                expected=f"keys among {sorted(self.used)}",
                hint="check the spelling (keys are lower_snake_case)",
            )

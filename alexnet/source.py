"""Read a YAML spec safely and remember where every value came from.

Specs are data, so only plain YAML is accepted: no tags (``!!python/object``), no anchors or aliases
(which also rules out "billion laughs" bombs), no duplicate keys, UTF-8 text of bounded size.
Every value's ``line:col`` is recorded by its path (``("sections", "features", 0, "kernel_size")``)
so that validation errors can point at the exact place in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_SPEC_BYTES = 1_000_000
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}

Path_ = tuple  # a path into the document: keys (str) and list indices (int)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec, printed as ``file:line:col: message``."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class SpecError(Exception):
    """A spec is bad; ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.line, p.col))
        super().__init__("\n".join(map(str, self.problems)))


@dataclass
class Source:
    """The parsed document plus the position of each value (and of each mapping key)."""

    file: str
    data: Any
    value_pos: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    key_pos: dict[tuple, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: tuple, *, key: bool = False) -> tuple[int, int]:
        """Line and column of ``path``, or of its nearest ancestor that exists."""
        table = self.key_pos if key else self.value_pos
        for end in range(len(path), -1, -1):
            if path[:end] in table:
                return table[path[:end]]
            if key and path[:end] in self.value_pos:
                return self.value_pos[path[:end]]
        return (1, 1)

    def problem(self, path: tuple, message: str, *, key: bool = False) -> Problem:
        line, col = self.locate(path, key=key)
        return Problem(self.file, line, col, message)


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases while composing (before anything is built)."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.MarkedYAMLError(
                problem="anchors and aliases (&name, *name) are not allowed in a spec",
                problem_mark=event.start_mark,
            )
        return super().compose_node(parent, index)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def read_source(path: str | Path, display_name: str | None = None) -> Source:
    """Parse ``path`` into a :class:`Source`; raise :class:`SpecError` for anything that is not plain YAML."""
    name = display_name or str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SpecError([Problem(name, 1, 1, f"cannot read the spec: {exc.strerror or exc}")]) from None
    return parse_source(raw, name)


def parse_source(raw: bytes, name: str) -> Source:
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError([Problem(name, 1, 1, f"the spec is {len(raw):,} bytes; the limit is {MAX_SPEC_BYTES:,}")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise SpecError([Problem(name, line, col, f"the spec is not UTF-8 text (byte 0x{raw[exc.start]:02x})")]) from None
    loader = _PlainLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise SpecError([Problem(name, line, col, f"YAML syntax error: {message}")]) from None
    except yaml.YAMLError as exc:  # e.g. ReaderError for control characters
        position = getattr(exc, "position", 0) or 0
        before = text[:position]
        line, col = before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1
        raise SpecError([Problem(name, line, col, f"the spec is not valid YAML text: {exc}".split("\n")[0])]) from None
    finally:
        loader.dispose()
    if node is None:
        raise SpecError([Problem(name, 1, 1, "the spec is empty")])
    source = Source(name, None)
    problems: list[Problem] = []
    source.data = _build(node, (), source, problems, loader)
    if problems:
        raise SpecError(problems)
    return source


def _build(node: yaml.Node, path: tuple, source: Source, problems: list[Problem], loader: yaml.SafeLoader) -> Any:
    """Turn a composed node into plain Python values, recording positions on the way."""
    source.value_pos[path] = _mark(node)
    if node.tag not in _PLAIN_TAGS:
        line, col = _mark(node)
        problems.append(Problem(source.file, line, col, f"YAML tag {node.tag!r} is not allowed: a spec is plain data"))
        return None
    if isinstance(node, yaml.MappingNode):
        result: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag != "tag:yaml.org,2002:str" or not isinstance(key_node, yaml.ScalarNode):
                line, col = _mark(key_node)
                problems.append(Problem(source.file, line, col, "mapping keys must be plain strings"))
                continue
            key = key_node.value
            if key in result:
                line, col = _mark(key_node)
                problems.append(Problem(source.file, line, col, f"duplicate key {key!r}"))
                continue
            source.key_pos[(*path, key)] = _mark(key_node)
            result[key] = _build(value_node, (*path, key), source, problems, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), source, problems, loader) for i, item in enumerate(node.value)]
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        line, col = _mark(node)
        problems.append(Problem(source.file, line, col, f"cannot read the value {node.value!r}: {exc}".split("\n")[0]))
        return None

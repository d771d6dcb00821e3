"""Read a YAML spec safely and remember where every value came from.

Specs are data, so only plain YAML is accepted: no tags (``!!python/object``), no anchors or aliases
(which also rules out "billion laughs" bombs), no duplicate keys, no nesting deeper than
``MAX_NESTING``, UTF-8 text of at most ``MAX_SPEC_BYTES``. A plain scalar that YAML 1.1 would read as a
date (``2012-09-30``) stays text rather than being refused as a tag.
Every value's ``line:col`` is recorded by its path (``("sections", "features", 0, "kernel_size")``)
so that validation errors can point at the exact place in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_SPEC_BYTES = 1_000_000
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}


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


MAX_NESTING = 64  # deeper documents are refused while composing (PyYAML composes recursively)


class _NotPlainYAML(yaml.MarkedYAMLError):
    """YAML that parses but is not allowed in a spec (anchors, aliases, deep nesting)."""


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases and deep nesting while composing (before anything is built)."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _NotPlainYAML(problem="anchors and aliases (&name, *name) are not allowed in a spec: "
                                        "write each value out", problem_mark=event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise _NotPlainYAML(problem=f"the spec is nested more than {MAX_NESTING} levels deep",
                                    problem_mark=event.start_mark)
            node = super().compose_node(parent, index)
            node.explicit_tag = getattr(event, "tag", None) not in (None, "!")  # written as !tag in the text
            return node
        finally:
            self._depth -= 1


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def read_source(path: str | Path, display_name: str | None = None) -> Source:
    """Parse ``path`` into a :class:`Source`; raise :class:`SpecError` for anything that is not plain YAML."""
    name = display_name or str(path)
    try:
        with open(path, "rb") as handle:  # read one byte past the limit: enough to refuse a huge file
            raw = handle.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise SpecError([Problem(name, 1, 1, f"cannot read the spec: {exc.strerror or exc}")]) from None
    return parse_source(raw, name)


# PyYAML's token names, as a reader would say them.
_TOKEN_WORDS = {
    "'<stream end>'": "the end of the file",
    "<block end>": "the end of the indented block",
    "'<block mapping start>'": "a new key",
    "'<block sequence start>'": "a list item",
    "'<block end>'": "the end of the indented block",
}


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem and context as one line, e.g. ``expected ',' or '}', but got '{' (in the flow
    mapping that starts at 8:7)``."""
    problem = " ".join(str(exc.problem or "invalid YAML").split())
    for token, words in _TOKEN_WORDS.items():
        problem = problem.replace(token, words)
    if "'\\t'" in problem:
        return "a tab character: YAML is indented with spaces, never tabs"
    hint = ": check the indentation" if "<block" in str(exc.problem) else ""
    context = " ".join(str(exc.context or "").split())
    inside = re.fullmatch(r"while (?:parsing|scanning) an? (.+)", context)
    if inside and exc.context_mark is not None:
        mark = exc.context_mark
        return f"{problem} (in the {inside[1]} that starts at {mark.line + 1}:{mark.column + 1}){hint}"
    if context and not context.startswith("while"):
        return f"{context}, {problem}{hint}"
    return problem + hint


def parse_source(raw: bytes, name: str) -> Source:
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError([Problem(name, 1, 1, f"the spec is larger than the limit of {MAX_SPEC_BYTES:,} bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        raise SpecError([Problem(name, line, col, f"the spec is not UTF-8 text (byte 0x{raw[exc.start]:02x}): "
                                                  "save it as UTF-8")]) from None
    node = _compose_plain_fast(text)
    if node is not None:
        return _source_from_node(node, name, yaml.SafeLoader(""))
    loader = None
    try:
        loader = _PlainLoader(text)  # the reader refuses control characters already here
        node = loader.get_single_node()
    except _NotPlainYAML as exc:
        mark = exc.problem_mark
        raise SpecError([Problem(name, mark.line + 1, mark.column + 1, str(exc.problem))]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecError([Problem(name, line, col, f"YAML syntax error: {_yaml_message(exc)}")]) from None
    except yaml.reader.ReaderError as exc:  # control characters and other unprintable ones
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        what = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise SpecError([Problem(name, line, col, f"the spec contains the control character {what}, "
                                                  "which YAML does not allow")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise SpecError([Problem(name, 1, 1, "the spec is empty")])
    return _source_from_node(node, name, loader)


def _compose_plain_fast(text: str) -> yaml.Node | None:
    """Compose with libyaml (about 10x faster than pure Python) when the document is plain YAML.

    Anything unusual (tags, anchors, aliases, deep nesting, any error, an empty document) returns None and
    is left to the pure-Python loader, which refuses it with an exact message. The events are checked
    first, so libyaml's recursive composer never sees deep nesting or aliases.
    """
    if not yaml.__with_libyaml__:
        return None
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) or getattr(event, "tag", None):
                return None
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_NESTING:
                    return None
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        return yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return None


def _source_from_node(node: yaml.Node, name: str, loader: yaml.SafeLoader) -> Source:
    source = Source(name, None)
    problems: list[Problem] = []
    source.data = _build(node, (), source, problems, loader)
    if problems:
        raise SpecError(problems)
    return source


_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+")
_DECIMAL_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_TAG_WORDS = {f"tag:yaml.org,2002:{tag}": words for tag, words in (
    ("int", "an integer"), ("float", "a number"), ("bool", "a boolean"), ("null", "null"), ("merge", "a merge key"),
    ("timestamp", "a date"), ("value", "a value key"))}


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def _implicit_text(node: yaml.Node) -> bool:
    """A plain scalar that YAML 1.1 reads as a date or the like (``2012-09-30``): kept as text, not refused."""
    # Nodes from the fast path carry no flag: it only accepts documents without explicit tags.
    # libyaml marks plain scalars with style '' where pure-Python PyYAML uses None.
    return isinstance(node, yaml.ScalarNode) and not node.style and not getattr(node, "explicit_tag", False)


def _build(node: yaml.Node, path: tuple, source: Source, problems: list[Problem], loader: yaml.SafeLoader) -> Any:
    """Turn a composed node into plain Python values, recording positions on the way."""
    line, col = source.value_pos[path] = _mark(node)
    if node.tag not in _PLAIN_TAGS:
        if _implicit_text(node):
            return node.value
        problems.append(Problem(source.file, line, col,
                                f"the YAML tag {_short_tag(node.tag)} is not allowed: a spec is plain data"))
        return None
    if isinstance(node, yaml.MappingNode):
        result: dict = {}
        for key_node, value_node in node.value:
            key_line, key_col = _mark(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(source.file, key_line, key_col, "a mapping key must be a plain string, "
                                                                        "not a list or a mapping"))
                continue
            key = key_node.value
            if key_node.tag != "tag:yaml.org,2002:str":
                problems.append(Problem(source.file, key_line, key_col, f"the mapping key {key!r} is read as "
                                        f"{_TAG_WORDS.get(key_node.tag, 'a non-string')}, not a string: quote it"))
                continue
            if key in result:
                first = source.key_pos[(*path, key)]
                problems.append(Problem(source.file, key_line, key_col,
                                        f"duplicate key {key!r} (first given at {first[0]}:{first[1]})"))
                continue
            source.key_pos[(*path, key)] = (key_line, key_col)
            result[key] = _build(value_node, (*path, key), source, problems, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), source, problems, loader) for i, item in enumerate(node.value)]
    if not node.style and _LEADING_ZERO.fullmatch(node.value):
        # YAML 1.1 reads 0100 as the octal 64 and 08 as text; YAML 1.2 reads both as decimals. Say which.
        problems.append(Problem(source.file, line, col, f"{node.value} has a leading zero, which YAML 1.1 reads as "
                                                        "octal: write the number without it, or quote it for text"))
        return None
    if not node.style and node.tag == "tag:yaml.org,2002:str" and _DECIMAL_FLOAT.fullmatch(node.value):
        return float(node.value)  # 1e-4: a number in YAML 1.2, text in YAML 1.1 (which needs a dot)
    if node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float") and ":" in node.value:
        # YAML 1.1 reads 1:20 as the base-60 number 80: never what a spec author meant.
        problems.append(Problem(source.file, line, col, f"{node.value!r} would be read as a base-60 number "
                                                        "(YAML 1.1): write a plain number, or quote it for text"))
        return None
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
        problems.append(Problem(source.file, line, col, f"cannot read the value {shown!r}: {exc}".split("\n")[0]))
        return None

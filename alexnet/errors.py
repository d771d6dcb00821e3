"""Pydantic's validation errors in a reader's words, each located at its ``file:line:col``.

``problems_from`` works for any model read from a :class:`~alexnet.source.Source` (specs, recipes);
layers are named as ``layer 'conv1' (features[0])``.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from .kinds import KINDS
from .kinds.fields import CLASS_NAME, IDENTIFIER, PLAIN_TEXT, SPEC_NAME
from .source import Problem, Source


def problems_from(exc: ValidationError, source: Source, model: type[BaseModel]) -> list[Problem]:
    """One problem per error of ``exc`` (raised validating ``source.data`` as ``model``), duplicates dropped."""
    problems = [_problem_from_error(error, source, model) for error in exc.errors()]
    return list(dict.fromkeys(p for p in problems if p is not None))


def problems_at(exc: ValidationError, source: Source | None, prefix: tuple, where: str) -> list[Problem]:
    """Problems of one part of a document validated on its own (a block's layer with its arguments filled in):
    located in the file through ``prefix``, the part's path, and introduced by ``where``."""
    data = _node(source.data, prefix) if source is not None else {}
    kind = KINDS.get(data.get("kind")) if isinstance(data, dict) and isinstance(data.get("kind"), str) else None
    model = kind or _block_use_model()
    n = len(prefix)
    part = Source(source.file if source else "spec.yaml", data,
                  {k[n:]: v for k, v in (source.value_pos if source else {}).items() if k[:n] == prefix},
                  {k[n:]: v for k, v in (source.key_pos if source else {}).items() if k[:n] == prefix})
    return [Problem(p.file, p.line, p.col, where + p.message) for p in problems_from(exc, part, model)]


def _block_use_model() -> type[BaseModel]:
    from .spec import BlockUse  # spec imports this module

    return BlockUse


def layer_where(name: Any, section: str, index: int) -> str:
    """``layer 'conv1' (features[0])``: how every message names a layer."""
    label = f"layer {name!r}" if isinstance(name, str) else "layer"
    return f"{label} ({section}[{index}])"


def raw_layer_name(data: Any, section: str, index: int) -> Any:
    """The ``name`` a layer of a document that may not be valid has, or None."""
    try:
        return data["sections"][section][index].get("name")
    except (KeyError, IndexError, TypeError, AttributeError):
        return None


def _data_path(loc: tuple, data: Any) -> tuple[tuple, bool]:
    """Map pydantic's error location onto the document: ``(path, on_key)``.

    Union tags (``'conv'``, ``'function-after[...]'``) are dropped; the path stops after the first part that is
    not in the document (a missing key, or pydantic's inner location in a value such as a pair).
    """
    path: list = []
    node = data
    for part in loc:
        if part == "[key]":
            return tuple(path), True
        if (isinstance(node, dict) and part in node) or \
                (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            path.append(part)
            node = node[part]
        elif isinstance(part, str) and (part in KINDS or part in ("a layer", "a block use")
                                        or part.startswith(("function-", "tuple[", "list["))):
            continue  # a tag pydantic inserts, not a key of the document
        else:
            if isinstance(node, dict) and isinstance(part, str):
                path.append(part)  # a missing key
            break
    return tuple(path), False


def _yaml_value(value: Any) -> str:
    """A value as it would be written in YAML, shortened: ``true``, ``null``, ``.nan``, ``[2, 2, 2]``, ``'8'``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, (list, tuple)):
        text = "[" + ", ".join(_yaml_value(v) for v in value[:6]) + (", ...]" if len(value) > 6 else "]")
    elif isinstance(value, dict):
        return "a mapping" if value else "{}"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _got(value: Any) -> str:
    shown = f"got {_yaml_value(value)}"
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return shown
        return f"{shown} (text: remove the quotes)"
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return f"{shown} (write {int(value)} without the decimal point)"
    return shown


_PATTERN_RULES = {
    IDENTIFIER: "must be a Python identifier: letters, digits and _, not starting with a digit",
    SPEC_NAME: "must be lowercase letters, digits and _, starting with a letter (it names the generated files)",
    CLASS_NAME: "must be a Python class name: a capital letter, then letters, digits and _",
    PLAIN_TEXT: "may hold only letters, digits, spaces and _ . , : ; ( ) / + ' \" # & * - (no markup)",
}

_TYPE_RULES = {
    "int_type": "expected an integer", "int_parsing": "expected an integer", "int_from_float": "expected an integer",
    "float_type": "expected a number", "float_parsing": "expected a number",
    "bool_type": "expected true or false", "bool_parsing": "expected true or false",
    "string_type": "expected text", "list_type": "expected a list",
    "tuple_type": "expected an integer or a [height, width] pair",
    "model_type": "expected a mapping", "model_attributes_type": "expected a mapping", "dict_type": "expected a mapping",
    "finite_number": "must be a finite number",
}


def _rule(kind: str, ctx: dict, value: Any) -> str:
    """What the value must be, in a reader's words."""
    if kind in _TYPE_RULES:
        return _TYPE_RULES[kind]
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        limit = next(iter(ctx.values()))
        words = {"greater_than": "greater than", "greater_than_equal": "at least", "less_than": "less than",
                 "less_than_equal": "at most"}[kind]
        return f"must be {words} {limit}"
    if kind == "string_pattern_mismatch":
        return _PATTERN_RULES.get(ctx.get("pattern"), f"must match {ctx.get('pattern')}")
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters long"
    if kind in ("too_short", "too_long") and ctx.get("field_type") == "Tuple":
        return "expected an integer or a [height, width] pair"
    if kind == "too_short" and not value:
        return "must not be empty"
    if kind == "too_short":
        return f"needs at least {ctx['min_length']} item{'s' if ctx['min_length'] != 1 else ''}"
    if kind == "too_long":
        return f"takes at most {ctx['max_length']} items"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", ctx["expected"])
        return f"must be one of {ctx['expected']}{suggest(str(value), choices)}"
    return ""


def _problem_from_error(error: dict, source: Source, model: type[BaseModel]) -> Problem | None:
    path, on_key = _data_path(tuple(error["loc"]), source.data)
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    in_layer = len(path) >= 3 and path[0] == "sections" and isinstance(path[2], int)
    where = layer_where(raw_layer_name(source.data, path[1], path[2]), path[1], path[2]) + ": " if in_layer else ""
    field_path = path[3:] if in_layer else path
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in field_path).lstrip(".")
    if kind == "extra_forbidden":
        on_key = True
        allowed = _allowed_keys(path, source.data, model)
        hint = suggest(field_path[-1], allowed) or (f"; known keys: {', '.join(allowed)}" if allowed else "")
        message = f"unknown key {field_path[-1]!r}{hint}"
    elif kind == "missing":
        if _suggested_elsewhere(path, source.data, model):
            return None  # "unknown key 'kernal_size' (did you mean 'kernel_size'?)" already says it
        message = f"missing required key {field_path[-1]!r}"
        path = path[:-1]
    elif kind == "union_tag_invalid":
        path = (*path, "kind")
        tag = _node(source.data, path)
        shown = _yaml_value(tag)
        message = f"unknown layer kind {shown}{suggest(str(tag), KINDS)}; known kinds: {', '.join(KINDS)}"
    elif kind == "union_tag_not_found":
        message = "missing required key 'kind'"
    elif kind == "value_error":
        message = str(ctx.get("error") or error["msg"].removeprefix("Value error, "))
        if field and not on_key:
            message = f"{field}: {message}"
    elif in_layer and not field_path:
        message = f"a layer must be a mapping such as {{name: conv1, kind: conv, ...}}, {_got(value)}"
    elif len(path) == 2 and path[0] == "sections":
        message = (f"section {path[1]!r} has no layers" if kind == "too_short"
                   else f"section {path[1]!r} must be a list of layers, {_got(value)}")
    else:
        rule = _rule(kind, ctx, value) or error["msg"]
        message = f"{field or 'the ' + model.__name__.lower()}: {rule}, {_got(value)}"
    return source.problem(path, where + message, key=on_key)


def _suggested_elsewhere(path: tuple, data: Any, model: type[BaseModel]) -> bool:
    """True when an unknown key next to the missing one ``path[-1]`` looks like a misspelling of it."""
    try:
        parent = _node(data, path[:-1])
    except (KeyError, IndexError, TypeError):
        return False
    if not isinstance(parent, dict):
        return False
    allowed = _allowed_keys(path, data, model)
    return any(key not in allowed and _best(key, allowed) == path[-1] for key in parent)


def _node(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def _allowed_keys(path: tuple, data: Any, model: type[BaseModel]) -> list[str]:
    """The keys the mapping holding ``path[-1]`` may have: a layer's by its kind, else the model's field."""
    node = _node(data, path[:-1])
    if isinstance(node, dict) and isinstance(node.get("kind"), str) and node["kind"] in KINDS \
            and path[:1] == ("sections",):
        return [info.alias or key for key, info in KINDS[node["kind"]].model_fields.items()]
    current: Any = model
    for part in path[:-1]:
        field = current.model_fields.get(part) if isinstance(part, str) else None
        options = getattr(field.annotation, "__args__", (field.annotation,)) if field is not None else ()
        models = [a for a in options if isinstance(a, type) and issubclass(a, BaseModel)]  # Model | None too
        if not models:
            return []
        current = models[0]
    return [info.alias or key for key, info in current.model_fields.items()]


def _best(word: str, choices: Any) -> str | None:
    def score(choice: str) -> float:  # also match the first word ('kernal' -> 'kernel_size') and prefixes
        if min(len(word), len(choice)) >= 3 and (word.startswith(choice) or choice.startswith(word)):
            return 1.0  # 'convolution' -> 'conv'
        return max(difflib.SequenceMatcher(None, word, part).ratio() for part in (choice, choice.split("_")[0]))

    best = max(choices, key=score, default=None)
    return best if best is not None and score(best) >= 0.7 else None


def suggest(word: str, choices: Any) -> str:
    best = _best(word, choices)
    return f" (did you mean {best!r}?)" if best is not None else ""



"""Write a spec as YAML in the bundled specs' style: metadata, then one layer per line as a flow mapping."""

from __future__ import annotations

import math

import yaml

from .kinds import Layer


def compact(value):
    """Pairs and four-sided paddings as one integer when all sides agree, lists otherwise."""
    if isinstance(value, tuple | list):
        return value[0] if len(set(value)) == 1 else list(value)
    return value


def layer_entry(layer: Layer) -> dict:
    """name and kind first, then every key whose value differs from the kind's default."""
    values = layer.model_dump(exclude_defaults=True, exclude={"name", "kind", "display"})
    return {"name": layer.name, "kind": layer.kind, **{k: compact(v) for k, v in values.items()}}


def _flow(data) -> str:
    return yaml.safe_dump(data, default_flow_style=True, sort_keys=False, width=math.inf).strip()


def _scalar(key: str, value) -> str:
    return yaml.safe_dump({key: value}, default_flow_style=False, sort_keys=False, width=math.inf).strip()


def spec_yaml(target: str, name: str, class_name: str, shape: tuple[int, ...], num_classes: int,
              sections: dict[str, list[dict]], blocks: dict[str, dict] | None = None,
              comments: dict[str, str] | None = None) -> str:
    """The spec's text: ``sections`` (and ``blocks``, each with a comment naming where it comes from) hold
    entries as the spec writes them."""
    command = f"python -m alexnet import {target} --input {','.join(map(str, shape))}"
    lines = [
        "# yaml-language-server: $schema=schema.json",
        f"# Written by `{command}` (torch.fx).",
        "# Sections and indices follow the module's children, so its state_dict loads into the generated model.",
    ]
    if blocks:
        lines.append("# Each block is a module class of the original; its calls of one structure share the block, "
                     "and what differs between them is a param.")
    lines += [
        _scalar("name", name),
        _scalar("title", f"{target.rpartition(':')[2]} (imported from {target.partition(':')[0]})"[:80]),
        _scalar("description", f"Imported from the PyTorch module {target} through torch.fx."[:400]),
        _scalar("class_name", class_name),
        f"input: {_flow(list(shape))}",
        f"num_classes: {num_classes}",
        "init: {weights: default}   # PyTorch's initialisation; load the original's state_dict for its weights",
    ]
    if blocks:
        lines += ["", "blocks:"]
        for block, definition in blocks.items():
            lines.append(f"  {block}:" + (f"   # {comments[block]}" if comments and block in comments else ""))
            lines += [f"    {key}: {_flow(value) if isinstance(value, dict) else value}"
                      for key, value in definition.items() if key != "layers"]
            lines.append("    layers:")
            lines += [f"      - {_flow(entry)}" for entry in definition["layers"]]
    lines += ["", "sections:"]
    for section, entries in sections.items():
        lines.append(f"  {section}:")
        lines += [f"    - {_flow(entry)}" for entry in entries]
    return "\n".join(lines) + "\n"

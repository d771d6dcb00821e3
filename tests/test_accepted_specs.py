"""What `validate` accepts must build, train and publish.

Random networks are drawn from every registered layer kind with random settings, so most are refused and
some are accepted. Each accepted one must:
- be valid under spec/schema.json, checked by a real JSON Schema validator (editors use that file);
- build as the generated module, run forward and backward in train mode on a batch of 2, leave its input
  untouched and give the analysis's shape for every layer;
- go through every renderer of the generator and the site (tables, diagrams, pages, comparison).
A layer kind added later is drawn too: its fields need candidate values below (a test checks they have).
"""

from __future__ import annotations

import json

import jsonschema
import pytest
import torch
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from alexnet.analysis import analyse
from alexnet.kinds import KINDS
from alexnet.source import SpecError, parse_source
from alexnet.spec import validate_source
from alexnet.validation import validate_file
from tests.conftest import ROOT
from tools.generate import project_artifacts, spec_artifacts

SCHEMA = json.loads((ROOT / "spec/schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
BUNDLED = [validate_file(path) for path in sorted((ROOT / "spec").glob("*.yaml"))]
# Values each field may take; the kinds' examples add theirs. Small, so that shapes often work out.
CANDIDATES: dict[str, list] = {
    "out_channels": [1, 2, 4, 6], "out_features": [1, 3, 8], "kernel_size": [1, 2, 3, [2, 3]],
    "stride": [None, 1, 2, [1, 2]], "padding": [0, 1, 2, [1, 0], [0, 1, 2, 1]], "dilation": [1, 2],
    "groups": [1, 2], "bias": [True, False], "bias_init": [None, 1.0], "ceil_mode": [False, True],
    "inplace": [False, True], "p": [0.0, 0.5], "output_size": [1, 2, [1, 3]], "size": [1, 3, 5],
    "alpha": [1e-4, 1.0], "beta": [0.75], "k": [0.0, 1.0, 2.0], "convention": ["paper", "divided_by_n"],
    "eps": [1e-5, 1e-3], "momentum": [0.1, 1.0], "negative_slope": [0.0, 0.2], "approximate": ["none", "tanh"],
    "dim": [1, -1, 2],
}
COMMON = {"name", "display", "kind", "inputs", "when"}  # "from" and "when": graph keys, drawn apart


def test_every_field_of_every_kind_has_candidates():
    missing = {f"{kind}.{key}" for kind, cls in KINDS.items() for key in cls.model_fields
               if key not in COMMON | set(CANDIDATES) | set(cls.example)}
    assert not missing, f"add candidate values for {sorted(missing)}"


@st.composite
def layers(draw, count: int) -> list[dict]:
    out = []
    for i in range(count):
        kind = draw(st.sampled_from(sorted(KINDS)))
        layer = {"name": f"l{i}", "kind": kind, **KINDS[kind].example}
        for key in KINDS[kind].model_fields.keys() - COMMON:
            options = CANDIDATES.get(key, [])
            if options and draw(st.booleans()):
                value = draw(st.sampled_from(options))
                if value is None:
                    layer.pop(key, None)
                else:
                    layer[key] = value
        out.append(layer)
    return out


@st.composite
def networks(draw) -> dict:
    image = draw(st.booleans())
    shape = [draw(st.integers(1, 4)), draw(st.integers(4, 12)), draw(st.integers(4, 12))] if image \
        else [draw(st.integers(1, 12))]
    body = draw(layers(draw(st.integers(0, 5))))
    num_classes = draw(st.integers(1, 5))
    head = [{"name": "flatten", "kind": "flatten"}, {"name": "fc", "kind": "linear", "out_features": num_classes}]
    head += draw(layers(draw(st.integers(0, 2))).map(lambda ls: [{**layer, "name": f"h{i}"} for i, layer in
                                                                   enumerate(ls)]))
    split = draw(st.integers(0, len(body)))
    sections = {name: part for name, part in (("features", body[:split]), ("middle", body[split:]),
                                              ("classifier", head)) if part}
    return {"name": draw(st.sampled_from(["random", "alexnet", "alexnet_paper"])),  # the seed pages read these
            "title": "Random network", "class_name": "Random", "input": shape, "num_classes": num_classes,
            "sections": sections}


def _accepted(data: dict):
    plain = json.loads(json.dumps(data))  # no shared lists, which YAML would write as anchors
    source = parse_source(yaml.safe_dump(plain, sort_keys=False).encode(), "spec/random.yaml")
    spec, problems = validate_source(source)
    if spec is None or problems:
        return None
    try:
        return analyse(spec)
    except SpecError:
        return None


def _module(analysis):
    from alexnet.codegen import render_model

    namespace: dict = {}
    exec(compile(render_model(analysis), "random.py", "exec"), namespace)  # our own generated code
    return namespace[analysis.spec.class_name]()


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                HealthCheck.data_too_large])
@given(networks())
def test_what_validate_accepts_builds_trains_and_publishes(data):
    analysis = _accepted(data)
    assume(analysis is not None)
    assert not list(VALIDATOR.iter_errors(data)), "accepted by validate, refused by spec/schema.json"

    model = _module(analysis).train()
    shapes = {}
    for row in analysis.rows:
        if row.path and not (len(row.path) == 1 and row.layer.functional):  # add, concat, torch.flatten: no module
            module = model.get_submodule(".".join(map(str, row.path)))
            module.register_forward_hook(lambda m, i, o, name=row.name: shapes.__setitem__(name, tuple(o.shape[1:])))
    x = torch.randn(2, *analysis.input)
    before = x.clone()
    y = model(x)
    assert tuple(y.shape) == (2, analysis.spec.num_classes) and torch.isfinite(y).all()
    assert torch.equal(x, before), "the model overwrote its input"
    y.float().pow(2).sum().backward()
    assert shapes == {r.name: r.output for r in analysis.rows if r.name in shapes}

    others = [a for a in BUNDLED if a.spec.name != analysis.spec.name]  # the site reads the specs together
    files = {**spec_artifacts(analysis), **project_artifacts([*others, analysis])}
    assert all(isinstance(text, str) and text for text in files.values())


@pytest.mark.parametrize("path", sorted((ROOT / "spec").glob("*.yaml")), ids=lambda p: p.stem)
def test_bundled_specs_are_valid_under_the_schema(path):
    assert not list(VALIDATOR.iter_errors(yaml.safe_load(path.read_text())))


def test_the_schema_states_bounds_the_way_json_schema_reads_them():
    refused = {"kind": "dropout", "name": "d", "p": 1.5}
    layer_schema = {"$defs": SCHEMA["$defs"], **SCHEMA["$defs"]["Dropout"]}
    assert list(jsonschema.Draft202012Validator(layer_schema).iter_errors(refused))

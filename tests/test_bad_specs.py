"""Bad specs are refused cleanly: exit 2, one exact ``file:line:col: message`` line per problem, nothing touched.

Every spec in ``tests/bad_specs/`` (plus the few below that are made here: huge, binary, not UTF-8) goes
through the three entry points, ``python -m alexnet validate``, ``python -m alexnet summary`` and
``python -m tools.generate``, in a throw-away copy of the repository. ``tests/bad_specs/expected.yaml``
holds the exact stderr lines; the copy's files must be byte-identical before and after.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from alexnet.analysis import analyse
from alexnet.source import MAX_SPEC_BYTES, SpecError
from alexnet.spec import load_spec
from tests.conftest import ROOT, copy_repo
from tools.bench.gen_bench import synthetic_spec

CORPUS = Path(__file__).parent / "bad_specs"
EXPECTED: dict[str, list[str]] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
SMALL_SPEC = b"""name: %s
title: Bad spec
class_name: Net
input: [3, 32, 32]
num_classes: 10
sections:
  classifier:
    - {name: fc1, kind: linear, out_features: 10}
"""


def generated_cases() -> dict[str, bytes]:
    """Inputs that are better made than committed: a 20 MB file and bytes that are not UTF-8 text."""
    return {
        "huge_file": SMALL_SPEC % b"huge_file" + b"# padding\n" * 2_000_000,  # 20 MB
        "not_utf8": (SMALL_SPEC % b"not_utf8").replace(b"Bad spec", "Café".encode("latin-1")),
        "utf16": (SMALL_SPEC % b"utf16").decode().encode("utf-16"),
        "binary_png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 16,
        "binary_nul": SMALL_SPEC % b"binary_nul" + b"\x00" * 64,
        "too_many_layers": synthetic_spec(2001).replace("name: deep2001", "name: too_many_layers").encode(),
    }


def corpus() -> dict[str, bytes]:
    cases = {p.stem: p.read_bytes() for p in sorted(CORPUS.glob("*.yaml")) if p.name != "expected.yaml"}
    return {**cases, **generated_cases()}


CASES = sorted(corpus())


def test_corpus_is_complete():
    assert len(CASES) >= 30
    assert sorted(EXPECTED) == CASES, "every bad spec needs its expected lines in tests/bad_specs/expected.yaml"
    assert len(generated_cases()["huge_file"]) >= 20_000_000 > MAX_SPEC_BYTES
    for name, lines in EXPECTED.items():
        assert lines, name
        assert all(line.startswith(f"spec/{name}.yaml:") for line in lines), name


def tree_digest(root: Path) -> dict[str, str]:
    """Path -> sha256 (and mode) of every file under ``root``: any write, creation or removal shows."""
    digest = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() or path.is_symlink():
            data = path.read_bytes() if path.is_file() else os.readlink(path).encode()
            digest[path.relative_to(root).as_posix()] = f"{hashlib.sha256(data).hexdigest()} {path.lstat().st_mode:o}"
    return digest


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("bad_specs") / "repo")


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    # No bytecode caches: they would be files written into the copy.
    env = {**os.environ, "PYTHONPATH": str(cwd), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("case", CASES)
def test_bad_spec_is_refused_cleanly(case, repo):
    spec = repo / "spec" / f"{case}.yaml"
    spec.write_bytes(corpus()[case])
    try:
        before = tree_digest(repo)
        commands = {
            "validate": ("-m", "alexnet", "validate", f"spec/{case}.yaml"),
            "summary": ("-m", "alexnet", "summary", f"spec/{case}.yaml"),
            "generate": ("-m", "tools.generate"),
        }
        for command, args in commands.items():
            result = run(repo, *args)
            assert "Traceback" not in result.stderr, f"{command}:\n{result.stderr}"
            assert result.stderr.splitlines() == EXPECTED[case], f"{command} printed:\n{result.stderr}"
            assert result.returncode == 2, f"{command} exited {result.returncode}"
            assert result.stdout == "", f"{command} printed to stdout:\n{result.stdout}"
        assert tree_digest(repo) == before, "a bad spec changed files in the repository"
    finally:
        spec.unlink()


def test_problems_are_reported_in_file_order_and_each_once():
    for case, lines in EXPECTED.items():
        positions = [tuple(int(n) for n in line.split(":")[1:3]) for line in lines]
        assert positions == sorted(positions), case
        assert len(set(lines)) == len(lines), case


def test_problems_inside_a_layer_name_the_layer():
    """Anything located inside ``sections`` says which layer (or section) it is about."""
    for case in CASES:
        path = CORPUS / f"{case}.yaml"
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for line in EXPECTED[case]:
            row = int(line.split(":")[1])
            in_layer = row <= len(text) and text[row - 1].lstrip().startswith("- {")
            if in_layer and "YAML" not in line and "duplicate key" not in line and "YAML tag" not in line:
                assert "layer " in line or "section " in line, line


def test_parameter_limit_is_configurable(tmp_path):
    """The limit is applied by the analysis (pure Python), before a model or a tensor exists."""
    alexnet = load_spec(ROOT / "spec/alexnet.yaml", "spec/alexnet.yaml")
    with pytest.raises(SpecError) as error:
        analyse(alexnet, max_params=60_000_000)
    assert str(error.value).startswith("spec/alexnet.yaml:")
    assert str(error.value).endswith(":7: layer 'fc3' (classifier[6]): the network reaches 62,378,344 parameters here, "
                                     "over the limit of 60,000,000 (see --max-params)")
    assert analyse(alexnet, max_params=62_378_344).total_params == 62_378_344

    refused = run(ROOT, "-m", "alexnet", "validate", "spec/alexnet.yaml", "--max-params", "60000000")
    assert refused.returncode == 2 and "over the limit of 60,000,000" in refused.stderr
    big = tmp_path / "too_many_parameters.yaml"
    big.write_bytes((CORPUS / "too_many_parameters.yaml").read_bytes())
    accepted = run(ROOT, "-m", "alexnet", "summary", str(big), "--max-params", "50000000000")
    assert accepted.returncode == 0, accepted.stderr
    assert "Total params: 40,001,300,010" in accepted.stdout


def test_generator_validates_every_spec_before_writing(repo):
    """A good spec with pending changes is not written while another spec is bad: all or nothing."""
    good = repo / "spec" / "alexnet.yaml"
    original = good.read_bytes()
    bad = repo / "spec" / "zz_bad.yaml"
    good.write_bytes(original.replace(b"out_channels: 96", b"out_channels: 64"))
    bad.write_bytes(SMALL_SPEC.replace(b"out_features: 10", b"out_features: 0") % b"zz_bad")
    try:
        before = tree_digest(repo)
        result = run(repo, "-m", "tools.generate")
        assert result.returncode == 2 and result.stderr == (
            "spec/zz_bad.yaml:8:47: layer 'fc1' (classifier[0]): out_features: must be greater than 0, got 0\n")
        assert tree_digest(repo) == before
        bad.unlink()
        result = run(repo, "-m", "tools.generate")
        assert result.returncode == 0 and "wrote alexnet/models/alexnet.py" in result.stdout, result.stderr
    finally:
        good.write_bytes(original)
        bad.unlink(missing_ok=True)
        run(repo, "-m", "tools.generate")


def test_a_plain_date_is_text_not_a_refused_tag(tmp_path):
    """YAML 1.1 reads ``2012-09-30`` as a date; a spec keeps it as the text it looks like."""
    path = tmp_path / "dated.yaml"
    path.write_bytes(SMALL_SPEC.replace(b"title: Bad spec", b"title: 2012-09-30") % b"dated")
    assert load_spec(path).title == "2012-09-30"
    path.write_bytes(SMALL_SPEC.replace(b"title: Bad spec", b"title: !!timestamp 2012-09-30") % b"dated")
    with pytest.raises(SpecError, match=r":2:8: the YAML tag !!timestamp is not allowed"):
        load_spec(path)

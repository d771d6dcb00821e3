"""Rules whose truth lives in torch or on disk, checked against it rather than against our own lists."""

from __future__ import annotations

import os
import subprocess
import sys

from torch import nn

from alexnet.spec import RESERVED_SECTIONS
from tests.conftest import ROOT


def test_reserved_section_names_are_every_public_module_attribute():
    public = {name for name in [*dir(nn.Module), *vars(nn.Module())] if not name.startswith("_")}
    assert public - {"T_destination"} <= RESERVED_SECTIONS, sorted(public - RESERVED_SECTIONS)


def _generate(root, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.generate", "--root", str(root), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_which_files_in_spec_are_specs(repo_copy):
    """Editor lock files and hidden files are not specs; a .yml file, a looping link and a file outside spec/
    get one clear line each, exit 2, and nothing is written."""
    spec = repo_copy / "spec"
    os.symlink("nobody@host.1234:1700000000", spec / ".#alexnet.yaml")  # how Emacs marks an unsaved buffer
    (spec / ".hidden.yaml").write_text("not: [a spec")
    assert _generate(repo_copy, "--check").returncode == 0

    (spec / "copy.yml").write_text((spec / "alexnet.yaml").read_text().replace("name: alexnet", "name: copy"))
    os.symlink("loop.yaml", spec / "loop.yaml")
    before = {p: p.read_bytes() for p in (repo_copy / "docs/generated").rglob("*") if p.is_file()}
    result = _generate(repo_copy)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith("spec/copy.yml:1:1: a spec file's name ends in .yaml") for line in lines), lines
    assert any(line.startswith("spec/loop.yaml:1:1: cannot read the spec") for line in lines), lines
    (spec / "copy.yml").unlink()
    (spec / "loop.yaml").unlink()

    elsewhere = repo_copy / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "alexnet.yaml").write_text((spec / "alexnet_paper.yaml").read_text().replace(
        "name: alexnet_paper", "name: alexnet"))
    result = _generate(repo_copy, str(elsewhere / "alexnet.yaml"))
    assert result.returncode == 2 and "the generator writes files only for the specs there" in result.stderr
    after = {p: p.read_bytes() for p in (repo_copy / "docs/generated").rglob("*") if p.is_file()}
    assert after == before

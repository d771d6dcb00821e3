"""A non-editable install works away from the checkout: bundled specs and models found, no `tools` package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest


@pytest.mark.slow
def test_installed_wheel_finds_its_specs_from_another_directory(tmp_path, repo_copy):
    wheels, target, elsewhere = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                    str(repo_copy)], check=True, timeout=300, capture_output=True)  # a copy: the build leaves build/
    wheel = next(wheels.glob("*.whl"))
    top_level = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert "tools" not in top_level and "alexnet" in top_level
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, timeout=300, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target)}  # ahead of the checkout's editable install

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=elsewhere, env=env, capture_output=True, text=True,
                              timeout=300)

    summary = run("-m", "alexnet", "summary", "alexnet", "--json")
    assert summary.returncode == 0, summary.stderr
    assert json.loads(summary.stdout)["total"]["params"] == 62_378_344
    program = ("import alexnet; m = alexnet.load_model('alexnet_torchvision'); "
               "print(alexnet.__file__); print(sum(p.numel() for p in m.parameters()))")
    loaded = run("-c", program)
    assert loaded.returncode == 0, loaded.stderr
    where, params = loaded.stdout.split()
    assert where.startswith(str(target)) and int(params) == 61_100_840

"""All-or-nothing generation: a generator killed mid-write leaves every file old or new, never partial.

The kill test runs the real generator in a child process whose ``os.fdopen`` is wrapped so that, after
``N`` complete files, the next write stops halfway and waits; the test then SIGKILLs it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import run_python
from tools import generate

CHILD = r"""
import os, sys, time
import tools.generate

complete = int(sys.argv[1])
real_fdopen = os.fdopen
opened = 0


class HalfWriter:
    # Writes half the content, says so, then hangs until killed.
    def __init__(self, handle):
        self.handle = handle
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return self.handle.__exit__(*exc)
    def write(self, data):
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        os.fsync(self.handle.fileno())
        print("mid-write", flush=True)
        time.sleep(600)


def fdopen(fd, *args, **kwargs):
    global opened
    opened += 1
    handle = real_fdopen(fd, *args, **kwargs)
    return handle if opened <= complete else HalfWriter(handle)


os.fdopen = fdopen
sys.exit(tools.generate.main([]))
"""


def _edit_spec(root: Path) -> None:
    """A change that rewrites several generated files (model, tables, diagrams)."""
    spec = root / "spec" / "alexnet.yaml"
    text = spec.read_text()
    assert "out_channels: 96" in text
    spec.write_text(text.replace("out_channels: 96", "out_channels: 64", 1))


def _contents(root: Path, rels) -> dict[str, bytes | None]:
    return {rel: (root / rel).read_bytes() if (root / rel).exists() else None for rel in rels}


def _temp_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob(generate.TEMP_PATTERN) if ".venv" not in p.parts)


def _kill_mid_write(root: Path, complete: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(complete)], cwd=root, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    watchdog = threading.Timer(120, child.kill)  # never hang the suite if the child never gets there
    watchdog.start()
    try:
        line = child.stdout.readline()
        assert line == "mid-write\n", f"the generator did not reach file {complete + 1}: {line!r} {child.stderr.read()}"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL
    finally:
        watchdog.cancel()
        child.stdout.close()
        child.stderr.close()


@pytest.mark.parametrize("complete", [0, 2])
def test_killed_generator_leaves_every_file_old_or_new(repo_copy, complete):
    _edit_spec(repo_copy)
    planned = generate.plan(repo_copy).files
    pending = [rel for rel, _why in generate.stale(repo_copy, planned)]
    assert len(pending) > complete + 1, pending
    old = _contents(repo_copy, planned)
    new = {rel: content.encode() for rel, content in planned.items()}

    _kill_mid_write(repo_copy, complete)

    now = _contents(repo_copy, planned)
    for rel in planned:
        assert now[rel] in (old[rel], new[rel]), f"{rel} is neither the old nor the new version"
    written = [rel for rel in pending if now[rel] == new[rel]]
    assert written == pending[:complete], "files are written one by one, in plan order"
    (temp,) = _temp_files(repo_copy)  # the half-written one, beside its target, never under the target's name
    target = pending[complete]
    assert temp.parent == (repo_copy / target).parent and temp.name.startswith(f".{Path(target).name}.")
    assert 0 < len(temp.read_bytes()) < len(new[target]) and new[target].startswith(temp.read_bytes())

    # --check still works: it names the stale files, not the temporary one.
    check = run_python("-m", "tools.generate", "--check", cwd=repo_copy)
    assert check.returncode == 1, check.stdout + check.stderr
    named = sorted(line.split(": ", 1)[1] for line in check.stdout.splitlines())
    assert named == sorted(pending[complete:]), check.stdout

    # The next run finishes the job and, once it is clearly abandoned, removes the temporary file.
    past = time.time() - 10 * generate.TEMP_GRACE_S
    os.utime(temp, (past, past))
    rerun = run_python("-m", "tools.generate", cwd=repo_copy)
    assert rerun.returncode == 0, rerun.stderr
    assert _temp_files(repo_copy) == []
    assert _contents(repo_copy, planned) == new
    assert run_python("-m", "tools.generate", "--check", cwd=repo_copy).returncode == 0


def test_a_young_temporary_file_is_left_alone(tmp_path):
    """It may belong to a generator running right now (say `make serve`'s hook)."""
    young = tmp_path / "docs" / ".parameters.md.abc123.tmp"
    old = tmp_path / "docs" / ".facts.md.def456.tmp"
    young.parent.mkdir()
    young.write_text("partial")
    old.write_text("partial")
    past = time.time() - 10 * generate.TEMP_GRACE_S
    os.utime(old, (past, past))
    assert generate.leftover_temp_files(tmp_path, ["docs/parameters.md"]) == [old]


def test_write_atomic_mode_and_failure(tmp_path, monkeypatch):
    target = tmp_path / "sub" / "out.md"
    generate.write_atomic(target, "first\n")
    umask = os.umask(0)
    os.umask(umask)
    assert target.read_text() == "first\n" and target.stat().st_mode & 0o777 == 0o666 & ~umask

    def refuse(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        generate.write_atomic(target, "second\n")
    assert target.read_text() == "first\n"
    assert list(target.parent.iterdir()) == [target], "a failed write leaves no temporary file"


def test_concurrent_generators_after_a_spec_was_deleted(repo_copy):
    """Two generators at once (say `make serve`'s hook and a terminal) both remove the deleted spec's files:
    neither fails, and the tree ends up exactly as one run leaves it, its folder and old temporary files gone."""
    spec = repo_copy / "spec"
    for round_ in range(4):
        name = f"extra{round_}"
        (spec / f"{name}.yaml").write_text((spec / "alexnet.yaml").read_text().replace("name: alexnet\n",
                                                                                      f"name: {name}\n"))
        assert run_python("-m", "tools.generate", cwd=repo_copy).returncode == 0
        folder = repo_copy / "docs/generated" / name
        stale_temp = folder / ".parameters.md.abc123.tmp"
        stale_temp.write_text("partial")
        past = time.time() - 10 * generate.TEMP_GRACE_S
        os.utime(stale_temp, (past, past))
        (spec / f"{name}.yaml").unlink()
        runs = [subprocess.Popen([sys.executable, "-m", "tools.generate"], cwd=repo_copy, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(repo_copy)})
                for _ in range(2)]
        results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
        assert all(code == 0 for code, _ in results), results
        assert not folder.exists() and not (repo_copy / f"alexnet/models/{name}.py").exists()
    assert run_python("-m", "tools.generate", "--check", cwd=repo_copy).returncode == 0

"""Executed notebooks for the site, kept off the critical path of `mkdocs serve`.

mkdocs-jupyter executes a notebook while it renders the page, and keys its cache on the notebook text only.
Here `python -m tools.notebook_run` executes the notebooks into a folder named after what they read (the specs
and the library code), in the plugin's own cache format, and the plugin is pointed at that folder, so it
renders from a cache hit and never executes anything itself:
- `mkdocs build`: the run happens first and the build waits for it (a failing cell fails the build);
- `mkdocs serve`: the run happens in the background. Until it is done the page shows the newest earlier
  outputs (or the notebook without outputs) under a notice; the run's "finished" marker is in a watched
  folder, so its end triggers the rebuild that shows the fresh outputs.

Everything lives under RUNS; a run folder is removed only by this module (a superseded run, or an older result
once a newer one is complete), and a process is stopped only if this module started it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

RUNS = Path(".cache") / "notebook-runs"   # relative to the repository root
FINISHED = "finished"                       # RUNS/finished/<digest>: written last by each run; watched by serve
DIGEST_CHARS = 16
RUN_TIMEOUT_S = 1800


def digest(root: Path, notebooks: list[Path]) -> str:
    """The notebooks and what they read: every spec and the library code (the generated models included)."""
    h = hashlib.sha256()
    for path in sorted([*root.glob("spec/*.yaml"), *root.glob("alexnet/**/*.py"), *notebooks]):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:DIGEST_CHARS]


@dataclass
class Notebooks:
    """The site's notebooks and the plugin that renders them, for one build."""

    root: Path
    plugin: object           # the mkdocs-jupyter plugin instance of this build's config
    paths: list[Path]        # absolute paths of the notebooks the plugin turns into pages

    @classmethod
    def of(cls, config, root: Path) -> Notebooks | None:
        plugin = config.plugins.get("mkdocs-jupyter")
        if plugin is None or not plugin.config["execute"]:
            return None
        docs = Path(config["docs_dir"])
        paths = sorted(p for p in docs.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
                       and any(p.match(pattern) for pattern in plugin.config["include"]))
        return cls(root, plugin, paths) if paths else None

    def digest(self) -> str:
        return digest(self.root, self.paths)

    @property
    def runs(self) -> Path:
        return self.root / RUNS

    def cache_files(self, folder: Path) -> list[Path]:
        """The files the plugin reads for a hit in ``folder`` (its key: notebook text and render options)."""
        from mkdocs_jupyter.plugin import _compute_cache_key, _get_cache_path

        return [_get_cache_path(folder, _compute_cache_key(str(p), self.plugin.config, True)) for p in self.paths]

    def complete(self, folder: Path) -> bool:
        return all(f.is_file() for f in self.cache_files(folder))

    def failure(self, folder: Path) -> str | None:
        failed = folder / "failed.txt"
        return failed.read_text(encoding="utf-8").strip() if failed.is_file() else None

    def use(self, folder: Path | None) -> None:
        """Render from ``folder`` (a cache hit there), or, with None, without outputs and without executing."""
        if folder is None:
            self.plugin.config.update(execute=False, cache=False)
        else:
            self.plugin.config.update(cache=True, cache_dir=str(folder))

    def earlier_result(self, current: str) -> Path | None:
        """The newest complete run of other specs: shown, under a notice, while the current one runs."""
        done = [(m.stat().st_mtime, self.runs / m.name) for m in (self.runs / FINISHED).glob("*")
                if m.name != current and self.complete(self.runs / m.name)]
        return max(done)[1] if done else None

    def job(self, key: str) -> Path:
        """Write the runner's job file for run ``key`` and return it."""
        folder = self.runs / key
        folder.mkdir(parents=True, exist_ok=True)
        (self.runs / FINISHED).mkdir(exist_ok=True)
        keys = ("kernel_name", "theme", "allow_errors", "show_input", "no_input", "no_prompt", "remove_tag_config",
                "highlight_extra_classes", "include_requirejs", "custom_mathjax_url")
        job = {"options": {k: self.plugin.config[k] for k in keys}, "toc_depth": self.plugin.config["toc_depth"],
               "notebooks": [[str(p), str(f)] for p, f in zip(self.paths, self.cache_files(folder), strict=True)],
               "finished": str(self.runs / FINISHED / key), "digest": key}
        path = self.runs / f"{key}.job.json"  # not in the folder: the plugin evicts any other JSON file there
        path.write_text(json.dumps(job, indent=1), encoding="utf-8")
        return path

    def forget_others(self, keep: str, markers: bool) -> None:
        """Remove the runs other than ``keep``: their folders and logs, and with ``markers`` their finished
        markers too (never under serve: that folder is watched, a removal would trigger one more rebuild)."""
        for folder in list(self.runs.glob("*")):
            name = folder.name.split(".")[0]  # <digest>, <digest>.log, <digest>.job.json
            if name != keep and len(name) == DIGEST_CHARS and all(c in "0123456789abcdef" for c in name):
                if folder.is_dir():
                    shutil.rmtree(folder, ignore_errors=True)
                else:
                    folder.unlink(missing_ok=True)
        for marker in list((self.runs / FINISHED).glob("*")) if markers else []:
            if marker.name != keep and not (self.runs / marker.name).is_dir():
                marker.unlink(missing_ok=True)


def run_now(notebooks: Notebooks, key: str) -> str | None:
    """Execute the notebooks for run ``key`` and wait; None on success, else what failed."""
    done = subprocess.run([sys.executable, "-m", "tools.notebook_run", str(notebooks.job(key))], cwd=notebooks.root,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    if done.returncode == 0 and notebooks.complete(notebooks.runs / key):
        notebooks.forget_others(key, markers=True)
        return None
    return notebooks.failure(notebooks.runs / key) or (done.stderr.strip() or f"exit status {done.returncode}")


class Background:
    """The one background run `mkdocs serve` may have going: for the current specs, or none."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.process: subprocess.Popen | None = None

    def ensure(self, notebooks: Notebooks, key: str) -> None:
        """Start run ``key`` unless it is already going or finished; stop a run for specs that are gone."""
        if self.key == key and self.process is not None and self.process.poll() is None:
            return
        self.stop(notebooks)
        log = (notebooks.runs / key).with_suffix(".log")
        job = notebooks.job(key)
        with log.open("w") as out:  # the kernel's chatter stays out of the reader's terminal
            self.process = subprocess.Popen([sys.executable, "-m", "tools.notebook_run", str(job), "--background"],
                                            cwd=notebooks.root, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self.key = key

    def finished(self, notebooks: Notebooks, key: str) -> bool:
        return (notebooks.runs / FINISHED / key).is_file()

    def stop(self, notebooks: Notebooks | None = None) -> None:
        """Stop our run (its whole process group: the kernel too) and drop its unfinished folder."""
        process, key = self.process, self.key
        self.process = self.key = None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if notebooks is not None and key and not self.finished(notebooks, key):
            shutil.rmtree(notebooks.runs / key, ignore_errors=True)
            for suffix in (".log", ".job.json"):
                (notebooks.runs / f"{key}{suffix}").unlink(missing_ok=True)

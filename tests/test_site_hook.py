"""The MkDocs hook's two modes and the notebook runner, without a server: a bad spec fails `mkdocs build` with
its lines and no traceback; under serve the same spec leaves the last good files, and every page gets the lines
in a failure admonition; the notebook runner writes mkdocs-jupyter's cache format, over an encrypted kernel
transport (no "unencrypted TCP" warning)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.conftest import ROOT, run_python
from tests.site_helpers import mkdocs_env

pytestmark = pytest.mark.xdist_group("site-hook")

BROKEN = ("out_channels: 96,", "out_channels: -3,")  # conv1 of spec/alexnet.yaml, made invalid
PROBLEM = re.compile(r"spec/alexnet\.yaml:\d+:\d+: .*out_channels")


def _break(repo: Path) -> None:
    spec = repo / "spec" / "alexnet.yaml"
    spec.write_text(spec.read_text().replace(*BROKEN, 1))


def test_build_fails_on_a_bad_spec_with_its_lines_and_no_traceback(repo_copy: Path):
    _break(repo_copy)
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(repo_copy / "site")],
                          cwd=repo_copy, env=mkdocs_env(repo_copy), capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert PROBLEM.search(done.stderr), done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]


def test_under_serve_a_bad_spec_keeps_the_last_good_files_and_every_page_shows_it(repo_copy: Path):
    script = r"""
import json
from pathlib import Path
from mkdocs.config import load_config

config = load_config("mkdocs.yml")
config.plugins.on_startup(command="serve", dirty=False)
model = Path("alexnet/models/alexnet.py").read_text()
spec = Path("spec/alexnet.yaml")
spec.write_text(spec.read_text().replace("out_channels: 96,", "out_channels: -3,", 1))
config = config.plugins.on_config(config)           # must not raise
page = type("Page", (), {"file": type("File", (), {"src_path": "index.md"})()})()
hook = next(p for p in config.plugins.values() if getattr(p, "__file__", "").endswith("mkdocs_hook.py"))
html = hook.on_page_content("<h1>Home</h1>", page=page, config=config, files=None)
print(json.dumps({"kept": Path("alexnet/models/alexnet.py").read_text() == model, "html": html}))
"""
    done = run_python("-c", script, cwd=repo_copy)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["kept"], "the generator wrote files from a bad spec"
    html = out["html"]
    assert html.startswith('<div class="admonition failure">') and html.endswith("<h1>Home</h1>")
    assert PROBLEM.search(html)
    assert PROBLEM.search(done.stderr) and "Traceback" not in done.stderr  # the terminal: the same lines


def test_notebook_runner_writes_the_plugins_cache_over_an_encrypted_kernel(tmp_path: Path):
    notebook = tmp_path / "n.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"),
                                         nbformat.v4.new_code_cell("print(6 * 7)")])
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nbformat.write(nb, notebook)
    cache, finished = tmp_path / "run" / "key.json", tmp_path / "finished" / "key"
    options = {"kernel_name": "", "theme": "", "allow_errors": False, "show_input": True, "no_input": False,
               "no_prompt": False, "remove_tag_config": {}, "highlight_extra_classes": "",
               "include_requirejs": False, "custom_mathjax_url": ""}
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"options": options, "toc_depth": 6, "notebooks": [[str(notebook), str(cache)]],
                               "finished": str(finished)}))
    done = run_python("-m", "tools.notebook_run", str(job))
    assert done.returncode == 0, done.stderr
    assert "without encryption" not in done.stdout + done.stderr
    result = json.loads(cache.read_text())
    assert set(result) == {"content", "toc_tokens", "title"} and result["title"] == "Title"
    assert "42" in result["content"]
    assert finished.read_text().strip() == "0"


def test_a_failing_notebook_is_reported_and_still_marks_its_run_finished(tmp_path: Path):
    notebook = tmp_path / "n.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise ValueError('no such layer')")])
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nbformat.write(nb, notebook)
    run = tmp_path / "run"
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"options": {"allow_errors": False}, "toc_depth": 6,
                               "notebooks": [[str(notebook), str(run / "key.json")]],
                               "finished": str(tmp_path / "finished" / "key")}))
    done = run_python("-m", "tools.notebook_run", str(job))
    assert done.returncode == 1
    assert "no such layer" in (run / "failed.txt").read_text()
    assert not (run / "key.json").exists()
    assert (tmp_path / "finished" / "key").read_text().strip() == "1"


def test_a_run_whose_inputs_changed_while_it_ran_keeps_neither_outputs_nor_failure(tmp_path: Path):
    """Under serve, an edit during a run may leave the kernel with a spec of one version and a model of the
    other; such a run must not be cached as that digest's result (or failure), or the page stays stale."""
    from tools.site_notebooks import digest

    notebook = tmp_path / "n.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise ValueError('mixed versions')")])
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nbformat.write(nb, notebook)
    run = tmp_path / "run"
    job = {"options": {"allow_errors": False}, "toc_depth": 6, "notebooks": [[str(notebook), str(run / "key.json")]],
           "finished": str(tmp_path / "finished" / "key"), "digest": "0" * 16}  # not what the files hash to
    assert digest(tmp_path, [notebook]) != job["digest"]
    (tmp_path / "job.json").write_text(json.dumps(job))
    # run from the folder the notebook is in: the runner hashes its working directory's specs, code and notebooks
    done = subprocess.run([sys.executable, "-m", "tools.notebook_run", str(tmp_path / "job.json")], cwd=tmp_path,
                          env=mkdocs_env(ROOT), capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr
    assert "result is dropped" in done.stderr
    assert not (run / "failed.txt").exists() and not (run / "key.json").exists()
    assert (tmp_path / "finished" / "key").read_text().strip() == "3"  # still marked: serve rebuilds and retries

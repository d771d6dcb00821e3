"""Execute the site's notebooks into mkdocs-jupyter's cache format, outside the MkDocs process.

    python -m tools.notebook_run JOB.json [--background]

JOB.json (written by tools/site_notebooks.py): {"options": nb2html keyword arguments, "toc_depth": n,
"notebooks": [[notebook, cache file], ...], "finished": marker file, "digest": the run's key}. Each cache
file gets what the plugin itself would store after executing the notebook ({"content", "toc_tokens",
"title"}), so the plugin renders the page from it as a cache hit. A failing cell writes `failed.txt` beside
the cache files and exits 1. The marker file is written last, success or not: `mkdocs serve` watches its
folder to rebuild. A run whose inputs (the digest of specs, code and notebooks) changed while it ran keeps
neither outputs nor failure, and exits 3.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

# The kernel warns on stderr when its ZeroMQ sockets are unencrypted TCP. Jupyter's config in this folder asks
# the kernel manager for CurveZMQ keys ("auto": used when pyzmq has them, as here), so the warning's cause goes.
JUPYTER_CONFIG = Path(__file__).resolve().parent / "jupyter"
FAILED = "failed.txt"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def execute(notebook: Path, options: dict, toc_depth: int) -> dict:
    from mkdocs_jupyter import convert
    from mkdocs_jupyter.plugin import _get_nb_toc_tokens  # the plugin's own TOC, so a hit equals its render

    content = convert.nb2html(str(notebook), execute=True, **options)
    toc_tokens, title = _get_nb_toc_tokens(str(notebook), toc_depth)
    return {"content": content, "toc_tokens": toc_tokens, "title": title}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    if "--background" in args:
        os.nice(10)  # a reader's page rebuilds come first; the kernel inherits the priority
    os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        p for p in (str(JUPYTER_CONFIG), os.environ.get("JUPYTER_CONFIG_PATH", "")) if p)
    status = 0
    for _, cache_file in job["notebooks"]:  # a failure of an earlier try is not this run's
        (Path(cache_file).parent / FAILED).unlink(missing_ok=True)
    for notebook, cache_file in job["notebooks"]:
        try:
            result = execute(Path(notebook), job["options"], job["toc_depth"])
        except Exception as exc:  # a cell raised (or the kernel died): say which notebook, keep the cell's story
            message = f"{notebook}: {type(exc).__name__}: {exc}".strip()
            write_atomic(Path(cache_file).parent / FAILED, message + "\n")
            print(message, file=sys.stderr)
            status = 1
            break
        write_atomic(Path(cache_file), json.dumps(result))
    if job.get("digest") and _inputs_changed(job):
        # The specs or the code changed while the kernel ran (an edit under `mkdocs serve`): what it printed
        # may mix two versions, so neither its outputs nor its failure are kept for this digest.
        for _, cache_file in job["notebooks"]:
            Path(cache_file).unlink(missing_ok=True)
            (Path(cache_file).parent / FAILED).unlink(missing_ok=True)
        print("the inputs changed while the notebooks ran: this run's result is dropped", file=sys.stderr)
        status = 3
    write_atomic(Path(job["finished"]), str(status) + "\n")
    return status


def _inputs_changed(job: dict) -> bool:
    from tools.site_notebooks import digest

    return digest(Path.cwd(), [Path(notebook) for notebook, _ in job["notebooks"]]) != job["digest"]


if __name__ == "__main__":
    sys.exit(main())

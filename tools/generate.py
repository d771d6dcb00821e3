"""Regenerate every artifact of every spec: models, tables, diagrams, schema.

    python -m tools.generate [SPEC ...]    write what changed, print it
    python -m tools.generate --check       write nothing; exit 1 naming stale, missing or orphaned files

All specs are validated before anything is written (exit 2 on bad input, one line per problem); each
file is written atomically and only when its content changes, so `mkdocs serve` does not loop.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from alexnet.analysis import DEFAULT_MAX_PARAMS, Analysis
from alexnet.codegen import render_model
from alexnet.source import Problem, SpecError
from alexnet.spec import schema
from alexnet.validation import validate_file

from .render_comparison import render_comparison
from .render_experiments import experiment_artifacts
from .render_lineage import render_lineage
from .render_markdown import render_parameters
from .render_paper_table import load_table, render_paper_table
from .render_site import (
    render_facts,
    render_lrn_usage,
    render_seed_errors,
    render_spec_page,
    render_spec_reference,
)
from .render_training import training_artifacts
from .render_tutorial import render_tutorial, render_tutorial_residual
from .svg import render_compact, render_detailed
from .templating import header

ROOT = Path(__file__).resolve().parent.parent
MARKER = "by `python -m tools.generate`; do not edit"
GENERATED_DIRS = ("alexnet/models", "docs/generated")
# write_atomic's temporary files: ".<name>.<random>.tmp" beside the target. One left by a killed run is
# removed by the next run once it is older than TEMP_GRACE_S (a younger one may belong to a live run).
TEMP_PATTERN = ".*.tmp"
TEMP_GRACE_S = 60
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read the umask (there is no getter) so new files get the usual 0o644-style mode


def spec_artifacts(analysis: Analysis, root: Path = ROOT) -> dict[str, str]:
    """Files generated from one spec, by path relative to the repository root (with the paper's own table
    beside ours when spec/tables/<name>.yaml has it)."""
    name = analysis.spec.name
    table = load_table(root, name)
    return {
        f"alexnet/models/{name}.py": render_model(analysis),
        f"docs/generated/{name}/parameters.md": render_parameters(analysis),
        f"docs/generated/{name}/architecture.svg": render_compact(analysis),
        f"docs/generated/{name}/architecture-detailed.svg": render_detailed(analysis),
        f"docs/generated/{name}/facts.md": render_facts(analysis),
        f"docs/generated/{name}/index.md": render_spec_page(analysis, table),
        **({f"docs/generated/{name}/paper-table.md": render_paper_table(analysis, table)} if table else {}),
        f"docs/generated/{name}/analysis.json": _json(
            {"$comment": header(analysis.spec, "").strip(), **analysis.as_dict()}),
    }


def project_artifacts(analyses: list[Analysis], root: Path = ROOT) -> dict[str, str]:
    """Files generated from all specs together (or from the code, like the schema); ``root`` holds the
    spec folder whose text the tutorial edits."""
    return {
        "spec/schema.json": _json({"$comment": header(None, "", "alexnet/spec.py").strip(), **schema()}),
        "docs/generated/spec-reference.md": render_spec_reference(schema()),
        "docs/generated/seed-errors.md": render_seed_errors(analyses),
        "docs/generated/lrn-usage.md": render_lrn_usage(analyses),
        "docs/generated/tutorial-change.md": render_tutorial(analyses),
        "docs/generated/tutorial-residual.md": render_tutorial_residual(analyses, root),
        "docs/generated/comparison.md": render_comparison(compared(analyses)),
        "docs/generated/lineage.md": render_lineage(analyses),
        **training_artifacts(),
    }


def compared(analyses: list[Analysis]) -> list[Analysis]:
    """The comparison page sets the AlexNet family side by side (the lineage page has every network)."""
    return [a for a in analyses if a.spec.family in ("AlexNet", "")]


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def spec_paths(root: Path) -> list[Path]:
    """The spec files: spec/*.yaml and spec/*.yml (refused when read: see load_spec), skipping hidden
    files such as an editor's lock file (``.#alexnet.yaml``) and anything that is not a file."""
    folder = root / "spec"
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith(".")
                  and (p.is_file() or not p.exists()))  # a dangling or looping link is reported when read


def load_all(paths: list[Path], root: Path, max_params: int = DEFAULT_MAX_PARAMS) -> list[Analysis]:
    """Validate and analyse every spec; raise one SpecError listing the problems of all of them."""
    analyses, problems = [], []
    for path in paths:
        try:
            analyses.append(validate_file(path, _shown(path, root), max_params))
        except SpecError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SpecError(problems)
    return analyses


def _shown(path: Path, root: Path) -> str:
    return os.path.relpath(path, root) if _inside(path, root) else str(path)


def _inside(path: Path, folder: Path) -> bool:
    # os.path.abspath: Path.resolve raises on a symlink loop, and a link's target does not matter here
    return os.path.commonpath([os.path.abspath(path), os.path.abspath(folder)]) == os.path.abspath(folder)


def _outside_spec_folder(paths: list[Path], root: Path) -> list[Problem]:
    """The generator names artefacts after specs in spec/; another file would overwrite a bundled spec's."""
    return [Problem(str(p), 1, 1, f"not in {root / 'spec'}: the generator writes files only for the specs "
                                  "there (copy it into spec/ under its own name)")
            for p in paths if os.path.dirname(os.path.abspath(p)) != os.path.abspath(root / "spec")]


@dataclass
class Plan:
    files: dict[str, str]
    orphans: list[str] = field(default_factory=list)


def plan(root: Path = ROOT, paths: list[Path] | None = None, max_params: int = DEFAULT_MAX_PARAMS) -> Plan:
    """Everything the generator would write: the files of the chosen specs (all by default) and the shared
    files (comparison, schema, ...), which always read every spec in spec/ so they never go stale.
    Orphans are looked for only when all specs are planned."""
    everything = paths is None
    if problems := _outside_spec_folder(paths or [], root):
        raise SpecError(problems)
    bundled = spec_paths(root)
    all_analyses = load_all(bundled, root, max_params)
    chosen_names = {p.stem for p in paths} if paths is not None else None
    files: dict[str, str] = {}
    for analysis in all_analyses:
        if chosen_names is None or analysis.spec.name in chosen_names:
            files.update(spec_artifacts(analysis, root))
    files.update(project_artifacts(all_analyses, root))
    files.update(experiment_artifacts(root))
    result = Plan(files)
    if everything:
        for path in _files_under(root, GENERATED_DIRS):
            rel = path.relative_to(root).as_posix()
            if not path.match(TEMP_PATTERN) and rel not in files and _is_generated(path):  # temporary: see below
                result.orphans.append(rel)
    return result


def _files_under(root: Path, folders: tuple[str, ...]) -> list[Path]:
    """Every file below ``folders``, sorted. os.walk skips a folder that another run removes meanwhile
    (pathlib's rglob raises then)."""
    return sorted(Path(top) / name for folder in folders for top, _dirs, names in os.walk(root / folder)
                  for name in names)


def _is_generated(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(400)
    except OSError:
        return False
    return MARKER.encode() in head


def stale(root: Path, files: dict[str, str]) -> list[tuple[str, str]]:
    """(path, 'stale' | 'missing') for every planned file whose content on disk differs."""
    out = []
    for rel, content in files.items():
        try:
            if (root / rel).read_bytes() != content.encode():
                out.append((rel, "stale"))
        except FileNotFoundError:  # also when another run removes it meanwhile
            out.append((rel, "missing"))
    return out


def write_atomic(path: Path, content: str) -> None:
    """Write via a temporary file in the same folder and rename: readers see old or new, never partial."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes it 0o600; generated files are as readable as any other
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def leftover_temp_files(root: Path, targets: list[str], grace_s: float = TEMP_GRACE_S) -> list[Path]:
    """Temporary files of an interrupted run (killed between creating and renaming one) beside ``targets``
    or anywhere in the generated folders (a deleted spec's folder included)."""
    beside = {path for rel in targets for path in _files_in((root / rel).parent)}
    return [path for path in sorted(beside | set(_files_under(root, GENERATED_DIRS)))
            if path.match(TEMP_PATTERN) and _older(path, grace_s)]


def _files_in(folder: Path) -> list[Path]:
    try:
        return [folder / name for name in os.listdir(folder)]
    except OSError:
        return []


def _older(path: Path, seconds: float) -> bool:
    try:
        return path.is_file() and time.time() - path.stat().st_mtime > seconds
    except FileNotFoundError:  # another run removed it meanwhile
        return False


def generate(root: Path = ROOT, paths: list[Path] | None = None, max_params: int = DEFAULT_MAX_PARAMS) -> list[str]:
    """Write what changed; return the changed (or removed) paths."""
    result = plan(root, paths, max_params)
    changed = []
    for leftover in leftover_temp_files(root, list(result.files)):
        leftover.unlink(missing_ok=True)
    for rel, _why in stale(root, result.files):
        write_atomic(root / rel, result.files[rel])
        changed.append(rel)
    for rel in result.orphans:
        (root / rel).unlink(missing_ok=True)  # a generator running at the same time may have removed it
        changed.append(rel)
    for folder in sorted({(root / rel).parent for rel in result.orphans}, reverse=True):
        with contextlib.suppress(OSError):  # a deleted spec's folder, once empty (not if anything else is there)
            folder.rmdir()
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.generate", description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", type=Path, help="spec files (default: every spec/*.yaml)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if any file is out of date")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (default: this checkout)")
    parser.add_argument("--max-params", type=int, default=DEFAULT_MAX_PARAMS, help="refuse larger networks")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    paths = args.specs or None
    try:
        if args.check:
            result = plan(root, paths, args.max_params)
            problems = stale(root, result.files) + [(rel, "orphaned (its spec is gone)") for rel in result.orphans]
            for rel, why in problems:
                print(f"{why}: {rel}")
            if problems:
                print(f"{len(problems)} generated file(s) out of date: run `python -m tools.generate`",
                      file=sys.stderr)
                return 1
            print(f"{len(result.files)} generated files up to date")
            return 0
        changed = generate(root, paths, args.max_params)
    except SpecError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    for rel in changed:
        print(f"wrote {rel}" if (root / rel).exists() else f"removed {rel}")
    if not changed:
        print("nothing changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

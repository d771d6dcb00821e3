"""The generator as the site's hook runs it: `python -m tools.generate` in its own interpreter.

A separate process, not an import: the hook's MkDocs process lives as long as `mkdocs serve`, and an imported
generator would keep the renderers and templates of the moment the server started (edits to tools/ would need
a restart, or a purge of sys.modules). The command line's contract is all the hook needs: exit 0 and a line
per written file, or exit 2 and one `file:line:col: message` line per problem (DESIGN.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

TIMEOUT_S = 300  # a spec near the size limit takes seconds; minutes mean something hangs


@dataclass
class Generation:
    changed: list[str] = field(default_factory=list)   # "wrote <path>" / "removed <path>" lines
    problems: list[str] = field(default_factory=list)  # one line each; empty when the specs are valid
    crash: str = ""                                      # the generator's own failure (a bug, not a bad spec)


def generate(root: Path) -> Generation:
    """Regenerate what changed; the generator validates every spec before it writes anything, so on a problem
    the files of the last good specs stay in place."""
    done = subprocess.run([sys.executable, "-m", "tools.generate"], cwd=root, capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)
    if done.returncode == 0:
        return Generation(changed=[line for line in done.stdout.splitlines() if line.startswith(("wrote ", "removed "))])
    if done.returncode == 2:
        return Generation(problems=[line for line in done.stderr.splitlines() if line.strip()])
    return Generation(crash=(done.stderr.strip() or done.stdout.strip() or f"exit status {done.returncode}"))


def spec_titles(root: Path) -> dict[str, tuple[str, str]]:
    """Spec name -> (title, family) for every spec page there is, read from the generated analysis.json (so a
    spec that is broken right now keeps the title of its last good version), in order of year. An empty title
    falls back to the name: a nav entry must be visible."""
    found = []
    for path in sorted(root.glob("docs/generated/*/analysis.json")):
        if (path.parent / "index.md").is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            title = str(data.get("title") or "").strip() or path.parent.name
            found.append((data.get("year") or 0, path.parent.name, title, str(data.get("family") or "Other")))
    return {name: (title, family) for _, name, title, family in sorted(found)}

"""What `mkdocs serve` tells a reader while the site is not current: an admonition on the page (Material's
`!!! failure` / `!!! info` markup, written as HTML so it fits Markdown and notebook pages alike) and the
same lines in the terminal."""

from __future__ import annotations

import html
import logging

SPEC_TITLE = "A spec is invalid: this page shows the site as it was built from the last valid specs"


def admonition(kind: str, title: str, text: str = "", lines: list[str] | None = None) -> str:
    """Material's admonition HTML; ``lines`` (file:line:col messages) verbatim in a code block."""
    body = f"<p>{html.escape(text)}</p>" if text else ""
    if lines:
        body += f"<pre><code>{html.escape(chr(10).join(lines))}</code></pre>"
    return f'<div class="admonition {kind}"><p class="admonition-title">{html.escape(title)}</p>{body}</div>\n'


def spec_problems(lines: list[str]) -> str:
    return admonition("failure", SPEC_TITLE, "Fix the lines below and save: the site rebuilds by itself.", lines)


def terminal() -> logging.Logger:
    """A logger beside MkDocs' own, formatted like it. Not under "mkdocs": `serve --strict` turns every
    warning there into an aborted build, and an aborted build leaves the server answering nothing, which is
    what these lines exist to avoid. `mkdocs build` does not use it: it fails with the same lines."""
    log = logging.getLogger("alexnet.site")
    if not log.handlers:
        handler = logging.StreamHandler()
        mkdocs = [h for h in logging.getLogger("mkdocs").handlers if type(h) is logging.StreamHandler and h.formatter]
        handler.setFormatter(mkdocs[0].formatter if mkdocs else logging.Formatter("%(levelname)-8s-  %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log

"""Citations: `[@key]` in a page becomes a numbered footnote that links to its entry in docs/bibliography.yaml.

Footnotes (Python-Markdown) give numbered links, Material's tooltips and a list placed where the page puts
`FOOTNOTES_MARKER` (its Bibliography section), so no citation machinery of our own runs in the browser.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from pathlib import Path

import yaml

BIBLIOGRAPHY = Path(__file__).resolve().parent.parent / "docs" / "bibliography.yaml"
# Where a page's footnotes go: footnotes' PLACE_MARKER in mkdocs.yml. Not the default "///Footnotes Go Here///",
# which a spec title may spell (slashes and letters are plain text) and which then pulls the bibliography into the
# spec list; spec text cannot hold "[" and the Markdown filter escapes it, so no spec text can spell this one.
FOOTNOTES_MARKER = "[[bibliography]]"
CITATION = re.compile(r"\[(@[\w-]+(?:\s*;\s*@[\w-]+)*)\]")  # [@a] or [@a; @b], may span lines
FENCE = re.compile(r"^\s*(```|~~~)")
FIELDS = {"authors", "title", "venue", "year", "volume", "pages", "doi", "url"}


class CitationError(ValueError):
    """A citation names no entry, or an entry is malformed."""


def load(path: Path = BIBLIOGRAPHY) -> dict[str, dict]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for key, entry in entries.items():
        missing = {"authors", "title", "venue"} - entry.keys()
        unknown = entry.keys() - FIELDS
        if missing or unknown:
            raise CitationError(f"{path.name}: entry {key!r}: missing {sorted(missing)}, unknown {sorted(unknown)}")
    return entries


def cited_keys(markdown: str) -> list[str]:
    """Keys cited outside code fences, in order of first appearance."""
    keys: list[str] = []
    for chunk, is_code in _chunks(markdown):
        if not is_code:
            for match in CITATION.finditer(chunk):
                keys.extend(k for k in _keys(match) if k not in keys)
    return keys


def link_citations(markdown: str, entries: dict[str, dict], where: str) -> str:
    """Replace every citation by footnote references and append one definition per cited entry."""
    keys = cited_keys(markdown)
    unknown = [k for k in keys if k not in entries]
    if unknown:
        raise CitationError(f"{where}: citation(s) without a bibliography entry: {', '.join(unknown)}")
    if not keys:
        return markdown
    text = "".join(chunk if is_code else CITATION.sub(_footnote_refs, chunk) for chunk, is_code in _chunks(markdown))
    definitions = [f"[^{key}]: {format_entry(entries[key])}" for key in keys]
    return text.rstrip("\n") + "\n\n" + "\n".join(definitions) + "\n"


def _footnote_refs(match: re.Match) -> str:
    # A superscript comma keeps [@a; @b] from reading as one number ("23" for 2 and 3).
    return "<sup>,</sup>".join(f"[^{key}]" for key in _keys(match))


def format_entry(entry: dict) -> str:
    """One reference as Markdown: authors, title, venue, volume, pages, year, link."""
    text = [_authors(entry["authors"]) + ".", f"*{_md(entry['title'])}*."]
    venue = _md(entry["venue"])
    if "volume" in entry:
        venue += f" {_md(entry['volume'])}"
    if "pages" in entry:
        venue += f", pp. {_md(entry['pages'])}"
    if "year" in entry:
        venue += f", {entry['year']}"
    text.append(venue + ".")
    if "doi" in entry:
        text.append(f"DOI [{_md(entry['doi'])}](https://doi.org/{entry['doi']}).")
    if "url" in entry:
        text.append(f"<{entry['url']}>")
    return " ".join(text)


def render_all(entries: dict[str, dict]) -> str:
    """The whole bibliography as a Markdown list with an anchor per entry."""
    return "\n".join(f"{i}. [](){{#ref-{key}}} {format_entry(entry)}"
                     for i, (key, entry) in enumerate(entries.items(), 1)) + "\n"


def _keys(match: re.Match) -> list[str]:
    return [part.strip().lstrip("@") for part in match.group(1).split(";")]


def _chunks(markdown: str) -> Iterable[tuple[str, bool]]:
    """The text in runs of lines, each flagged True inside a fenced code block (fence lines included)."""
    run: list[str] = []
    in_fence = False
    for line in markdown.splitlines(keepends=True):
        if FENCE.match(line) and not in_fence:
            if run:
                yield "".join(run), False
            run, in_fence = [line], True
        elif FENCE.match(line) and in_fence:
            run.append(line)
            yield "".join(run), True
            run, in_fence = [], False
        else:
            run.append(line)
    if run:
        yield "".join(run), in_fence


def _authors(names: list[str]) -> str:
    names = [_md(n) for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _md(text: object) -> str:
    return html.escape(re.sub(r"([\\`*_\[\]])", r"\\\1", str(text)), quote=False)

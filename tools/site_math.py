"""TeX to MathML at build time, so the site needs no MathJax and no request leaves its origin.

Wired in mkdocs.yml as a SuperFences custom fence (```math blocks) and an InlineHilite custom inline
(`#!math ...`); the browser renders MathML natively.
"""

from __future__ import annotations

from latex2mathml.converter import convert


def block(source: str, language: str, class_name: str, options: dict, md, **kwargs) -> str:
    """A displayed formula: ```math fence -> <math display="block">."""
    return f'<div class="{class_name}">{convert(source.strip(), display="block")}</div>'


def inline(source: str, language: str, class_name: str, md) -> str:
    """An inline formula: `#!math ...` -> <math>, stashed so Markdown leaves it alone."""
    return md.htmlStash.store(f'<span class="{class_name}">{convert(source.strip())}</span>')

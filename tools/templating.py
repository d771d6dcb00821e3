"""The Jinja environment shared by the site's renderers (the model's code has its own: alexnet.codegen)."""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path

import jinja2
import markupsafe

from alexnet.codegen import header, python_docstring_text

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> jinja2.Environment:
    # Autoescape HTML-like outputs (SVG, HTML); Python and Markdown renderers escape explicitly.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["svg", "html", "svg.j2", "html.j2"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pyrepr=repr, pytuple=lambda v: repr(tuple(v)), pydoc=python_docstring_text, md=markdown_text,
                       num=lambda n: f"{n:,}", svg_attributes=xml_attributes)
    return env


def xml_attributes(pairs: list[tuple[str, str]]) -> markupsafe.Markup:
    """`` key="value"`` for each pair, values escaped: one filter call per element instead of a template loop
    per attribute (the diagrams have thousands)."""
    escape = markupsafe.escape
    return markupsafe.Markup("".join(f' {escape(key)}="{escape(value)}"' for key, value in pairs))


def markdown_text(text: str) -> str:
    """Spec text shown literally in Markdown: Markdown syntax backslash-escaped, HTML escaped."""
    return html.escape(re.sub(r"([\\`*_\[\]|#])", r"\\\1", str(text)), quote=False)


__all__ = ["environment", "header", "markdown_text", "xml_attributes"]

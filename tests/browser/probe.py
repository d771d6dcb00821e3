"""Open a page and record everything that went wrong while it loaded; measure images and text contrast."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page

# Schemes that never reach the network (inline data, same-document objects).
LOCAL_SCHEMES = ("data", "blob", "about")


@dataclass
class Visit:
    page: Page
    url: str
    status: int | None = None
    problems: list[str] = field(default_factory=list)


def same_origin(url: str, base: str) -> bool:
    parts, origin = urlsplit(url), urlsplit(base)
    return parts.scheme in LOCAL_SCHEMES or (parts.scheme, parts.netloc) == (origin.scheme, origin.netloc)


class Browsing:
    """A browser context on one site that records what goes wrong on the page being visited: console
    errors, uncaught exceptions, failed or HTTP-error requests, requests to other origins.

    Network events are taken from the context so that requests of Material's search worker count too.
    """

    def __init__(self, context: BrowserContext, base: str):
        self.context, self.base = context, base
        self.problems: list[str] = []  # replaced at each visit; listeners look it up when they fire
        context.on("page", self._watch_page)
        context.on("requestfailed", lambda req: self._report(f"failed request: {req.url} ({req.failure})"))
        context.on("response", lambda res: res.status >= 400 and self._report(f"HTTP {res.status}: {res.url}"))
        context.on("request", lambda req: same_origin(req.url, base)
                   or self._report(f"request to another origin: {req.url}"))
        # Recorded above, then refused: a test never reaches the internet, even when the site tries.
        context.route(lambda url: not same_origin(url, base), lambda route: route.abort())

    def _report(self, problem: str) -> None:
        self.problems.append(problem)

    def _watch_page(self, page: Page) -> None:
        page.on("console", lambda msg: msg.type == "error" and self._report(f"console error: {msg.text} {msg.location}"))
        page.on("pageerror", lambda exc: self._report(f"page error: {exc}"))

    def visit(self, url: str) -> Visit:
        """Load ``url`` in a new page and wait until the network is quiet."""
        self.problems = []
        page = self.context.new_page()
        response = page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        return Visit(page, url, response.status if response else None, self.problems)


# Lazy images load only near the viewport: make them eager, then wait for every decode to settle.
IMAGES_JS = """async () => {
  const images = Array.from(document.images);
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  return images.map(img => ({src: img.currentSrc || img.src, width: img.naturalWidth, height: img.naturalHeight}));
}"""


def broken_images(page: Page) -> list[str]:
    return [f"image not loaded or empty: {img['src']} ({img['width']}x{img['height']})"
            for img in page.evaluate(IMAGES_JS) if not (img["width"] > 0 and img["height"] > 0)]


# For each visible <text> of an SVG: its fill and, top to bottom, the colours painted under its centre
# (SVG shape fills, HTML backgrounds), all as RGBA with opacity folded into alpha. A 1x1 canvas turns
# any CSS colour syntax (rgb, hsl, oklch, names) into numbers.
TEXT_COLOURS_JS = """(svg) => {
  const canvas = document.createElement('canvas'); canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const rgba = (colour, opacity) => {
    if (!colour || colour === 'none' || colour === 'transparent') return null;
    ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = '#000'; ctx.fillStyle = colour; ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, (a / 255) * opacity];
  };
  const shapes = new Set(['rect', 'circle', 'ellipse', 'polygon', 'path']);
  const out = [];
  for (const text of svg.querySelectorAll('text')) {
    text.scrollIntoView({block: 'center', inline: 'center'});
    const box = text.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(text);
    const fill = rgba(style.fill, parseFloat(style.fillOpacity) * parseFloat(style.opacity));
    const under = [];
    for (const el of document.elementsFromPoint(box.left + box.width / 2, box.top + box.height / 2)) {
      if (el === text || text.contains(el)) continue;
      const s = getComputedStyle(el);
      const tag = el.tagName.toLowerCase();
      const colour = shapes.has(tag) ? rgba(s.fill, parseFloat(s.fillOpacity) * parseFloat(s.opacity))
                                     : rgba(s.backgroundColor, 1);
      if (colour && colour[3] > 0) under.push(colour);
      if (colour && colour[3] >= 1) break;
    }
    out.push({text: text.textContent.trim(), fill, under});
  }
  return out;
}"""


def blend(top: list[float], bottom: tuple[float, float, float]) -> tuple[float, float, float]:
    alpha = top[3]
    return tuple(alpha * top[i] + (1 - alpha) * bottom[i] for i in range(3))


def luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour with 0..255 channels."""
    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = map(linear, rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_contrasts(page: Page, svg_selector: str) -> list[tuple[str, float]]:
    """(text, contrast ratio against what is painted under it) for every visible text of the SVGs."""
    results = []
    for svg in page.locator(svg_selector).element_handles():
        for item in svg.evaluate(TEXT_COLOURS_JS):
            background = (255.0, 255.0, 255.0)  # the canvas under an all-transparent page
            for layer in reversed(item["under"]):
                background = blend(layer, background)
            fill = item["fill"] or [0, 0, 0, 1]  # SVG's initial fill is black
            results.append((item["text"], contrast_ratio(blend(fill, background), background)))
    return results

"""The probe itself can fail: a page with every fault the site tests look for is reported on each count."""

from __future__ import annotations

from tests.browser.conftest import BROWSER
from tests.browser.probe import broken_images, contrast_ratio, text_contrasts
from tests.site_helpers import serve_directory

pytestmark = BROWSER

FAULTY = """<!doctype html><html><body style="background: #000">
<img src="missing.png" alt="">
<img src="http://192.0.2.1/remote.png" alt="">
<svg width="200" height="60"><rect width="200" height="60" fill="rgb(20, 20, 20)"/>
  <text x="10" y="30" fill="#222">dark on dark</text></svg>
<script>console.error("logged error"); throw new Error("uncaught boom");</script>
</body></html>"""


def test_probe_reports_every_fault(tmp_path, browse):
    (tmp_path / "index.html").write_text(FAULTY)
    with serve_directory(tmp_path) as base:
        page = browse(base).visit(base)
        report = "\n".join(page.problems + broken_images(page.page))
        contrasts = text_contrasts(page.page, "svg:has(text)")
        page.page.close()
    assert "console error: logged error" in report
    assert "page error: " in report and "uncaught boom" in report
    assert "HTTP 404" in report and "missing.png" in report
    assert "request to another origin: http://192.0.2.1/remote.png" in report
    assert "image not loaded or empty" in report
    assert len(contrasts) == 1 and contrasts[0][1] < 1.5


def test_contrast_ratio_matches_wcag():
    assert round(contrast_ratio((0, 0, 0), (255, 255, 255)), 2) == 21.0
    assert round(contrast_ratio((118, 118, 118), (255, 255, 255)), 2) == 4.54  # WCAG's #767676 on white
    assert contrast_ratio((90, 90, 90), (90, 90, 90)) == 1.0

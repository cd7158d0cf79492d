"""The HTML report of the demo's drift in a real browser: Debian's Chromium, headless, driven by Playwright.

The drift is the demo's careless afternoon (``fakes.drift.CarelessOperator``, as ``netwarden demo``
makes it) on the recipe estate built on the emulators; the baseline is ``baseline/``, the live side a
real read through the readers, the report ``app.check.run``'s. The page must render with no console
error and make no request but for its own file, and the reachability matrix and the ACL rule table
must be there: in the DOM (visible, with a size) and in the screenshot (drawn, in their colours).

Chromium comes from the Debian package (``make browser``, which ``make unit`` runs first, installs
it). Where it is missing this test fails and says so: it never skips.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from png_pixels import Image, decode

from netwarden.adapters.baseline_fs import read_baseline
from netwarden.app import check
from netwarden.config import Settings
from netwarden.core import sbd
from netwarden.core.report.html import render_html
from netwarden.core.report.html_style import CSS
from netwarden.entrypoints.demo import DENY_ALL_INBOUND, ZONE1_ACL
from netwarden.entrypoints.wiring import live_snapshot
from netwarden.fakes import scenarios
from netwarden.fakes.drift import CarelessOperator
from netwarden.fakes.server import FakeServer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1400, "height": 900}


def _light(var: str) -> tuple[int, int, int]:
    """A colour of the stylesheet's light scheme (its first definition of ``--var``)."""
    found = re.search(rf"--{var}: #([0-9a-f]{{6}})", CSS)
    assert found is not None, var
    value = found.group(1)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory, fake_server: FakeServer) -> Path:
    """The demo's drift, checked against baseline/ and rendered to report.html."""
    fake_server.cloud.reset()
    work = tmp_path_factory.mktemp("html-report")
    baseline = read_baseline(REPO / "baseline")
    scenarios.build("recipe", fake_server.url, baseline=baseline)
    config = work / "netwarden.yaml"
    config.write_text(yaml.safe_dump(scenarios.config_for(fake_server.url, "recipe", baseline,
                                                          str(REPO / "baseline"))))
    vpc, cluster = baseline.vpcs[0], baseline.clusters[0]
    workers = next(g for g in vpc.security_groups
                   if (owner := sbd.parse_group_name(g.name)) is not None and owner.kind is sbd.GroupKind.WORKERS)
    op = CarelessOperator(fake_server.url, vpc.region, vpc.name, cluster.name)
    subnets = sorted(s.name for s in vpc.subnets)
    op.attach_default_acl(subnets[1])
    op.delete_rule(ZONE1_ACL, DENY_ALL_INBOUND)
    op.attach_new_gateway(subnets[2], "temporary-gateway")
    op.detach_gateway(subnets[0])
    op.widen_policy("accounts", "accounts-allow")
    op.open_ssh(workers.name)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(scenarios.API_KEY_ENV, "fake-apikey")
        live = live_snapshot(Settings.load(config, environ=os.environ))
    report = check.run(baseline, live)
    assert report.status == "drift"
    assert {f.code for f in report.findings} >= {"acl-rule-missing", "netpol-changed", "sg-rule-unexpected",
                                                  "subnet-allow-all"}
    path = work / "report.html"
    path.write_text(render_html(report, baseline, live), encoding="utf-8")
    return path


@dataclass
class Visit:
    """What the browser saw: console errors, page errors, requests, resource entries, boxes, the screenshot."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    resources: int = 0
    boxes: dict[str, dict[str, float] | None] = field(default_factory=dict)
    visible: dict[str, bool] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    screenshot: Path | None = None


SELECTORS = {
    "matrix": "table.matrix",
    "gained cells": "table.matrix td.gain",
    "acl table": "table.rules.acl",
    "missing rule row": "table.rules.acl tr.del",
}


def _playwright() -> Any:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed ({CHROMIUM} is missing): the HTML report's browser test needs "
                    "Debian's chromium package; `make browser` installs it (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:  # pragma: no cover - the [test] extra installs it
        pytest.fail(f"the playwright package is not installed ({e}): pip install -e '.[test]'")
    return sync_playwright


@pytest.fixture(scope="module")
def visit(report_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Visit:
    sync_playwright = _playwright()
    seen = Visit(report_file.as_uri())
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        except Exception as e:
            pytest.fail(f"Chromium at {CHROMIUM} did not start under Playwright: {e}")
        try:
            context = browser.new_context(viewport=VIEWPORT, color_scheme="light", device_scale_factor=1)

            def route(r: Any) -> None:
                if r.request.url != seen.url:
                    seen.requests.append(f"routed: {r.request.url}")
                    r.abort()
                else:
                    r.continue_()

            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: seen.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: seen.page_errors.append(str(e)))
            page.on("request", lambda r: seen.requests.append(r.url) if r.url != seen.url else None)
            page.goto(seen.url, wait_until="load")
            page.wait_for_load_state("networkidle")
            seen.resources = int(page.evaluate("performance.getEntriesByType('resource').length"))
            for name, selector in SELECTORS.items():
                found = page.locator(selector)
                seen.counts[name] = found.count()
                if seen.counts[name]:
                    seen.visible[name] = found.first.is_visible()
                    seen.boxes[name] = found.first.bounding_box()
                    seen.texts[name] = found.first.inner_text()
            seen.screenshot = tmp_path_factory.mktemp("screenshot") / "report.png"
            page.screenshot(path=str(seen.screenshot), full_page=True)
        finally:
            browser.close()
    return seen


def test_the_page_renders_without_a_console_error(visit: Visit) -> None:
    assert visit.console_errors == []
    assert visit.page_errors == []


def test_the_page_requests_nothing_but_itself(visit: Visit) -> None:
    assert visit.requests == []
    assert visit.resources == 0


@pytest.mark.parametrize("name", list(SELECTORS))
def test_the_matrix_and_the_rule_table_are_on_the_page(visit: Visit, name: str) -> None:
    assert visit.counts[name] >= 1, f"{SELECTORS[name]} is not on the page"
    box = visit.boxes[name]
    assert visit.visible[name] and box is not None and box["width"] > 0 and box["height"] > 0


def test_what_they_say(visit: Visit) -> None:
    assert visit.counts["gained cells"] == 2  # srv1-db and srv1-notifier may now reach srv1-backend
    assert visit.counts["missing rule row"] == 1
    assert "deny-all-inbound" in visit.texts["missing rule row"]
    assert "srv1-backend" in visit.texts["matrix"]


@pytest.fixture(scope="module")
def shot(visit: Visit) -> Image:
    assert visit.screenshot is not None and visit.screenshot.stat().st_size > 0
    return decode(visit.screenshot.read_bytes())


def _near(pixels: list[tuple[int, int, int]], colour: tuple[int, int, int], tolerance: int = 4) -> int:
    return sum(1 for p in pixels if all(abs(a - b) <= tolerance for a, b in zip(p, colour, strict=True)))


def test_the_screenshot_is_not_blank(shot: Image, visit: Visit) -> None:
    assert shot.width == VIEWPORT["width"] and shot.height > VIEWPORT["height"]
    sample = shot.region(0, 0, shot.width, min(shot.height, 1200))
    background = sample[0]
    drawn = sum(1 for p in sample if p != background)
    assert len(set(sample)) > 50 and drawn > len(sample) // 50, f"blank screenshot: {visit.screenshot}"


@pytest.mark.parametrize(("name", "colour"), [("matrix", "gain"), ("acl table", "del")])
def test_the_regions_are_drawn_in_the_screenshot(shot: Image, visit: Visit, name: str, colour: str) -> None:
    box = visit.boxes[name]
    assert box is not None
    pixels = shot.region(int(box["x"]), int(box["y"]), int(box["width"]), int(box["height"]))
    assert pixels, f"{name} lies outside the screenshot {visit.screenshot}"
    assert len(set(pixels)) > 8, f"{name} is empty in the screenshot {visit.screenshot}"
    assert _near(pixels, _light(colour)) > 100, f"{name}: no {colour} mark drawn in {visit.screenshot}"

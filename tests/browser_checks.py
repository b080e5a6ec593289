"""What the browser tests check on every page they visit: axe-core's WCAG 2.1 AA rules, no
sideways scrolling on a phone, stacked tables, the header's lines; and how they log in and
take screenshots.

axe-core comes with axe-playwright-python (its bundled axe.min.js): nothing is fetched
while the tests run.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from PIL import Image
from playwright.sync_api import Page

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
# WCAG 2.0 and 2.1, levels A and AA; axe's best practices add the landmarks, heading order and
# region rules, which WCAG leaves to judgement but people with screen readers rely on.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

_axe = Axe()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now."""
    results = _axe.run(
        page,
        options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
    )
    return list(results.response["violations"])


def violations_report(found: dict[str, list[dict[str, Any]]]) -> str:
    """One paragraph per page: each rule broken, why it matters, and the elements that break it."""
    paragraphs = []
    for where, violations in found.items():
        lines = [f"{where}:"]
        for violation in violations:
            lines.append(
                f"  {violation['id']} ({violation['impact']}): {violation['help']}"
                f" – {violation['helpUrl']}"
            )
            for node in violation["nodes"]:
                lines.append(f"    {' '.join(node['target'])}: {node['html'][:200]}")
                summary = node.get("failureSummary", "").replace("\n", " ")
                lines.append(f"      {summary[:400]}")
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def scrolls_sideways(page: Page) -> bool:
    return not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def tables_not_stacked(page: Page) -> list[str]:
    """Tables on the page still laid out as tables (rows side by side), by their headings."""
    return list(
        page.evaluate(
            """() => Array.from(document.querySelectorAll('main table'))
              .filter((table) => table.offsetParent !== null)
              // Two columns (a price and its amount) fit a phone as they are.
              .filter((table) => table.querySelectorAll('thead th').length > 2)
              .filter((table) => {
                const row = table.querySelector('tbody tr');
                return !row || getComputedStyle(row).display !== 'block'
                  || Array.from(row.querySelectorAll('td')).some(
                    (cell) => cell.textContent.trim() && !cell.dataset.label
                      && !cell.querySelector('input, button, a, label'));
              })
              .map((table) => (table.querySelector('thead') || table).textContent
                .replace(/\\s+/g, ' ').trim().slice(0, 80))"""
        )
    )


def header_lines(page: Page) -> int:
    """How many lines the header's items (brand, links, buttons, language) take."""
    tops = page.evaluate(
        """() => Array.from(document.querySelectorAll(
              '.portal-header .portal-brand, .portal-header nav a, .portal-header nav button,'
              + ' .portal-header .portal-language button'))
            .filter((item) => item.offsetParent !== null)
            .map((item) => item.getBoundingClientRect())
            .filter((box) => box.width > 0)
            .map((box) => box.top + box.height / 2)"""
    )
    lines: list[float] = []
    for middle in sorted(tops):
        # Items on one line have their middles within a few pixels of each other.
        if not lines or middle - lines[-1] > 12:
            lines.append(middle)
    return len(lines)


def focus_indicator(page: Page) -> dict[str, str]:
    """The focused element's outline and box shadow, as the browser draws them."""
    return dict(
        page.evaluate(
            """() => {
              const style = getComputedStyle(document.activeElement);
              return {outline: style.outlineStyle, outlineWidth: style.outlineWidth,
                      boxShadow: style.boxShadow};
            }"""
        )
    )


def log_in(page: Page, live_server: Any, user: Any, *, language: str = "") -> None:
    """The browser logged in as the user (a session made by Django's test client), in place
    of whoever was logged in before; `language` sets the display language's cookie."""
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    cookies = [
        {
            "name": settings.SESSION_COOKIE_NAME,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": live_server.url,
        }
    ]
    if language:
        cookies.append(
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}
        )
    page.context.add_cookies(cookies)


def screenshot(page: Page, name: str) -> None:
    """docs/screenshots/<name>.png of the viewport, when SCREENSHOTS=1.

    Only on request: the pages carry today's date and fresh card numbers, so writing them on
    every run would leave the working tree changed after each `make test`. `make screenshots`
    runs the journeys with it. Names are unique per journey, so parallel workers never write
    the same file.
    """
    if os.environ.get("SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = Image.open(io.BytesIO(page.screenshot(animations="disabled", caret="hide")))
    # 256 colours without dithering: the pages are flat colour and text, and the files come
    # out at about 40 % of the size, which matters for pictures kept in the repository.
    palette = shot.convert("RGB").quantize(
        colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    palette.save(SCREENSHOTS / f"{name}.png", format="PNG", optimize=True)

"""Constants and helpers of the end-to-end tests: the browser, the demo day, screenshots."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
EXAMPLE = ROOT / "config" / "example-province.toml"
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)  # Monday 10:00 in Hà Nội
PASSWORD = "demo123"
FORMULA_NAME = "=cmd|' /C calc'!A0"
FORMULA_CODE = "E2E-FX"


def screenshot(page, name: str, *, full_page: bool = False) -> Path:
    """Save the page to docs/screenshots/<name>.png, reduced to a small palette PNG."""
    from PIL import Image

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
    return path


def has_route(page, path: str) -> bool:
    """Whether the app answers ``path`` (a feature a colleague may not have landed yet)."""
    response = page.request.get(path, max_redirects=0)
    return response.status != 404


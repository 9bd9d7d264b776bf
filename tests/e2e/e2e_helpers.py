"""Helpers of the end-to-end tests: screenshots, feature checks."""

from __future__ import annotations

from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


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


"""Fonts that ship with the package, with full Vietnamese coverage (Liberation 2.1.5, SIL OFL 1.1).

Liberation Serif is metric-compatible with Times New Roman, the face of Vietnamese
administrative documents; Liberation Sans with Arial. Cards and PDF reports register them
with reportlab through :func:`register_reportlab_fonts` and then use the names in
:data:`FACES` (``"Serif"``, ``"Serif-Bold"``, ``"Sans"``, ``"Sans-Bold"``).
"""

from __future__ import annotations

from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent

FACES = {
    "Serif": "LiberationSerif-Regular.ttf",
    "Serif-Bold": "LiberationSerif-Bold.ttf",
    "Sans": "LiberationSans-Regular.ttf",
    "Sans-Bold": "LiberationSans-Bold.ttf",
}


def font_path(face: str) -> Path:
    """The TTF file of ``face`` (a key of :data:`FACES`), e.g. for Pillow's ImageFont."""
    return FONT_DIR / FACES[face]


def register_reportlab_fonts() -> None:
    """Register every face with reportlab (idempotent), with bold mapped for each family."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    registered = set(pdfmetrics.getRegisteredFontNames())
    for face in FACES:
        if face not in registered:
            pdfmetrics.registerFont(TTFont(face, str(font_path(face))))
    for family in ("Serif", "Sans"):
        addMapping(family, 0, 0, family)
        addMapping(family, 1, 0, f"{family}-Bold")
        addMapping(family, 0, 1, family)
        addMapping(family, 1, 1, f"{family}-Bold")

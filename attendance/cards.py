"""Printable badges: A4 PDF sheets of ID-1 cards for a print shop, and one PNG per card.

Each card (85.6 × 54 mm) shows the agency and the office (``card_units``) in a red band,
the photo (or a neat placeholder), the kind of card, the full name with its diacritics, the
position and the phòng, the card number and the signed QR code. Sheets hold 2 × 4 cards
with 10 mm gutters and crop marks at every corner. Text uses the bundled Liberation fonts, embedded (subset) in the PDF, so a
name comes out of the PDF exactly as it is stored (NFC).

The PDF and the PNG share one layout (``_Layout``), in millimetres from the card's top-left
corner; ``write_pdf`` draws it with reportlab, ``card_image`` with Pillow at any dpi.
"""

from __future__ import annotations

import base64
import io
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import segno
from PIL import Image, ImageDraw, ImageFont, ImageOps

from attendance.fonts import font_path, register_reportlab_fonts

CARD_W = 85.6  # mm, ISO/IEC 7810 ID-1
CARD_H = 54.0
A4_W, A4_H = 210.0, 297.0
COLUMNS, ROWS = 2, 4
GUTTER = 10.0
CROP_OFFSET, CROP_LENGTH = 1.0, 3.0  # crop marks start 1 mm outside a corner, 3 mm long
CARDS_PER_SHEET = COLUMNS * ROWS
PNG_DPI = 300

RED = (155, 27, 30)
GOLD = (255, 226, 150)
INK = (25, 25, 25)
GREY = (110, 110, 110)
PLACEHOLDER_BG = (232, 236, 239)
PLACEHOLDER_FG = (184, 192, 200)

CARD_TITLES = {
    "CB": "THẺ CÁN BỘ",
    "CC": "THẺ CÔNG CHỨC",
    "VC": "THẺ VIÊN CHỨC",
    "HĐ": "THẺ NHÂN VIÊN",
}

ProgressCallback = Callable[[], None]


@dataclass(frozen=True)
class Card:
    """What one printed card shows; ``photo`` is a loaded image or None (placeholder)."""

    agency: str
    unit: str  # the band's office (card_units)
    department: str  # the employee's own unit under it, or ""
    full_name: str
    position: str
    card_number: str
    category: str
    serial: str
    payload: str
    photo: Image.Image | None = None

    @property
    def title(self) -> str:
        return CARD_TITLES.get(self.category, CARD_TITLES["CC"])


def _nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "").strip()


def load_photo(value: str | None, base_dir: Path | None = None) -> Image.Image | None:
    """The employee's photo from a file path (absolute, or relative to ``base_dir``) or a
    ``data:image/...;base64,`` URL; None when there is none or it cannot be read."""
    if not value:
        return None
    try:
        if value.startswith("data:"):
            source = io.BytesIO(base64.b64decode(value.split(",", 1)[1], validate=False))
        else:
            source = Path(value)
            if not source.is_absolute() and base_dir is not None:
                source = base_dir / source
            if not source.is_file():
                return None
        with Image.open(source) as image:
            return ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, IndexError, Image.DecompressionBombError):
        return None


def card_units(unit, agency: str = "") -> tuple[str, str]:
    """(the unit the card's band names, the employee's own unit under it or "").

    The band names the office a member of the public knows (the Sở, the huyện: the unit
    just below the top one) and the card's body the phòng in it, so that two cards from
    "Văn phòng Sở" of two Sở differ. A unit at the top or just below it is named alone,
    and not at all when it is the ``agency`` the band names above it already.
    """
    chain = []
    while unit is not None and unit not in chain:
        chain.append(unit)
        unit = unit.parent
    if not chain:
        return "", ""
    office = chain[0] if len(chain) <= 2 else chain[-2]
    band = _nfc(office.name)
    if band.casefold() == _nfc(agency).casefold():
        band = ""
    return band, "" if office is chain[0] else _nfc(chain[0].name)


def make_card(badge, payload: str, *, agency: str, photo_dir: Path | None = None) -> Card:
    """The card of ``badge`` (an ``attendance.models.Badge`` with its employee and unit)."""
    employee = badge.employee
    unit, department = card_units(employee.unit, agency)
    return Card(
        agency=_nfc(agency),
        unit=unit,
        department=department,
        full_name=_nfc(employee.full_name),
        position=_nfc(employee.position),
        card_number=_nfc(employee.card_number or employee.code),
        category=employee.category or "CC",
        serial=badge.serial,
        payload=payload,
        photo=load_photo(employee.photo, photo_dir),
    )


# --- layout ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    text: str
    x: float  # mm from the left; the centre when align == "center"
    baseline: float  # mm from the top
    face: str
    size: float  # pt, the largest size; shrunk to fit ``width``
    width: float  # mm available
    color: tuple[int, int, int] = INK
    align: str = "left"
    min_size: float = 4.5


class _Layout:
    """Boxes and texts of one card, in mm from its top-left corner."""

    band = (0.0, 0.0, CARD_W, 13.0)
    foot = (0.0, CARD_H - 1.6, CARD_W, 1.6)
    photo = (4.0, 16.0, 20.0, 25.0)
    qr = (58.6, 14.6, 24.0, 24.0)

    def __init__(self, card: Card):
        mid, mid_w = 27.0, 29.5
        self.texts = [
            _Text(card.agency.upper(), CARD_W / 2, 5.6, "Serif-Bold", 8.5, CARD_W - 6,
                  (255, 255, 255), "center"),
            _Text(card.unit, CARD_W / 2, 10.4, "Serif-Bold", 7.5, CARD_W - 6, GOLD, "center"),
            _Text(card.title, mid, 19.5, "Serif-Bold", 8.0, mid_w, RED),
            _Text("Họ và tên:", mid, 24.0, "Serif", 5.5, mid_w, GREY),
            _Text(card.full_name, mid, 28.6, "Serif-Bold", 10.0, mid_w),
            _Text("Chức vụ:", mid, 33.2, "Serif", 5.5, mid_w, GREY),
            _Text(card.position or "—", mid, 37.2, "Serif", 7.5, mid_w),
            _Text(card.department, mid, 41.0, "Serif", 6.5, mid_w),
            _Text(f"Số thẻ: {card.card_number}", 4.0, 47.2, "Sans-Bold", 7.5, 50.0),
            _Text(f"Mã thẻ {card.serial}", 70.6, 42.0, "Sans", 5.0, 24.0, GREY, "center"),
        ]


def _pt(mm: float) -> float:
    return mm * 72.0 / 25.4


def _fit_size(text: str, face: str, size: float, min_size: float, width_mm: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    register_reportlab_fonts()
    width = stringWidth(text, face, size)
    if width <= _pt(width_mm):
        return size
    return max(min_size, size * _pt(width_mm) / width)


def _qr_modules(payload: str) -> list[list[bool]]:
    """The QR matrix with its 4-module quiet zone (error correction M)."""
    qr = segno.make_qr(payload, error="m", boost_error=False)
    return [[bool(v) for v in row] for row in qr.matrix_iter(scale=1, border=4)]


# --- PDF -------------------------------------------------------------------------------


def _draw_card(canvas, card: Card, left_mm: float, bottom_mm: float) -> None:
    from reportlab.lib.utils import ImageReader

    layout = _Layout(card)

    def rect(box, color, radius=0.0):
        x, y, w, h = box
        canvas.setFillColorRGB(*(c / 255 for c in color))
        args = (_pt(left_mm + x), _pt(bottom_mm + CARD_H - y - h), _pt(w), _pt(h))
        if radius:
            canvas.roundRect(*args, _pt(radius), stroke=0, fill=1)
        else:
            canvas.rect(*args, stroke=0, fill=1)

    rect(layout.band, RED)
    rect(layout.foot, RED)

    x, y, w, h = layout.photo
    if card.photo is not None:
        fitted = ImageOps.fit(card.photo, (400, 500), Image.Resampling.LANCZOS)
        canvas.drawImage(ImageReader(fitted), _pt(left_mm + x), _pt(bottom_mm + CARD_H - y - h),
                         _pt(w), _pt(h))
    else:
        canvas.saveState()
        path = canvas.beginPath()
        path.roundRect(_pt(left_mm + x), _pt(bottom_mm + CARD_H - y - h), _pt(w), _pt(h), _pt(1))
        canvas.clipPath(path, stroke=0, fill=0)
        rect(layout.photo, PLACEHOLDER_BG)
        canvas.setFillColorRGB(*(c / 255 for c in PLACEHOLDER_FG))
        cx = _pt(left_mm + x + w / 2)
        canvas.circle(cx, _pt(bottom_mm + CARD_H - y - 9.5), _pt(4.6), stroke=0, fill=1)
        canvas.circle(cx, _pt(bottom_mm + CARD_H - y - h - 3.0), _pt(9.0), stroke=0, fill=1)
        canvas.restoreState()

    for item in layout.texts:
        size = _fit_size(item.text, item.face, item.size, item.min_size, item.width)
        canvas.setFont(item.face, size)
        canvas.setFillColorRGB(*(c / 255 for c in item.color))
        tx, ty = _pt(left_mm + item.x), _pt(bottom_mm + CARD_H - item.baseline)
        if item.align == "center":
            canvas.drawCentredString(tx, ty, item.text)
        else:
            canvas.drawString(tx, ty, item.text)

    qx, qy, qw, _ = layout.qr
    modules = _qr_modules(card.payload)
    module = qw / len(modules)
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(_pt(left_mm + qx), _pt(bottom_mm + CARD_H - qy - qw), _pt(qw), _pt(qw),
                stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(modules):
        c = 0
        while c < len(row):  # one rectangle per horizontal run of dark modules
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            canvas.rect(_pt(left_mm + qx + start * module),
                        _pt(bottom_mm + CARD_H - qy - (r + 1) * module),
                        _pt((c - start) * module), _pt(module), stroke=0, fill=1)


def _draw_crop_marks(canvas, left_mm: float, bottom_mm: float) -> None:
    canvas.setStrokeColorRGB(0, 0, 0)
    canvas.setLineWidth(0.25)
    for x in (left_mm, left_mm + CARD_W):
        for y in (bottom_mm, bottom_mm + CARD_H):
            sx = -1 if x == left_mm else 1
            sy = -1 if y == bottom_mm else 1
            # a horizontal mark along the card's top/bottom edge, a vertical one along its side
            canvas.line(_pt(x + sx * CROP_OFFSET), _pt(y), _pt(x + sx * (CROP_OFFSET + CROP_LENGTH)), _pt(y))
            canvas.line(_pt(x), _pt(y + sy * CROP_OFFSET), _pt(x), _pt(y + sy * (CROP_OFFSET + CROP_LENGTH)))


def card_positions() -> list[tuple[float, float]]:
    """Bottom-left corners (mm) of the cards on a sheet, in reading order."""
    block_w = COLUMNS * CARD_W + (COLUMNS - 1) * GUTTER
    block_h = ROWS * CARD_H + (ROWS - 1) * GUTTER
    left0 = (A4_W - block_w) / 2
    top0 = (A4_H + block_h) / 2
    return [(left0 + col * (CARD_W + GUTTER), top0 - (row + 1) * CARD_H - row * GUTTER)
            for row in range(ROWS) for col in range(COLUMNS)]


def write_pdf(cards: Sequence[Card], out: str | os.PathLike | BinaryIO, *,
              title: str = "Thẻ công chức", on_card: ProgressCallback | None = None) -> int:
    """Write the cards on A4 sheets (2 × 4 per sheet, crop marks); returns the sheet count."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    register_reportlab_fonts()
    target = os.fspath(out) if isinstance(out, (str, os.PathLike)) else out
    canvas = Canvas(target, pagesize=A4, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor("Chấm công và kiểm tra đeo thẻ")
    canvas.setCreator("attendance")
    positions = card_positions()
    sheets = max(1, -(-len(cards) // CARDS_PER_SHEET))
    for sheet in range(sheets):
        batch = cards[sheet * CARDS_PER_SHEET:(sheet + 1) * CARDS_PER_SHEET]
        canvas.setFont("Sans", 7)
        canvas.setFillColorRGB(*(c / 255 for c in GREY))
        canvas.drawString(_pt(positions[0][0]), _pt(A4_H - 8),
                          f"{title} — tờ {sheet + 1}/{sheets} — cắt theo dấu góc, khổ 85,6 × 54 mm")
        for card, (left, bottom) in zip(batch, positions):
            _draw_card(canvas, card, left, bottom)
            _draw_crop_marks(canvas, left, bottom)
            if on_card is not None:
                on_card()
        canvas.showPage()
    canvas.save()
    return sheets


# --- PNG -------------------------------------------------------------------------------


_font_cache: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def _pil_font(face: str, px: int) -> ImageFont.FreeTypeFont:
    key = (face, px)
    if key not in _font_cache:
        _font_cache[key] = ImageFont.truetype(str(font_path(face)), px)
    return _font_cache[key]


def card_image(card: Card, dpi: int = PNG_DPI) -> Image.Image:
    """The card as an RGB image at ``dpi`` (1011 × 638 pixels at 300 dpi)."""
    scale = dpi / 25.4  # px per mm

    def px(mm: float) -> int:
        return round(mm * scale)

    def box(b):
        x, y, w, h = b
        return (px(x), px(y), px(x + w) - 1, px(y + h) - 1)

    layout = _Layout(card)
    image = Image.new("RGB", (px(CARD_W), px(CARD_H)), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle(box(layout.band), fill=RED)
    draw.rectangle(box(layout.foot), fill=RED)

    x, y, w, h = layout.photo
    size = (px(x + w) - px(x), px(y + h) - px(y))
    if card.photo is not None:
        image.paste(ImageOps.fit(card.photo, size, Image.Resampling.LANCZOS), (px(x), px(y)))
    else:
        holder = Image.new("RGB", size, PLACEHOLDER_BG)
        hd = ImageDraw.Draw(holder)
        cx, head_y, r = size[0] / 2, 9.5 * scale, 4.6 * scale
        hd.ellipse((cx - r, head_y - r, cx + r, head_y + r), fill=PLACEHOLDER_FG)
        sy, sr = (h + 3.0) * scale, 9.0 * scale
        hd.ellipse((cx - sr, sy - sr, cx + sr, sy + sr), fill=PLACEHOLDER_FG)
        mask = Image.new("L", size, 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), px(1), fill=255)
        image.paste(holder, (px(x), px(y)), mask)

    for item in layout.texts:
        pt = _fit_size(item.text, item.face, item.size, item.min_size, item.width)
        font = _pil_font(item.face, max(1, round(pt * dpi / 72)))
        anchor = "ms" if item.align == "center" else "ls"
        draw.text((px(item.x), px(item.baseline)), item.text, font=font, fill=item.color,
                  anchor=anchor)

    qx, qy, qw, _ = layout.qr
    modules = _qr_modules(card.payload)
    box_px = px(qw)
    module = max(1, box_px // len(modules))  # whole pixels per module keep the code crisp
    side = module * len(modules)
    qr_image = Image.new("1", (len(modules), len(modules)), 1)
    qr_image.putdata([0 if dark else 1 for row in modules for dark in row])
    qr_image = qr_image.resize((side, side), Image.Resampling.NEAREST).convert("RGB")
    offset = (box_px - side) // 2
    image.paste(qr_image, (px(qx) + offset, px(qy) + offset))
    return image


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def png_name(card: Card) -> str:
    """A safe file name for a card's PNG: ``<card number>-<serial>.png``."""
    stem = _UNSAFE.sub("_", unicodedata.normalize("NFKD", card.card_number)
                       .encode("ascii", "ignore").decode()) or "the"
    return f"{stem}-{card.serial}.png"


def write_pngs(cards: Iterable[Card], directory: str | os.PathLike, *, dpi: int = PNG_DPI,
               on_card: ProgressCallback | None = None) -> list[Path]:
    """One PNG per card in ``directory`` (created if needed), with the dpi recorded."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for card in cards:
        path = target / png_name(card)
        card_image(card, dpi).save(path, dpi=(dpi, dpi))
        written.append(path)
        if on_card is not None:
            on_card()
    return written

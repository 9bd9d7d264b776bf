"""The page frame of a Vietnamese administrative document (Decree 30/2020/NĐ-CP) in reportlab.

A4 portrait; margins top 20 mm, bottom 20 mm, left 30 mm, right 15 mm (the Decree allows
20–25, 20–25, 30–35 and 15–20); Liberation Serif, metric-compatible with Times New Roman,
shipped in ``attendance.fonts``. The first page carries the header block — on the left the
governing agency and, in bold under it, the issuing unit with a short rule; on the right
the national name "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" and the motto "Độc lập - Tự do -
Hạnh phúc" with a rule under it — then the place and date line in italics, the title in
bold and centred, the body (13 pt; tables 10–11 pt so that they fit the width), and the
signature block of the unit head with the recipients ("Nơi nhận") on the left. Pages from
the second on are numbered at the top centre, as the Decree asks.

``official_pdf`` builds the document from flowables; ``heading``, ``paragraph`` and
``table`` make the usual ones in the right faces.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle,
)

from attendance.fonts import register_reportlab_fonts

# Paragraphs look their font up when they are made, so the faces are registered up front.
register_reportlab_fonts()

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 20 * mm
MARGIN_LEFT = 30 * mm
MARGIN_RIGHT = 15 * mm
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
BODY_SIZE = 13
SERIF, SERIF_BOLD = "Serif", "Serif-Bold"


def _style(name: str, size: float = BODY_SIZE, *, bold: bool = False, italic: bool = False,
           align: int = TA_LEFT, leading: float | None = None, **extra) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=SERIF_BOLD if bold else SERIF, fontSize=size,
                          leading=leading or size * 1.25, alignment=align, **extra)


STYLES = {
    "body": _style("body", firstLineIndent=10 * mm, spaceAfter=4),
    "heading": _style("heading", bold=True, spaceBefore=8, spaceAfter=4),
    "title": _style("title", 14, bold=True, align=TA_CENTER, spaceAfter=2),
    "subtitle": _style("subtitle", 14, bold=True, align=TA_CENTER, spaceAfter=10),
    "cell": _style("cell", 10.5, leading=12.5),
    "cell_center": _style("cell_center", 10.5, leading=12.5, align=TA_CENTER),
    "cell_right": _style("cell_right", 10.5, leading=12.5, align=TA_RIGHT),
    "cell_head": _style("cell_head", 10, bold=True, align=TA_CENTER, leading=12),
    "note": _style("note", 11, leading=13, spaceBefore=3),
}


def format_place_date(place: str, day: date) -> str:
    """"Hà Nội, ngày 05 tháng 02 năm 2026": as the Decree writes dates, a day below 10 and
    the months 1 and 2 take a leading zero; the other months do not."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    text = f"ngày {day.day:02d} tháng {month} năm {day.year}"
    return f"{place}, {text}" if place else text[0].upper() + text[1:]


def paragraph(text: str, style: str = "body") -> Paragraph:
    """A paragraph of plain text (escaped: names may hold ``&`` or ``<``)."""
    return Paragraph(escape(text), STYLES[style])


def _lines(text: str) -> str:
    return "<br/>".join(escape(line) for line in text.split("\n"))


def heading(text: str) -> Paragraph:
    return paragraph(text, "heading")


def table(header: Sequence[str], rows: Sequence[Sequence[object]], widths_mm: Sequence[float],
          *, align: Sequence[str] | None = None, total_row: bool = False) -> Table:
    """A ruled table filling the text width; ``widths_mm`` are relative column widths.

    ``align`` gives each column's alignment (``l``, ``c`` or ``r``); cells wrap, and a
    newline in a value starts a new line.
    """
    scale = TEXT_WIDTH / sum(widths_mm)
    widths = [w * scale for w in widths_mm]
    align = align or ["l"] * len(header)
    cell_styles = {"l": STYLES["cell"], "c": STYLES["cell_center"], "r": STYLES["cell_right"]}
    data = [[Paragraph(_lines(h), STYLES["cell_head"]) for h in header]]
    for row in rows:
        data.append([Paragraph(_lines("" if v is None else str(v)), cell_styles[a])
                     for v, a in zip(row, align)])
    result = Table(data, colWidths=widths, repeatRows=1)
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if total_row and rows:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), colors.Color(0.96, 0.96, 0.96)))
    result.setStyle(TableStyle(commands))
    return result


class _Rule(Flowable):
    """A short horizontal rule centred in its cell (under the unit name and the motto)."""

    def __init__(self, width: float, cell_width: float):
        super().__init__()
        self.rule_width, self.width, self.height = width, cell_width, 2

    def draw(self) -> None:
        left = (self.width - self.rule_width) / 2
        self.canv.setLineWidth(0.6)
        self.canv.line(left, 1, left + self.rule_width, 1)


class _Italic(Flowable):
    """One line of slanted Serif: the package ships no italic face, so it is skewed."""

    def __init__(self, text: str, size: float, width: float, align: str = "center"):
        super().__init__()
        self.text, self.size, self.width, self.align = text, size, width, align
        self.height = size * 1.3

    def draw(self) -> None:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        text_width = stringWidth(self.text, SERIF, self.size)
        x = {"center": (self.width - text_width) / 2, "right": self.width - text_width}.get(
            self.align, 0)
        canvas = self.canv
        canvas.saveState()
        canvas.translate(x, self.size * 0.3)
        canvas.skew(0, 12)
        canvas.setFont(SERIF, self.size)
        canvas.drawString(0, 0, self.text)
        canvas.restoreState()


def _centered(text: str, size: float, bold: bool) -> Paragraph:
    return Paragraph(escape(text), _style("hdr", size, bold=bold, align=TA_CENTER,
                                          leading=size * 1.2))


@dataclass
class Document:
    """What an official report says around its body."""

    agency: str               # the governing agency (cơ quan chủ quản), e.g. "UBND tỉnh"
    unit: str                 # the issuing unit, e.g. "Sở Nội vụ"
    place: str                # e.g. "Hà Nội"; may be empty
    issued_on: date
    title: str                # e.g. "BÁO CÁO"
    subtitle: str = ""        # what it is about, bold under the title
    number: str = "Số:      /BC"
    signer_title: str = "THỦ TRƯỞNG ĐƠN VỊ"
    signer_name: str | None = None
    recipients: list[str] = field(default_factory=lambda: [
        "Sở Nội vụ (để báo cáo);", "Đoàn kiểm tra công vụ;", "Lưu: VT."])


def _header(doc: Document) -> list[Flowable]:
    left_width, right_width = TEXT_WIDTH * 0.42, TEXT_WIDTH * 0.58
    agency, unit = doc.agency.strip(), doc.unit.strip()
    left: list[Flowable] = []
    if agency and agency.upper() != unit.upper():
        left.append(_centered(agency.upper(), 12.5, bold=False))
    left += [_centered(unit.upper(), 12.5, bold=True), Spacer(1, 1),
             _Rule(left_width * 0.35, left_width), Spacer(1, 4),
             _centered(doc.number, 13, bold=False)]
    motto = "Độc lập - Tự do - Hạnh phúc"
    from reportlab.pdfbase.pdfmetrics import stringWidth

    right: list[Flowable] = [
        _centered("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12.5, bold=True),
        _centered(motto, 13.5, bold=True), Spacer(1, 1),
        _Rule(stringWidth(motto, SERIF_BOLD, 13.5), right_width), Spacer(1, 6),
        _Italic(format_place_date(doc.place, doc.issued_on), 13.5, right_width),
    ]
    block = Table([[left, right]], colWidths=[left_width, right_width])
    block.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
    ]))
    out: list[Flowable] = [block, Spacer(1, 10 * mm), paragraph(doc.title, "title")]
    if doc.subtitle:
        out.append(paragraph(doc.subtitle, "subtitle"))
    return out


def _recipients(doc: Document) -> list[str]:
    """The recipients but the issuing unit itself (the Sở Nội vụ's own report is not sent
    to the Sở Nội vụ "để báo cáo")."""
    issuer = doc.unit.strip().casefold()
    return [r for r in doc.recipients
            if r.casefold().partition(" (")[0].rstrip(";") != issuer]


def _signature(doc: Document) -> Flowable:
    left = [Paragraph("<b>Nơi nhận:</b>", _style("rcpt", 12, bold=True))]
    left += [paragraph(f"- {r}", "note") for r in _recipients(doc)]
    right: list[Flowable] = [_centered(doc.signer_title, 13.5, bold=True),
                             _Italic("(Ký, ghi rõ họ tên và đóng dấu)", 12, TEXT_WIDTH * 0.5),
                             Spacer(1, 28 * mm)]
    if doc.signer_name:
        right.append(_centered(doc.signer_name, 13.5, bold=True))
    block = Table([[left, right]], colWidths=[TEXT_WIDTH * 0.5, TEXT_WIDTH * 0.5])
    block.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
    ]))
    return KeepTogether([Spacer(1, 8 * mm), block])


def _page_number(canvas, document) -> None:
    canvas.saveState()
    canvas.setFont(SERIF, 13)
    canvas.drawCentredString(MARGIN_LEFT + TEXT_WIDTH / 2, PAGE_HEIGHT - MARGIN_TOP / 2 - 4,
                             str(document.page))
    canvas.restoreState()


def official_pdf(doc: Document, body: Sequence[Flowable]) -> bytes:
    """The whole document as PDF bytes: header block, title, ``body``, signature block."""
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN_LEFT, rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM,
        title=f"{doc.title} {doc.subtitle}".strip(), author=doc.unit,
        creator="Chấm công và kiểm tra đeo thẻ",
    )
    story = [*_header(doc), *body, _signature(doc)]
    template.build(story, onLaterPages=_page_number)
    return buffer.getvalue()

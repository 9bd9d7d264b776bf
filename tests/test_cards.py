"""Printed badges: the PDF sheet decodes and verifies at 300 dpi, names survive pdftotext."""

from __future__ import annotations

import subprocess
import unicodedata
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from attendance.names import name_sort_key
from attendance import badges, cards
from attendance.config import default_config_text
from attendance.models import Employee, Unit

# Names that exercise every Vietnamese vowel with its tones, đ, and a long name.
NAMES = [
    "Nguyễn Thị Ánh Tuyết", "Trần Đức Thắng", "Lê Thị Hồng Nhung", "Phạm Văn Ước",
    "Hoàng Thị Thuỷ", "Võ Thị Ngọc Hân", "Đặng Quốc Vượng", "Bùi Thị Ỷ Lan",
    "Huỳnh Ngọc Mỹ", "Dương Thị Ửng", "Tôn Nữ Thị Hoàng Bích Phương", "Lý Thị Ẩn",
    "Khổng Minh Ẵm", "Ưng Thị Ỡm Ờ", "Kiều Ợt", "Hà Ẹ Ỵ",
]
BASE = "https://chamcong.quangtri.gov.vn"


@pytest.fixture
def unit_staff(session_factory) -> list[str]:
    """A department and a sub-unit with 16 staff (two A4 sheets), names stored as NFC."""
    with session_factory() as session:
        dept = Unit(code="SNV", name="Sở Nội vụ tỉnh Quảng Trị")
        office = Unit(code="SNV-TCBC", name="Phòng Tổ chức, biên chế và Tổ chức phi chính phủ",
                      parent=dept)
        session.add_all([dept, office])
        for i, name in enumerate(NAMES, 1):
            session.add(Employee(code=f"NV{i:03d}", full_name=unicodedata.normalize("NFC", name),
                                 unit=office if i % 2 else dept, position="Chuyên viên chính",
                                 card_number=f"QT-{i:05d}", category="CC"))
        session.commit()
    return [unicodedata.normalize("NFC", n) for n in NAMES]


def _rasterize(pdf: Path, out_dir: Path, dpi: int = 300) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(out_dir / "page")],
                   check=True, capture_output=True)
    return sorted(out_dir.glob("page-*.png"))


def _decode(path: Path) -> list[str]:
    with Image.open(path) as image:
        return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def _payloads(cli, codes) -> dict[str, str]:
    return {code: cli("badges", "payload", code).stdout.strip() for code in codes}


def test_printed_sheet_decodes_verifies_and_revocation_holds(cli, unit_staff, tmp_path,
                                                             session_factory):
    assert cli("badges", "issue", "--unit", "SNV").exit_code == 0
    pdf = tmp_path / "the.pdf"
    result = cli("badges", "print", "--unit", "SNV", "-o", str(pdf))
    assert result.exit_code == 0, result.output
    assert "Đã in 16 thẻ trên 2 tờ A4" in result.stdout

    pages = _rasterize(pdf, tmp_path)
    assert len(pages) == 2
    decoded = [text for page in pages for text in _decode(page)]
    expected = _payloads(cli, [f"NV{i:03d}" for i in range(1, 17)])
    assert sorted(decoded) == sorted(expected.values())

    for text in decoded:
        verdict = cli("badges", "verify", text)
        assert verdict.exit_code == 0, verdict.output

    keyring = badges.Keyring()
    with session_factory() as session:
        for text in decoded:
            assert badges.check_payload(session, text, keyring).ok
            for i in (0, len(text) // 2, len(text) - 1):  # one changed character: refused
                changed = text[:i] + ("x" if text[i] != "x" else "y") + text[i + 1:]
                assert not badges.verify(changed, keyring.public_keys()).ok

    assert cli("badges", "revoke", "NV005", "--reason", "Mất thẻ").exit_code == 0
    refused = cli("badges", "verify", expected["NV005"])
    assert refused.exit_code == 1 and "[revoked]" in refused.stdout
    with session_factory() as session:
        bundle = badges.trust_bundle(session, keyring)
    # a station checks offline with what it synced
    station = [badges.verify(t, bundle["public_keys"], set(bundle["revoked_serials"]),
                             retired_key_ids=set(bundle["retired_key_ids"])) for t in decoded]
    assert sorted(r.reason or "ok" for r in station) == ["ok"] * 15 + ["revoked"]
    assert [r.employee_code for r in station if not r.ok] == ["NV005"]


def test_pdftotext_shows_every_name_exactly(cli, unit_staff, tmp_path):
    cli("badges", "issue", "--all")
    pdf = tmp_path / "names.pdf"
    assert cli("badges", "print", "--unit", "SNV", "-o", str(pdf)).exit_code == 0
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True).stdout.decode("utf-8")
    lines = {line.strip() for line in text.splitlines()}
    for name in unit_staff:
        assert name in lines, name  # the whole line, byte for byte, NFC as stored
    assert "Sở Nội vụ tỉnh Quảng Trị" in lines and "UBND TỈNH" in lines
    assert "Số thẻ: QT-00001" in text
    # the fonts ship with the package and are embedded
    fonts = set()
    for page in PdfReader(pdf).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("LiberationSerif-Bold" in f for f in fonts), fonts


def test_unit_cards_are_in_vietnamese_name_order(cli, unit_staff, tmp_path):
    cli("badges", "issue", "--all")
    pdf = tmp_path / "order.pdf"
    cli("badges", "print", "--unit", "SNV-TCBC", "-o", str(pdf))
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True).stdout.decode()
    printed = [n for n in text.splitlines() if n in set(NAMES)]
    # by given name in the Vietnamese alphabet (ă after a, ơ after o), then tones
    assert printed == [
        "Khổng Minh Ẵm", "Huỳnh Ngọc Mỹ", "Lê Thị Hồng Nhung", "Kiều Ợt",
        "Tôn Nữ Thị Hoàng Bích Phương", "Hoàng Thị Thuỷ", "Nguyễn Thị Ánh Tuyết", "Đặng Quốc Vượng",
    ]


def test_pngs_at_300_dpi_decode(cli, unit_staff, tmp_path):
    cli("badges", "issue", "NV001", "NV002")
    out = tmp_path / "png"
    result = cli("badges", "print", "NV001", "NV002", "-o", str(tmp_path / "two.pdf"),
                 "--png-dir", str(out))
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.png"))
    assert [f.name[:8] for f in files] == ["QT-00001", "QT-00002"]
    payloads = _payloads(cli, ["NV001", "NV002"])
    for path, code in zip(files, ["NV001", "NV002"]):
        with Image.open(path) as image:
            assert image.size == (1011, 638)
            assert tuple(round(v) for v in image.info["dpi"]) == (300, 300)
        assert _decode(path) == [payloads[code]]


def test_citizen_url_payload_on_the_card(cli, unit_staff, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'public_base_url = "{BASE}"\nagency = "UBND tỉnh Quảng Trị"\n'
                      + default_config_text().replace('agency = "UBND tỉnh"\n', ""),
                      encoding="utf-8")
    cli("--config", str(config), "badges", "issue", "NV003")
    pdf = tmp_path / "url.pdf"
    assert cli("--config", str(config), "badges", "print", "NV003", "-o", str(pdf)).exit_code == 0
    (page,) = _rasterize(pdf, tmp_path)
    (text,) = _decode(page)
    assert text.startswith(BASE + "/b/TCC1.NV003.")
    assert cli("badges", "verify", text).exit_code == 0
    assert "UBND TỈNH QUẢNG TRỊ" in subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True).stdout.decode()


def test_print_mistakes(cli, unit_staff, tmp_path):
    pdf = str(tmp_path / "x.pdf")
    for args in [("badges", "print", "-o", pdf), ("badges", "print", "--unit", "SNV", "NV001", "-o", pdf),
                 ("badges", "print", "NV001", "-o", pdf), ("badges", "print", "--unit", "SNV", "-o", pdf),
                 ("badges", "print", "NOPE", "-o", pdf)]:
        result = cli(*args)
        assert result.exit_code == 1 and result.stderr.startswith("Lỗi: "), (args, result.stderr)
    cli("badges", "issue", "NV001")
    partial = cli("badges", "print", "--unit", "SNV", "-o", pdf)
    assert partial.exit_code == 0 and "Bỏ qua 15 người chưa có thẻ" in partial.stderr


def _card(**changes) -> cards.Card:
    fields = dict(agency="UBND tỉnh", unit="Sở Nội vụ", department="", full_name="Nguyễn Văn A",
                  position="Chuyên viên", card_number="QT-1", category="CC", serial="ABCDEFGH",
                  payload="TCC1|NV1|ABCDEFGH|AAAA|" + "A" * 86)
    fields.update(changes)
    return cards.Card(**fields)


def test_photo_or_placeholder(tmp_path):
    photo = tmp_path / "anh.png"
    Image.new("RGB", (300, 400), (10, 120, 200)).save(photo)
    loaded = cards.load_photo("anh.png", tmp_path)
    assert loaded is not None and loaded.size == (300, 400)
    assert cards.load_photo("missing.jpg", tmp_path) is None
    assert cards.load_photo("data:image/png;base64,not-an-image") is None
    assert cards.load_photo(None) is None

    with_photo = cards.card_image(_card(photo=loaded))
    without = cards.card_image(_card())
    centre = (round(14 * 300 / 25.4), round(30 * 300 / 25.4))  # inside the photo box
    assert with_photo.getpixel(centre) == (10, 120, 200)
    assert without.getpixel(centre) in {cards.PLACEHOLDER_BG, cards.PLACEHOLDER_FG}

    pdf = tmp_path / "photo.pdf"
    cards.write_pdf([_card(photo=loaded), _card()], pdf)
    images = PdfReader(pdf).pages[0].images
    assert len(images) == 1  # the photo; the placeholder is vector art


def test_sheet_geometry():
    positions = cards.card_positions()
    assert len(positions) == cards.CARDS_PER_SHEET == 8
    margin = cards.CROP_OFFSET + cards.CROP_LENGTH
    for left, bottom in positions:
        assert margin <= left and left + cards.CARD_W <= cards.A4_W - margin
        assert margin <= bottom and bottom + cards.CARD_H <= cards.A4_H - margin
    # crop marks of neighbouring cards reach `margin` into the gutter from each side
    lefts = sorted({left for left, _ in positions})
    bottoms = sorted({bottom for _, bottom in positions})
    assert len(lefts) == cards.COLUMNS and len(bottoms) == cards.ROWS
    for a, b in zip(lefts, lefts[1:]):
        assert b - (a + cards.CARD_W) > 2 * margin
    for a, b in zip(bottoms, bottoms[1:]):
        assert b - (a + cards.CARD_H) > 2 * margin
    # ID-1: the QR fits the card, its modules are at least 0.4 mm for a webcam at 2 cm
    modules = cards._qr_modules("TCC1|" + "X" * 24 + "|ABCDEFGH|AAAA|" + "A" * 86)
    assert cards._Layout.qr[2] / len(modules) >= 0.4


def test_vietnamese_name_order():
    names = ["Trần Văn Ơn", "Nguyễn Thị Ánh", "Lê Văn An", "Phạm Thị Ân", "Ngô Thị Ăn",
             "Đỗ Văn Dũng", "Hoàng Đức Đạt", "Bùi Văn Ba", "Mai Văn Bá", "Lý Thị Bà"]
    assert sorted(names, key=name_sort_key) == [
        "Lê Văn An", "Nguyễn Thị Ánh", "Ngô Thị Ăn", "Phạm Thị Ân", "Bùi Văn Ba", "Lý Thị Bà",
        "Mai Văn Bá", "Đỗ Văn Dũng", "Hoàng Đức Đạt", "Trần Văn Ơn",
    ]


def test_nfd_names_are_printed_composed(tmp_path):
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết")
    card = cards.make_card(
        _Badge(_Employee(nfd)), "TCC1|NV1|ABCDEFGH|AAAA|" + "A" * 86, agency="UBND tỉnh")
    assert card.full_name == unicodedata.normalize("NFC", nfd)
    pdf = tmp_path / "nfd.pdf"
    cards.write_pdf([card], pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True).stdout
    assert "Nguyễn Thị Ánh Tuyết" in text.decode()


def test_the_band_names_the_office_and_the_body_the_phong_in_it(tmp_path):
    """Two "Văn phòng Sở" of two Sở print differently: the band names the Sở (the unit
    below the top one), the body the phòng."""
    top = Unit(code="UBND", name="UBND tỉnh Quảng Nam")
    snv = Unit(code="SNV", name="Sở Nội vụ", parent=top)
    stc = Unit(code="STC", name="Sở Tài chính", parent=top)
    assert cards.card_units(top) == ("UBND tỉnh Quảng Nam", "")
    assert cards.card_units(top, "UBND TỈNH Quảng Nam") == ("", "")  # named once, above
    assert cards.card_units(snv) == ("Sở Nội vụ", "")
    assert cards.card_units(Unit(code="SNV-VP", name="Văn phòng Sở", parent=snv)) == (
        "Sở Nội vụ", "Văn phòng Sở")
    team = Unit(code="STC-VP-1", name="Tổ văn thư",
                parent=Unit(code="STC-VP", name="Văn phòng Sở", parent=stc))
    assert cards.card_units(team) == ("Sở Tài chính", "Tổ văn thư")
    employee = _Employee("Lê Văn An")
    employee.unit = team
    pdf = tmp_path / "card.pdf"
    cards.write_pdf([cards.make_card(_Badge(employee), "TCC1|NV1|ABCDEFGH|AAAA|" + "A" * 86,
                                     agency="UBND tỉnh Quảng Nam")], pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True,
                          capture_output=True).stdout.decode()
    assert "UBND TỈNH QUẢNG NAM" in text and "Sở Tài chính" in text and "Tổ văn thư" in text


class _Employee:
    def __init__(self, name):
        self.full_name, self.position, self.card_number, self.code = name, None, None, "NV1"
        self.category, self.photo = "VC", None
        self.unit = Unit(code="SYT", name="Sở Y tế")


class _Badge:
    def __init__(self, employee):
        self.employee, self.serial = employee, "ABCDEFGH"


def test_issue_and_print_need_no_keys_set_up_by_hand(cli, unit_staff, session_factory):
    with session_factory() as session:
        assert session.scalars(select(Employee)).first() is not None
    result = cli("badges", "issue", "NV001")
    assert result.exit_code == 0 and "đã tạo khóa" in result.stderr

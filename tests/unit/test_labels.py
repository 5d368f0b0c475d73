"""Label payloads: round trips through a real QR decoder, and corruptions that must be refused."""

from __future__ import annotations

import datetime as dt
import random
import string

import cv2
import numpy as np
import pypdfium2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import labels
from ledger.packs import SealedPack, cut, settle, take
from ledger.rules import Code, LedgerError
from ledger.services import label_keys
from ledger.services.label_sheets import (
    LABEL_FONT_FILE,
    Grid,
    LabelView,
    label_png,
    label_svg,
    qr_matrix,
    sheet_pdf,
)
from ledger.settings import Settings

KEYS = labels.LabelKeys(
    "K2", {"K2": b"current-secret-0123456789", "K1": b"older-secret-0123456789"}
)
ALPHABET = string.ascii_uppercase + string.digits + ".-"

codes = st.from_regex(r"[0-9A-Z][0-9A-Z-]{0,11}", fullmatch=True)
label_values = st.builds(
    labels.PackLabel,
    codes,
    codes,
    st.integers(1, 9_999_999),
    st.integers(1, 2_000_000_000),
    st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))),
)


def view(payload: str, serial: int = 1, expires_on: dt.date | None = None) -> LabelView:
    return LabelView(
        payload,
        "2014年慰问独生子女家庭户单张年画",
        "NH2014",
        "2014-01",
        serial,
        500,
        "张",
        "捆",
        expires_on,
    )


def decode_image(gray: np.ndarray) -> list[str]:
    found, texts, _, _ = cv2.QRCodeDetector().detectAndDecodeMulti(gray)
    return sorted(text for text in texts if text) if found else []


@given(label_values)
def test_every_label_round_trips(label):
    payload = labels.encode(label, KEYS)
    assert labels.decode(payload, KEYS) == label
    assert set(payload) <= set(ALPHABET)  # QR alphanumeric mode, no lower case


def test_an_input_method_or_scanner_mangling_is_undone():
    payload = labels.encode(labels.PackLabel("NH2014", "2014-01", 17, 500), KEYS)
    mangled = "  " + payload.lower().replace(".", "。").replace("-", "－") + "\r\n"
    assert labels.decode(mangled, KEYS).serial == 17
    full_width = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in payload)
    assert labels.decode(full_width, KEYS).serial == 17


def test_labels_signed_with_an_older_key_still_verify():
    old = labels.LabelKeys("K1", KEYS.secrets)
    payload = labels.encode(labels.PackLabel("BYT", "B-2401", 3, 720, dt.date(2027, 1, 31)), old)
    assert ".K1." in payload
    assert labels.decode(payload, KEYS).expires_on == dt.date(2027, 1, 31)
    retired = labels.LabelKeys("K2", {"K2": KEYS.secrets["K2"]})
    with pytest.raises(LedgerError) as error:
        labels.decode(payload, retired)
    assert error.value.code is Code.label_invalid


def test_codes_outside_the_label_alphabet_are_refused_when_printing():
    with pytest.raises(LedgerError) as error:
        labels.encode(labels.PackLabel("NH2014", "批次1", 1, 500), KEYS)
    assert error.value.code is Code.label_unencodable


def corruptions(payload: str, rng: random.Random):
    """Changed, dropped, inserted and swapped characters, each a different text."""
    while True:
        kind = rng.randrange(4)
        i = rng.randrange(len(payload))
        if kind == 0:
            ch = rng.choice([c for c in ALPHABET if c != payload[i]])
            text = payload[:i] + ch + payload[i + 1 :]
        elif kind == 1:
            text = payload[:i] + payload[i + 1 :]
        elif kind == 2:
            text = payload[:i] + rng.choice(ALPHABET) + payload[i:]
        else:
            j = rng.randrange(len(payload))
            chars = list(payload)
            chars[i], chars[j] = chars[j], chars[i]
            text = "".join(chars)
        if labels.normalise(text) != payload:
            yield kind, text


def test_ten_thousand_corrupted_payloads_are_all_refused():
    rng = random.Random(20261122)
    refused = accepted = 0
    for n in range(2_500):
        label = labels.PackLabel(
            rng.choice(["NH2014", "GT2014", "BYT", "KFBYY"]),
            rng.choice(["2014-01", "B-2401", "KF-2502", "A1"]),
            rng.randrange(1, 5000),
            rng.choice([1, 3, 500, 720]),
            rng.choice([None, dt.date(2027, 3, 31)]),
        )
        payload = labels.encode(label, KEYS)
        assert labels.decode(payload, KEYS) == label
        accepted += 1
        stream = corruptions(payload, rng)
        for _ in range(4):
            _, text = next(stream)
            with pytest.raises(LedgerError) as error:
                labels.decode(text, KEYS)
            assert error.value.code is Code.label_invalid
            refused += 1
        # The same label under a key we do not hold, with and without our key id.
        stranger = labels.LabelKeys("K2", {"K2": f"stranger-{n}-0123456789".encode()})
        for text in (
            labels.encode(label, stranger),
            labels.encode(label, labels.LabelKeys("K9", {"K9": b"unknown-0123456789abc"})),
        ):
            with pytest.raises(LedgerError):
                labels.decode(text, KEYS)
            refused += 1
    assert refused == 15_000 and accepted == 2_500


@given(st.text(ALPHABET, min_size=1, max_size=160))
def test_a_qr_matrix_of_any_length_decodes_with_opencv(payload):
    """The encoder (zxing-cpp) at every version a payload up to 160 characters needs, read by
    an independent decoder: the matrix drawn 4 px a module with a 4-module quiet zone."""
    matrix = np.array(qr_matrix(payload), dtype=bool)
    size = len(matrix)
    assert matrix.shape == (size, size) and (size - 17) % 4 == 0  # version (size - 17) / 4
    image = np.kron(np.where(matrix, 0, 255).astype(np.uint8), np.ones((4, 4), np.uint8))
    image = np.pad(image, 16, constant_values=255)
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert text == payload


def test_a_png_label_decodes_with_opencv():
    payload = labels.encode(labels.PackLabel("BYT", "B-2401", 42, 720, dt.date(2027, 1, 31)), KEYS)
    png = label_png(view(payload, 42, dt.date(2027, 1, 31)))
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert labels.decode(text, KEYS).serial == 42


def test_an_svg_label_carries_the_chinese_text_and_the_code():
    payload = labels.encode(labels.PackLabel("NH2014", "2014-01", 9, 500), KEYS)
    svg = label_svg(view(payload, 9)).decode("utf-8")
    assert "2014年慰问独生子女家庭户单张年画" in svg and "数量 500 张/捆" in svg
    assert svg.startswith("<svg") and '<path d="M' in svg


def test_a_pdf_sheet_decodes_label_by_label():
    payloads = [
        labels.encode(labels.PackLabel("NH2014", "2014-01", serial, 500), KEYS)
        for serial in range(1, 27)
    ]
    pdf = sheet_pdf([view(p, i + 1) for i, p in enumerate(payloads)], Grid(3, 8))
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) == 2  # 24 on the first page, 2 on the second
    found = []
    for page in document:
        image = page.render(scale=3).to_pil().convert("L")
        found += decode_image(np.array(image))
    assert sorted(found) == sorted(payloads)
    assert pdf_fonts(pdf) == {"NotoSansSC-Regular": True, "Courier": False}
    # the border and the lines the 26 labels share are drawn once, as one form each label places
    assert pdf.count(b"/Subtype /Form") == 1
    text = "".join(page.get_textpage().get_text_range() for page in document)
    assert text.count("数量 500 张/捆") == 26 and "包号 26" in text


def pdf_fonts(pdf: bytes) -> dict[str, bool]:
    """The fonts the sheet's text is drawn in (subset prefix dropped): embedded or not."""
    import ctypes

    import pypdfium2.raw as raw

    fonts = {}
    for page in pypdfium2.PdfDocument(pdf):
        for text in page.get_objects(filter=[raw.FPDF_PAGEOBJ_TEXT]):
            font = raw.FPDFTextObj_GetFont(text.raw)
            size = raw.FPDFFont_GetBaseFontName(font, None, 0)
            name = ctypes.create_string_buffer(size)
            raw.FPDFFont_GetBaseFontName(font, name, size)
            fonts[name.value.decode()] = bool(raw.FPDFFont_GetIsEmbedded(font))
    return fonts


def embedded_programs(pdf: bytes) -> list[bytes]:
    """The font programs embedded as FontFile2 (TrueType), as stored (compressed or not)."""
    import re
    import zlib

    programs = []
    for number in re.findall(rb"/FontFile2 (\d+) 0 R", pdf):
        start = pdf.index(b"\n%s 0 obj" % number)
        header = pdf[start : pdf.index(b"stream", start)]
        body = pdf[pdf.index(b"stream", start) + 7 : pdf.index(b"endstream", start)]
        programs.append(zlib.decompress(body) if b"FlateDecode" in header else body)
    return programs


def test_a_sheet_embeds_the_subset_of_its_chinese_font_it_uses():
    """A PC without Chinese fonts prints the sheet as it is: the names are drawn in the
    shipped font, embedded as a TrueType subset; no font is left to the viewer (but Courier,
    one of the standard 14, for the ASCII identity line); the text still extracts."""
    names = ("2014年慰问独生子女家庭户单张年画", "避孕套（中号）", "郫都区邛崃市犍为县挂图")
    views = [
        LabelView(
            labels.encode(labels.PackLabel("NH2014", "2014-01", serial, 500), KEYS),
            names[serial % 3],
            "NH2014",
            "2014-01",
            serial,
            500,
            "张",
            "捆",
            dt.date(2027, 1, 31) if serial % 2 else None,
        )
        for serial in range(1, 10)
    ]
    pdf = sheet_pdf(views, Grid(3, 3))
    assert pdf_fonts(pdf) == {"NotoSansSC-Regular": True, "Courier": False}
    assert b"STSong" not in pdf and b"/CIDFontType0" not in pdf
    programs = embedded_programs(pdf)
    assert len(programs) == 1 and programs[0][:4] == b"\x00\x01\x00\x00"  # TrueType
    shipped = LABEL_FONT_FILE.stat().st_size
    assert len(programs[0]) < shipped / 20  # the glyphs used, not the whole font
    text = pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
    flat = text.replace("\r", "").replace("\n", "")
    for name in names:
        assert name in flat
    assert "数量 500 张/捆" in text and "有效期至 2027-01-31" in text and "包号 9" in text


def test_a_character_outside_the_shipped_font_comes_from_another(monkeypatch, tmp_path):
    """« and » are not in GB 2312: they come from LEDGER_LABEL_FONT when it has them (embedded
    too), else from STSong-Light (not embedded), and only they do."""
    import base64
    import inspect
    import re

    from PIL import ImageFont

    payload = labels.encode(labels.PackLabel("NH2014", "2014-01", 1, 500), KEYS)
    guillemets = LabelView(payload, "«年画»", "NH2014", "2014-01", 1, 500, "张", "捆")
    monkeypatch.delenv("LEDGER_LABEL_FONT", raising=False)
    fallback = sheet_pdf([guillemets], Grid(1, 1))
    assert pdf_fonts(fallback) == {
        "NotoSansSC-Regular": True,
        "STSong-Light": False,
        "Courier": False,
    }
    # Pillow carries a small TrueType font (Aileron) that has « and »
    source = inspect.getsource(ImageFont.load_default)
    aileron = base64.b64decode(re.search(r'b64decode\(b"""(.*?)"""', source, re.S).group(1))
    extra = tmp_path / "extra.ttf"
    extra.write_bytes(aileron)
    monkeypatch.setenv("LEDGER_LABEL_FONT", str(extra))
    pdf = sheet_pdf([guillemets], Grid(1, 1))
    fonts = pdf_fonts(pdf)
    assert fonts.pop("NotoSansSC-Regular") and fonts.pop("Courier") is False
    assert list(fonts.values()) == [True] and b"STSong" not in pdf
    assert "«年画»" in pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()


def test_key_file_is_created_once_and_rotates(tmp_path):
    settings = Settings(label_key_file=str(tmp_path / "keys"))
    first = label_keys.load(settings)
    assert first.current == "K1" and label_keys.load(settings) == first
    assert label_keys.rotate(settings) == "K2"
    rotated = label_keys.load(settings)
    assert rotated.current == "K2" and rotated.secrets["K1"] == first.secrets["K1"]
    configured = label_keys.parse("A1:0123456789abcdefXYZ,K1:fedcba9876543210xyz")
    assert configured.current == "A1" and set(configured.secrets) == {"A1", "K1"}
    with pytest.raises(label_keys.LabelKeyError):
        label_keys.parse("k1:short")


def test_cutting_and_taking_packs():
    assert cut(930_001, 500) == [500] * 1860 + [1]
    one, two, three = sealed = [SealedPack(10 + s, s, 500) for s in (1, 2, 3)]
    assert take(sealed, 1500, 1700, 1200, 500) == ([one, two], [])  # 200 of the 200 loose
    assert take(sealed, 1500, 1500, 1200, 500) == ([one, two], [three])  # no loose: open #3
    assert take(sealed, 1500, 1500, 600, 500, [three]) == ([three], [one])  # scanned #3, open #1
    assert take(sealed, 1500, 1500, 20, 500) == ([], [one])
    remainder = [SealedPack(20, 7, 1), one]
    assert take(remainder, 501, 600, 50, 500) == ([], [])  # no lone remainder pack for 50

    def unread():
        raise AssertionError("no pack should be read")
        yield

    assert take(unread(), 1500, 1600, 20, 500) == ([], [])  # the loose 100 suffice
    assert settle(reversed(sealed), 1500, 1100) == [three]
    assert settle(reversed(sealed), 1500, 1500) == []


def test_taking_reads_only_the_packs_it_needs():
    read = []

    def packs():
        for serial in range(1, 100_001):
            read.append(serial)
            yield SealedPack(serial, serial, 500)

    taken = take(packs(), 50_000_000, 50_000_000, 1200, 500)
    assert [p.serial for p in taken.moved] == [1, 2] and [p.serial for p in taken.opened] == [3]
    assert len(read) <= 4

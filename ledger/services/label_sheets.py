"""Rendering pack labels: one label as PNG or SVG, A4 sheets of labels as PDF.

The QR code is made by zxing-cpp, a native encoder (error correction M, the smallest version,
the mask chosen by the standard's penalty rule, no quiet zone inside the matrix; the renderers
leave one): ~0.1 ms a code, where `qrcode` took ~3 ms trying its eight masks in pure Python.

PDF sheets are drawn with reportlab in the font the project ships (fonts/: Noto Sans SC cut down
to GB 2312, TrueType outlines, SIL OFL); reportlab embeds the subset of it that a sheet uses, so
the sheet prints the same on a PC without Chinese fonts. A character outside GB 2312 (a rare one
in a place name) is drawn from the TrueType font named by LEDGER_LABEL_FONT, embedded too, or
failing that from reportlab's CID font STSong-Light, which is not embedded (the viewer supplies
it). The QR modules are written as runs of rectangles straight into the page's content stream, in
a space of one module a unit; a label's border and the lines it shares with other labels (name,
batch, quantity, expiry) are drawn once as a form and placed by each label.

PNG draws its text with the same font (or LEDGER_LABEL_FONT when set).
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import msgspec
import numpy as np
import zxingcpp

from ledger.limits import label_columns_max, label_margin_mm_max, label_rows_max

A4_WIDTH_MM, A4_HEIGHT_MM = 210.0, 297.0
POINTS_PER_MM = 72 / 25.4
LABEL_FONT_FILE = Path(__file__).with_name("fonts") / "NotoSansSC-Regular-GB2312.ttf"
CJK_FONT = "LedgerNotoSansSC"  # the shipped font, as registered with reportlab
EXTRA_FONT = "LedgerLabelFontExtra"  # LEDGER_LABEL_FONT, for characters the shipped one lacks
CID_FONT = "STSong-Light"  # the last resort: not embedded
MIN_TEXT_SIZE = 4.5  # points: below this a line is cut rather than shrunk


class LabelView(msgspec.Struct, frozen=True):
    """What is printed on one label."""

    payload: str
    item_name: str
    item_code: str
    batch_number: str
    serial: int
    quantity: int
    base_unit: str
    pack_name: str
    expires_on: dt.date | None = None
    location_name: str = ""

    def lines(self) -> list[str]:
        """The human-readable lines, in Chinese."""
        out = [
            self.item_name,
            f"批次 {self.batch_number}",
            f"数量 {self.quantity} {self.base_unit}/{self.pack_name}",
        ]
        if self.expires_on is not None:
            out.append(f"有效期至 {self.expires_on:%Y-%m-%d}")
        out.append(f"包号 {self.serial}")
        return out

    def identity(self) -> str:
        return f"{self.item_code} {self.batch_number} #{self.serial} {self.quantity}"


class Grid(msgspec.Struct, frozen=True):
    """Labels per A4 page; margins in millimetres."""

    columns: int = 3
    rows: int = 8
    margin_mm: float = 8.0

    def check(self) -> None:
        if not (1 <= self.columns <= label_columns_max and 1 <= self.rows <= label_rows_max):
            raise ValueError(
                f"a sheet holds 1-{label_columns_max} columns and 1-{label_rows_max} rows of labels"
            )
        if not (0 <= self.margin_mm <= label_margin_mm_max):
            raise ValueError(f"margin must be 0-{label_margin_mm_max} mm")


DEFAULT_GRID = Grid()


def qr_modules(payload: str) -> np.ndarray:
    """The QR matrix of `payload` as a square array of bools (True = dark), no quiet zone: the
    smallest version at error correction M, the mask chosen by the standard's penalty rule."""
    code = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    return np.asarray(code.to_image(scale=1, add_quiet_zones=False)) == 0


def qr_matrix(payload: str) -> list[list[bool]]:
    return qr_modules(payload).tolist()


def _runs(matrix: np.ndarray | list[list[bool]]) -> list[tuple[int, int, int]]:
    """(row, start column, length) of every horizontal run of dark modules, row by row."""
    dark = np.asarray(matrix, dtype=np.int8)
    padded = np.zeros((dark.shape[0], dark.shape[1] + 2), np.int8)
    padded[:, 1:-1] = dark
    edges = np.diff(padded, axis=1)
    rows, starts = np.nonzero(edges == 1)
    lengths = np.nonzero(edges == -1)[1] - starts
    return list(zip(rows.tolist(), starts.tolist(), lengths.tolist(), strict=True))


# ---- SVG -------------------------------------------------------------------------------------


def label_svg(view: LabelView, module_mm: float = 0.6) -> bytes:
    """One label: the QR code with a quiet zone, and the Chinese text beside it."""
    matrix = qr_matrix(view.payload)
    size = len(matrix)
    quiet = 4
    qr_mm = (size + 2 * quiet) * module_mm
    width, height = qr_mm + 48, max(qr_mm, 30.0)
    path = "".join(
        f"M{(x + quiet) * module_mm:.3f} {(y + quiet) * module_mm:.3f}h{n * module_mm:.3f}"
        f"v{module_mm:.3f}h{-n * module_mm:.3f}z"
        for y, x, n in _runs(matrix)
    )
    texts = []
    for index, line in enumerate(view.lines()):
        weight = ' font-weight="bold"' if index == 0 else ""
        texts.append(
            f'<text x="{qr_mm + 1:.2f}" y="{5 + index * 5:.2f}" font-size="3.4"{weight}>'
            f"{escape(line)}</text>"
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.2f}mm" height="{height:.2f}mm" '
        f'viewBox="0 0 {width:.2f} {height:.2f}">'
        f'<rect width="100%" height="100%" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/>'
        f'<g font-family="Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, SimSun, '
        f'PingFang SC, sans-serif" fill="#000">{"".join(texts)}</g>'
        f'<text x="{qr_mm + 1:.2f}" y="{height - 1.5:.2f}" font-size="2.4" '
        f'font-family="monospace">{escape(view.identity())}</text></svg>'
    )
    return svg.encode("utf-8")


# ---- PNG -------------------------------------------------------------------------------------


def cjk_font_path() -> str | None:
    """The font PNG labels are drawn in: LEDGER_LABEL_FONT when set, else the shipped one."""
    configured = os.environ.get("LEDGER_LABEL_FONT")
    if configured and Path(configured).is_file():
        return configured
    return str(LABEL_FONT_FILE) if LABEL_FONT_FILE.is_file() else None


def label_png(view: LabelView, module_px: int = 6) -> bytes:
    """One label as a PNG for a label printer: the QR code, and the text where a CJK font is
    available (the ASCII identity line otherwise)."""
    from PIL import Image, ImageDraw, ImageFont

    matrix = qr_matrix(view.payload)
    quiet = 4
    qr_px = (len(matrix) + 2 * quiet) * module_px
    text_px = 60 * module_px
    image = Image.new("L", (qr_px + text_px, max(qr_px, 40 * module_px)), 255)
    draw = ImageDraw.Draw(image)
    for y, x, n in _runs(matrix):
        left, top = (x + quiet) * module_px, (y + quiet) * module_px
        draw.rectangle((left, top, left + n * module_px - 1, top + module_px - 1), fill=0)
    font_path = cjk_font_path()
    line_px = 5 * module_px
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    if font_path is not None:
        font = ImageFont.truetype(font_path, size=int(line_px * 0.8))
        lines = view.lines()
    else:
        font = ImageFont.load_default(size=int(line_px * 0.7))
        lines = [view.identity(), view.payload]
    for index, line in enumerate(lines):
        draw.text((qr_px, quiet * module_px + index * line_px), line, fill=0, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


# ---- PDF -------------------------------------------------------------------------------------


class _Fonts:
    """The fonts text is set in, first that has a character's glyph: the shipped font, then
    LEDGER_LABEL_FONT (a TrueType file), then STSong-Light. Registered with reportlab once."""

    def __init__(self) -> None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        self.covered: list[tuple[str, frozenset[int]]] = []
        for name, path in ((CJK_FONT, LABEL_FONT_FILE), (EXTRA_FONT, _extra_font_file())):
            if path is None:
                continue
            try:
                font = TTFont(name, str(path))
            except Exception:  # not a TrueType-outline font reportlab can embed: skip it
                continue
            pdfmetrics.registerFont(font)
            self.covered.append((name, frozenset(font.face.charToGlyph)))
        self.path = os.environ.get("LEDGER_LABEL_FONT")

    def font_of(self, char: str) -> str:
        code = ord(char)
        for name, codes in self.covered:
            if code in codes:
                return name
        _register_cid_font()
        return CID_FONT

    def pieces(self, text: str) -> list[tuple[str, str]]:
        """`text` as runs of (font, characters), each run in the first font that has them."""
        runs: list[tuple[str, str]] = []
        for char in text:
            font = self.font_of(char)
            if runs and runs[-1][0] == font:
                runs[-1] = (font, runs[-1][1] + char)
            else:
                runs.append((font, char))
        return runs

    def width(self, text: str, size: float) -> float:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        return sum(stringWidth(chunk, font, size) for font, chunk in self.pieces(text))

    def draw(self, pdf, x: float, y: float, text: str, size: float) -> None:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        for font, chunk in self.pieces(text):
            pdf.setFont(font, size)
            pdf.drawString(x, y, chunk)
            x += stringWidth(chunk, font, size)


def _extra_font_file() -> Path | None:
    configured = os.environ.get("LEDGER_LABEL_FONT")
    return Path(configured) if configured and Path(configured).is_file() else None


def _register_cid_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))


_fonts: _Fonts | None = None


def _label_fonts() -> _Fonts:
    """The fonts, loaded once per LEDGER_LABEL_FONT setting."""
    global _fonts
    if _fonts is None or _fonts.path != os.environ.get("LEDGER_LABEL_FONT"):
        _fonts = _Fonts()
    return _fonts


def _fit(fonts: _Fonts, text: str, width_pt: float, size: float) -> list[str]:
    """Split `text` into lines no wider than `width_pt` at font `size` (at most two)."""
    lines, current = [], ""
    for char in text:
        if current and fonts.width(current + char, size) > width_pt:
            lines.append(current)
            current = char
        else:
            current += char
    lines.append(current)
    if len(lines) > 2:
        lines = [lines[0], lines[1][:-1] + "…"]
    return lines


def sheet_pdf(
    views: Sequence[LabelView], grid: Grid = DEFAULT_GRID, title: str = "包装标签"
) -> bytes:
    """A4 pages of labels on `grid`, left to right, top to bottom."""
    from reportlab import rl_config
    from reportlab.pdfgen import canvas

    grid.check()
    # streams compressed but not also ASCII85-encoded: binary, a fifth smaller, and no pure-Python
    # ASCII85 pass (a sixth of a sheet's time). This module is reportlab's only user here.
    rl_config.useA85 = 0
    fonts = _label_fonts()
    buffer = io.BytesIO()
    page_w, page_h = A4_WIDTH_MM * POINTS_PER_MM, A4_HEIGHT_MM * POINTS_PER_MM
    margin = grid.margin_mm * POINTS_PER_MM
    pdf = canvas.Canvas(buffer, pagesize=(page_w, page_h), pageCompression=1, invariant=1)
    pdf.setTitle(title)
    pdf.setCreator("publicity-stock-ledger")
    sheet = _Sheet(
        pdf, fonts, (page_w - 2 * margin) / grid.columns, (page_h - 2 * margin) / grid.rows
    )
    per_page = grid.columns * grid.rows
    for start in range(0, len(views), per_page):
        if start:
            pdf.showPage()
        for index, view in enumerate(views[start : start + per_page]):
            column, row = index % grid.columns, index // grid.columns
            sheet.draw(view, margin + column * sheet.cell_w, page_h - margin - row * sheet.cell_h)
    if not views:
        fonts.draw(pdf, margin, page_h - margin - 12, "没有可打印的标签", 12)
    pdf.save()
    return buffer.getvalue()


class _Rects(dict[tuple[int, int, int], str]):
    """The operator of the unit-high rectangle of a run (row, column, length), formatted once."""

    def __missing__(self, run: tuple[int, int, int]) -> str:
        y, x, n = run
        self[run] = text = f"{x} {y} {n} 1 re"
        return text


class _Sheet:
    """The labels of one PDF, drawn alike: a label is its border and the lines every label with
    the same text shares, drawn once as a form (a PDF XObject) and placed by each label, then its
    own QR code, pack number and identity line. Widths and line breaks are measured once."""

    def __init__(self, pdf, fonts: _Fonts, cell_w: float, cell_h: float) -> None:
        self.pdf, self.fonts, self.cell_w, self.cell_h = pdf, fonts, cell_w, cell_h
        self.pad = 2.5 * POINTS_PER_MM
        self.qr_size = min(cell_h - 2 * self.pad, cell_w * 0.48)
        self.text_left = self.pad + self.qr_size + self.pad  # from the label's left edge
        self.text_width = cell_w - self.pad - self.text_left
        self.widths: dict[str, float] = {}  # at size 1
        self.fitted: dict[tuple[str, float], list[str]] = {}
        self.forms: dict[tuple[tuple[str, ...], float], tuple[str, float]] = {}
        self.rects = _Rects()  # a sheet of one version: a few thousand runs

    def width(self, text: str) -> float:
        if text not in self.widths:
            self.widths[text] = self.fonts.width(text, 1.0)
        return self.widths[text]

    def fit(self, text: str, size: float) -> list[str]:
        if self.width(text) * size < self.text_width * (1 - 1e-9):
            return [text]  # clearly fits: what _fit would say, without measuring each prefix
        key = (text, size)
        if key not in self.fitted:
            self.fitted[key] = _fit(self.fonts, text, self.text_width, size)
        return self.fitted[key]

    def draw(self, view: LabelView, left: float, top: float) -> None:
        pdf, pad = self.pdf, self.pad
        self.draw_qr(qr_modules(view.payload), left + pad, top - pad)
        lines = view.lines()
        size = max(5.0, min(8.0, self.cell_h / 8))
        # the batch, quantity, expiry and pack lines are not wrapped: a size at which they all fit
        widest = max(self.width(line) for line in lines[1:])
        size = max(MIN_TEXT_SIZE, min(size, self.text_width / widest)) if widest else size
        form, y = self.form(tuple(lines[:-1]), size)
        pdf._code.append(f"q 1 0 0 1 {left:.2f} {top:.2f} cm")
        pdf.doForm(form)
        pdf._code.append("Q")
        pdf.setFillGray(0)
        self.fonts.draw(pdf, left + self.text_left, top + y, self.fit(lines[-1], size)[0], size)
        pdf.setFont("Courier", max(4.0, size * 0.6))
        pdf.drawString(left + self.text_left, top - self.cell_h + pad, view.identity()[:40])

    def draw_qr(self, matrix: np.ndarray, left: float, top: float) -> None:
        """The dark modules as runs of unit rectangles in a space of one module a unit, y down."""
        module = self.qr_size / len(matrix)
        rects = "\n".join(map(self.rects.__getitem__, _runs(matrix)))
        self.pdf._code.append(
            f"q 0 g {module:.4f} 0 0 {-module:.4f} {left:.2f} {top:.2f} cm\n{rects}\nf Q"
        )

    def form(self, lines: tuple[str, ...], size: float) -> tuple[str, float]:
        """The form holding a label's border and `lines` (top-left corner at 0 0), and the
        baseline of the line after them."""
        key = (lines, size)
        if key in self.forms:
            return self.forms[key]
        pdf, fonts, pad = self.pdf, self.fonts, self.pad
        name = f"label{len(self.forms)}"
        pdf.beginForm(name, -1, -self.cell_h - 1, self.cell_w + 1, 1)
        pdf.setLineWidth(0.3)
        pdf.setStrokeGray(0.75)
        pdf.rect(0, -self.cell_h, self.cell_w, self.cell_h, stroke=1, fill=0)
        pdf.setFillGray(0)
        y = -pad - size
        for line in self.fit(lines[0], size):
            fonts.draw(pdf, self.text_left, y, line, size)
            y -= size * 1.25
        for line in lines[1:]:
            fonts.draw(pdf, self.text_left, y, self.fit(line, size)[0], size)
            y -= size * 1.25
        pdf.endForm()
        self.forms[key] = (name, y)
        return self.forms[key]

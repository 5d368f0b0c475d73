"""Build the label font the project ships: Noto Sans SC cut down to GB 2312 with TrueType outlines.

    pip install fonttools
    python -m scripts.make_label_font NotoSansSC-Regular.otf

The source is Noto Sans SC Regular (the SubsetOTF/SC build of Noto Sans CJK, SIL Open Font
License 1.1; the `pylopdf-fonts-zh-cn` package on PyPI carries version 2.004). reportlab embeds
only TrueType outlines, so the cubic CFF outlines are converted to quadratic ones (cu2qu, within
1/1000 em) after the font is cut down to: every character of GB 2312 (6,763 hanzi with the
punctuation, symbols and full-width forms), printable ASCII, CJK punctuation and a few signs.
Layout tables, hinting and vertical metrics are dropped (labels set horizontal text without
shaping). The result is written to ledger/services/fonts/ beside its licence.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "ledger/services/fonts/NotoSansSC-Regular-GB2312.ttf"


def characters() -> set[str]:
    found = {chr(code) for code in range(0x20, 0x7F)}
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                found.add(bytes([high, low]).decode("gb2312"))
    found |= {chr(code) for code in range(0x3000, 0x3040)}  # CJK symbols and punctuation
    found |= {chr(code) for code in range(0xFF01, 0xFF5F)}  # full-width forms
    found |= set("—〇…·×°±№")
    return found


def build(source: Path, out: Path) -> int:
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(source)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14]
    options.notdef_outline = True
    options.glyph_names = False
    options.drop_tables += ["VORG", "vhea", "vmtx", "GSUB", "GPOS", "GDEF", "BASE"]
    cutter = subset.Subsetter(options)
    cutter.populate(unicodes=sorted(ord(char) for char in characters()))
    cutter.subset(font)

    order = font.getGlyphOrder()
    outlines = font.getGlyphSet()
    quadratic = {}
    for name in order:
        pen = TTGlyphPen(outlines)
        outlines[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        quadratic[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = quadratic
    del font["CFF "]
    glyf.compile(font)
    metrics = font["hmtx"]
    for name, glyph in quadratic.items():
        glyph.recalcBounds(glyf)
        metrics[name] = (metrics[name][0], getattr(glyph, "xMin", 0))
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for field in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    font["post"].formatType = 3.0
    font.sfntVersion = "\x00\x01\x00\x00"
    font.save(out)
    return len(order)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="NotoSansSC-Regular.otf")
    parser.add_argument("--out", type=Path, default=OUT)
    arguments = parser.parse_args()
    glyphs = build(arguments.source, arguments.out)
    print(f"{glyphs} glyphs, {arguments.out.stat().st_size:,} bytes -> {arguments.out}")


if __name__ == "__main__":
    main()

"""Label sheets: the 1,860-label PDF of the 2014 年画 print run (930,000 张 in 捆 of 500).

Run: .venv/bin/python -m pytest bench/test_labels.py --benchmark-only -s

After timing, every label of the sheet is read back, page by page, by zxing-cpp's reader (the
codes are written by the Zint encoder zxing-cpp bundles, a separate code base) and must name its
own pack; the last page is read by OpenCV too.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import pypdfium2
import zxingcpp

from ledger import commands as c
from ledger import labels
from ledger.db.engine import upgrade
from ledger.db.unit_of_work import Database
from ledger.model import Location, LocationLevel
from ledger.services.demo import ITEMS
from ledger.services.label_sheets import Grid
from tests.bound import Ledger, Scanning
from tests.conftest import TODAY, sqlite_engine

KEYS = labels.LabelKeys("B1", {"B1": b"bench-label-key-0123456789"})
LABELS = 1860


def test_label_sheet_for_the_2014_print_run(benchmark, tmp_path):
    engine = sqlite_engine(tmp_path)
    upgrade(engine)
    ledger = Ledger(Database(engine), clock=lambda: TODAY)
    ledger.add_location(Location("510100", "成都市", LocationLevel.city))
    ledger.add_item(next(item for item in ITEMS if item.code == "NH2014"))
    ledger.receive(c.Receive("510100", (c.ReceiptLine("NH2014", "2014-01", 930_000),)))
    scanning = Scanning(ledger, KEYS)
    grid = Grid(3, 8)

    cpu = []  # this process's CPU seconds a round: what the sheet costs on a busy machine

    def build() -> bytes:
        start = time.process_time()
        sheet = scanning.sheet("NH2014", "2014-01", "510100", grid)
        cpu.append(time.process_time() - start)
        return sheet

    sheet = benchmark.pedantic(build, rounds=5, iterations=1)
    benchmark.extra_info["labels"] = LABELS
    benchmark.extra_info["bytes"] = len(sheet)
    benchmark.extra_info["labels_per_second"] = round(LABELS / benchmark.stats.stats.mean)
    benchmark.extra_info["labels_per_cpu_second"] = round(LABELS * len(cpu) / sum(cpu))
    document = pypdfium2.PdfDocument(sheet)
    assert len(document) == 78  # 1,860 labels, 24 to a page
    serials = []
    for page in document:
        image = np.array(page.render(scale=2).to_pil().convert("L"))
        codes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        serials += sorted(labels.decode(code.text, KEYS).serial for code in codes)
    assert serials == list(range(1, LABELS + 1))
    last = document[77].render(scale=3).to_pil().convert("L")
    found, texts, _, _ = cv2.QRCodeDetector().detectAndDecodeMulti(np.array(last))
    assert found and sorted(labels.decode(text, KEYS).serial for text in texts) == list(
        range(1849, 1861)
    )
    engine.dispose()

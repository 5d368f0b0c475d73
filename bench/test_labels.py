"""Label sheets: the 1,860-label PDF of the 2014 年画 print run (930,000 张 in 捆 of 500).

Run: .venv/bin/python -m pytest bench/test_labels.py --benchmark-only -s
"""

from __future__ import annotations

import cv2
import numpy as np
import pypdfium2

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


def test_label_sheet_for_the_2014_print_run(benchmark, tmp_path):
    engine = sqlite_engine(tmp_path)
    upgrade(engine)
    ledger = Ledger(Database(engine), clock=lambda: TODAY)
    ledger.add_location(Location("510100", "成都市", LocationLevel.city))
    ledger.add_item(next(item for item in ITEMS if item.code == "NH2014"))
    ledger.receive(c.Receive("510100", (c.ReceiptLine("NH2014", "2014-01", 930_000),)))
    scanning = Scanning(ledger, KEYS)

    sheet = benchmark.pedantic(
        scanning.sheet, args=("NH2014", "2014-01", "510100", Grid(3, 8)), rounds=3, iterations=1
    )
    benchmark.extra_info["labels"] = 1860
    benchmark.extra_info["bytes"] = len(sheet)
    benchmark.extra_info["labels_per_second"] = round(1860 / benchmark.stats.stats.mean)
    document = pypdfium2.PdfDocument(sheet)
    assert len(document) == 78  # 1,860 labels, 24 to a page
    last = document[77].render(scale=3).to_pil().convert("L")
    found, texts, _, _ = cv2.QRCodeDetector().detectAndDecodeMulti(np.array(last))
    assert found and sorted(labels.decode(text, KEYS).serial for text in texts) == list(
        range(1849, 1861)
    )
    engine.dispose()

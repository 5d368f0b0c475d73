"""The reconciliation core on a 100,000-line count (aim: ≤ 0.5 s on this machine).

Run: .venv/bin/python -m pytest bench/test_reconcile.py --benchmark-only
"""

from __future__ import annotations

import numpy as np

from ledger.reconcile import GAIN, LOSS, MATCH, NOT_COUNTED, NOT_ON_BOOKS, Lines, reconcile

LINES = 100_000


def test_reconcile_a_100000_line_count(benchmark):
    rng = np.random.default_rng(20261122)
    location = rng.integers(1, 3_300, LINES)
    item = rng.integers(1, 10, LINES)
    batch = np.arange(1, LINES + 1)  # one line per account
    book = rng.integers(1, 5_000, LINES)
    counted = book.copy()
    off = rng.random(LINES) < 0.02  # 2% of lines counted differently
    counted[off] += rng.choice([-3, -1, 1, 2], off.sum())
    counted = np.maximum(counted, 0)
    missing = rng.random(LINES) < 0.005  # 0.5% not counted yet
    extra = 300  # counted lines that are not on the books
    book_lines = Lines(location, item, batch, book)
    count_lines = Lines(
        np.concatenate([location[~missing], rng.integers(1, 3_300, extra)]),
        np.concatenate([item[~missing], rng.integers(1, 10, extra)]),
        np.concatenate([batch[~missing], np.arange(LINES + 1, LINES + extra + 1)]),
        np.concatenate([counted[~missing], rng.integers(1, 50, extra)]),
    )
    result = benchmark(reconcile, book_lines, count_lines)
    benchmark.extra_info["lines"] = LINES + extra
    tally = np.bincount(result.outcome, minlength=5)
    assert tally[NOT_COUNTED] == missing.sum() and tally[NOT_ON_BOOKS] == extra
    assert tally[GAIN] + tally[LOSS] == (counted != book)[~missing].sum()
    assert tally[MATCH] == LINES - missing.sum() - tally[GAIN] - tally[LOSS]
    assert result.lines == LINES + extra - missing.sum()
    assert sum(s.lines for s in result.by_location) == result.lines

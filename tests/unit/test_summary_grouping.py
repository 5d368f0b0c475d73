"""The grouping under the 收发存汇总表: distinct accounts found by ranks equal numpy's own."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ledger.services import reports

ids = st.integers(min_value=1, max_value=2**40)  # ids far apart, as on a long-lived database


@given(st.integers(1, 3).flatmap(lambda width: st.lists(st.tuples(*[ids] * width), min_size=1)))
def test_distinct_rows_in_order_with_each_rows_group(rows):
    matrix = np.array(rows, dtype=np.int64)
    distinct, index = reports._distinct(matrix)
    expected, expected_index = np.unique(matrix, axis=0, return_inverse=True)
    assert distinct.tolist() == expected.tolist()
    assert index.tolist() == expected_index.ravel().tolist()
    assert (distinct[index] == matrix).all()


def test_too_many_combinations_for_one_number_fall_back_to_numpy(monkeypatch):
    monkeypatch.setattr(reports, "_RANKS_LIMIT", 50)  # as if ids spanned more than an int64
    matrix = np.random.default_rng(7).integers(0, 20, size=(400, 3))
    distinct, index = reports._distinct(matrix)
    expected, expected_index = np.unique(matrix, axis=0, return_inverse=True)
    assert distinct.tolist() == expected.tolist()
    assert index.tolist() == expected_index.ravel().tolist()

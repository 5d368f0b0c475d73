from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.allocation import PlanLine, Share, allocate
from ledger.rules import Code, LedgerError


def test_largest_remainders_get_the_leftover_packs():
    # 10 sets of 4 over weights 5:3:2 → quotas 5, 3, 2 exactly.
    plan = allocate(40, [Share("A", 5), Share("B", 3), Share("C", 2)], pack_base_units=4)
    assert plan.lines == (PlanLine("A", 5, 20), PlanLine("B", 3, 12), PlanLine("C", 2, 8))
    # 7 packs over 1:1:1 → 2.33 each: floors 2,2,2 and one leftover to the first tie.
    plan = allocate(7, [Share("A", 1), Share("B", 1), Share("C", 1)])
    assert [line.packs for line in plan.lines] == [3, 2, 2]


def test_sets_stay_whole_and_the_part_pack_is_left_over():
    plan = allocate(66_001, [Share("A", 1), Share("B", 1)], pack_base_units=4)
    assert all(line.quantity % 4 == 0 for line in plan.lines)
    assert plan.allocated == 66_000 and plan.unallocated == 1


def test_never_more_than_available():
    plan = allocate(1000, [Share("A", 2), Share("B", 1)], pack_base_units=500, available=1200)
    assert plan.allocated == 1000
    plan = allocate(5000, [Share("A", 2), Share("B", 1)], pack_base_units=500, available=1200)
    assert plan.allocated == 1000 and plan.unallocated == 4000


@pytest.mark.parametrize(
    "shares",
    [[], [Share("A", 0)], [Share("A", -1), Share("B", 2)], [Share("A", 1), Share("A", 2)]],
)
def test_bad_weights_are_refused(shares):
    with pytest.raises(LedgerError) as refused:
        allocate(10, shares)
    assert refused.value.code is Code.weights_invalid


@given(
    quantity=st.integers(0, 10**7),
    weights=st.lists(st.integers(0, 10_000), min_size=1, max_size=40).filter(any),
    pack=st.integers(1, 1000),
    available=st.none() | st.integers(0, 10**7),
)
def test_each_share_is_within_one_pack_of_its_exact_quota(quantity, weights, pack, available):
    shares = [Share(f"L{i}", w) for i, w in enumerate(weights)]
    plan = allocate(quantity, shares, pack, available)
    cap = quantity if available is None else min(quantity, available)
    packs_total = cap // pack
    assert sum(line.packs for line in plan.lines) == packs_total
    assert plan.allocated == packs_total * pack <= cap
    total_weight = sum(weights)
    for line, weight in zip(plan.lines, weights, strict=True):
        exact = Fraction(packs_total * weight, total_weight)
        assert exact - 1 < line.packs < exact + 1
        assert line.quantity == line.packs * pack

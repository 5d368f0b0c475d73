"""The pack policy's decisions: which flow a transaction takes, what a receipt cuts, what
arrives, and where leaving packs go. (Cutting and taking: tests/unit/test_labels.py.)"""

from ledger.model import AccountKey, TransactionKind
from ledger.packs import (
    Flow,
    SealedPack,
    arrival,
    destination,
    flow,
    packs_in,
    packs_to_cut_at_least,
    shipment_of_moved,
)
from ledger.posting import Leg

K = TransactionKind
IN_TRANSIT, ADJUSTMENT, DISTRIBUTED, TOWNSHIP = 2, 5, 3, 40
PACKS = [SealedPack(1, 1, 500), SealedPack(2, 2, 500), SealedPack(3, 3, 200)]


def leg(location_id: int, physical: bool) -> Leg:
    return Leg(AccountKey(location_id, 1, 1), 10, physical)


def test_each_kind_of_transaction_has_its_flow():
    assert flow(K.receipt, None, False) is Flow.receive
    assert flow(K.confirmation, None, True) is Flow.arrive
    assert flow(K.reversal, K.issue, False) is Flow.send_back
    assert flow(K.reversal, K.transfer, False) is Flow.send_back
    assert flow(K.reversal, K.confirmation, False) is Flow.move
    assert flow(K.confirmation, None, False) is Flow.move
    for kind in (
        K.issue,
        K.transfer,
        K.distribution,
        K.return_,
        K.write_off,
        K.stocktake,
        K.opening,
    ):
        assert flow(kind, None, False) is Flow.move


def test_a_receipt_cuts_a_last_partial_pack_and_counts_scanned_packs_off():
    assert packs_in(1200, 500) == 3 and packs_in(1000, 500) == 2
    assert packs_to_cut_at_least(1200, 500, 1) == 2
    assert packs_to_cut_at_least(1200, 500, 5) == 0


def test_on_arrival_the_packs_not_scanned_are_short():
    assert arrival(PACKS, None, True) == (PACKS, [])
    assert arrival(PACKS, [3, 1], True) == ([PACKS[0], PACKS[2]], [PACKS[1]])
    assert arrival(PACKS, [2], False) == ([], PACKS)


def test_leaving_packs_go_to_the_receiving_place():
    assert destination([leg(DISTRIBUTED, False), leg(TOWNSHIP, True)], 2, 5) == TOWNSHIP
    assert destination([leg(DISTRIBUTED, False), leg(IN_TRANSIT, False)], 2, 5) == IN_TRANSIT
    assert destination([leg(DISTRIBUTED, False)], IN_TRANSIT, ADJUSTMENT) == DISTRIBUTED
    assert destination([], IN_TRANSIT, ADJUSTMENT) == ADJUSTMENT


def test_packs_sent_back_into_transit_belong_to_the_shipment_confirmed():
    assert shipment_of_moved(90, None, None) == 90
    assert shipment_of_moved(90, K.confirmation, 70) == 70
    assert shipment_of_moved(90, K.issue, None) == 90

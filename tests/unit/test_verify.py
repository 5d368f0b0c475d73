import datetime as dt

import msgspec

from ledger.chain import GENESIS_HASH, canonical_encoding, chain_hash
from ledger.verify import StoredBalance, StoredPosting, StoredTransaction, Verifier

DAY = dt.date(2026, 6, 1)


def posting(location, quantity, balance_after, physical=True, expires=None):
    return StoredPosting(location, physical, "NH2014", "2014-01", expires, quantity, balance_after)


def transaction(sequence, previous_hash, postings, kind="receipt", number=None, on=DAY):
    number = number or f"RK-2026-{sequence:06d}"
    encoding = canonical_encoding(
        sequence,
        number,
        kind,
        on,
        "510100",
        None,
        None,
        None,
        None,
        "",
        ((p.location_code, p.item_code, p.batch_number, p.quantity) for p in postings),
    )
    return StoredTransaction(
        sequence,
        number,
        kind,
        on,
        "510100",
        None,
        None,
        None,
        None,
        "",
        previous_hash,
        chain_hash(previous_hash, encoding),
        tuple(postings),
    )


def two_receipts():
    first = transaction(
        1, GENESIS_HASH, [posting("supplier", -10, -10, False), posting("510100", 10, 10)]
    )
    second = transaction(
        2, first.hash, [posting("supplier", -5, -15, False), posting("510100", 5, 15)]
    )
    return first, second


def balances(city=15, supplier=-15, reserved=0, reservations_open=0):
    return [
        StoredBalance("supplier", False, "NH2014", "2014-01", supplier, 0, 0),
        StoredBalance("510100", True, "NH2014", "2014-01", city, reserved, reservations_open),
    ]


def run(transactions, stored, head=None):
    verifier = Verifier()
    for tx in transactions:
        verifier.feed(tx)
    last = transactions[-1]
    return verifier.finish(stored, head or (last.sequence, last.hash))


def codes(findings):
    return sorted(f.code for f in findings)


def test_a_sound_ledger_has_no_findings():
    assert run(two_receipts(), balances()) == []


def test_the_hash_is_deterministic_and_covers_the_content():
    first, _ = two_receipts()
    again = transaction(1, GENESIS_HASH, list(first.postings))
    assert again.hash == first.hash
    other = transaction(
        1, GENESIS_HASH, [posting("supplier", -11, -11, False), posting("510100", 11, 11)]
    )
    assert other.hash != first.hash


def test_an_altered_quantity_is_found_on_its_transaction():
    first, second = two_receipts()
    altered = msgspec.structs.replace(
        second, postings=(posting("supplier", -5, -15, False), posting("510100", 6, 16))
    )
    findings = run([first, altered], balances(city=16))
    assert "hash_mismatch" in codes(findings)
    assert "unbalanced_transaction" in codes(findings)
    assert all("RK-2026-000002" in f.subject for f in findings if f.code == "hash_mismatch")


def test_a_removed_transaction_leaves_a_gap_and_wrong_balances():
    _first, second = two_receipts()
    findings = run([second], balances())
    assert {"sequence_gap", "chain_broken", "running_balance_mismatch", "balance_mismatch"} <= set(
        codes(findings)
    )


def test_a_rehashed_transaction_is_named_by_the_broken_link_after_it():
    _first, second = two_receipts()
    rehashed = transaction(
        1, GENESIS_HASH, [posting("supplier", -9, -9, False), posting("510100", 9, 9)]
    )
    findings = run([rehashed, second], balances())
    broken = [f for f in findings if f.code == "chain_broken"]
    assert broken and "RK-2026-000001" in broken[0].subject


def test_stored_balance_and_reservations_are_checked():
    findings = run(two_receipts(), balances(city=14, reserved=20, reservations_open=3))
    assert {"balance_mismatch", "reserved_exceeds_on_hand", "reserved_mismatch"} <= set(
        codes(findings)
    )
    mismatch = next(f for f in findings if f.code == "balance_mismatch")
    assert (mismatch.expected, mismatch.found) == ("15", "14")


def test_a_negative_physical_balance_is_found():
    first = transaction(
        1,
        GENESIS_HASH,
        [posting("510100", -1, -1), posting("distributed", 1, 1, False)],
        "distribution",
    )
    findings = run(
        [first],
        [
            StoredBalance("510100", True, "NH2014", "2014-01", -1, 0, 0),
            StoredBalance("distributed", False, "NH2014", "2014-01", 1, 0, 0),
        ],
    )
    assert "negative_balance" in codes(findings)


def test_an_expired_batch_issued_is_found():
    expires = DAY - dt.timedelta(days=1)
    first = transaction(
        1,
        GENESIS_HASH,
        [posting("510100", -1, 0, expires=expires), posting("in-transit", 1, 1, False, expires)],
        "issue",
    )
    findings = Verifier(start_balances={("510100", "NH2014", "2014-01"): 1})
    findings.feed(first)
    assert [f.code for f in findings.findings] == ["expired_batch_moved"]


def test_a_chain_head_that_disagrees_is_found():
    findings = run(two_receipts(), balances(), head=(3, "f" * 64))
    assert codes(findings) == ["chain_head_mismatch"]

"""A reference change's next version, inside a unit of work: checked against the last one (the
row must still equal it, the change must change something, on a day not before it), written
with its operations-log entry."""

from __future__ import annotations

import datetime as dt

import msgspec

from ledger.db import oplog, versions
from ledger.db.moments import as_utc
from ledger.db.store import LedgerStore
from ledger.limits import memo_length_max
from ledger.reference import ReferenceKind
from ledger.rules import Code, LedgerError, check_date, check_text
from ledger.services.reference_models import ReferenceVersionOut


def next_version(
    store: LedgerStore,
    kind: ReferenceKind,
    object_id: int,
    key: str,
    current: str,
    new: str,
    reason: str,
    valid_from: dt.date | None,
    user_id: int | None,
    today: dt.date,
    location_path: str | None,
) -> ReferenceVersionOut:
    """Write version n+1 with `new` and the operations-log entry; refuse a change that changes
    nothing, a day before the last version's, and a row that is not its last version."""
    check_text(reason, "reason", memo_length_max)
    history = versions.history(store.connection, kind, object_id)
    last = history[-1] if history else None
    if last is None or last.content != current:
        raise LedgerError(
            Code.reference_not_as_versioned,
            f"{key} 的当前资料与其最后一个版本不一致（被绕过版本直接修改过），请先运行 ledger verify "
            f"查明 (the row differs from its last version)",
            "code",
        )
    if new == current:
        raise LedgerError(
            Code.reference_unchanged, f"{key} 没有任何改动 (nothing changes)", "reason"
        )
    day = valid_from or today
    check_date(day, "valid_from")
    if day > today:
        raise LedgerError(
            Code.date_in_future,
            f"生效日期 {day} 晚于今天 {today} (valid_from in the future)",
            "valid_from",
        )
    if last.version > 1 and day < last.valid_from:
        raise LedgerError(
            Code.version_before_last,
            f"生效日期 {day} 早于上一版本（第 {last.version} 版，{last.valid_from} 起）"
            f"(valid_from before the last version's)",
            "valid_from",
        )
    number = last.version + 1
    versions.write(store, kind, object_id, number, new, day, user_id)
    before = {"version": last.version, **msgspec.json.decode(current)}
    after = {
        "version": number,
        "valid_from": day.isoformat(),
        "reason": reason,
        **msgspec.json.decode(new),
    }
    oplog.record(
        store,
        f"{kind.value}.change",
        kind.value,
        key,
        user_id=user_id,
        before=before,
        after=after,
        location_path=location_path,
    )
    return ReferenceVersionOut(
        kind.value,
        key,
        number,
        day,
        as_utc(store.recorded_at),
        user_id,
        store.user_label(user_id),
        msgspec.json.decode(new),
    )

"""Pack label payloads: short, uppercase, signed. Pure: no I/O. Format in docs/labels.md.

    L1.NH2014.2014A.1860.500..K1.7KQ2M4XBD3PA
    │  │      │     │    │   ││  └ MAC: HMAC-SHA256 of everything before it, base32, 12 chars
    │  │      │     │    │   │└ key id
    │  │      │     │    │   └ expiry YYYYMMDD (empty for printed matter)
    │  │      │     │    └ pack quantity in base units
    │  │      │     └ pack serial within the batch, from 1
    │  │      └ batch number
    │  └ item code
    └ format version

Every character is in QR's alphanumeric set (0-9, A-Z, `.`, `-`), so the code stays small and a
handheld scanner types it as plain keys. What a scanner or a Chinese input method may do to it on
the way (full-width forms, `。` for `.`, lower case, a trailing newline) is undone by `normalise`
before checking; anything else fails the MAC.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping

import msgspec

from ledger.limits import label_payload_length_max
from ledger.rules import Code, LedgerError

VERSION = "L1"
MAC_LENGTH = 12  # base32 characters: 60 bits
CODE_PATTERN = re.compile(r"[0-9A-Z][0-9A-Z-]{0,39}")
KEY_ID_PATTERN = re.compile(r"[0-9A-Z]{1,4}")
PAYLOAD_PATTERN = re.compile(
    r"L1\.([0-9A-Z][0-9A-Z-]{0,39})\.([0-9A-Z][0-9A-Z-]{0,39})\.([1-9][0-9]{0,6})"
    r"\.([1-9][0-9]{0,9})\.([0-9]{8})?\.([0-9A-Z]{1,4})\.([A-Z2-7]{12})"
)
# What input methods and scanners turn our characters into, mapped back.
_LOOKALIKES = str.maketrans({"。": ".", "｡": ".", "·": ".", "－": "-", "—": "-", "–": "-"})


class PackLabel(msgspec.Struct, frozen=True):
    """What a label says: which pack of which batch, how many base units, and its expiry."""

    item_code: str
    batch_number: str
    serial: int
    quantity: int
    expires_on: dt.date | None = None


class LabelKeys(msgspec.Struct, frozen=True):
    """Signing keys by id. `current` signs new labels; every key verifies (key rotation)."""

    current: str
    secrets: Mapping[str, bytes]


def can_encode(code: str) -> bool:
    """Whether an item code or batch number can go on a label as it is."""
    return CODE_PATTERN.fullmatch(code) is not None


def require_encodable(item_code: str, batch_number: str) -> None:
    """Refuse (`label_unencodable`) codes that cannot go on a label."""
    for value, field in ((item_code, "item_code"), (batch_number, "batch_number")):
        if not can_encode(value):
            raise LedgerError(
                Code.label_unencodable,
                f"{value!r} 不能印在标签上：只能用大写字母、数字和 - (labels take A-Z, 0-9, -)",
                field,
            )


def normalise(text: str) -> str:
    """Undo what a scanner or an input method may have done: full-width forms, `。`, case,
    surrounding whitespace."""
    return unicodedata.normalize("NFKC", text).translate(_LOOKALIKES).strip().upper()


def _mac(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:MAC_LENGTH]


def encode(label: PackLabel, keys: LabelKeys) -> str:
    """The payload for `label`, signed with the current key."""
    require_encodable(label.item_code, label.batch_number)
    expiry = label.expires_on.strftime("%Y%m%d") if label.expires_on else ""
    body = (
        f"{VERSION}.{label.item_code}.{label.batch_number}.{label.serial}.{label.quantity}."
        f"{expiry}.{keys.current}"
    )
    return f"{body}.{_mac(keys.secrets[keys.current], body)}"


def decode(payload: str, keys: LabelKeys) -> PackLabel:
    """The label a scanned payload stands for, or `label_invalid` if it is garbled or forged."""
    if not isinstance(payload, str) or len(payload) > label_payload_length_max:
        raise LedgerError(Code.label_invalid, "不是本系统的标签 (not a label)", "payload")
    text = normalise(payload)
    match = PAYLOAD_PATTERN.fullmatch(text)
    if match is None:
        raise LedgerError(
            Code.label_invalid, "标签无法识别，请重新扫描 (unreadable label)", "payload"
        )
    item_code, batch_number, serial, quantity, expiry, key_id, mac = match.groups()
    secret = keys.secrets.get(key_id)
    if secret is None:
        raise LedgerError(
            Code.label_invalid, f"标签密钥 {key_id} 未登记 (unknown label key)", "payload"
        )
    body = text[: -(MAC_LENGTH + 1)]
    if not hmac.compare_digest(_mac(secret, body), mac):
        raise LedgerError(
            Code.label_invalid,
            "标签校验失败：伪造或扫描出错，请重新扫描 (label check failed)",
            "payload",
        )
    try:
        expires_on = dt.datetime.strptime(expiry, "%Y%m%d").date() if expiry else None
    except ValueError:  # only a correctly signed label gets here, so this is our own bug
        raise LedgerError(Code.label_invalid, "标签有效期无法识别", "payload") from None
    return PackLabel(item_code, batch_number, int(serial), int(quantity), expires_on)


def human_text(label: PackLabel) -> str:
    """The label's identity as a person reads it: item/batch #serial."""
    return f"{label.item_code}/{label.batch_number} #{label.serial}"

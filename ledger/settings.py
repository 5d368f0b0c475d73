"""Settings, from environment variables, in one place."""

from __future__ import annotations

import datetime as dt
import os
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from ledger.rules import Code, LedgerError

DEFAULT_DATABASE_URL = "sqlite:///./data/ledger.db"
DEFAULT_LABEL_KEY_FILE = "./data/label-keys"
DEFAULT_TIME_ZONE = "Asia/Shanghai"


class Settings(msgspec.Struct, frozen=True):
    """database_url: LEDGER_DATABASE_URL, SQLite at ./data/ledger.db by default.
    label_keys: LEDGER_LABEL_KEYS, `ID:secret,ID:secret` — the first signs new labels, all of
    them verify. When unset, keys are kept in label_key_file (LEDGER_LABEL_KEY_FILE,
    ./data/label-keys), created with one random key on first use.
    time_zone: LEDGER_TIME_ZONE, the office's time zone (an IANA name, Asia/Shanghai by
    default): "today" is the date there, whatever the server's own clock and zone.
    session_idle_minutes: LEDGER_SESSION_IDLE_MINUTES (30): a web workspace session ends after
    this long without a request.
    near_expiry_days: LEDGER_NEAR_EXPIRY_DAYS (90): the home page lists batches expiring within.
    transit_days_max: LEDGER_TRANSIT_DAYS_MAX (7): the home page lists shipments in transit for
    longer.
    tls_certfile, tls_keyfile: LEDGER_TLS_CERTFILE, LEDGER_TLS_KEYFILE: `ledger serve` speaks
    HTTPS with this certificate (PEM, the server's first, then any intermediates) and its key
    (PEM, not encrypted); both or neither. `--certfile`/`--keyfile` take their place.
    metrics_token: LEDGER_METRICS_TOKEN: Prometheus reads `/metrics` with this bearer token,
    from anywhere; unset, only from this machine (docs/observability.md).
    read_database_url: LEDGER_READ_DATABASE_URL, a PostgreSQL streaming replica of
    database_url: reports, balances and verification over the API read there (unset: the
    primary answers everything).
    amc_months: LEDGER_AMC_MONTHS (6): the whole months the average monthly consumption of the
    stock norms is taken over, 3, 6 or 12 (docs/norms.md).
    demand_growth: LEDGER_DEMAND_GROWTH (0): the growth in percent (-50 to 100, one decimal)
    a 年度需求计划 adds to a year's consumption when none is asked for (docs/norms.md).
    """

    database_url: str = DEFAULT_DATABASE_URL
    label_keys: str | None = None
    label_key_file: str = DEFAULT_LABEL_KEY_FILE
    time_zone: str = DEFAULT_TIME_ZONE
    session_idle_minutes: int = 30
    near_expiry_days: int = 90
    transit_days_max: int = 7
    tls_certfile: str | None = None
    tls_keyfile: str | None = None
    metrics_token: str | None = None
    read_database_url: str | None = None
    amc_months: int = 6
    demand_growth: str = "0"

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("LEDGER_DATABASE_URL") or DEFAULT_DATABASE_URL,
            label_keys=env.get("LEDGER_LABEL_KEYS") or None,
            label_key_file=env.get("LEDGER_LABEL_KEY_FILE") or DEFAULT_LABEL_KEY_FILE,
            time_zone=env.get("LEDGER_TIME_ZONE") or DEFAULT_TIME_ZONE,
            session_idle_minutes=_days_or_minutes(env, "LEDGER_SESSION_IDLE_MINUTES", 30, 1440),
            near_expiry_days=_days_or_minutes(env, "LEDGER_NEAR_EXPIRY_DAYS", 90, 3650),
            transit_days_max=_days_or_minutes(env, "LEDGER_TRANSIT_DAYS_MAX", 7, 365),
            tls_certfile=env.get("LEDGER_TLS_CERTFILE") or None,
            tls_keyfile=env.get("LEDGER_TLS_KEYFILE") or None,
            metrics_token=_metrics_token(env.get("LEDGER_METRICS_TOKEN") or None),
            read_database_url=env.get("LEDGER_READ_DATABASE_URL") or None,
            amc_months=_amc_months(env.get("LEDGER_AMC_MONTHS") or "6"),
            demand_growth=_demand_growth(env.get("LEDGER_DEMAND_GROWTH") or "0"),
        )


def _demand_growth(value: str) -> str:
    from ledger.demand import parse_growth

    try:
        parse_growth(value, "LEDGER_DEMAND_GROWTH")
    except LedgerError as error:
        raise LedgerError(Code.invalid_setting, error.message, "LEDGER_DEMAND_GROWTH") from None
    return value.strip()


def _amc_months(value: str) -> int:
    if value.strip() not in ("3", "6", "12"):
        raise LedgerError(
            Code.invalid_setting,
            f"LEDGER_AMC_MONTHS 只能是 3、6 或 12：{value!r} (invalid setting)",
            "LEDGER_AMC_MONTHS",
        )
    return int(value)


def _days_or_minutes(env, name: str, default: int, most: int) -> int:
    """A whole number setting between 1 and `most`; anything else stops the start."""
    value = env.get(name)
    if not value:
        return default
    if not value.strip().isdecimal() or not 1 <= int(value) <= most:
        raise LedgerError(
            Code.invalid_setting,
            f"{name} 必须是 1 到 {most} 之间的整数：{value!r} (invalid setting)",
            name,
        )
    return int(value)


def _metrics_token(token: str | None) -> str | None:
    """16 to 200 characters of letters, digits and `-._~+/=` (what a bearer token may hold);
    anything else stops the start."""
    if token is not None and not re.fullmatch(r"[A-Za-z0-9._~+/=-]{16,200}", token):
        raise LedgerError(
            Code.invalid_setting,
            "LEDGER_METRICS_TOKEN 须为 16 到 200 个字母、数字或 -._~+/= 字符 "
            "(invalid metrics token)",
            "LEDGER_METRICS_TOKEN",
        )
    return token


def office_zone(name: str | None = None) -> ZoneInfo:
    """The office's time zone: `name`, or LEDGER_TIME_ZONE, or Asia/Shanghai."""
    name = name or os.environ.get("LEDGER_TIME_ZONE") or DEFAULT_TIME_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise LedgerError(
            Code.invalid_setting,
            f"LEDGER_TIME_ZONE 不是已知的时区：{name!r}，例如 Asia/Shanghai (unknown time zone)",
            "LEDGER_TIME_ZONE",
        ) from None


def utc_now() -> dt.datetime:
    """The current instant (tests replace it to stand at a chosen moment)."""
    return dt.datetime.now(dt.UTC)


def office_today(now: dt.datetime | None = None, zone: str | None = None) -> dt.date:
    """Today's date in the office's time zone: the ledger's "today" everywhere (business dates
    default to it, nothing may be dated after it, reports count days from it), never the date
    of the server process's own zone. `now` is an aware instant (default: this moment)."""
    instant = utc_now() if now is None else now
    return instant.astimezone(office_zone(zone)).date()

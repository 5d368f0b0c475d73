"""HTTPS on an office intranet: `ledger tls make` writes a local CA and a server certificate it
signed, `ledger serve --certfile --keyfile` serves HTTPS with them (a client that trusts only
the made ca.crt verifies the server, and the session cookie is Secure), and wrong certificate
files stop `serve` with one error line before anything starts."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from api.auth import SESSION_COOKIE
from ledger.db.engine import make_engine
from ledger.db.unit_of_work import Database
from ledger.services.demo import DEMO_PASSWORD, load_demo
from ledger.services.tls import SERVER_DAYS, make_certificates
from tests.clones import copy_sqlite
from tests.conftest import TODAY
from tests.test_cli_errors import invoke
from tests.web.conftest import CSRF_FIELD

HOSTS = ("127.0.0.1", "localhost", "ledger.office.lan", "192.168.1.10")
START_WAIT_SECONDS = 60  # how long the server may take to answer at all (not a timing test)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def made(folder: Path, *hosts: str) -> Path:
    result = invoke(
        "tls", "make", *(a for h in hosts or HOSTS for a in ("--host", h)), "--out", str(folder)
    )
    assert result.status == 0, result.err
    return folder


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> Path:
    return made(tmp_path_factory.mktemp("tls") / "office-tls")


def certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


# -- ledger tls make ---------------------------------------------------------------------------


def test_make_writes_a_ca_and_a_server_certificate_it_signed_for_the_hosts(tls_files):
    assert sorted(p.name for p in tls_files.iterdir()) == [
        "ca.crt",
        "ca.key",
        "server.crt",
        "server.key",
    ]
    ca, server = certificate(tls_files / "ca.crt"), certificate(tls_files / "server.crt")
    server.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost", "ledger.office.lan"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("192.168.1.10"),
    ]
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in usage
    validity = server.not_valid_after_utc - server.not_valid_before_utc
    assert validity == dt.timedelta(days=SERVER_DAYS) == dt.timedelta(days=825)
    assert server.not_valid_before_utc < dt.datetime.now(dt.UTC) < server.not_valid_after_utc
    assert ca.not_valid_after_utc > server.not_valid_after_utc


def test_the_keys_are_readable_by_their_owner_only(tls_files):
    for name in ("ca.key", "server.key"):
        assert (tls_files / name).stat().st_mode & 0o777 == 0o600
        serialization.load_pem_private_key((tls_files / name).read_bytes(), password=None)
    assert (tls_files / "server.crt").stat().st_mode & 0o777 == 0o644


def test_make_overwrites_nothing(tmp_path):
    folder = made(tmp_path / "tls", "127.0.0.1")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    again = invoke("tls", "make", "--host", "127.0.0.1", "--out", str(folder))
    assert again.status == 2 and again.error.startswith("error: output_exists: ")
    assert "server.crt" in again.error and "不会覆盖" in again.error
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_folder_with_only_half_a_ca_is_refused_and_left_alone(tmp_path):
    folder = tmp_path / "tls"
    folder.mkdir()
    (folder / "ca.crt").write_text("kept")
    refused = invoke("tls", "make", "--host", "127.0.0.1", "--out", str(folder))
    assert refused.status == 2 and refused.error.startswith("error: output_exists: ")
    assert [p.name for p in folder.iterdir()] == ["ca.crt"]


def test_the_same_ca_signs_a_renewed_server_certificate_with_new_names(tmp_path):
    folder = made(tmp_path / "tls", "192.168.1.10")
    ca_before = (folder / "ca.crt").read_bytes(), (folder / "ca.key").read_bytes()
    for name in ("server.crt", "server.key"):
        (folder / name).rename(tmp_path / name)
    renewed = invoke(
        "tls", "make", "--host", "192.168.1.10", "--host", "ledger.lan", "--out", str(folder)
    )
    assert renewed.status == 0, renewed.err
    assert "用已有的本地 CA 签发" in renewed.out and "wrote" in renewed.out
    assert ((folder / "ca.crt").read_bytes(), (folder / "ca.key").read_bytes()) == ca_before
    server = certificate(folder / "server.crt")
    server.verify_directly_issued_by(certificate(folder / "ca.crt"))
    assert server.serial_number != certificate(tmp_path / "server.crt").serial_number
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["ledger.lan"]


@pytest.mark.parametrize("host", ["ledger_office", "-ledger.lan", "成都.lan", "a..b", ""])
def test_a_host_that_is_neither_an_address_nor_a_name_is_refused(tmp_path, host):
    refused = invoke("tls", "make", "--host", host, "--out", str(tmp_path / "tls"))
    assert refused.status == 2 and refused.error.startswith("error: invalid_usage: ")
    assert "--host" in refused.error
    assert not (tmp_path / "tls").exists()


# -- ledger serve --certfile --keyfile: refusals -----------------------------------------------


@pytest.fixture
def no_server(monkeypatch, tmp_path):
    """uvicorn.run recorded instead of serving; the ledger a SQLite file not made yet."""
    import uvicorn

    calls: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append((a, k)))
    database = tmp_path / "data" / "serve.db"
    env = {
        "LEDGER_DATABASE_URL": f"sqlite:///{database}",
        "LEDGER_TLS_CERTFILE": None,
        "LEDGER_TLS_KEYFILE": None,
    }
    return calls, env, database


def test_serve_without_certificates_runs_exactly_as_before(no_server):
    calls, env, _ = no_server
    done = invoke("serve", "--port", "8123", env=env)
    assert done.status == 0, done.err
    assert calls == [
        (
            ("api.app:create_app",),
            {
                "factory": True,
                "host": "127.0.0.1",
                "port": 8123,
                "log_level": "info",
                "access_log": False,
            },
        )
    ]
    assert "HTTPS" not in done.out


def test_serve_passes_the_checked_files_to_uvicorn_from_options_or_environment(
    no_server, tls_files
):
    calls, env, _ = no_server
    cert, key = str(tls_files / "server.crt"), str(tls_files / "server.key")
    by_option = invoke("serve", "--certfile", cert, "--keyfile", key, env=env)
    by_environment = invoke(
        "serve", env={**env, "LEDGER_TLS_CERTFILE": cert, "LEDGER_TLS_KEYFILE": key}
    )
    for done in (by_option, by_environment):
        assert done.status == 0, done.err
        assert "HTTPS: 证书适用于 127.0.0.1, localhost, ledger.office.lan, 192.168.1.10" in done.out
    assert [(k["ssl_certfile"], k["ssl_keyfile"]) for _, k in calls] == [(cert, key)] * 2


def test_an_expired_certificate_is_served_with_a_warning(no_server, tmp_path):
    calls, env, _ = no_server
    old = make_certificates(tmp_path / "old", ["127.0.0.1"], dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert old.server.not_after < dt.datetime.now(dt.UTC)
    done = invoke(
        "serve",
        "--certfile",
        str(tmp_path / "old" / "server.crt"),
        "--keyfile",
        str(tmp_path / "old" / "server.key"),
        env=env,
    )
    assert done.status == 0 and len(calls) == 1
    assert done.err.startswith(f"warning: 证书已于 {old.server.not_after:%Y-%m-%d} 过期")


def _encrypted_copy(key: Path, target: Path) -> str:
    loaded = serialization.load_pem_private_key(key.read_bytes(), password=None)
    target.write_bytes(
        loaded.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    return str(target)


def refusals(tls: Path, other: Path, scratch: Path) -> list[tuple[list[str], str, str]]:
    """(the serve options, the code, a part of the message) for each wrong pair of files."""
    (scratch / "notes.txt").write_text("not a certificate")
    cert, key = str(tls / "server.crt"), str(tls / "server.key")
    return [
        (["--certfile", cert], "invalid_usage", "缺少 --keyfile"),
        (["--keyfile", key], "invalid_usage", "缺少 --certfile"),
        (
            ["--certfile", str(scratch / "none.crt"), "--keyfile", key],
            "tls_file_unreadable",
            "不存在",
        ),
        (
            ["--certfile", cert, "--keyfile", str(scratch / "none.key")],
            "tls_file_unreadable",
            "不存在",
        ),
        (["--certfile", str(scratch), "--keyfile", key], "tls_file_unreadable", "是文件夹"),
        (
            ["--certfile", str(scratch / "notes.txt"), "--keyfile", key],
            "tls_file_invalid",
            "不是 PEM 格式的证书",
        ),
        (["--certfile", key, "--keyfile", cert], "tls_file_invalid", "弄反了"),
        (
            ["--certfile", cert, "--keyfile", str(scratch / "notes.txt")],
            "tls_file_invalid",
            "不是 PEM 格式的私钥",
        ),
        (
            ["--certfile", cert, "--keyfile", _encrypted_copy(Path(key), scratch / "locked.key")],
            "tls_file_invalid",
            "密码",
        ),
        (
            ["--certfile", cert, "--keyfile", str(other / "server.key")],
            "tls_key_mismatch",
            "不是一对",
        ),
        (["--certfile", cert, "--keyfile", str(tls / "ca.key")], "tls_key_mismatch", "不是一对"),
    ]


def test_wrong_certificate_files_stop_serve_with_one_line_and_nothing_started(
    no_server, tls_files, tmp_path
):
    calls, env, database = no_server
    other = made(tmp_path / "other", "127.0.0.1")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    for options, code, words in refusals(tls_files, other, scratch):
        refused = invoke("serve", *options, env=env)
        assert refused.status == 2, (options, refused.err)
        assert refused.error.startswith(f"error: {code}: "), (options, refused.error)
        assert words in refused.error and "(" in refused.error, refused.error  # Chinese (English)
    assert calls == [] and not database.exists()


def test_one_file_from_the_environment_and_none_from_options_is_refused(no_server, tls_files):
    calls, env, _ = no_server
    half = {**env, "LEDGER_TLS_CERTFILE": str(tls_files / "server.crt")}
    refused = invoke("serve", env=half)
    assert refused.status == 2 and refused.error.startswith("error: invalid_usage: ")
    assert "LEDGER_TLS_KEYFILE" in refused.error and calls == []


# -- a real server over HTTPS ------------------------------------------------------------------


@pytest.fixture(scope="module")
def https_server(tls_files, tmp_path_factory):
    """`ledger serve --certfile --keyfile` in a process of its own over a copy of the demo."""
    folder = tmp_path_factory.mktemp("https-server")
    database = Database(make_engine(copy_sqlite(folder / "demo.db")))
    load_demo(database, TODAY)
    database.dispose()
    port = free_port()
    env = {**os.environ, "LEDGER_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}"}
    command = [sys.executable, "-m", "ledger.cli", "serve", "--port", str(port)]
    command += [
        "--certfile",
        str(tls_files / "server.crt"),
        "--keyfile",
        str(tls_files / "server.key"),
    ]
    log = (folder / "serve.log").open("wb")
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"https://127.0.0.1:{port}"
        _wait_until_answering(process, base, tls_files / "ca.crt", folder / "serve.log")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_answering(process, base: str, ca: Path, log: Path) -> None:
    deadline = time.monotonic() + START_WAIT_SECONDS
    while True:
        if process.poll() is not None:
            raise AssertionError(f"ledger serve stopped: {log.read_text()}")
        try:
            httpx.get(f"{base}/health", verify=trusting(ca), timeout=5)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise AssertionError(f"ledger serve did not answer: {log.read_text()}") from None
            time.sleep(0.2)


def trusting(ca: Path) -> ssl.SSLContext:
    """A client's TLS settings that trust the made CA and nothing else."""
    return ssl.create_default_context(cafile=str(ca))


def test_a_client_trusting_only_the_made_ca_verifies_the_server(https_server, tls_files):
    ca = tls_files / "ca.crt"
    health = httpx.get(f"{https_server}/health", verify=trusting(ca))
    assert health.status_code == 200 and health.url.scheme == "https"
    by_name = https_server.replace("127.0.0.1", "localhost")
    assert httpx.get(f"{by_name}/health", verify=trusting(ca)).status_code == 200


def test_a_client_without_the_made_ca_refuses_the_server(https_server, tmp_path):
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{https_server}/health", verify=ssl.create_default_context())
    other = made(tmp_path / "other", "127.0.0.1")
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{https_server}/health", verify=trusting(other / "ca.crt"))


def test_plain_http_gets_no_page_from_the_https_port(https_server):
    with pytest.raises(httpx.TransportError):
        httpx.get(https_server.replace("https://", "http://") + "/health", timeout=5)


def test_the_session_cookie_set_over_https_is_secure(https_server, tls_files):
    with httpx.Client(base_url=https_server, verify=trusting(tls_files / "ca.crt")) as client:
        page = client.get("/")
        assert page.status_code == 200 and "工作台登录" in page.text
        assert "Secure" in page.headers["set-cookie"]
        token = CSRF_FIELD.search(page.text)
        assert token
        form = {
            "_csrf": token.group(1),
            "login": "clerk@510100",
            "password": DEMO_PASSWORD,
            "next": "/",
        }
        signed = client.post("/sign-in", data=form)
        assert signed.status_code == 303, signed.text
        session = [
            c for c in signed.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")
        ]
        assert len(session) == 1
        attributes = {part.strip().split("=")[0].lower() for part in session[0].split(";")[1:]}
        assert {"secure", "httponly", "samesite", "path"} <= attributes
        home = client.get("/")
        assert "市宣传中心仓库保管员" in home.text and "工作台登录" not in home.text

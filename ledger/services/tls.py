"""HTTPS for an office intranet: the certificate files `ledger serve` is given, checked before
the server starts, and a local certificate authority with a server certificate for an office
that has none (`ledger tls make`).

Browsers open the camera and register a service worker only on HTTPS (or on localhost): a phone
scanning labels over the office's network needs the server to speak HTTPS with a certificate
the phone trusts. The office installs its own CA's certificate (ca.crt) on each phone once; the
server uses server.crt and server.key, which that CA signed, and which can be made again with
the same CA when they run out, so the phones need nothing new."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ledger.rules import Code, LedgerError

SERVER_DAYS = 825  # iOS trusts no TLS server certificate valid for longer
CA_DAYS = 3650  # the phones trust the CA for ten years; server certificates are renewed under it
CA_RENEW_DAYS_MIN = 30  # a CA that ends sooner signs no new server certificate
HOSTS_PER_CERTIFICATE_MAX = 20
CLOCK_SKEW = dt.timedelta(hours=1)  # valid from a little before now: a phone's clock may be behind

CA_CERT, CA_KEY, SERVER_CERT, SERVER_KEY = "ca.crt", "ca.key", "server.crt", "server.key"
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class Certificate:
    """What a certificate is for: `names`, the DNS names and IP addresses of its
    subjectAltName; `not_after`, the instant it stops being valid (UTC)."""

    names: tuple[str, ...]
    not_after: dt.datetime


@dataclass(frozen=True)
class Made:
    """What `make_certificates` wrote: `written`, the files in `out`, in order;
    `ca_reused`, whether an existing CA (ca.crt, ca.key) signed the new server certificate;
    `server`, the new server certificate's names and end."""

    written: tuple[Path, ...]
    ca_reused: bool
    server: Certificate


def subject_names(hosts: Sequence[str]) -> list[x509.GeneralName]:
    """Each host as an IP address or a DNS name of the subjectAltName; anything else refused."""
    if not hosts:
        raise LedgerError(
            Code.invalid_usage,
            "至少给出一个 --host：服务器的 IP 地址或名称，如 --host 192.168.1.10 (at least one --host)",
            "host",
        )
    if len(hosts) > HOSTS_PER_CERTIFICATE_MAX:
        raise LedgerError(
            Code.invalid_usage,
            f"--host 最多 {HOSTS_PER_CERTIFICATE_MAX} 个 (too many --host)",
            "host",
        )
    names: list[x509.GeneralName] = []
    for host in hosts:
        name = _subject_name(host.strip())
        if name not in names:
            names.append(name)
    return names


def _subject_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        pass
    name = host.lower().rstrip(".")
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise LedgerError(
            Code.invalid_usage,
            f"--host {host!r} 既不是 IP 地址，也不是主机名（只能用字母、数字、连字符和点，"
            "如 ledger.office.lan） (not an IP address or a host name)",
            "host",
        )
    return x509.DNSName(name)


def make_certificates(out: Path, hosts: Sequence[str], now: dt.datetime) -> Made:
    """A local CA (ca.crt, ca.key) and a server certificate it signed (server.crt, server.key)
    for `hosts`, written into `out` (made if missing). Nothing is overwritten: when `out`
    already holds ca.crt and ca.key but no server files, that CA signs the new server
    certificate (a renewal that the phones already trust); any other existing file refuses
    the whole command before anything is written. Keys are written readable by the owner only."""
    names = subject_names(hosts)
    paths = {name: out / name for name in (CA_CERT, CA_KEY, SERVER_CERT, SERVER_KEY)}
    ca_present = [name for name in (CA_CERT, CA_KEY) if paths[name].exists()]
    taken = [str(paths[name]) for name in (SERVER_CERT, SERVER_KEY) if paths[name].exists()]
    if taken or len(ca_present) == 1:
        raise LedgerError(
            Code.output_exists,
            f"{'、'.join(taken or [str(paths[n]) for n in ca_present])} 已存在，不会覆盖；"
            "换一个 --out 文件夹，或把旧文件移走 (will not overwrite existing files)",
            "out",
        )
    try:
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise LedgerError(
            Code.output_unwritable,
            f"无法建立文件夹 {out}：{error.strerror or error} (cannot create the folder)",
            "out",
        ) from None
    ca_reused = len(ca_present) == 2
    written: list[Path] = []
    if ca_reused:
        ca_cert, ca_key = _existing_ca(paths[CA_CERT], paths[CA_KEY], now)
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _ca_certificate(ca_key, names, now)
        written += _write_pair(paths[CA_CERT], ca_cert, paths[CA_KEY], ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _server_certificate(server_key, names, ca_cert, ca_key, now)
    written += _write_pair(paths[SERVER_CERT], server_cert, paths[SERVER_KEY], server_key)
    return Made(tuple(written), ca_reused, _described(server_cert))


def _ca_certificate(key: ec.EllipticCurvePrivateKey, names, now: dt.datetime) -> x509.Certificate:
    first = names[0].value
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"账本本地 CA {first} {now:%Y-%m-%d}"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "宣传品与计生药具账本 (local CA)"),
        ]
    )
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now - CLOCK_SKEW + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _server_certificate(key, names, ca_cert: x509.Certificate, ca_key, now: dt.datetime):
    start = now - CLOCK_SKEW
    end = min(start + dt.timedelta(days=SERVER_DAYS), ca_cert.not_valid_after_utc)
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    public = key.public_key()
    first = names[0].value
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(first))]))
        .issuer_name(ca_cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def _usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _existing_ca(cert_path: Path, key_path: Path, now: dt.datetime):
    """The CA already in the folder, checked: its key matches, it may sign certificates and it
    is valid for a while yet."""
    cert = _certificates(cert_path, "out")[0]
    key = _private_key(key_path, "out")
    _check_match(cert, key, cert_path, key_path)
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca or not isinstance(key, ec.EllipticCurvePrivateKey):
        raise LedgerError(
            Code.tls_file_invalid,
            f"{cert_path} 不是 `ledger tls make` 做的本地 CA，不能用来签发证书 "
            "(not a local CA made by ledger tls make)",
            "out",
        )
    if cert.not_valid_after_utc < now + dt.timedelta(days=CA_RENEW_DAYS_MIN):
        raise LedgerError(
            Code.tls_file_invalid,
            f"本地 CA {cert_path} 有效期只到 {cert.not_valid_after_utc:%Y-%m-%d}：请在新的 --out "
            "文件夹里生成新的 CA，并在每部手机上重新安装 ca.crt (the local CA expires soon)",
            "out",
        )
    return cert, key


def _write_pair(cert_path: Path, cert: x509.Certificate, key_path: Path, key) -> list[Path]:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_new(key_path, key_pem, 0o600)
    _write_new(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return [cert_path, key_path]


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write a file that must not exist yet (O_EXCL), with `mode` from its creation on."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise LedgerError(
            Code.output_exists, f"{path} 已存在，不会覆盖 (will not overwrite {path})", "out"
        ) from None
    except OSError as error:
        raise LedgerError(
            Code.output_unwritable,
            f"无法写入 {path}：{error.strerror or error} (cannot write the file)",
            "out",
        ) from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.chmod(path, mode)  # whatever the umask left


def check_pair(certfile: str, keyfile: str) -> Certificate:
    """The files `ledger serve --certfile --keyfile` is given, checked as the server will load
    them: readable, PEM, an unencrypted key, the key of the (first) certificate. Refused with
    tls_file_unreadable, tls_file_invalid or tls_key_mismatch."""
    cert_path, key_path = Path(certfile), Path(keyfile)
    cert = _certificates(cert_path, "certfile")[0]
    key = _private_key(key_path, "keyfile")
    _check_match(cert, key, cert_path, key_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert_path, key_path, password=_no_password)
    except ssl.SSLError as error:
        raise LedgerError(
            Code.tls_file_invalid,
            f"证书或私钥无法用于 HTTPS：{error.reason or error} (the TLS library refused them)",
            "certfile",
        ) from None
    return _described(cert)


def _no_password() -> bytes:
    raise LedgerError(
        Code.tls_file_invalid, "私钥有密码保护，服务无法自动读取 (the key is encrypted)", "keyfile"
    )


def _read(path: Path, field: str) -> bytes:
    what = "证书" if field == "certfile" else "私钥" if field == "keyfile" else "CA"
    if not path.is_file():
        reason, english = (
            ("是文件夹，不是文件", "not a file") if path.is_dir() else ("不存在", "no such file")
        )
        raise LedgerError(
            Code.tls_file_unreadable,
            f"{what}文件 {path} {reason} (--{field}: {english})",
            field,
        )
    try:
        return path.read_bytes()
    except OSError as error:
        raise LedgerError(
            Code.tls_file_unreadable,
            f"{what}文件 {path} 读不了：{error.strerror or error} (--{field}: cannot read)",
            field,
        ) from None


def _certificates(path: Path, field: str) -> list[x509.Certificate]:
    data = _read(path, field)
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        hint = (
            "；看起来是私钥，--certfile 与 --keyfile 是否弄反了" if b"PRIVATE KEY" in data else ""
        )
        raise LedgerError(
            Code.tls_file_invalid,
            f"{path} 不是 PEM 格式的证书{hint} (not a PEM certificate)",
            field,
        ) from None


def _private_key(path: Path, field: str):
    data = _read(path, field)
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise LedgerError(
            Code.tls_file_invalid,
            f"私钥 {path} 有密码保护，服务无法自动读取；请用不带密码的私钥 (the key is encrypted)",
            field,
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise LedgerError(
            Code.tls_file_invalid,
            f"{path} 不是 PEM 格式的私钥 (not a PEM private key)",
            field,
        ) from None


def _check_match(cert: x509.Certificate, key, cert_path: Path, key_path: Path) -> None:
    def spki(public) -> bytes:
        return public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    if spki(cert.public_key()) != spki(key.public_key()):
        raise LedgerError(
            Code.tls_key_mismatch,
            f"私钥 {key_path} 与证书 {cert_path} 不是一对 (the key does not match the certificate)",
            "keyfile",
        )


def _described(cert: x509.Certificate) -> Certificate:
    try:
        alternative = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(str(name.value) for name in alternative)
    except x509.ExtensionNotFound:
        names = ()
    return Certificate(names, cert.not_valid_after_utc)

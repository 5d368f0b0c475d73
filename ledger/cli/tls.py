"""`ledger tls make`: the certificate files for an office that serves HTTPS on its intranet and
has no certificate of its own (docs/https.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ledger.cli.base import main


@main.group()
def tls() -> None:
    """HTTPS certificates for the office's intranet (phones need HTTPS for the camera)."""


@tls.command("make")
@click.option(
    "--host",
    "hosts",
    multiple=True,
    required=True,
    help="An IP address or name the phones use to reach the server; repeat for each, e.g. "
    "--host 192.168.1.10 --host ledger.office.lan.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="The folder for ca.crt, ca.key, server.crt and server.key (made if missing; nothing "
    "in it is overwritten).",
)
def tls_make(hosts: tuple[str, ...], out: str) -> None:
    """A local certificate authority (ca.crt, ca.key; ten years) and a server certificate it
    signed for the --host names (server.crt, server.key; 825 days, the longest iOS accepts).
    Install ca.crt on each phone once; serve with `ledger serve --certfile server.crt
    --keyfile server.key`. When --out already holds ca.crt and ca.key but no server files, that
    CA signs a new server certificate: a renewal the phones already trust."""
    from ledger.services.tls import make_certificates

    made = make_certificates(Path(out), hosts, dt.datetime.now(dt.UTC))
    for path in made.written:
        click.echo(f"wrote {path}")
    until = f"{made.server.not_after:%Y-%m-%d}"
    click.echo(
        f"server certificate for {', '.join(made.server.names)}, valid until {until} "
        f"(服务器证书适用于以上地址，有效期至 {until})"
    )
    folder = Path(out)
    if made.ca_reused:
        click.echo(
            f"signed by the existing CA {folder / 'ca.crt'}: phones that trust it need nothing "
            "new (用已有的本地 CA 签发，手机无需重新安装)"
        )
    else:
        click.echo(
            f"install {folder / 'ca.crt'} on each phone as a CA certificate (docs/https.md); "
            f"keep {folder / 'ca.key'} off the server and private: it signs certificates the "
            "phones trust (把 ca.crt 安装到每部手机；ca.key 妥善保管，不要放在服务器上)"
        )
    click.echo(
        f"serve: ledger serve --host 0.0.0.0 --port 8443 --certfile {folder / 'server.crt'} "
        f"--keyfile {folder / 'server.key'}"
    )

"""The ``serve`` command: the local, read-only web application over the warehouse (``reuse.cli.web``)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Annotated

import typer

from reuse.cli.options import warehouse_path
from reuse.cli.output import tell
from reuse.errors import InputError

__all__ = ["register", "serve"]

#: Seconds ``serve`` waits at start for a writer to let go of the warehouse.
START_WAIT = 60.0


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback address (127.0.0.0/8, ::1): a server
    listening there is reachable from this machine only."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in found)


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The port to listen on.")] = 8000,
    public: Annotated[
        bool,
        typer.Option("--public", help="Allow listening on an address other machines can reach (no login, no TLS)."),
    ] = False,
    refresh: Annotated[
        float,
        typer.Option(
            "--refresh",
            min=1.0,
            help="Seconds between the copies of the warehouse kept for reading while a writer holds it.",
        ),
    ] = 10.0,
) -> None:
    """Serve a local, read-only web application over the warehouse: search, each document's story
    (the lineage tree drawn, each copy beside its source with the differing words marked, its
    versions), each site (whom it copies, who copies it, lag, credit, its template), the site
    network, the alerts (and their Atom feed, /alerts.atom), and the same data as JSON under /api/
    (lineage, matches, stories, sites, alerts).

    It keeps answering while a crawl or an ingest writes the warehouse: meanwhile pages come from a
    copy taken at most --refresh seconds before the writer took the file, and say so.
    """
    if not public and not is_loopback(host):
        raise InputError(
            host,
            "not a loopback address: the server has no login and no TLS, so anyone who can reach it reads"
            " the warehouse; pass --public to listen there anyway",
        )
    import uvicorn

    from reuse.cli.web.app import create_app
    from reuse.cli.web.reader import Reader

    reader = Reader(warehouse_path(ctx), refresh=refresh)
    try:
        reader.start(START_WAIT, on_wait=tell)
        listening = _listen(host, port)
        # Requests must name this server as the address it listens on or as localhost; --public
        # takes any name, since other machines may reach it under names of their own.
        hosts = None if public else {host.strip("[]").lower(), "localhost", "127.0.0.1", "::1"}
        config = uvicorn.Config(create_app(reader, hosts), log_level="warning", access_log=False)
        tell(f"serving {warehouse_path(ctx)} read-only on http://{_shown(host)}:{port}/ (Ctrl-C stops)")
        with listening:
            uvicorn.Server(config).run(sockets=[listening])
    finally:
        reader.close()


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host`` and ``port``, so that an address in use or not of this machine is
    an error line here instead of the server's log."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)[0]
        listening = socket.socket(family, kind, proto)
    except OSError as err:
        raise InputError(f"{host}:{port}", f"cannot listen there: {err.strerror or err}") from None
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
    except OSError as err:
        listening.close()
        raise InputError(f"{host}:{port}", f"cannot listen there: {err.strerror or err}") from None
    return listening


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""
    app.command("serve")(serve)

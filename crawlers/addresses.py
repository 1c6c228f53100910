"""The address guard: which network addresses the crawler may connect to, enforced on every connection.

Only global unicast addresses are reached, unless a range is allowed by name (``--allow-private``,
:attr:`crawlers.settings.CrawlSettings.allow_private`). The guard sits under httpx's connection
pool (:class:`GuardedTransport`), so it applies to every connection the fetcher opens, redirects
and robots.txt included: each host name is resolved once, the socket is opened to the very address
checked, and the connected socket's peer is checked again (DNS rebinding gains nothing).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore
import httpx

from reuse.errors import SettingsError

__all__ = [
    "AddressBlocked",
    "AddressPolicy",
    "GuardedBackend",
    "GuardedTransport",
    "IPNetwork",
    "Resolver",
    "parse_networks",
    "system_resolver",
]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: ``resolver(host, port)`` gives the addresses to try, in order (tests map names to 127.0.0.1).
Resolver = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def parse_networks(values: list[str] | tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """CIDR strings (``127.0.0.1/32``, ``::1/128``; a bare address means just that address) as networks."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as err:
            raise SettingsError(
                f"--allow-private {value!r} is not an address range; write it like 127.0.0.1/32"
            ) from err
    return tuple(networks)


class AddressBlocked(Exception):
    """A connection to an address the policy refuses was about to be made (or was made and cut)."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        where = address if host.strip("[]") == address else f"{host} resolves to {address},"
        article = "an" if reason[0] in "aeiou" else "a"
        super().__init__(f"{where} {article} {reason} address: not allowed (see --allow-private)")
        self.host = host
        self.address = address
        self.reason = reason


class AddressPolicy:
    """Which addresses may be connected to: global unicast ones, and the allowed ranges."""

    def __init__(self, allow: Iterable[IPNetwork] = ()) -> None:
        self.allow = tuple(allow)

    def refusal(self, address: str) -> str | None:
        """Why ``address`` may not be connected to, or None if it may."""
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return "malformed"
        if isinstance(ip, ipaddress.IPv6Address):
            embedded = ip.ipv4_mapped or ip.sixtofour
            if embedded is None and ip in _NAT64:
                embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
            if embedded is not None:
                return self.refusal(str(embedded))  # the packets go to the IPv4 address inside
        if any(ip.version == net.version and ip in net for net in self.allow):
            return None
        if ip.is_loopback:
            return "loopback"
        if ip.is_link_local:
            return "link-local"
        if ip.is_unspecified:
            return "unspecified"
        if ip.is_multicast:
            return "multicast"
        if ip.is_private:
            return "private"
        if not ip.is_global or ip.is_reserved:
            return "non-global"
        return None


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the system resolver, in its order (an address literal as is)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving each host once and connecting only to allowed addresses.

    The address checked is the address connected to (the name is resolved here, once, and the
    socket opened to that literal address), and the connected socket's peer is checked again, so a
    resolver that answers differently the second time (DNS rebinding) gains nothing.
    """

    def __init__(self, policy: AddressPolicy, resolver: Resolver) -> None:
        self.policy = policy
        self.resolver = resolver
        self.inner = httpcore.AnyIOBackend()
        self.connected: list[tuple[str, str]] = []  # (host, peer address) of every connection opened

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self.resolver(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as err:
            raise httpcore.ConnectError(f"cannot resolve {host}: {err}") from None
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        refused: AddressBlocked | None = None
        failure: Exception | None = None
        for address in addresses:
            reason = self.policy.refusal(address)
            if reason is not None:
                refused = refused or AddressBlocked(host, address, reason)
                continue
            try:
                stream = await self.inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                failure = err
                continue
            peer = stream.get_extra_info("server_addr")
            peer_address = str(peer[0]) if peer else address
            reason = self.policy.refusal(peer_address)
            if reason is not None:
                await stream.aclose()
                raise AddressBlocked(host, peer_address, reason)
            self.connected.append((host, peer_address))
            return stream
        if failure is not None:
            raise failure
        assert refused is not None
        raise refused

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are never used by the crawler")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with the guarded backend under its connection pool.

    httpx 0.28 does not take a network backend, so the pool it builds is replaced by the same
    pool built with one (a test fails if this stops taking effect: 0 accepts on a loopback
    listener without ``--allow-private``).
    """

    def __init__(self, backend: GuardedBackend, verify: bool) -> None:
        super().__init__(verify=verify, trust_env=False, retries=0)
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=None,
            max_keepalive_connections=64,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=backend,
        )

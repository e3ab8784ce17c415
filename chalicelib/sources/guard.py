"""The SSRF guard: which URLs and addresses the crawler may reach.

A source URL comes from a user (or from a redirect chosen by a remote server), so it could point
the crawler at the metadata service (169.254.169.254), the VPC, or moto on loopback. Rules:
HTTP(S) only; every address the host resolves to must be public — not loopback, private,
link-local, multicast, reserved, unspecified or otherwise non-global (IPv4-mapped IPv6 is judged
by its IPv4 address). Loopback is allowed only for sources marked local while local mode is on.

The check runs where the socket is opened (:func:`connect_checked`, called by the fetcher's
connection class): the host is resolved once, every address is checked, and the connection goes
to a checked address — so a DNS answer that changes between a check and the connect (DNS
rebinding) cannot slip through, and redirects are checked hop by hop because each hop opens its
own connection.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from chalicelib.sources.errors import BlockedUrlError, OfflineError

ALLOWED_SCHEMES = frozenset({"http", "https"})
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def address_problem(address: IpAddress, allow_loopback: bool) -> str | None:
    """Why the crawler may not connect to ``address``, or None if it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    for attribute, label in (
        ("is_unspecified", "an unspecified address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(address, attribute):
            return label
    if not address.is_global:
        return "a non-public address"
    return None


def literal_address(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback literals: the only hosts the offline switch allows."""
    address = literal_address(host)
    if address is not None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return address.is_loopback
    return host.lower().rstrip(".") in {"localhost", "localhost.localdomain"}


@dataclass(frozen=True)
class Guard:
    """The crawler's reach for one fetch: loopback only for local sources in local mode."""

    allow_loopback: bool = False
    offline: bool = False

    def check_url(self, url: str) -> str:
        """Check scheme, offline switch and literal addresses before any network use; the host."""
        try:
            parts = urlsplit(url)
        except ValueError:  # e.g. an unclosed IPv6 bracket
            raise BlockedUrlError(f"refused {url!r}: not a valid URL") from None
        if parts.scheme.lower() not in ALLOWED_SCHEMES:
            raise BlockedUrlError(f"refused {url!r}: only http and https URLs may be fetched")
        host = parts.hostname or ""
        if not host:
            raise BlockedUrlError(f"refused {url!r}: no host")
        if self.offline and not is_loopback_host(host):
            raise OfflineError(f"offline: not fetching {host} (YUQING_OFFLINE is set)")
        address = literal_address(host)
        if address is not None and (problem := address_problem(address, self.allow_loopback)):
            raise BlockedUrlError(f"refused {host}: {problem}")
        return host

    def resolve(self, host: str, port: int) -> list[tuple[int, str]]:
        """Every address of ``host`` as (family, ip), all checked; refuses if any is not allowed.

        All must pass, not just one: a name with one public and one private record is a trap.
        """
        if self.offline and not is_loopback_host(host):
            raise OfflineError(f"offline: not resolving {host} (YUQING_OFFLINE is set)")
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as err:
            raise BlockedUrlError(f"cannot resolve {host}: {err.strerror}") from None
        addresses: list[tuple[int, str]] = []
        for family, _, _, _, sockaddr in infos:
            ip = str(sockaddr[0])
            address = literal_address(ip)
            problem = (
                "not an IP address"
                if address is None
                else address_problem(address, self.allow_loopback)
            )
            if problem:
                raise BlockedUrlError(f"refused {host}: it resolves to {ip}, {problem}")
            if (family, ip) not in addresses:
                addresses.append((family, ip))
        if not addresses:
            raise BlockedUrlError(f"cannot resolve {host}: no addresses")
        return addresses


def connect_checked(
    guard: Guard,
    host: str,
    port: int,
    timeout: float | None,
    source_address: tuple[str, int] | None = None,
    socket_options: Sequence[tuple[int, int, int | bytes]] | None = None,
) -> socket.socket:
    """A TCP connection to a checked address of ``host`` (first that answers)."""
    last_error: OSError | None = None
    for family, ip in guard.resolve(host, port):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            for level, option, value in socket_options or []:
                sock.setsockopt(level, option, value)
            if timeout is not None:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect((ip, port))
        except OSError as err:
            sock.close()
            last_error = err
            continue
        return sock
    assert last_error is not None
    raise last_error

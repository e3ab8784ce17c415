"""The SSRF guard: which addresses the crawler and evidence capture (证据固定) may reach.

Every URL we fetch comes from outside — a source definition, an evidence request, a redirect
chosen by a remote server — so it could point us at the metadata service (169.254.169.254), the
VPC, or, in local mode, moto's endpoint on loopback, which serves every table (contacts included)
at ``/moto-api/data.json``. Rules:

- HTTP(S) only.
- Every address the host resolves to must be public. "Public" is judged twice, by our own list of
  IANA special-purpose ranges and by the standard library's ``is_global``, so that the answer
  does not move with the Python version; IPv6 forms that carry an IPv4 address (mapped, 6to4,
  NAT64) are judged by that IPv4 address, and the deprecated ones (IPv4-compatible, site-local)
  are refused.
- A host that is an IPv4 number in another spelling (``2130706433``, ``0x7f.1``, ``0177.0.0.1``,
  ``127.1``) is what the resolver makes of it (``inet_aton``'s rules): an address, judged as such,
  already when a source is defined.
- The one exception is a **local site**: a server that local mode itself runs on loopback for the
  demo (:mod:`chalicelib.local.demo_site`), by exact address and port. It registers in
  :data:`LOCAL_SITES` when it starts (local mode is one process, so the registry is the truth of
  what it serves). Nothing else on loopback is reachable — not moto, not the API, not whatever
  else runs on the developer's machine — and in AWS there are no local sites at all.

The check runs where the socket is opened (:func:`connect_checked`, called by the fetcher's
connection class in :mod:`.transport`): the host is resolved once, every address is checked, and
the connection goes to a checked address — so a DNS answer that changes between a check and the
connect (DNS rebinding) cannot slip through, and redirects are checked hop by hop because each
hop opens its own connection.

A refusal after resolution says only that the host has no public address (an unknown name gets
the same words): the address it resolved to goes to the log, never into an API answer or a
source's stored error, so the API cannot be used to map internal DNS.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from chalicelib.core.observability import logger
from chalicelib.sources.errors import BlockedUrlError, OfflineError

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (family, ip) for a host and port: socket.getaddrinfo's answer, reduced to what we connect to.
Resolver = Callable[[str, int], Sequence[tuple[int, str]]]

# Not public, whatever this Python's ipaddress thinks (IANA special-purpose registries).
_NON_PUBLIC_V4 = tuple(
    ipaddress.IPv4Network(network)
    for network in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, the metadata service
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",  # deprecated 6to4 relays
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
_NON_PUBLIC_V6 = tuple(
    ipaddress.IPv6Network(network)
    for network in (
        "::/8",  # unspecified, loopback, IPv4-compatible (deprecated) and other reserved forms
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments, Teredo among them
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",  # unique local
        "fe80::/10",
        "fec0::/10",  # site-local (deprecated, still routed inside a site)
        "ff00::/8",
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a packet to ``address`` ends up at: IPv4-mapped, NAT64, 6to4."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def address_problem(address: IpAddress) -> str | None:
    """Why nothing may connect to ``address`` (local sites aside), or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address) and (inner := embedded_ipv4(address)) is not None:
        address = inner
    for attribute, label in (
        ("is_loopback", "a loopback address"),
        ("is_unspecified", "an unspecified address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(address, attribute):
            return label
    ranges: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network] = (
        _NON_PUBLIC_V4 if isinstance(address, ipaddress.IPv4Address) else _NON_PUBLIC_V6
    )
    if not address.is_global or any(address in network for network in ranges):
        return "a non-public address"
    return None


def numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``host`` as the resolver reads an IPv4 number (``inet_aton``: 1–4 parts, each decimal,
    octal with a leading 0 or hex with 0x, the last filling the remaining bytes), or None."""
    parts = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_IPV4_PART.fullmatch(part) for part in parts):
        return None
    values = []
    for part in parts:
        if part[:2].lower() == "0x":
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *front, last = values
    if any(value > 255 for value in front) or last >= 256 ** (4 - len(front)):
        return None
    number = last
    for index, value in enumerate(front):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def literal_address(host: str) -> IpAddress | None:
    """The address ``host`` names without any lookup (an IP literal in any spelling), or None."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return numeric_ipv4(host)


def plain(address: IpAddress) -> IpAddress:
    """An IPv4-mapped IPv6 address as the IPv4 address it is; others unchanged."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback literals: the only hosts the offline switch allows."""
    address = literal_address(host)
    if address is not None:
        return plain(address).is_loopback
    return host.lower().rstrip(".") in {"localhost", "localhost.localdomain"}


def url_host_port(url: str) -> tuple[str, int]:
    """Host and port of an HTTP(S) URL; :class:`BlockedUrlError` for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # an unclosed IPv6 bracket, a port out of range
        raise BlockedUrlError(f"refused {url!r}: not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise BlockedUrlError(f"refused {url!r}: only http and https URLs may be fetched")
    host = parts.hostname or ""
    if not host:
        raise BlockedUrlError(f"refused {url!r}: no host")
    return host, port or DEFAULT_PORTS[scheme]


@dataclass(frozen=True, order=True)
class LocalSite:
    """A server local mode runs on loopback on purpose (the demo site), by address and port."""

    ip: str
    port: int

    @classmethod
    def at(cls, ip: str, port: int) -> LocalSite:
        return cls(str(plain(ipaddress.ip_address(ip))), port)

    @classmethod
    def of_url(cls, url: str) -> LocalSite | None:
        """The local site ``url`` names by a loopback literal, or None (names are not looked up)."""
        try:
            host, port = url_host_port(url)
        except BlockedUrlError:
            return None
        address = literal_address(host)
        if address is None or not plain(address).is_loopback:
            return None
        return cls(str(plain(address)), port)

    @property
    def url(self) -> str:
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"http://{host}:{self.port}"


class LocalSites:
    """The local sites serving in this process. Local mode runs everything (API, Lambda handlers,
    crawl worker) in one process, so what registered here is what exists; in AWS it stays empty."""

    def __init__(self) -> None:
        self._sites: set[LocalSite] = set()
        self._lock = threading.Lock()

    def add(self, site: LocalSite) -> None:
        with self._lock:
            self._sites.add(site)

    def discard(self, site: LocalSite) -> None:
        with self._lock:
            self._sites.discard(site)

    def current(self) -> frozenset[LocalSite]:
        with self._lock:
            return frozenset(self._sites)


LOCAL_SITES = LocalSites()


def system_resolver(host: str, port: int) -> list[tuple[int, str]]:
    """Every address of ``host`` from the system resolver, as (family, ip)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [(family, str(sockaddr[0])) for family, _, _, _, sockaddr in infos]


@dataclass(frozen=True)
class Guard:
    """The reach of one fetch: public addresses, plus ``local_sites`` (local mode only)."""

    local_sites: frozenset[LocalSite] = frozenset()
    offline: bool = False

    def refusal(self, address: IpAddress, port: int) -> str | None:
        """Why this fetch may not connect to ``address`` on ``port``, or None if it may."""
        if LocalSite(str(plain(address)), port) in self.local_sites:
            return None
        return address_problem(address)

    def check_url(self, url: str) -> str:
        """Check scheme, offline switch and literal addresses before any network use; the host.

        The host and port here are the ones the caller wrote (never a resolved address), so the
        refusal may name them.
        """
        host, port = url_host_port(url)
        address = literal_address(host)
        if address is not None and (problem := self.refusal(address, port)):
            raise BlockedUrlError(f"refused: {host} is {problem}")
        if self.offline and not is_loopback_host(host):
            raise OfflineError(f"offline: not fetching {host} (YUQING_OFFLINE is set)")
        return host

    def addresses(self, host: str, port: int, resolve: Resolver) -> list[tuple[int, str]]:
        """Every address of ``host`` as (family, ip), all checked; refuses if any is not allowed.

        All must pass, not just one: a name with one public and one private record is a trap.
        The refusal does not say which address or why (see the module docstring); the log does.
        """
        if self.offline and not is_loopback_host(host):
            raise OfflineError(f"offline: not resolving {host} (YUQING_OFFLINE is set)")
        refused = BlockedUrlError(f"refused: {host} has no public address")
        try:
            answers = resolve(host, port)
        except (socket.gaierror, UnicodeError) as err:
            logger.warning("refused a host", extra={"host": host, "reason": str(err)})
            raise refused from None
        addresses: list[tuple[int, str]] = []
        for family, ip in answers:
            address = literal_address(ip)
            problem = "not an IP address" if address is None else self.refusal(address, port)
            if problem:
                logger.warning(
                    "refused a host", extra={"host": host, "address": ip, "reason": problem}
                )
                raise refused
            if (family, ip) not in addresses:
                addresses.append((family, ip))
        if not addresses:
            logger.warning("refused a host", extra={"host": host, "reason": "no addresses"})
            raise refused
        return addresses


def connect_checked(
    guard: Guard,
    host: str,
    port: int,
    timeout: float | None,
    source_address: tuple[str, int] | None = None,
    socket_options: Sequence[tuple[int, int, int | bytes]] | None = None,
    *,
    resolve: Resolver = system_resolver,
    time_left: Callable[[], float] | None = None,
) -> socket.socket:
    """A TCP connection to a checked address of ``host`` (the first that answers).

    ``time_left`` (seconds, from the fetch's deadline) bounds every connect attempt, so trying
    several addresses cannot add up past the deadline.
    """
    last_error: OSError | None = None
    for family, ip in guard.addresses(host, port, resolve):
        limit = timeout
        if time_left is not None:
            left = time_left()
            if left <= 0:
                raise TimeoutError(f"no time left to connect to {host}")
            limit = left if limit is None else min(limit, left)
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            for level, option, value in socket_options or []:
                sock.setsockopt(level, option, value)
            if limit is not None:
                sock.settimeout(limit)
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

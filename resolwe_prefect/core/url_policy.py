"""Which URLs the server may be asked to fetch on a user's behalf (server-side request forgery).

``upload-file`` and friends download a ``file_temp`` URL, and programs
download ``basic:url:download`` values, from inside our network: without a
check, a user could make them read the Prefect API, our own API or a cloud
metadata service and store the answers as their Data. This module decides,
without Django, whether a URL is acceptable:

* only ``http``, ``https`` and ``ftp``;
* the host must be a well-formed ASCII name or IP literal (no backslashes,
  spaces or percent-encoding that downloaders and ``urllib`` could read
  differently);
* every address the host stands for must be public: loopback, link-local,
  private, unspecified, multicast, reserved and shared (CGNAT) ranges are
  refused, for IPv4 and IPv6 alike, including IPv4 embedded in IPv6
  (``::ffff:127.0.0.1``, ``::127.0.0.1``, 6to4, NAT64) and the numeric spellings
  ``inet_aton`` and curl accept (``2130706433``, ``0x7f.1``, ``0177.0.0.1``);
* ``localhost`` and ``*.localhost`` are loopback whatever DNS says (curl
  never asks DNS for them).

``allow_private=True`` (the ``FLOW_IMPORT_ALLOW_PRIVATE_URLS`` setting) lifts
the address rule for sites whose data lives on an intranet; the scheme and
syntax rules stay.

The check runs when the Data object is created, so it is a floor, not a
wall: DNS may answer differently when the program runs (DNS rebinding), and
a public server may redirect the download to an internal address (curl runs
with ``--location``). Only network isolation of the programs closes those
gaps; this module does not try to.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("http", "https", "ftp")

#: A host name: ASCII labels of letters, digits, ``-`` and ``_`` (seen in the wild), dot separated.
_NAME_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*$")
#: One part of an ``inet_aton`` address: decimal, octal (leading 0) or hexadecimal (0x).
_ATON_PART_RE = re.compile(r"^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Iterable[str]]


class URLRefused(ValueError):
    """The URL may not be fetched by the server; the message says why, for the client."""


def looks_like_url(value: str) -> bool:
    """``scheme://...``: a ``file_temp`` of this form is a URL, not an upload handle or a path."""
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", value))


def check_url(url: str, *, allow_private: bool = False, resolve: Resolver | None = None) -> None:
    """Raise :class:`URLRefused` unless ``url`` is an http(s)/ftp URL of a public host.

    ``resolve(host)`` returns the host's addresses (default: the system
    resolver). A name that does not resolve now is accepted, as Resolwe
    accepts any URL when a Data object is created: the program's download
    fails if it still does not resolve, and a program's network never
    reaches the host's loopback (``execution.backends.sandbox``).
    """
    host = url_host(url)
    if allow_private:
        return
    literal = parse_ip(host)
    if literal is not None:
        addresses = [literal]
    elif host.rstrip(".").lower() == "localhost" or host.rstrip(".").lower().endswith(".localhost"):
        raise URLRefused(f"The host {host} is a loopback name.")
    else:
        try:
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in (resolve or system_resolve)(host)]
        except (OSError, ValueError, UnicodeError):
            addresses = []  # not resolvable now: nothing to judge, and nothing to fetch from yet
    for address in addresses:
        reason = non_public_reason(address)
        if reason:
            shown = host if literal is not None and str(literal) == host else f"{host} ({address})"
            raise URLRefused(f"The host {shown} is not public ({reason} address); the server does not fetch from it.")


def url_host(url: str) -> str:
    """The host of ``url`` after the scheme and syntax rules; raise :class:`URLRefused` if they fail."""
    if not isinstance(url, str) or not url:
        raise URLRefused("The URL is empty.")
    if not url.isascii() or any(c in url for c in "\\ \t\r\n\x00") or not url.isprintable():
        raise URLRefused("The URL may only contain printable ASCII characters without spaces or backslashes.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise URLRefused(f"The URL is malformed: {error}.") from error
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise URLRefused(f"Only {', '.join(ALLOWED_SCHEMES)} URLs are allowed, not {parts.scheme or 'no scheme'}.")
    host = parts.hostname or ""
    if port == 0:
        raise URLRefused("The URL's port must not be 0.")
    if not host:
        raise URLRefused("The URL has no host.")
    if "[" in parts.netloc:
        if parse_ip(host) is None or ":" not in host:
            raise URLRefused(f"The host [{host}] is not a valid IPv6 address.")
    elif not _NAME_RE.match(host.rstrip(".") if host != "." else host):
        raise URLRefused(f"The host {host} is not a valid host name.")
    return host


def parse_ip(host: str) -> Address | None:
    """An IP literal in any spelling a downloader accepts, or ``None`` for a name.

    IPv6 may carry a zone (``fe80::1%eth0``); IPv4 follows ``inet_aton``:
    one to four parts, each decimal, octal or hex, the last filling the
    remaining bytes (``127.1``, ``2130706433``, ``0x7f.0.0.1``).
    """
    host = host.rstrip(".") if host.endswith(".") and host != "." else host
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_ATON_PART_RE.match(part) for part in parts):
        return None
    *head, last = [_aton_number(part) for part in parts]
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    return ipaddress.IPv4Address(value * 256 ** (4 - len(head)) + last)


def _aton_number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:], 16)
    return int(part, 8) if part.startswith("0") else int(part)


def non_public_reason(address: Address) -> str | None:
    """Why ``address`` is not a public unicast address (``"loopback"``...), or ``None`` if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return non_public_reason(embedded)
    for reason, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private or (address.version == 4 and address in _SHARED)),
    ):
        if flag:
            return reason
    if not address.is_global:
        return "non-public"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64).

    Teredo (``2001::/32``) is not unwrapped: it counts as private anyway.
    """
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def system_resolve(host: str) -> list[str]:
    """Every address the system resolver gives for ``host`` (the downloader may pick any of them)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})

"""The URL policy: which hosts the server may be told to download from (issue 14, finding 5).

Pure: a fake resolver stands in for DNS, so no test touches the network.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from resolwe_prefect.core.url_policy import URLRefused, check_url, looks_like_url, non_public_reason, parse_ip

ZONE = {
    "downloads.example.org": ["93.184.216.34"],
    "v6.example.org": ["2606:4700::1111"],
    "internal.example.org": ["10.0.0.5"],
    "rebind.example.org": ["93.184.216.34", "127.0.0.1"],  # one bad address is enough
    "metadata.example.org": ["169.254.169.254"],
    "mapped.example.org": ["::ffff:127.0.0.1"],
    "localhost": ["93.184.216.34"],  # whatever DNS says, localhost is loopback
    "db.localhost": ["93.184.216.34"],
}


def resolve(host: str) -> list[str]:
    if host not in ZONE:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return ZONE[host]


def refused(url: str, **kwargs) -> str:
    with pytest.raises(URLRefused) as error:
        check_url(url, resolve=resolve, **kwargs)
    return str(error.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://downloads.example.org/reads.fastq.gz",
        "https://downloads.example.org:8443/a?b=c#d",
        "ftp://anonymous:secret@downloads.example.org/pub/x",
        "HTTPS://downloads.example.org/x",
        "http://v6.example.org/x",
        "http://93.184.216.34/x",
        "http://[2606:4700::1111]/x",
        "http://[::ffff:93.184.216.34]/x",
    ],
)
def test_public_urls_pass(url):
    check_url(url, resolve=resolve)


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://127.0.0.1:4200/api/flow_runs/filter", "loopback"),  # the Prefect API, as in the pentest
        ("http://127.0.0.1:8000/api/user", "loopback"),
        ("http://2130706433/", "loopback"),  # decimal
        ("http://0x7f.1/", "loopback"),  # hex, shortened
        ("http://0X7F000001/", "loopback"),
        ("http://0177.0.0.1/", "loopback"),  # octal
        ("http://127.1/", "loopback"),
        ("http://127.0.0.1./", "loopback"),  # trailing dot
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped IPv6
        ("http://[::ffff:7f00:1]/", "loopback"),
        ("http://[::127.0.0.1]/", "loopback"),  # IPv4-compatible IPv6
        ("http://[2002:7f00:1::]/", "loopback"),  # 6to4
        ("http://[64:ff9b::7f00:1]/", "loopback"),  # NAT64
        ("http://localhost:8000/", "loopback"),
        ("http://db.localhost/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata
        ("http://[fe80::1%25eth0]/", "link-local"),
        ("http://10.1.2.3/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://100.64.0.1/", "private"),  # shared address space (CGNAT)
        ("http://[fc00::1]/", "private"),
        ("http://0.0.0.0:8000/", "unspecified"),
        ("http://0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://internal.example.org/", "private"),  # a name that resolves inside
        ("http://rebind.example.org/", "loopback"),
        ("http://metadata.example.org/", "link-local"),
        ("http://mapped.example.org/", "loopback"),
    ],
)
def test_non_public_hosts_are_refused(url, reason):
    assert f"({reason} address)" in refused(url) or "loopback name" in refused(url)


@pytest.mark.parametrize(
    "url, message",
    [
        ("file:///etc/passwd", "Only http, https, ftp URLs are allowed"),
        ("gopher://downloads.example.org/", "Only http, https, ftp URLs are allowed"),
        ("//downloads.example.org/x", "Only http, https, ftp URLs are allowed"),
        ("http:///x", "no host"),
        ("http://downloads.example.org:99999/", "malformed"),
        ("http://downloads.example.org:0/", "port"),
        ("http://evil.example.org\\@127.0.0.1/", "backslashes"),
        ("http://%31%32%37.0.0.1/", "not a valid host name"),
        ("http://exämple.org/", "ASCII"),
        ("http://[1.2.3.4]/", "malformed"),
        ("http://[::1/", "malformed"),
    ],
)
def test_malformed_urls_are_refused(url, message):
    assert message in refused(url)


def test_a_name_that_does_not_resolve_now_is_accepted_as_resolwe_does():
    """Nothing can be fetched from it yet; refusing it would break a site without DNS at creation."""

    def nowhere(host):
        raise OSError("Name or service not known")

    check_url("http://nowhere.example.org/", resolve=nowhere)
    check_url("https://www.genialis.com/", resolve=lambda host: [])


def test_allow_private_lifts_only_the_address_rule():
    check_url("http://127.0.0.1:4200/api", allow_private=True)
    check_url("http://internal.example.org/x", allow_private=True, resolve=resolve)
    assert "Only http, https, ftp" in refused("file:///etc/passwd", allow_private=True)


@pytest.mark.parametrize(
    "host, address",
    [("2130706433", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("0177.0.0.01", "127.0.0.1"), ("10.1", "10.0.0.1"),
     ("1.2.3", "1.2.0.3"), ("::1", "::1"), ("fe80::1%eth0", "fe80::1"), ("example.org", None), ("1.2.3.4.5", None),
     ("256.1.1.1", None), ("08.1.1.1", None), ("4294967296", None)],
)  # fmt: skip
def test_parse_ip_reads_every_numeric_spelling(host, address):
    parsed = parse_ip(host)
    assert (str(parsed) if parsed else None) == address


def test_public_addresses_have_no_reason():
    assert non_public_reason(ipaddress.ip_address("8.8.8.8")) is None
    assert non_public_reason(ipaddress.ip_address("::ffff:8.8.8.8")) is None


@pytest.mark.parametrize(
    "value, expected", [("http://x/", True), ("s3://b/k", True), ("abc123", False), ("/tmp/x", False)]
)
def test_looks_like_url(value, expected):
    assert looks_like_url(value) is expected

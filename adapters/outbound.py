"""The one guard every request to a store goes through (server-side request forgery stops here).

A store's address comes from outside (an install link, a webhook, an API answer), so the
connector must not become a way into the network it runs in.  :class:`OutboundPolicy` says where
requests may go; :func:`guarded_session` returns a ``requests`` session that enforces it:

- only ``https`` (``http`` too outside production), except for hosts the operator allows;
- every address a host name resolves to is checked at connect time, on every connection
  (redirects and DNS answers that change included), and the connection is made to the checked
  address: private, loopback, link-local, shared, multicast, reserved and cloud metadata
  addresses are refused unless the host is one the operator allows (a sandbox on 127.0.0.1);
- redirects are followed only within the same scheme, host and port;
- proxies from the environment and ``.netrc`` are ignored.

A refusal raises :class:`connector.errors.OutboundRefused` before a byte is sent; its message
names the host asked for, never what any address answered.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError

from connector.errors import OutboundRefused
from connector.port import PlatformContext

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Cloud metadata services that sit on otherwise unremarkable addresses.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
ALLOW_HINT = (
    "a store must be reachable on the public internet (over https in production); an operator can "
    "allow a local store or sandbox by host in OUTBOUND_ALLOW_HOSTS"
)
MAX_REDIRECTS = 5


def is_public(ip: IPAddress) -> bool:
    """Whether an address is on the public internet (IPv4 inside IPv6 judged as IPv4)."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None and not is_public(inner):
            return False
    return ip.is_global and not ip.is_multicast and ip not in METADATA_ADDRESSES


def _endpoint(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a URL; OutboundRefused when it is not an http(s) URL."""
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        host, port = "", None
    scheme = parts.scheme.lower() if host else ""
    if scheme not in ("http", "https") or not host:
        raise OutboundRefused("the connector only requests http(s) URLs of stores", hint=ALLOW_HINT)
    return scheme, host, port or (443 if scheme == "https" else 80)


@dataclass(frozen=True)
class OutboundPolicy:
    """Where requests to stores may go.

    ``allowed_hosts`` are ``host`` or ``host:port`` entries the operator trusts: they may be
    reached over http and on any address (the local sandboxes, a store on the LAN).
    ``https_only`` refuses http to every other host (production).
    """

    https_only: bool = True
    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_context(cls, context: PlatformContext) -> OutboundPolicy:
        """The policy the service configured for its platforms."""
        return cls.from_hosts(context.outbound_allow_hosts, https_only=context.https_only)

    @classmethod
    def from_hosts(cls, hosts: str | Iterable[str], *, https_only: bool = True) -> OutboundPolicy:
        """A policy from a comma-separated (or listed) set of allowed hosts."""
        items = hosts.split(",") if isinstance(hosts, str) else hosts
        return cls(https_only, frozenset(h.strip().lower().rstrip("/") for h in items if h.strip()))

    def trusts(self, host: str, port: int) -> bool:
        """Whether the operator allowed this host (on any port, or on this one)."""
        host = host.lower().strip("[]")
        return host in self.allowed_hosts or f"{host}:{port}" in self.allowed_hosts

    def check_url(self, url: str) -> None:
        """Refuse a URL whose scheme or host the policy rules out (no DNS here)."""
        scheme, host, port = _endpoint(url)
        if scheme == "http" and self.https_only and not self.trusts(host, port):
            raise OutboundRefused(f"refused to request {host} over plain http", hint=ALLOW_HINT)

    def check_address(self, host: str, port: int, address: str) -> None:
        """Refuse connecting to ``host`` at ``address`` unless the address is public or the host trusted."""
        if self.trusts(host, port):
            return
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            ip = None
        if ip is None or not is_public(ip):
            raise OutboundRefused(
                f"refused to connect to {host}: it resolves to an address that is not public "
                "(private, loopback, link-local or metadata)",
                hint=ALLOW_HINT,
            )

    def resolve(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for ``host``, every one of them checked."""
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            self.check_address(host, port, address)
        return addresses


#: The default policy: public hosts over https only.
STRICT = OutboundPolicy()


class _GuardedConnection(HTTPConnection):
    """Resolves the host itself, checks every address, and connects to a checked one."""

    policy: OutboundPolicy = OutboundPolicy()

    def _new_conn(self) -> socket.socket:
        host = self._dns_host
        try:
            addresses = self.policy.resolve(host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        last: Exception | None = None
        for address in addresses:
            self._dns_host = address
            try:
                return super()._new_conn()
            except OSError as exc:  # urllib3's connection errors: try the next checked address
                last = exc
            finally:
                self._dns_host = host
        raise last or OSError(f"no address to connect to {self.host}")


class _GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    """The TLS variant (the certificate is still checked against the host name)."""


class GuardedAdapter(HTTPAdapter):
    """A transport adapter whose every connection obeys an :class:`OutboundPolicy`."""

    def __init__(self, policy: OutboundPolicy, **kw: Any) -> None:
        self.policy = policy
        attrs = {"policy": policy}
        http_conn = type("GuardedHTTPConnection", (_GuardedConnection,), attrs)
        https_conn = type("GuardedHTTPSConnection", (_GuardedHTTPSConnection,), attrs)
        self._pools = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }
        super().__init__(**kw)

    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        super().init_poolmanager(*args, **kw)
        self.poolmanager.pool_classes_by_scheme = self._pools

    def send(self, request: requests.PreparedRequest, *args: Any, **kw: Any) -> requests.Response:
        """Check the URL, refuse proxies, then send through the guarded connections."""
        self.policy.check_url(request.url or "")
        proxies: Mapping[str, str] | None = kw.get("proxies")
        if proxies and any(proxies.values()):
            raise OutboundRefused("requests to stores do not go through proxies", hint=ALLOW_HINT)
        return super().send(request, *args, **kw)


class GuardedSession(requests.Session):
    """A session that follows redirects only to the same scheme, host and port."""

    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__()
        self.policy = policy
        self.trust_env = False  # no proxies or .netrc credentials from the environment
        self.max_redirects = MAX_REDIRECTS
        adapter = GuardedAdapter(policy)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:
        """Refuse a URL the policy rules out before an adapter is even chosen (``file://`` included)."""
        self.policy.check_url(request.url or "")
        return super().send(request, **kw)

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        """The redirect's target, refused when it leaves the origin that answered."""
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        if _endpoint(urljoin(resp.url, target)) != _endpoint(resp.url):
            raise OutboundRefused(
                f"refused to follow a redirect from {_endpoint(resp.url)[1]} to another host",
                hint="a store's API must answer at the address it was installed with",
            )
        return target


def guarded_session(policy: OutboundPolicy | None = None) -> requests.Session:
    """A new session obeying ``policy`` (default: public https hosts only)."""
    return GuardedSession(policy or STRICT)

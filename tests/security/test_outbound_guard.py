"""The outbound guard: no request to a store reaches an internal address, however it is asked for.

Real sockets on loopback: a listener stands for the internal service an attacker aims at, and
proves by its empty request log that nothing reached it.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests

from adapters.outbound import OutboundPolicy, guarded_session
from adapters.shopify import ShopifyClient, ShopifyConfig
from adapters.woocommerce import WooCommerceClient, WooConfig
from adapters.woocommerce.http import error_for
from connector.errors import OutboundRefused
from tests.security.support import INTERNAL_SECRET, Listener

pytestmark = pytest.mark.security

#: http allowed (development), no host trusted: only the addresses decide
DEV = OutboundPolicy(https_only=False)


def _refused(session: requests.Session, url: str, **kw: Any) -> OutboundRefused:
    with pytest.raises(OutboundRefused) as info:
        session.get(url, timeout=3, **kw)
    assert INTERNAL_SECRET not in str(info.value)
    return info.value


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1:{port}",
        "localhost:{port}",
        "[::1]:{port}",
        "[::ffff:127.0.0.1]:{port}",
        "0.0.0.0:{port}",
        "2130706433:{port}",  # 127.0.0.1 as one decimal number
        "0x7f.1:{port}",
        "169.254.169.254",  # cloud metadata
        "[fd00:ec2::254]",
        "100.100.100.200",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",  # shared address space
        "[fe80::1]",
        "224.0.0.1",
    ],
)
def test_internal_addresses_are_refused_before_a_byte_is_sent(internal: Listener, address: str) -> None:
    url = f"http://{address.format(port=internal.url.rsplit(':', 1)[1])}/wp-json/"
    assert "not public" in _refused(guarded_session(DEV), url).message
    assert internal.hits() == []


def test_a_name_resolving_to_an_internal_address_is_refused_on_every_connection(
    internal: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS answers are checked at connect time, each time: a name that answered a public address
    before (DNS rebinding) is refused the moment it answers an internal one, and a mixed answer is
    refused whole."""
    real = socket.getaddrinfo
    asked: list[str] = []
    answers = iter([["127.0.0.1"], ["93.184.216.34", "127.0.0.1"], ["169.254.169.254"]])

    def rebinding(host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        if host != "store.example":
            return real(host, port, *args, **kw)
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in next(answers)]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    session = guarded_session(DEV)
    for _ in range(3):
        _refused(session, f"http://store.example:{internal.url.rsplit(':', 1)[1]}/")
    assert len(asked) == 3 and internal.hits() == []


def test_production_requests_stores_over_https_only(store: Listener) -> None:
    production = OutboundPolicy.from_hosts("", https_only=True)
    assert "plain http" in _refused(guarded_session(production), "http://store.example/wp-json/").message
    allowed = OutboundPolicy.from_hosts(store.netloc, https_only=True)  # what the operator allowed
    assert guarded_session(allowed).get(f"{store.url}/wp-json/", timeout=5).status_code == 200
    assert store.hits() == ["/wp-json/"]


@pytest.mark.parametrize("elsewhere", ["other-port", "metadata", "other-scheme"])
def test_redirects_to_another_host_are_not_followed(
    store: Listener, internal: Listener, elsewhere: str
) -> None:
    """Even when both ends are allowed, a redirect leaves neither the scheme, host nor port."""
    store.redirect_to = {
        "other-port": f"{internal.url}/steal",
        "metadata": "http://169.254.169.254/latest/meta-data/",
        "other-scheme": f"https://{store.netloc}/wp-json/",
    }[elsewhere]
    session = guarded_session(OutboundPolicy.from_hosts(f"127.0.0.1,{store.netloc}", https_only=False))
    assert "redirect" in _refused(session, f"{store.url}/wp-json/").message
    assert store.hits() == ["/wp-json/"] and internal.hits() == []


def test_proxies_from_the_environment_are_ignored(
    store: Listener, internal: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", internal.url)
    monkeypatch.setenv("http_proxy", internal.url)
    session = guarded_session(OutboundPolicy.from_hosts(store.netloc, https_only=False))
    assert session.get(f"{store.url}/x", timeout=5).status_code == 200
    assert store.hits() == ["/x"] and internal.hits() == []
    with pytest.raises(OutboundRefused, match="proxies"):
        session.get(f"{store.url}/y", proxies={"http": internal.url}, timeout=5)
    assert internal.hits() == []


def test_errors_never_quote_what_a_host_answered() -> None:
    answer = requests.Response()
    answer.status_code, answer._content = 500, f"<html>{INTERNAL_SECRET} redis_version:7</html>".encode()
    answer.headers["Content-Type"] = "text/html"
    error = error_for(answer, "reading the REST API index of http://127.0.0.1:6379")
    assert error is not None and INTERNAL_SECRET not in str(error) and "redis_version" not in str(error)
    answer._content = f'{{"code": 1, "message": "{INTERNAL_SECRET}"}}'.encode()
    error = error_for(answer, "reading")
    assert error is not None and INTERNAL_SECRET not in str(error)


def test_a_worker_never_downloads_an_image_from_an_internal_address(
    store: Listener, internal: Listener
) -> None:
    """A store (or a delivery) naming an internal URL as a product's image: both adapters refuse to
    fetch it, though they may reach the store itself."""
    allowed = OutboundPolicy.from_hosts(store.netloc, https_only=False)
    woo = WooCommerceClient(
        store.url, {"consumer_key": "ck", "consumer_secret": "cs"}, WooConfig(outbound=allowed)
    )
    shopify = ShopifyClient(
        ShopifyConfig(base_url_template=f"{store.url}/{{shop}}", outbound=allowed),
        "alpha-shop.myshopify.com",
        {"access_token": "shpat_alpha0001"},
    )
    for client in (woo, shopify):
        for url in (
            f"{internal.url}/image.png",
            "http://169.254.169.254/latest/user-data",
            "file:///etc/passwd",
        ):
            with pytest.raises(OutboundRefused):
                client.fetch_bytes(url)
    assert internal.hits() == [] and store.hits() == []

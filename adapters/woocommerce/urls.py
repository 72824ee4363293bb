"""Store URLs: a WooCommerce store is known by its site URL (WordPress may live in a subdirectory)."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit, urlunsplit

from connector.errors import AuthError


def normalize_shop(url: str) -> str:
    """``https://Shop.example/wp/`` → ``https://shop.example/wp``; a bare host gets ``https://``."""
    raw = url.strip()
    if not raw:
        raise AuthError("no store URL given", hint="enter the store's address, e.g. https://shop.example")
    if "://" not in raw:
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        parts, port = urlsplit(""), None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or parts.username
        or parts.password
    ):
        raise AuthError(
            f"{url[:100]!r} is not a store URL", hint="enter the store's address, e.g. https://shop.example"
        )
    host = parts.hostname.lower()
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    path = re.sub(r"/+$", "", parts.path)
    return urlunsplit((parts.scheme.lower(), netloc, path, "", ""))


def with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` appended to its query."""
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def basename(url: str) -> str:
    """The last path segment of a URL."""
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


_UNSAFE = re.compile("[?\\[\\]/\\\\=<>:;,'\"&$#*()|~`!{}%+\u2019\u00ab\u00bb\u201d\u201c\x00]")


def wp_file_name(name: str) -> str:
    """The name WordPress stores an upload under (``sanitize_file_name``, without de-duplication)."""
    cleaned = re.sub(r"[\r\n\t -]+", "-", _UNSAFE.sub("", name)).strip(".-_")
    return cleaned or "unnamed-file"


def file_stem(name: str) -> str:
    """A file name without its extension and WordPress's ``-scaled`` / ``-rotated`` suffix."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return re.sub(r"-(scaled|rotated)$", "", stem)

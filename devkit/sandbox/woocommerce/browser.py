"""A merchant's browser on the store's consent pages: follows redirects, clicks links, submits forms.

The dev stack and the tests install the connector the way a merchant does — the key grant's
"Approve" link, then WordPress's Application Password form — without knowing the pages' URLs.
The sandbox takes every visitor to be the logged-in administrator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


class BrowserError(Exception):
    """The page does not offer what the merchant was asked to click."""


@dataclass
class Form:
    """One ``<form>``: where it goes, its fields and its submit buttons."""

    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: dict[str, tuple[str, str]] = field(default_factory=dict)  # id or name -> (name, value)


class _PageParser(HTMLParser):
    """Links with an id, and forms with their inputs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: dict[str, str] = {}
        self.forms: list[Form] = []
        self._form: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("id") and "href" in a:
            self.links[a["id"]] = a["href"]
        elif tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._form)
        elif tag in ("input", "button") and self._form is not None and a.get("name"):
            kind = a.get("type", "submit" if tag == "button" else "text").lower()
            if kind == "submit":
                for key in {a.get("id") or a["name"], a["name"]}:
                    self._form.buttons[key] = (a["name"], a.get("value", ""))
            elif kind not in ("checkbox", "radio") or "checked" in a:
                self._form.fields.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def _parse(page: requests.Response) -> _PageParser:
    parser = _PageParser()
    parser.feed(page.text)
    return parser


class MerchantBrowser:
    """A cookie-keeping browser that clicks by element id."""

    def __init__(self, session: requests.Session | None = None, timeout: float = 60.0) -> None:
        self.session = session or requests.Session()
        self.timeout = timeout

    def open(self, url: str) -> requests.Response:
        """Load a page, following redirects."""
        return self.session.get(url, timeout=self.timeout)

    def click(self, page: requests.Response, link_id: str) -> requests.Response:
        """Follow the link ``<a id=link_id>`` of a page."""
        href = _parse(page).links.get(link_id)
        if href is None:
            raise BrowserError(f"{page.url} ({page.status_code}) has no link #{link_id}: {page.text[:300]}")
        return self.open(urljoin(page.url, href))

    def submit(self, page: requests.Response, button: str, *, follow: bool = True) -> requests.Response:
        """Submit the form holding the submit button ``button`` (its id or name), as that button.

        ``follow=False`` stops at the form's own answer (e.g. to read a redirect's Location).
        """
        for form in _parse(page).forms:
            if button in form.buttons:
                data = [*form.fields, form.buttons[button]]
                url = urljoin(page.url, form.action or page.url)
                if form.method == "post":
                    return self.session.post(url, data=data, timeout=self.timeout, allow_redirects=follow)
                return self.session.get(url, params=data, timeout=self.timeout, allow_redirects=follow)
        raise BrowserError(f"{page.url} ({page.status_code}) has no button {button!r}: {page.text[:300]}")

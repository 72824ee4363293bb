"""The merchant's original upload behind a WordPress ``-scaled`` / ``-rotated`` copy.

WordPress keeps an upload over ``big_image_size_threshold`` (2560 px) as it came but shows a
``-scaled`` copy (and an EXIF-rotated photo as a ``-rotated`` copy); products point at the copy.
The attachment's metadata names the original (``media_details.original_image``), in the same
folder.  The connector backs up, processes and rolls back to what the merchant uploaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_DERIVED = re.compile(r"-(scaled|rotated)\.[A-Za-z0-9]+$")


def is_derived(src: str) -> bool:
    """Whether a URL points at a copy WordPress made of an upload."""
    return bool(_DERIVED.search(src.split("?", 1)[0]))


def original_url(src: str, media: Mapping[str, Any]) -> str | None:
    """The URL of the original upload next to the copy ``src``, or None when WordPress kept none."""
    name = (media.get("media_details") or {}).get("original_image")
    if not name or "/" in str(name):
        return None
    return f"{src.split('?', 1)[0].rsplit('/', 1)[0]}/{name}"

"""The real store's seeded catalog: real photos, a shared attachment, variation-only photos, a big upload.

* "Red car" shows car-1 and car-3; "Red car (copy)" shows the same car-1 attachment (what
  WooCommerce's "Duplicate" does);
* "Jacket" is variable: its gallery shows cloth-1, two variations show photos of their own that
  are not in the gallery (cloth-1 mirrored, anime-girl-1), a third shows none;
* "Poster" shows a 3000 px wide upload, which WordPress serves as a ``-scaled`` copy;
* "Dog" shows animal-2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from sandbox.real_woocommerce.site import RealWooStore

EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "rembg-examples"
BIG_SIDE = 3000  # over WordPress's big_image_size_threshold (2560)

PHOTOS: dict[str, tuple[str, str]] = {  # key -> (example file, alt)
    "car1": ("car-1.jpg", "Red car, side view"),
    "car3": ("car-3.jpg", "Red car, front"),
    "cloth": ("cloth-1.jpg", "Jacket"),
    "anime": ("anime-girl-1.jpg", "Jacket in green"),
    "dog": ("animal-2.jpg", "Dog"),
}
PRODUCTS: list[dict[str, Any]] = [
    {"key": "car", "name": "Red car", "photos": ["car1", "car3"]},
    {"key": "car_copy", "name": "Red car (copy)", "photos": ["car1"]},
    {
        "key": "jacket",
        "name": "Jacket",
        "photos": ["cloth"],
        "variations": {"Blue": "blue", "Green": "anime", "Grey": None},
    },
    {"key": "poster", "name": "Poster", "photos": ["big"]},
    {"key": "dog", "name": "Dog", "photos": ["dog"]},
]


@dataclass(frozen=True)
class SeededCatalog:
    """Ids of what was seeded: media by photo key, products by key with their variations by option."""

    media: dict[str, int]
    products: dict[str, int]
    variations: dict[str, dict[str, int]]
    big_upload: Path


def big_photo(directory: Path) -> Path:
    """A real photo enlarged to 3000 px wide (a merchant's camera upload)."""
    path = directory / "poster-original.jpg"
    with Image.open(EXAMPLES / "car-2.jpg") as img:
        height = round(img.height * BIG_SIDE / img.width)
        img.convert("RGB").resize((BIG_SIDE, height), Image.Resampling.LANCZOS).save(path, quality=90)
    return path


def mirrored_photo(directory: Path) -> Path:
    """Another real photo: the jacket seen from the other side (its blue variation's own photo)."""
    path = directory / "jacket-blue.jpg"
    with Image.open(EXAMPLES / "cloth-1.jpg") as img:
        ImageOps.mirror(img.convert("RGB")).save(path, quality=90)
    return path


def seed(store: RealWooStore) -> SeededCatalog:
    """Upload the photos and create the products through WooCommerce's own PHP classes."""
    big = big_photo(store.root.parents[2])
    blue = mirrored_photo(store.root.parents[2])
    photos = {
        key: {"path": str(EXAMPLES / name), "name": name, "alt": alt} for key, (name, alt) in PHOTOS.items()
    }
    photos["big"] = {"path": str(big), "name": "poster.jpg", "alt": "Poster"}
    photos["blue"] = {"path": str(blue), "name": "jacket-blue.jpg", "alt": "Jacket in blue"}
    answer = store.tool("seed", stdin={"photos": photos, "products": PRODUCTS})
    products = {key: int(p["id"]) for key, p in answer["products"].items()}
    variations = {
        key: {option: int(v) for option, v in (p.get("variations") or {}).items()}
        for key, p in answer["products"].items()
    }
    return SeededCatalog({k: int(v) for k, v in answer["media"].items()}, products, variations, big)

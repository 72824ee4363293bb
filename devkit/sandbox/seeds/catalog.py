"""Platform-neutral seeded catalogs that both store sandboxes load.

:func:`build_catalog` is deterministic for (seed, size, profile) and cheap even for 10 000 products: it
only decides titles, handles, SKUs and which photo each image is; pixels are drawn lazily by
:meth:`SeedImage.render`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from functools import lru_cache

from sandbox.seeds import photos
from sandbox.seeds.photos import Photo

PROFILES = ("demo", "mixed", "clean")
MIN_SIZE, MAX_SIZE = 5, 10_000
#: pixel sizes catalog images are drawn at (chosen per image from its seed)
IMAGE_SIZES: tuple[tuple[int, int], ...] = ((800, 800), (1000, 800), (800, 1000), (640, 640))

#: relative frequency of each kind in a "mixed" catalog; the four broken kinds add up to about 2 %.
MIXED_WEIGHTS: dict[str, float] = {
    "on-white": 26,
    "studio-grey": 14,
    "lifestyle": 10,
    "dark-on-dark": 5,
    "reflective": 5,
    "fine-detail": 5,
    "transparent-png": 6,
    "tiny": 2,
    "huge": 0.5,
    "cmyk-jpeg": 3,
    "exif-rotated": 5,
    "palette-png": 2,
    "16bit-png": 2,
    "animated-gif": 1,
    "webp": 11.5,
    "broken-truncated": 0.6,
    "broken-html": 0.6,
    "zero-byte": 0.4,
    "svg": 0.4,
}
CLEAN_WEIGHTS: dict[str, float] = {"on-white": 55, "studio-grey": 35, "transparent-png": 10}
#: below this many images a mixed catalog is not forced to hold every kind
ALL_KINDS_FROM = 60


@dataclass(frozen=True)
class SeedImage:
    """One product image: which synthetic (or real, "real:car-1") photo it is, and how the store names it."""

    key: str
    kind: str
    seed: int
    alt: str
    filename: str

    def render(self) -> Photo:
        """The photo's bytes and truth, carrying this image's filename (cached)."""
        return _render(self.kind, self.seed, self.filename)


@dataclass(frozen=True)
class SeedVariant:
    key: str
    title: str
    sku: str
    image_index: int | None  # index into the product's images, None when the variant has no own image


@dataclass(frozen=True)
class SeedProduct:
    key: str
    title: str
    handle: str
    images: tuple[SeedImage, ...]
    variants: tuple[SeedVariant, ...]


@lru_cache(maxsize=64)
def _render(kind: str, seed: int, filename: str) -> Photo:
    if kind.startswith("real:"):
        photo = photos.real_photo(kind)
    else:
        photo = photos.render(kind, seed, IMAGE_SIZES[seed % len(IMAGE_SIZES)])
    return replace(photo, filename=filename)


# --------------------------------------------------------------------------------------------- names

ADJECTIVES = (
    "Classic",
    "Everyday",
    "Studio",
    "Nordic",
    "Vintage",
    "Urban",
    "Coastal",
    "Heritage",
    "Minimal",
    "Field",
    "Alpine",
    "Soft",
    "Bold",
    "Essential",
    "Artisan",
    "Midnight",
    "Summer",
    "Canvas",
)
MATERIALS = (
    "Oak",
    "Linen",
    "Ceramic",
    "Leather",
    "Glass",
    "Steel",
    "Cotton",
    "Wool",
    "Brass",
    "Bamboo",
    "Copper",
    "Marble",
    "Suede",
    "Walnut",
)
NOUNS = (
    "Bottle",
    "Sneaker",
    "Mug",
    "Gift Box",
    "Vase",
    "Headphones",
    "Ball",
    "Tumbler",
    "Lamp",
    "Doily",
    "Whisk",
    "Hair Extension",
    "Planter",
    "Carafe",
    "Tote",
    "Candle",
    "Bowl",
    "Backpack",
)
COLOURS = ("Black", "White", "Navy", "Sage", "Rust", "Sand", "Charcoal", "Teal", "Mustard", "Blush")
SIZES = ("XS", "S", "M", "L", "XL")

#: (title, real photo, variant titles; the first variant shows the photo)
DEMO_PRODUCTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Roadster Scale Model", "car-1", ("1:18 Red", "1:24 Red")),
    ("Grand Tourer Scale Model", "car-2", ()),
    ("Vintage Coupe Scale Model", "car-3", ("Die-cast", "Resin")),
    ("Plush Companion", "animal-2", ()),
    ("Summer Portrait Print", "girl-1", ()),
    ("Relaxed Linen Shirt", "cloth-1", ("S", "M", "L")),
    ("Illustrated Art Card", "anime-girl-1", ()),
)


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


class _Builder:
    def __init__(self, seed: int, profile: str) -> None:
        self.rng = random.Random(f"catalog|{seed}|{profile}")
        self.handles: set[str] = set()

    def handle(self, title: str) -> str:
        base = candidate = _slug(title)
        n = 2
        while candidate in self.handles:
            candidate, n = f"{base}-{n}", n + 1
        self.handles.add(candidate)
        return candidate

    def image(self, product_key: str, handle: str, position: int, kind: str, title: str) -> SeedImage:
        ext = "jpg" if kind.startswith("real:") else photos.extension(kind)
        alt = "" if self.rng.random() < 0.2 else f"{title} — view {position + 1}"
        return SeedImage(
            f"{product_key}-i{position}",
            kind,
            self.rng.randrange(2**31),
            alt,
            f"{handle}-{position + 1}.{ext}",
        )

    def variants(
        self, product_key: str, sku_stem: str, titles: tuple[str, ...], image_indexes: list[int | None]
    ) -> tuple[SeedVariant, ...]:
        return tuple(
            SeedVariant(f"{product_key}-v{j}", title, f"{sku_stem}-{j + 1:02d}", image_indexes[j])
            for j, title in enumerate(titles)
        )

    def demo_product(self, index: int, spec: tuple[str, str, tuple[str, ...]]) -> SeedProduct:
        title, real, variant_titles = spec
        key, handle = f"p{index:05d}", self.handle(title)
        images = (self.image(key, handle, 0, f"real:{real}", title),)
        indexes: list[int | None] = [0] + [None] * (len(variant_titles) - 1)
        return SeedProduct(
            key, title, handle, images, self.variants(key, f"DEMO-{index:05d}", variant_titles, indexes)
        )

    def synthetic_product(self, index: int, kinds: list[str]) -> SeedProduct:
        rng = self.rng
        title = f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {rng.choice(NOUNS)}"
        key, handle = f"p{index:05d}", self.handle(title)
        images = tuple(self.image(key, handle, i, kind, title) for i, kind in enumerate(kinds))
        variants: tuple[SeedVariant, ...] = ()
        if rng.random() < 0.3:
            axis = COLOURS if rng.random() < 0.6 else SIZES
            titles = tuple(rng.sample(axis, rng.randint(2, min(5, len(axis)))))
            with_images = len(images) > 1 and rng.random() < 0.6
            indexes: list[int | None] = [
                rng.randrange(len(images)) if with_images and rng.random() < 0.7 else None for _ in titles
            ]
            variants = self.variants(key, f"SKU-{index:05d}", titles, indexes)
        return SeedProduct(key, title, handle, images, variants)

    def image_counts(self, count: int) -> list[int]:
        return [self.rng.choices(range(1, 9), weights=(30, 22, 16, 11, 8, 6, 4, 3))[0] for _ in range(count)]

    def kinds(self, total: int, weights: dict[str, float], every_kind: bool) -> list[str]:
        chosen = self.rng.choices(list(weights), weights=list(weights.values()), k=total)
        if every_kind and total >= ALL_KINDS_FROM:
            missing = [k for k in weights if k not in chosen]
            for slot, kind in zip(self.rng.sample(range(total), len(missing)), missing, strict=True):
                chosen[slot] = kind
        return chosen


def build_catalog(seed: int, size: int, profile: str = "mixed") -> list[SeedProduct]:
    """``size`` products (5..10 000) for ``profile``: "demo" (real photos first), "mixed" or "clean"."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"catalog size {size} is out of range; use {MIN_SIZE}..{MAX_SIZE} products")
    if profile not in PROFILES:
        raise ValueError(f"unknown catalog profile {profile!r}; choose one of {', '.join(PROFILES)}")
    builder = _Builder(seed, profile)
    products: list[SeedProduct] = []
    if profile == "demo":
        products = [builder.demo_product(i, spec) for i, spec in enumerate(DEMO_PRODUCTS[:size])]
    remaining = size - len(products)
    counts = builder.image_counts(remaining)
    weights = CLEAN_WEIGHTS if profile == "clean" else MIXED_WEIGHTS
    kinds = builder.kinds(sum(counts), weights, every_kind=profile != "clean")
    start = 0
    for count in counts:
        products.append(builder.synthetic_product(len(products), kinds[start : start + count]))
        start += count
    return products

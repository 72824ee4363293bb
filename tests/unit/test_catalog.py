"""Seeded catalogs: deterministic, sized as asked, and shaped like each profile promises."""

from __future__ import annotations

from collections import Counter

import pytest
from sandbox.seeds import photos
from sandbox.seeds.catalog import SeedProduct, build_catalog

pytestmark = pytest.mark.unit


def _images(catalog: list[SeedProduct]) -> list:
    return [image for product in catalog for image in product.images]


@pytest.mark.parametrize("profile", ["demo", "mixed", "clean"])
def test_catalog_is_deterministic(profile: str) -> None:
    assert build_catalog(11, 60, profile) == build_catalog(11, 60, profile)
    assert build_catalog(11, 60, profile) != build_catalog(12, 60, profile)


@pytest.mark.parametrize("size", [5, 37, 10_000])
def test_catalog_has_the_requested_size_and_unique_identities(size: int) -> None:
    catalog = build_catalog(3, size)
    assert len(catalog) == size
    assert len({p.key for p in catalog}) == size
    assert len({p.handle for p in catalog}) == size
    images = _images(catalog)
    assert len({i.key for i in images}) == len(images)
    skus = [v.sku for p in catalog for v in p.variants]
    assert len(set(skus)) == len(skus)


@pytest.mark.parametrize("size", [0, 4, 10_001])
def test_out_of_range_sizes_and_profiles_are_refused(size: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        build_catalog(1, size)


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="profile"):
        build_catalog(1, 10, "holiday")


def test_mixed_catalog_looks_like_a_real_one() -> None:
    catalog = build_catalog(5, 2000, "mixed")
    assert all(1 <= len(p.images) <= 8 for p in catalog)
    with_variants = [p for p in catalog if p.variants]
    assert 0.22 < len(with_variants) / len(catalog) < 0.38
    for product in with_variants:
        assert all(
            v.image_index is None or 0 <= v.image_index < len(product.images) for v in product.variants
        )
    assert any(v.image_index is not None for p in with_variants for v in p.variants)
    kinds = Counter(i.kind for i in _images(catalog))
    assert set(kinds) == set(photos.KINDS)
    broken = sum(kinds[k] for k in photos.BROKEN_KINDS) / sum(kinds.values())
    assert 0.01 < broken < 0.035
    assert max(kinds, key=kinds.__getitem__) == "on-white"


def test_mixed_catalog_of_modest_size_still_holds_every_kind() -> None:
    catalog = build_catalog(9, 40, "mixed")
    assert {i.kind for i in _images(catalog)} == set(photos.KINDS)


def test_image_filenames_and_alts_fit_their_kind() -> None:
    for image in _images(build_catalog(2, 300)):
        assert image.filename.endswith("." + photos.extension(image.kind))
        assert image.alt == "" or image.alt.endswith(f"view {int(image.key.rsplit('i', 1)[1]) + 1}")


def test_demo_catalog_starts_with_the_real_photos() -> None:
    catalog = build_catalog(1, 12, "demo")
    real = [photo.kind for photo in photos.real_photos()]
    assert [p.images[0].kind for p in catalog[: len(real)]] == real
    assert all(len(p.images) == 1 for p in catalog[: len(real)])
    assert not any(i.kind.startswith("real:") for p in catalog[7:] for i in p.images)
    smallest = build_catalog(1, 5, "demo")
    with_variants = [p for p in smallest if p.variants]
    assert len(with_variants) >= 2
    for product in with_variants:
        assert [v.image_index for v in product.variants].count(0) == 1


def test_clean_catalog_holds_only_ordinary_decodable_photos() -> None:
    catalog = build_catalog(4, 500, "clean")
    kinds = {i.kind for i in _images(catalog)}
    assert kinds and all(photos.expectation(k) == "ok" for k in kinds)
    assert kinds <= {"on-white", "studio-grey", "transparent-png"}


def test_seed_images_render_lazily_with_their_own_filename() -> None:
    catalog = build_catalog(8, 10, "demo")
    real = catalog[0].images[0]
    photo = real.render()
    assert photo.filename == real.filename and photo.mask is not None
    assert photo.data == photos.real_photo("car-1").data
    synthetic = catalog[-1].images[0]
    rendered = synthetic.render()
    assert rendered is synthetic.render()  # cached
    assert rendered.kind == synthetic.kind and rendered.filename == synthetic.filename
    if rendered.expect != "refuse":
        assert rendered.open().size in {
            (800, 800),
            (1000, 800),
            (800, 1000),
            (640, 640),
            photos.TINY_SIZE,
            photos.HUGE_SIZE,
        }

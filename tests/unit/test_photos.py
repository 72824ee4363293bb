"""Synthetic product photos: deterministic, decodable (or broken as designed), masks true to the image."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from PIL import Image, UnidentifiedImageError
from sandbox.seeds import photos

pytestmark = pytest.mark.unit

DECODABLE = [k for k in photos.KINDS if k not in photos.BROKEN_KINDS]
WITH_MASK = [k for k in DECODABLE if k != "lifestyle"]


@pytest.fixture(scope="module")
def rendered() -> dict[str, photos.Photo]:
    return {kind: photos.render(kind, seed=5) for kind in photos.KINDS}


def _edge_agreement(image: Image.Image, mask: Image.Image) -> float:
    """Share of the mask's boundary pixels where the image has an edge too."""
    image_edges = np.hypot(*np.gradient(np.asarray(image.convert("L"), dtype=float)))
    mask_edges = np.hypot(*np.gradient(np.asarray(mask, dtype=float)))
    boundary = mask_edges > 60
    assert boundary.any(), "mask has no boundary"
    return float((image_edges[boundary] > 4).mean())


def test_kinds_cover_the_catalog_cases() -> None:
    """Each case a real catalog holds is a kind, served with the right extension and expectation."""
    cases = {
        "on-white": ("jpg", "ok"),
        "studio-grey": ("jpg", "ok"),
        "lifestyle": ("jpg", "review"),
        "dark-on-dark": ("jpg", "hard"),
        "reflective": ("jpg", "hard"),
        "fine-detail": ("jpg", "hard"),
        "transparent-png": ("png", "ok"),
        "tiny": ("jpg", "hard"),
        "huge": ("jpg", "ok"),
        "cmyk-jpeg": ("jpg", "ok"),
        "exif-rotated": ("jpg", "ok"),
        "palette-png": ("png", "ok"),
        "16bit-png": ("png", "ok"),
        "animated-gif": ("gif", "ok"),
        "webp": ("webp", "ok"),
        "broken-truncated": ("jpg", "refuse"),
        "broken-html": ("jpg", "refuse"),
        "zero-byte": ("jpg", "refuse"),
        "svg": ("svg", "refuse"),
    }
    assert set(cases) <= set(photos.KINDS)
    assert {kind: (photos.extension(kind), photos.expectation(kind)) for kind in cases} == cases


@pytest.mark.parametrize("kind", [k for k in photos.KINDS if k != "huge"])
def test_render_is_deterministic(kind: str, rendered: dict[str, photos.Photo]) -> None:
    again = photos.render(kind, seed=5)
    assert again.data == rendered[kind].data
    assert again == rendered[kind]


def test_huge_is_deterministic_by_hash(rendered: dict[str, photos.Photo]) -> None:
    assert (
        hashlib.sha256(photos.render("huge", seed=5).data).digest()
        == hashlib.sha256(rendered["huge"].data).digest()
    )


@pytest.mark.parametrize("kind", ["on-white", "lifestyle", "reflective", "fine-detail", "16bit-png"])
def test_seed_and_size_change_the_photo(kind: str) -> None:
    base = photos.render(kind, seed=1, size=(320, 240))
    assert photos.render(kind, seed=2, size=(320, 240)).data != base.data
    assert photos.render(kind, seed=1, size=(240, 320)).open().size == (240, 320)


@pytest.mark.parametrize("kind", DECODABLE)
def test_every_ordinary_kind_decodes_with_a_matching_mask(
    kind: str, rendered: dict[str, photos.Photo]
) -> None:
    photo = rendered[kind]
    image = photo.open()
    assert photo.mime.startswith("image/") and photo.filename.endswith("." + photos.extension(kind))
    if kind == "lifestyle":
        assert photo.mask is None and photo.expect == "review"
        return
    assert photo.mask is not None and photo.mask.mode == "L"
    assert photo.mask.size == image.size
    expected = {"tiny": photos.TINY_SIZE, "huge": photos.HUGE_SIZE}.get(kind, (800, 800))
    assert image.size == expected


@pytest.mark.parametrize("kind", sorted(photos.BROKEN_KINDS))
def test_broken_kinds_do_not_decode(kind: str, rendered: dict[str, photos.Photo]) -> None:
    photo = rendered[kind]
    assert photo.mask is None and photo.expect == "refuse"
    with pytest.raises((UnidentifiedImageError, OSError)):
        photo.open()


def test_broken_files_look_like_what_stores_serve(rendered: dict[str, photos.Photo]) -> None:
    assert rendered["zero-byte"].data == b""
    assert rendered["broken-html"].data.startswith(b"<!DOCTYPE html")
    assert rendered["broken-html"].filename.endswith(".jpg")
    assert rendered["broken-truncated"].data.startswith(b"\xff\xd8")
    assert rendered["svg"].mime == "image/svg+xml" and b"<svg" in rendered["svg"].data


@pytest.mark.parametrize("kind", [k for k in WITH_MASK if photos.expectation(k) == "ok"])
def test_masks_follow_the_subject_in_easy_photos(kind: str, rendered: dict[str, photos.Photo]) -> None:
    photo = rendered[kind]
    assert photo.mask is not None
    image = photo.open().convert("RGB")
    mask = photo.mask
    if kind == "huge":  # the same check on a cheaper scale
        image, mask = image.resize((750, 750)), mask.resize((750, 750))
    right = _edge_agreement(image, mask)
    wrong = _edge_agreement(image, mask.transpose(Image.Transpose.ROTATE_180))
    assert right > 0.7 and right > wrong + 0.4


@pytest.mark.parametrize("kind", sorted(photos.HARD_KINDS))
def test_masks_follow_the_subject_in_hard_photos(kind: str, rendered: dict[str, photos.Photo]) -> None:
    photo = rendered[kind]
    assert photo.mask is not None and photo.expect == "hard"
    image = photo.open().convert("RGB")
    assert _edge_agreement(image, photo.mask) > _edge_agreement(
        image, photo.mask.transpose(Image.Transpose.ROTATE_180)
    )


def test_exif_rotated_is_stored_sideways_and_masked_as_seen() -> None:
    photo = photos.render("exif-rotated", seed=3, size=(600, 400))
    with Image.open(io.BytesIO(photo.data)) as stored:
        assert stored.size == (400, 600)
        assert stored.getexif()[photos.EXIF_ORIENTATION] == 6
    seen = photo.open()
    assert seen.size == photo.mask.size == (600, 400)  # type: ignore[union-attr]
    assert _edge_agreement(seen, photo.mask) > 0.7  # type: ignore[arg-type]


def test_encodings_are_what_their_names_say(rendered: dict[str, photos.Photo]) -> None:
    def opened(kind: str) -> Image.Image:
        return Image.open(io.BytesIO(rendered[kind].data))

    assert opened("cmyk-jpeg").mode == "CMYK"
    assert opened("palette-png").mode == "P"
    assert opened("webp").format == "WEBP"
    assert opened("animated-gif").n_frames > 1  # type: ignore[attr-defined]
    data = rendered["16bit-png"].data
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[24] == 16  # IHDR bit depth
    assert opened("huge").format == "JPEG"


def test_transparent_png_alpha_is_the_mask(rendered: dict[str, photos.Photo]) -> None:
    photo = rendered["transparent-png"]
    image = photo.open()
    assert image.mode == "RGBA"
    assert np.array_equal(np.asarray(image.getchannel("A")), np.asarray(photo.mask))


def test_fine_detail_masks_hold_sub_pixel_structures() -> None:
    """Wires, threads and hairs: partly covered pixels with no fully covered neighbour."""
    for seed in range(4):
        mask = np.asarray(photos.render("fine-detail", seed=seed, size=(400, 400)).mask)
        padded = np.pad(mask == 255, 1)
        near_full = np.zeros_like(mask, dtype=bool)
        for dy in range(3):
            for dx in range(3):
                near_full |= padded[dy : dy + mask.shape[0], dx : dx + mask.shape[1]]
        thin = (mask > 0) & (mask < 255) & ~near_full
        assert thin.sum() > 50


def test_unknown_kind_and_bad_size_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown photo kind"):
        photos.render("polaroid")
    with pytest.raises(ValueError, match="out of range"):
        photos.render("on-white", size=(4, 4))


def test_real_photos_carry_reference_masks() -> None:
    real = {p.kind: p for p in photos.real_photos()}
    assert {
        "real:car-1",
        "real:car-2",
        "real:car-3",
        "real:animal-2",
        "real:girl-1",
        "real:cloth-1",
        "real:anime-girl-1",
    } <= set(real)
    assert real["real:cloth-1"].mask is None
    for photo in real.values():
        image = photo.open()
        assert photo.mime == "image/jpeg" and photo.expect in {"ok", "hard"}
        if photo.mask is not None:
            assert photo.mask.size == image.size and photo.mask.mode == "L"
            coverage = np.asarray(photo.mask).mean() / 255
            assert 0.05 < coverage < 0.9
    assert photos.real_photo("car-1") is real["real:car-1"]
    with pytest.raises(ValueError):
        photos.real_photo("car-9")


def test_aligned_iou_ignores_position_and_scale_but_not_shape() -> None:
    truth = photos.render("on-white", seed=2, size=(400, 400)).mask
    assert truth is not None
    moved = Image.new("L", (900, 700), 0)
    moved.paste(truth.crop(truth.getbbox()).resize((300, 300)), (500, 300))
    stretched = truth.crop(truth.getbbox()).resize((300, 300))
    assert photos.aligned_iou(moved, stretched) > 0.97
    assert photos.aligned_iou(truth.transpose(Image.Transpose.ROTATE_90), truth) < 0.9
    assert photos.aligned_iou(Image.new("L", (50, 50)), truth) == 0.0

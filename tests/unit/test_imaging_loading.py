"""Loading: every broken-input kind is refused with its named reason; odd encodings are normalised."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from jobs.imaging import PipelineSettings, load_image
from jobs.imaging.errors import BadImageError
from tests.unit.imaging_cases import SWAPPED_RG, encode, png_header_only, rgb_profile

pytestmark = pytest.mark.unit

SETTINGS = PipelineSettings.from_preset()


def _photo(size: tuple[int, int] = (64, 48)) -> Image.Image:
    array = np.zeros((size[1], size[0], 3), np.uint8)
    array[:, : size[0] // 2] = (220, 30, 30)
    array[:, size[0] // 2 :] = (30, 30, 220)
    return Image.fromarray(array)


def _refused(data: bytes, settings: PipelineSettings = SETTINGS) -> BadImageError:
    with pytest.raises(BadImageError) as info:
        load_image(data, settings)
    assert info.value.hint, "every refusal tells the user what to do"
    return info.value


def _animated_gif() -> bytes:
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "zero_byte"),
        (encode(_photo(), "JPEG")[:400], "truncated"),
        (encode(_photo((300, 300)), "PNG")[:-300], "truncated"),
        (b"\xff\xd8\xff\xe0", "truncated"),
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>" * 4, "not_an_image"),
        (b"  \n<html><head><title>Not found</title></head></html>", "not_an_image"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>', "svg"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>', "svg"),
        (bytes(range(256)) * 8, "not_an_image"),
        (b"%PDF-1.7\n" + b"0" * 200, "unsupported"),
        (b"\0\0\0\x18ftypheic" + b"0" * 200, "unsupported"),
        (encode(Image.new("RGB", (32, 32), "red"), "ICO"), "unsupported"),
        (png_header_only(100_000, 100_000), "too_large"),
        (png_header_only(8000, 6000), "too_large"),
    ],
    ids=[
        "zero-byte",
        "truncated-jpeg",
        "truncated-png",
        "header-only",
        "html",
        "html-whitespace",
        "svg",
        "svg-xml-prolog",
        "garbage",
        "pdf",
        "heic",
        "ico",
        "absurd-dimensions",
        "over-max-pixels",
    ],
)
def test_broken_inputs_are_refused_with_a_named_reason(data: bytes, code: str) -> None:
    assert _refused(data).code == code


def test_size_limits_come_from_settings() -> None:
    data = encode(_photo((200, 200)), "PNG")
    assert _refused(data, PipelineSettings.from_preset(max_pixels=100 * 100)).code == "too_large"
    assert _refused(data, PipelineSettings.from_preset(max_bytes=100)).code == "too_large"


def test_bomb_is_refused_before_decoding() -> None:
    # 100k x 100k RGB would need 30 GB decoded; the header alone must be enough to refuse it.
    error = _refused(png_header_only(100_000, 100_000), PipelineSettings.from_preset(max_pixels=10**12))
    assert error.code == "too_large"


def test_animated_takes_first_frame_or_is_refused() -> None:
    data = _animated_gif()
    loaded = load_image(data, SETTINGS)
    assert loaded.frames == 3 and loaded.format == "GIF"
    red, green, blue = loaded.image.getpixel((5, 5))  # type: ignore[misc]
    assert red > 200 and green < 50 and blue < 50
    assert any("first of 3 frames" in note for note in loaded.notes)
    assert _refused(data, PipelineSettings.from_preset(allow_animated=False)).code == "animated"


def test_exif_orientation_is_applied() -> None:
    image = _photo((40, 20))  # left red, right blue
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    loaded = load_image(encode(image, "JPEG", exif=exif, quality=95), SETTINGS)
    assert loaded.image.size == (20, 40)
    top, bottom = loaded.image.getpixel((10, 5)), loaded.image.getpixel((10, 35))
    assert top[0] > 150 and top[2] < 100  # type: ignore[index]
    assert bottom[2] > 150 and bottom[0] < 100  # type: ignore[index]
    assert "applied EXIF orientation" in loaded.notes


def test_cmyk_becomes_rgb() -> None:
    cmyk = Image.new("CMYK", (32, 32), (0, 255, 255, 0))  # red ink
    loaded = load_image(encode(cmyk, "JPEG", quality=95), SETTINGS)
    assert loaded.image.mode == "RGB"
    red, green, blue = loaded.image.getpixel((16, 16))  # type: ignore[misc]
    assert red > 200 and green < 60 and blue < 60
    assert "converted CMYK to RGB" in loaded.notes


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    grey = Image.fromarray(np.full((16, 16), 32768, dtype=np.uint16))
    loaded = load_image(encode(grey, "PNG"), SETTINGS)
    assert loaded.image.mode == "RGB"
    assert abs(loaded.image.getpixel((3, 3))[0] - 128) <= 1  # type: ignore[index]


def test_palette_and_la_modes() -> None:
    palette = Image.new("P", (16, 16), 1)
    palette.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    opaque = load_image(encode(palette, "PNG"), SETTINGS)
    assert opaque.image.mode == "RGB" and not opaque.has_alpha
    transparent = load_image(encode(palette, "PNG", transparency=0), SETTINGS)
    assert transparent.image.mode == "RGB"  # index 0 unused: every pixel opaque
    palette.putpixel((0, 0), 0)
    holes = load_image(encode(palette, "PNG", transparency=0), SETTINGS)
    assert holes.image.mode == "RGBA" and holes.has_alpha
    la = Image.merge("LA", (Image.new("L", (8, 8), 90), Image.new("L", (8, 8), 0)))
    loaded = load_image(encode(la, "PNG"), SETTINGS)
    assert loaded.image.mode == "RGBA" and loaded.has_alpha
    assert loaded.image.getpixel((1, 1)) == (90, 90, 90, 0)


def test_opaque_rgba_becomes_rgb() -> None:
    loaded = load_image(encode(Image.new("RGBA", (8, 8), (1, 2, 3, 255)), "PNG"), SETTINGS)
    assert loaded.image.mode == "RGB" and not loaded.has_alpha


def test_icc_profile_is_converted_to_srgb() -> None:
    # A profile whose "red" primary is sRGB green: honouring it turns stored red into green.
    profile = rgb_profile(SWAPPED_RG, "Swapped RG test profile")
    loaded = load_image(encode(Image.new("RGB", (16, 16), (255, 0, 0)), "PNG", icc_profile=profile), SETTINGS)
    red, green, _blue = loaded.image.getpixel((8, 8))  # type: ignore[misc]
    assert green > 200 and red < 60
    assert any("to sRGB" in note for note in loaded.notes)
    assert "icc_profile" not in loaded.image.info


def test_broken_icc_profile_is_ignored_with_a_note() -> None:
    loaded = load_image(
        encode(Image.new("RGB", (8, 8), (10, 200, 10)), "PNG", icc_profile=b"garbage" * 20), SETTINGS
    )
    assert loaded.image.getpixel((1, 1)) == (10, 200, 10)
    assert any("ICC" in note for note in loaded.notes)


@pytest.mark.parametrize(
    ("fmt", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_formats_and_mime(fmt: str, mime: str) -> None:
    loaded = load_image(encode(_photo(), fmt), SETTINGS)
    assert (loaded.format, loaded.mime, loaded.width, loaded.height) == (fmt, mime, 64, 48)

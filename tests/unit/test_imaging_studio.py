"""Studio steps one by one: mask cleaning, trim, layout (centre, margin/fill, aspect, size), shadow,
background, decontamination, and encoding (format choice, JPEG flattening)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from jobs.imaging import PipelineSettings
from jobs.imaging.encode import choose_format, encode
from jobs.imaging.studio import (
    clean_mask,
    compose,
    decontaminate,
    drop_shadow,
    place_subject,
    plan_layout,
    render_studio,
    subject_box,
)

pytestmark = pytest.mark.unit


def _mask(size: tuple[int, int], box: tuple[int, int, int, int], noise: int = 0) -> Image.Image:
    mask = Image.new("L", size, noise)
    ImageDraw.Draw(mask).rectangle(box, fill=255)
    return mask


def test_clean_mask_drops_noise_and_specks_but_keeps_big_pieces() -> None:
    mask = _mask((200, 200), (40, 40, 120, 160), noise=6)
    draw = ImageDraw.Draw(mask)
    draw.rectangle((180, 10, 182, 12), fill=255)  # a speck
    draw.rectangle((140, 60, 170, 150), fill=255)  # a second real piece
    cleaned = np.asarray(clean_mask(mask))
    assert cleaned[5, 5] == 0  # model noise gone
    assert cleaned[11, 181] == 0  # speck gone
    assert cleaned[100, 80] == 255 and cleaned[100, 155] == 255


def test_clean_mask_drops_fog_far_from_the_subject_but_keeps_soft_edges() -> None:
    mask = _mask((400, 400), (100, 100, 200, 200))
    draw = ImageDraw.Draw(mask)
    draw.rectangle((260, 100, 390, 300), fill=90)  # a half-transparent ghost far away
    draw.rectangle((201, 100, 204, 200), fill=100)  # a soft edge on the subject
    cleaned = np.asarray(clean_mask(mask))
    assert cleaned[200, 320] == 0
    assert cleaned[150, 203] > 0 and cleaned[150, 150] == 255


def test_subject_box_and_empty_mask() -> None:
    assert subject_box(_mask((50, 40), (10, 5, 19, 24))) == (10, 5, 20, 25)
    assert subject_box(Image.new("L", (10, 10), 0)) is None
    assert render_studio(Image.new("RGB", (10, 10)), Image.new("L", (10, 10), 0), PipelineSettings()) is None


@pytest.mark.parametrize("aspect", ["1:1", "4:5", "16:9"])
def test_layout_centres_and_fills_at_the_aspect(aspect: str) -> None:
    settings = PipelineSettings.from_preset(aspect=aspect, fill_ratio=0.8, margin=0.05)
    layout = plan_layout((100, 50, 300, 450), (800, 800), settings)
    width, height = layout.canvas
    assert width / height == pytest.approx(settings.aspect_ratio, rel=0.01)
    x0, y0, x1, y1 = layout.placed
    assert abs((x0 + x1) / 2 - width / 2) <= 1 and abs((y0 + y1) / 2 - height / 2) <= 1
    assert layout.fill == pytest.approx(0.8, abs=0.01)
    assert min(x0, y0, width - x1, height - y1) >= 0.05 * min(width, height) - 1
    assert (x1 - x0) / (y1 - y0) == pytest.approx(200 / 400, rel=0.02)  # subject not distorted


def test_layout_margin_wins_over_fill_and_canvas_follows_subject_without_aspect() -> None:
    layout = plan_layout(
        (0, 0, 100, 100), (100, 100), PipelineSettings.from_preset(fill_ratio=1.0, margin=0.1)
    )
    assert layout.fill == pytest.approx(0.8, abs=0.01)
    free = PipelineSettings.from_preset(aspect=None, fill_ratio=0.5)
    layout = plan_layout((0, 0, 300, 100), (300, 100), free)
    assert layout.canvas[0] / layout.canvas[1] == pytest.approx(3.0, rel=0.02)


def test_layout_sizes() -> None:
    box, source = (0, 0, 400, 400), (1000, 1000)
    keep = plan_layout(box, source, PipelineSettings.from_preset(fill_ratio=0.8, margin=0.05))
    assert keep.canvas == (750, 750)  # 1.5x zoom at most to keep the input's size, never a shrink
    assert keep.scale == pytest.approx(1.5, rel=0.01) and keep.expected_scale == 1.0
    target = plan_layout(box, source, PipelineSettings.from_preset(target_size=300))
    assert max(target.canvas) == 300 and target.expected_scale == pytest.approx(target.scale)
    floor = plan_layout((0, 0, 100, 100), (120, 120), PipelineSettings.from_preset(min_size=1000))
    assert max(floor.canvas) == 1000
    cap = plan_layout((0, 0, 5000, 5000), (5000, 5000), PipelineSettings.from_preset(max_size=2000))
    assert max(cap.canvas) == 2000 and cap.scale < 1 and cap.expected_scale == pytest.approx(cap.scale)


def test_decontaminate_removes_old_background_from_soft_edges() -> None:
    rgb = Image.new("RGB", (60, 60), (0, 255, 0))  # green screen
    ImageDraw.Draw(rgb).rectangle((20, 20, 40, 40), fill=(200, 0, 0))
    mask = _mask((60, 60), (20, 20, 40, 40))
    ImageDraw.Draw(mask).rectangle((18, 18, 42, 42), outline=120, width=2)  # soft ring over green
    cut = np.asarray(decontaminate(rgb, mask))
    assert tuple(cut[19, 30][:3]) == (200, 0, 0) and cut[19, 30][3] == 120
    assert cut[5, 5][3] == 0


def test_place_shadow_and_compose() -> None:
    settings = PipelineSettings.from_preset(aspect="1:1")
    subject = Image.new("RGBA", (100, 200), (10, 20, 200, 255))
    layout = plan_layout((0, 0, 100, 200), (100, 200), settings)
    layer = place_subject(subject, layout)
    assert layer.size == layout.canvas and layer.getchannel("A").getbbox() == layout.placed
    shadow = drop_shadow(layer, layout, 0.3)
    below = (layout.placed[0] + layout.placed[2]) // 2, layout.placed[3] + 2
    assert 0 < shadow.getpixel(below) <= 0.3 * 255  # type: ignore[operator]
    assert shadow.getpixel((0, 0)) == 0
    white = compose(layer, shadow, settings)
    assert white.getpixel((0, 0)) == (255, 255, 255, 255)
    assert white.getpixel(below)[0] < 255  # type: ignore[index]
    clear = compose(layer, None, PipelineSettings.from_preset("transparent"))
    assert clear.getpixel((0, 0))[3] == 0  # type: ignore[index]
    coloured = compose(layer, None, PipelineSettings.from_preset(background="#112233"))
    assert coloured.getpixel((0, 0)) == (17, 34, 51, 255)


@pytest.mark.parametrize(
    ("output_format", "background", "source", "expected"),
    [
        ("keep", "white", "JPEG", "JPEG"),
        ("keep", "white", "PNG", "PNG"),
        ("keep", "white", "WEBP", "WEBP"),
        ("keep", "white", "GIF", "PNG"),
        ("keep", "transparent", "JPEG", "PNG"),
        ("jpeg", "transparent", "PNG", "JPEG"),
        ("webp", "white", "JPEG", "WEBP"),
    ],
)
def test_format_choice(output_format: str, background: str, source: str, expected: str) -> None:
    settings = PipelineSettings.from_preset(output_format=output_format, background=background)
    assert choose_format(settings, source)[0] == expected


def test_jpeg_is_flattened_onto_the_background_and_png_keeps_alpha() -> None:
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((10, 10, 30, 30), fill=(200, 10, 10, 255))
    forced = encode(image, PipelineSettings.from_preset("transparent", output_format="jpeg"), "PNG")
    decoded = Image.open(io.BytesIO(forced.data))
    assert decoded.format == "JPEG" and decoded.mode == "RGB" and forced.mime == "image/jpeg"
    assert decoded.getpixel((1, 1)) == (255, 255, 255)
    assert any("flattened" in note for note in forced.notes)
    kept = encode(image, PipelineSettings.from_preset("transparent"), "JPEG")
    decoded = Image.open(io.BytesIO(kept.data))
    assert decoded.format == "PNG" and decoded.mode == "RGBA" and decoded.getpixel((1, 1))[3] == 0  # type: ignore[index]
    coloured = encode(image, PipelineSettings.from_preset(background="#203040"), "PNG")
    assert Image.open(io.BytesIO(coloured.data)).convert("RGB").getpixel((1, 1)) == (32, 48, 64)

"""Mockup templates: shipped ones load, a store adds or overrides its own, the subject lands in the box."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from jobs.imaging.errors import ConfigurationError
from jobs.imaging.mockups import list_templates, load_template, perspective_coefficients, render_mockup
from jobs.imaging.template_scenes import SCENES, write_templates

pytestmark = pytest.mark.unit


def _subject() -> Image.Image:
    subject = Image.new("RGBA", (100, 200), (200, 30, 30, 255))
    return subject


def test_shipped_templates_are_listed_and_valid() -> None:
    templates = list_templates()
    assert set(SCENES) <= set(templates)
    for template in templates.values():
        scene = template.scene()
        x0, y0, x1, y1 = template.box
        if template.quad is None:
            assert 0 <= x0 < x1 <= scene.width and 0 <= y0 < y1 <= scene.height


def test_shipped_scenes_are_reproducible(tmp_path: Path) -> None:
    written = write_templates(tmp_path)
    assert sorted(p.stem for p in written) == sorted(SCENES)
    shipped = list_templates()
    for path in written:
        assert json.loads(path.read_text()) == json.loads(
            shipped[path.stem].scene_path.with_suffix(".json").read_text()
        )


def test_subject_is_placed_in_the_box_standing_on_its_base() -> None:
    template = load_template("studio-floor")
    out = render_mockup(_subject(), template)
    assert out.size == template.scene().size
    red = np.asarray(out.convert("RGB")).astype(int)
    ys, xs = np.nonzero((red[..., 0] > 150) & (red[..., 1] < 80))
    x0, y0, x1, y1 = template.box
    assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1
    assert ys.max() >= y1 - 3  # bottom anchor: stands on the floor
    assert (ys.max() - ys.min()) == pytest.approx(y1 - y0, abs=3)  # fitted by height, aspect kept


def test_perspective_template_warps_into_its_quad() -> None:
    template = load_template("wall-frame")
    assert template.quad is not None
    out = np.asarray(render_mockup(_subject(), template).convert("RGB")).astype(int)
    ys, xs = np.nonzero((out[..., 0] > 150) & (out[..., 1] < 80))
    qx = [p[0] for p in template.quad]
    qy = [p[1] for p in template.quad]
    assert min(qx) - 1 <= xs.min() and xs.max() <= max(qx) + 1
    assert min(qy) - 1 <= ys.min() and ys.max() <= max(qy) + 1


def test_perspective_coefficients_map_target_corners_to_source() -> None:
    source = [(0.0, 0.0), (100.0, 0.0), (100.0, 50.0), (0.0, 50.0)]
    target = [(10.0, 5.0), (90.0, 15.0), (95.0, 60.0), (5.0, 50.0)]
    a, b, c, d, e, f, g, h = perspective_coefficients(source, target)
    for (sx, sy), (tx, ty) in zip(source, target, strict=True):
        w = g * tx + h * ty + 1
        assert (a * tx + b * ty + c) / w == pytest.approx(sx, abs=1e-6)
        assert (d * tx + e * ty + f) / w == pytest.approx(sy, abs=1e-6)


def test_store_templates_are_added_and_override(tmp_path: Path) -> None:
    Image.new("RGB", (300, 200), (10, 10, 80)).save(tmp_path / "night.png")
    (tmp_path / "night.json").write_text(
        json.dumps({"box": [100, 20, 200, 180], "anchor": "center", "shadow": 0})
    )
    Image.new("RGB", (64, 64), (0, 80, 0)).save(tmp_path / "studio-floor.jpg")
    (tmp_path / "studio-floor.json").write_text(json.dumps({"box": [0, 0, 64, 64]}))
    templates = list_templates(tmp_path)
    assert templates["night"].box == (100, 20, 200, 180)
    assert templates["studio-floor"].scene().size == (64, 64)
    assert "wood-table" in templates
    assert render_mockup(_subject(), templates["night"]).size == (300, 200)


@pytest.mark.parametrize(
    "spec",
    [{"box": [10, 10, 5, 5]}, {"nobox": True}, {"box": [0, 0, 10, 10], "anchor": "left"}, "not json"],
)
def test_bad_store_templates_are_configuration_errors(tmp_path: Path, spec: object) -> None:
    Image.new("RGB", (20, 20)).save(tmp_path / "bad.png")
    (tmp_path / "bad.json").write_text(spec if isinstance(spec, str) else json.dumps(spec))
    with pytest.raises(ConfigurationError):
        list_templates(tmp_path)


def test_missing_scene_directory_or_name(tmp_path: Path) -> None:
    (tmp_path / "lonely.json").write_text(json.dumps({"box": [0, 0, 5, 5]}))
    with pytest.raises(ConfigurationError, match="no scene image"):
        list_templates(tmp_path)
    with pytest.raises(ConfigurationError, match="does not exist"):
        list_templates(tmp_path / "nowhere")
    with pytest.raises(ConfigurationError, match="unknown mockup template") as info:
        load_template("nope")
    assert "wood-table" in (info.value.hint or "")

"""Mockups: place a cut-out into a template scene's target box, optionally in perspective.

A template is a scene image ``<name>.jpg`` (or ``.png``) next to ``<name>.json``::

    {"box": [x0, y0, x1, y1],                 # where the subject goes, in scene px
     "quad": [[x, y], [x, y], [x, y], [x, y]], # optional: corners tl, tr, br, bl of the area in
                                               # perspective; "box" then only gives its flat size
     "anchor": "bottom",                       # "bottom" (stands on a surface) or "center"
     "shadow": 0.35}                           # contact shadow opacity, 0 for none

Templates ship in ``jobs/imaging/templates/``; a store adds its own by pointing ``mockup_dir`` at a
directory laid out the same way (a store template wins over a shipped one of the same name).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from jobs.imaging.errors import ConfigurationError
from jobs.imaging.studio import premultiplied_resize

TEMPLATES_DIR = Path(__file__).with_name("templates")
_SCENE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")

Point = tuple[float, float]


@dataclass(frozen=True)
class Template:
    """A mockup scene and where the subject goes in it."""

    name: str
    scene_path: Path
    box: tuple[int, int, int, int]
    quad: tuple[Point, Point, Point, Point] | None = None
    anchor: str = "bottom"
    shadow: float = 0.35

    def scene(self) -> Image.Image:
        """The scene as RGBA."""
        with Image.open(self.scene_path) as image:
            return image.convert("RGBA")


def _scene_for(spec: Path) -> Path | None:
    for suffix in _SCENE_SUFFIXES:
        candidate = spec.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def _parse(spec: Path) -> Template:
    scene = _scene_for(spec)
    hint = f"fix {spec} (see jobs/imaging/mockups.py for the format)"
    if scene is None:
        raise ConfigurationError(
            f"mockup template {spec.stem} has no scene image next to {spec.name}", hint=hint
        )
    try:
        raw = json.loads(spec.read_text())
        box = tuple(int(v) for v in raw["box"])
        quad = tuple((float(x), float(y)) for x, y in raw["quad"]) if raw.get("quad") else None
        anchor = str(raw.get("anchor", "bottom"))
        shadow = float(raw.get("shadow", 0.35))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"mockup template {spec.stem} is invalid: {exc}", hint=hint) from None
    if len(box) != 4 or box[2] <= box[0] or box[3] <= box[1] or (quad is not None and len(quad) != 4):
        raise ConfigurationError(f"mockup template {spec.stem} has a bad box or quad", hint=hint)
    if anchor not in ("bottom", "center"):
        raise ConfigurationError(f"mockup template {spec.stem}: anchor must be bottom or center", hint=hint)
    return Template(spec.stem, scene, box, quad, anchor, shadow)


def list_templates(extra_dir: str | Path | None = None) -> dict[str, Template]:
    """Every template by name: the shipped ones, then a store's own from ``extra_dir``."""
    found: dict[str, Template] = {}
    for directory in (TEMPLATES_DIR, Path(extra_dir) if extra_dir else None):
        if directory is None:
            continue
        if not directory.is_dir():
            raise ConfigurationError(
                f"mockup directory {directory} does not exist", hint="set mockup_dir to an existing directory"
            )
        for spec in sorted(directory.glob("*.json")):
            found[spec.stem] = _parse(spec)
    return found


def load_template(name: str, extra_dir: str | Path | None = None) -> Template:
    """The template called ``name``; ``ConfigurationError`` naming the known ones when absent."""
    templates = list_templates(extra_dir)
    if name not in templates:
        raise ConfigurationError(
            f"unknown mockup template {name!r}",
            hint=f"known templates: {', '.join(sorted(templates)) or 'none'}",
        )
    return templates[name]


def perspective_coefficients(source: list[Point], target: list[Point]) -> list[float]:
    """Pillow PERSPECTIVE coefficients mapping ``target`` (output) corners back to ``source`` corners."""
    rows = []
    for (sx, sy), (tx, ty) in zip(source, target, strict=True):
        rows.append([tx, ty, 1, 0, 0, 0, -sx * tx, -sx * ty])
        rows.append([0, 0, 0, tx, ty, 1, -sy * tx, -sy * ty])
    a = np.array(rows, dtype=np.float64)
    b = np.array([v for point in source for v in point], dtype=np.float64)
    return [float(v) for v in np.linalg.solve(a, b)]


def _fit(
    subject: Image.Image, box: tuple[int, int, int, int], anchor: str
) -> tuple[Image.Image, tuple[int, int]]:
    """Scale ``subject`` into ``box`` keeping its aspect; the paste position for the anchor."""
    x0, y0, x1, y1 = box
    scale = min((x1 - x0) / subject.width, (y1 - y0) / subject.height)
    size = (max(1, round(subject.width * scale)), max(1, round(subject.height * scale)))
    fitted = premultiplied_resize(subject, size)
    left = x0 + ((x1 - x0) - size[0]) // 2
    top = y1 - size[1] if anchor == "bottom" else y0 + ((y1 - y0) - size[1]) // 2
    return fitted, (left, top)


def _contact_shadow(layer: Image.Image, opacity: float) -> Image.Image:
    """A soft shadow under the placed subject, squashed towards its base."""
    box = layer.getchannel("A").getbbox()
    if box is None or opacity <= 0:
        return Image.new("L", layer.size, 0)
    height = box[3] - box[1]
    silhouette = layer.getchannel("A").crop(box)
    squashed = silhouette.resize((silhouette.width, max(1, height // 6)), Image.Resampling.BILINEAR)
    shadow = Image.new("L", layer.size, 0)
    shadow.paste(squashed, (box[0], box[3] - squashed.height // 2))
    blurred = shadow.filter(ImageFilter.GaussianBlur(max(2.0, 0.04 * height)))
    return blurred.point(lambda v: round(v * opacity))


def render_mockup(subject: Image.Image, template: Template) -> Image.Image:
    """The template scene with ``subject`` (an RGBA cut-out trimmed to the subject) in its target box."""
    scene = template.scene()
    layer = Image.new("RGBA", scene.size, (0, 0, 0, 0))
    if template.quad is None:
        fitted, position = _fit(subject, template.box, template.anchor)
        layer.paste(fitted, position)
    else:
        x0, y0, x1, y1 = template.box
        flat = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
        fitted, (left, top) = _fit(subject, (0, 0, x1 - x0, y1 - y0), template.anchor)
        flat.paste(fitted, (left, top))
        corners = [
            (0.0, 0.0),
            (float(flat.width), 0.0),
            (float(flat.width), float(flat.height)),
            (0.0, float(flat.height)),
        ]
        coefficients = perspective_coefficients(corners, list(template.quad))
        layer = (
            flat.convert("RGBa")
            .transform(scene.size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BICUBIC)
            .convert("RGBA")
        )
    shadow = _contact_shadow(layer, template.shadow)
    black = Image.new("RGBA", scene.size, (0, 0, 0, 255))
    shaded = Image.composite(black, scene, shadow)
    return Image.alpha_composite(shaded, layer)

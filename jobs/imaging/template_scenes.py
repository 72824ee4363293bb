"""Draw the shipped mockup scenes (``python -m jobs.imaging.template_scenes`` rewrites them).

The scenes are procedural (gradients and seeded noise), so they carry no third-party rights.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from jobs.imaging.mockups import TEMPLATES_DIR

SIZE = (1200, 1200)


def _vertical_gradient(
    size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]
) -> np.ndarray:
    t = np.linspace(0.0, 1.0, size[1])[:, None, None]
    row = (1 - t) * np.array(top, dtype=np.float64) + t * np.array(bottom, dtype=np.float64)
    return np.repeat(row, size[0], axis=1)


def _noise(size: tuple[int, int], amount: float, seed: int, blur: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    field = Image.fromarray((rng.random((size[1], size[0])) * 255).astype(np.uint8), mode="L")
    smooth = np.asarray(field.filter(ImageFilter.GaussianBlur(blur)), dtype=np.float64) / 255.0 - 0.5
    return smooth[..., None] * amount


def _to_image(array: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8), mode="RGB")


def studio_floor() -> tuple[Image.Image, dict[str, object]]:
    """A seamless grey studio sweep; the subject stands on the floor in the middle."""
    wall = _vertical_gradient(SIZE, (236, 236, 238), (208, 208, 212))
    horizon = int(SIZE[1] * 0.68)
    floor = _vertical_gradient((SIZE[0], SIZE[1] - horizon), (214, 214, 218), (190, 190, 196))
    wall[horizon:] = floor
    blend = np.clip((np.arange(SIZE[1]) - (horizon - 40)) / 80.0, 0, 1)[:, None, None]
    wall = wall * (1 - blend) + np.concatenate([wall[:horizon], floor]) * blend
    image = _to_image(wall + _noise(SIZE, 6, 1))
    return image, {"box": [300, 260, 900, 900], "anchor": "bottom", "shadow": 0.4}


def wood_table() -> tuple[Image.Image, dict[str, object]]:
    """A warm wall above a wooden table top; the subject stands on the table."""
    wall = _vertical_gradient(SIZE, (242, 234, 222), (226, 214, 198))
    table_top = int(SIZE[1] * 0.7)
    rng = np.random.default_rng(2)
    x = np.arange(SIZE[0])[None, :]
    y = np.arange(SIZE[1] - table_top)[:, None]
    grain = np.sin((y * 0.9 + 12 * np.sin(x / 90.0 + rng.random())) / 3.2) * 10
    wood = np.stack([150 + grain, 102 + grain * 0.7, 64 + grain * 0.4], axis=-1)
    wall[table_top:] = wood
    image = _to_image(wall + _noise(SIZE, 8, 3))
    ImageDraw.Draw(image).line([(0, table_top), (SIZE[0], table_top)], fill=(120, 84, 52), width=3)
    return image, {"box": [320, 300, 880, table_top + 60], "anchor": "bottom", "shadow": 0.45}


def wall_frame() -> tuple[Image.Image, dict[str, object]]:
    """A picture frame on a wall seen at an angle: the subject is printed in perspective."""
    image = _to_image(_vertical_gradient(SIZE, (222, 226, 230), (200, 204, 210)) + _noise(SIZE, 5, 4))
    quad = [(330.0, 250.0), (860.0, 310.0), (860.0, 900.0), (330.0, 960.0)]
    draw = ImageDraw.Draw(image)
    outer = [
        (quad[0][0] - 30, quad[0][1] - 34),
        (quad[1][0] + 30, quad[1][1] - 30),
        (quad[2][0] + 30, quad[2][1] + 30),
        (quad[3][0] - 30, quad[3][1] + 34),
    ]
    draw.polygon(outer, fill=(58, 46, 38))
    draw.polygon(quad, fill=(250, 250, 248))
    return image, {
        "box": [0, 0, 530, 650],
        "quad": [list(p) for p in quad],
        "anchor": "center",
        "shadow": 0,
    }


SCENES: dict[str, Callable[[], tuple[Image.Image, dict[str, object]]]] = {
    "studio-floor": studio_floor,
    "wood-table": wood_table,
    "wall-frame": wall_frame,
}


def write_templates(directory: Path = TEMPLATES_DIR) -> list[Path]:
    """Write every shipped scene and its JSON into ``directory``; the written JSON paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in SCENES.items():
        image, spec = draw()
        image.save(directory / f"{name}.jpg", "JPEG", quality=85, optimize=True)
        path = directory / f"{name}.json"
        path.write_text(json.dumps(spec, indent=2) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_templates(Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATES_DIR):
        print(written_path)

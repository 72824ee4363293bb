"""Generated test photos with KNOWN subject masks, deliberately bad cutters, and odd encodings.

Shapes are drawn at 4x and reduced, so the true mask is anti-aliased like a real cut-out.  The
cutters are fakes (no model): each returns a mask derived from the truth with one typical defect.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from jobs.imaging import Cutter, get_cutter

SIZE = (512, 512)
SS = 4  # supersampling factor for anti-aliased truth masks


@dataclass(frozen=True)
class Case:
    """A photo as bytes with its true mask and whether the gate may pass a cut of it."""

    name: str
    data: bytes
    mask: Image.Image
    #: "ok" (a correct cut may pass) or "hard" (dark-on-dark, reflective, fine detail: never pass).
    expect: str

    def image(self) -> Image.Image:
        """The decoded RGB photo."""
        return Image.open(io.BytesIO(self.data)).convert("RGB")


def _canvas_mask(
    draw: Callable[[ImageDraw.ImageDraw, int], None], size: tuple[int, int] = SIZE
) -> Image.Image:
    big = Image.new("L", (size[0] * SS, size[1] * SS), 0)
    draw(ImageDraw.Draw(big), SS)
    return big.resize(size, Image.Resampling.BOX)


def _gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> np.ndarray:
    t = np.linspace(0.0, 1.0, size[1])[:, None, None]
    row = (1 - t) * np.array(top, float) + t * np.array(bottom, float)
    return np.repeat(row, size[0], axis=1)


def _noise(size: tuple[int, int], amount: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, amount, (size[1], size[0], 1))


def _compose(background: np.ndarray, subject: np.ndarray, mask: Image.Image, seed: int) -> bytes:
    alpha = np.asarray(mask, dtype=np.float64)[..., None] / 255.0
    rgb = background * (1 - alpha) + subject * alpha + _noise(SIZE, 2.0, seed)
    out = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=93)
    return out.getvalue()


def _shaded(
    size: tuple[int, int], colour: tuple[int, int, int], x0: float, x1: float, gloss: float
) -> np.ndarray:
    x = np.linspace(0.0, 1.0, size[0])[None, :, None]
    across = np.clip((x - x0) / max(x1 - x0, 1e-6), 0, 1)
    light = 0.75 + 0.35 * np.sin(np.pi * across) + gloss * np.exp(-(((across - 0.3) / 0.06) ** 2))
    return np.repeat(np.array(colour, float)[None, None, :] * light, size[1], axis=0)


RGB = tuple[int, int, int]


@dataclass(frozen=True)
class _Look:
    """A studio photo's lighting: backdrop gradient, subject colour, the subject's span in px, gloss."""

    top: RGB
    bottom: RGB
    colour: RGB
    span: tuple[int, int]
    gloss: float


def _studio(
    name: str, expect: str, seed: int, draw: Callable[[ImageDraw.ImageDraw, int], None], look: _Look
) -> Case:
    """The shaded subject ``draw`` outlines, on a studio backdrop lit as ``look`` says."""
    mask = _canvas_mask(draw)
    background = _gradient(SIZE, look.top, look.bottom)
    subject = _shaded(SIZE, look.colour, look.span[0] / 512, look.span[1] / 512, look.gloss)
    return Case(name, _compose(background, subject, mask, seed), mask, expect)


def easy(seed: int = 0) -> Case:
    """A saturated red mug-like shape on a light studio gradient (a correct cut should pass)."""

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        d.rounded_rectangle([150 * s, 110 * s, 340 * s, 410 * s], radius=30 * s, fill=255)
        d.ellipse([300 * s, 190 * s, 400 * s, 330 * s], outline=255, width=26 * s)

    look = _Look((236, 236, 240), (212, 212, 218), (196, 38, 44), (150, 400), 0.3)
    return _studio("easy", "ok", seed, draw, look)


def dark_on_dark(seed: int = 0) -> Case:
    """A near-black bottle on a near-black backdrop."""

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        d.rounded_rectangle([190 * s, 170 * s, 320 * s, 440 * s], radius=24 * s, fill=255)
        d.rectangle([232 * s, 80 * s, 278 * s, 180 * s], fill=255)

    look = _Look((34, 34, 37), (26, 26, 28), (36, 36, 40), (190, 320), 0.15)
    return _studio("dark-on-dark", "hard", seed, draw, look)


def reflective(seed: int = 0) -> Case:
    """A chrome cylinder mirroring a sky-and-floor scene that surrounds it."""

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        d.rounded_rectangle([180 * s, 100 * s, 330 * s, 430 * s], radius=18 * s, fill=255)

    mask = _canvas_mask(draw)
    horizon = int(SIZE[1] * 0.62)
    background = _gradient(SIZE, (170, 200, 236), (214, 226, 240))
    background[horizon:] = _gradient((SIZE[0], SIZE[1] - horizon), (196, 180, 150), (170, 152, 122))
    mirrored = background[::-1].copy()
    x = np.linspace(0, 1, SIZE[0])[None, :, None]
    streak = 60 * np.exp(-(((x - 0.43) / 0.015) ** 2))
    subject = np.clip(0.85 * mirrored + 0.15 * background + streak, 0, 255)
    return Case("reflective", _compose(background, subject, mask, seed), mask, "hard")


def fine_detail(seed: int = 0) -> Case:
    """A wire whisk: a handle plus a cage of one-pixel wires (mostly background between them)."""

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        d.rounded_rectangle([238 * s, 330 * s, 274 * s, 470 * s], radius=14 * s, fill=255)
        for k in range(9):
            half = 12 + k * 13
            d.ellipse([(256 - half) * s, 60 * s, (256 + half) * s, 340 * s], outline=255, width=max(1, s))

    look = _Look((232, 230, 226), (214, 210, 204), (120, 110, 100), (140, 372), 0.2)
    return _studio("fine-detail", "hard", seed, draw, look)


def lace(seed: int = 0) -> Case:
    """A lace doily: a disc full of small holes showing the backdrop."""

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        d.ellipse([96 * s, 96 * s, 416 * s, 416 * s], fill=255)
        for cy in range(120, 400, 22):
            for cx in range(120, 400, 22):
                if (cx - 256) ** 2 + (cy - 256) ** 2 < 140**2:
                    d.ellipse([(cx - 7) * s, (cy - 7) * s, (cx + 7) * s, (cy + 7) * s], fill=0)

    look = _Look((70, 96, 140), (60, 84, 124), (238, 232, 220), (96, 416), 0.05)
    return _studio("lace", "hard", seed, draw, look)


HARD_CASES = (dark_on_dark, reflective, fine_detail, lace)


def iou(a: Image.Image, b: Image.Image) -> float:
    """Intersection over union of two masks thresholded at 128."""
    x, y = np.asarray(a.convert("L")) >= 128, np.asarray(b.convert("L").resize(a.size)) >= 128
    return float((x & y).sum() / max(int((x | y).sum()), 1))


class FixedCutter:
    """A fake cutter that returns a prepared mask (the truth, or a damaged version of it)."""

    def __init__(self, mask: Image.Image) -> None:
        self._mask = mask.convert("L")
        self.calls = 0

    def mask(self, image: Image.Image) -> Image.Image:
        """The prepared mask, scaled to ``image``."""
        self.calls += 1
        return self._mask.resize(image.size, Image.Resampling.BILINEAR)


def _hard(mask: Image.Image) -> np.ndarray:
    return np.asarray(mask) >= 128


def _from(array: np.ndarray) -> Image.Image:
    return Image.fromarray((array * 255).astype(np.uint8), mode="L").filter(ImageFilter.GaussianBlur(0.7))


def bad_masks(truth: Image.Image) -> dict[str, Image.Image]:
    """Typical cut-out defects derived from ``truth``; every one must be held back by the gates."""
    hard = _hard(truth)
    h, w = hard.shape
    ys, xs = np.nonzero(hard)
    cy, cx = int(ys.mean()), int(xs.mean())
    span = int(0.18 * (ys.max() - ys.min()))
    holed = hard.copy()
    holed[cy - span : cy + span, cx - span // 2 : cx + span // 2] = False
    yy, xx = np.ogrid[:h, :w]
    specks = hard.copy()
    for k in range(6):
        specks[(yy - (40 + 70 * k) % h) ** 2 + (xx - (30 + 83 * k) % w) ** 2 < 900] = True
    bottom = hard.copy()
    bottom[: int(ys.min() + 0.5 * (ys.max() - ys.min()))] = False
    return {
        "background-kept": _from(ndimage.binary_dilation(hard, iterations=14)),
        "subject-clipped": _from(ndimage.binary_erosion(hard, iterations=12)),
        "hole-punched": _from(holed),
        "half-missing": _from(bottom),
        "scattered": _from(specks),
        "inverted": _from(~hard),
        "empty": Image.new("L", truth.size, 0),
        "everything": Image.new("L", truth.size, 255),
    }


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    """``image`` encoded as ``fmt``."""
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)


def _desc(text: str) -> bytes:
    ascii_text = text.encode() + b"\0"
    body = b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_text)) + ascii_text
    return body + b"\0" * 4 + b"\0" * 4 + b"\0" * 3 + b"\0" * 67


def rgb_profile(primaries: tuple[tuple[float, float, float], ...], name: str, gamma: float = 2.2) -> bytes:
    """A minimal ICC v2 matrix/TRC display profile with the given D50 primaries (R, G, B)."""
    curve = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    tags = [
        (b"desc", _desc(name)),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(*primaries[0])),
        (b"gXYZ", _xyz(*primaries[1])),
        (b"bXYZ", _xyz(*primaries[2])),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text" + b"\0" * 4 + b"public domain\0\0\0\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, blob = b"", b""
    for signature, data in tags:
        padded = data + b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(blob), len(data))
        blob += padded
    size = offset + len(blob)
    header = (
        struct.pack(">I", size)
        + b"none"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + blob


#: sRGB primaries adapted to D50, and the same with red and green swapped (an obvious test profile).
SRGB_D50 = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))
SWAPPED_RG = (SRGB_D50[1], SRGB_D50[0], SRGB_D50[2])


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width`` x ``height`` with hardly any data (a decompression bomb shape)."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


MODEL_HOME = Path(__file__).resolve().parents[2] / "var" / "models"


def model_cutter() -> Cutter:
    """The real u2netp cutter (one process-wide session); U2NET_HOME defaults to var/models."""
    os.environ.setdefault("U2NET_HOME", str(MODEL_HOME))
    return get_cutter("u2netp", ("CPUExecutionProvider",))

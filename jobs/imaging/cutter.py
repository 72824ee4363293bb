"""Cutters turn a photo into a subject mask.  ``get_cutter`` gives a rembg-backed one whose model
session is created once per process (per model and providers) and reused by every job.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

from jobs.imaging.errors import ConfigurationError
from jobs.imaging.lean_rembg import SessionTuning, new_session, session_classes

#: Longest side alpha matting works at; closed-form matting grows fast with the pixel count.
MATTING_MAX_SIDE = 1024
#: Longest side handed to the model; every rembg model works at 1024 px or less, so more only costs time.
PREDICT_MAX_SIDE = 2048


class Cutter(Protocol):
    """Anything that can say which pixels of a photo are the subject."""

    def mask(self, image: Image.Image) -> Image.Image:
        """An "L" mask the size of ``image``: 255 subject, 0 background, in between soft edge."""
        ...


class RembgCutter:
    """A cutter backed by one rembg session (shared by all cutters of the same model/providers)."""

    def __init__(self, session: object, model: str, alpha_matting: bool = False) -> None:
        self.session = session
        self.model = model
        self.alpha_matting = alpha_matting

    def __repr__(self) -> str:
        return f"RembgCutter(model={self.model!r}, alpha_matting={self.alpha_matting})"

    def mask(self, image: Image.Image) -> Image.Image:
        """The model's mask at the image's size, refined by alpha matting when enabled."""
        rgb = image.convert("RGB")
        small = rgb
        if max(rgb.size) > PREDICT_MAX_SIDE:
            small = rgb.copy()
            small.thumbnail((PREDICT_MAX_SIDE, PREDICT_MAX_SIDE), Image.Resampling.BOX)
        masks = self.session.predict(small)  # type: ignore[attr-defined]
        mask = masks[0].convert("L")
        if mask.size != rgb.size:
            mask = mask.resize(rgb.size, Image.Resampling.BILINEAR)
        if self.alpha_matting:
            mask = refine_with_matting(rgb, mask)
        return mask


def refine_with_matting(
    rgb: Image.Image, mask: Image.Image, foreground: int = 240, background: int = 10, erode: int = 10
) -> Image.Image:
    """Closed-form alpha matting in the unsure band of ``mask`` (kept where the mask is sure)."""
    from pymatting.alpha.estimate_alpha_cf import estimate_alpha_cf

    scale = min(1.0, MATTING_MAX_SIDE / max(rgb.size))
    size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    small_rgb = np.asarray(rgb.resize(size, Image.Resampling.BILINEAR), dtype=np.float64) / 255.0
    small_mask = np.asarray(mask.resize(size, Image.Resampling.BILINEAR))
    structure = np.ones((erode, erode), dtype=bool)
    sure_fg = ndimage.binary_erosion(small_mask > foreground, structure=structure)
    sure_bg = ndimage.binary_erosion(small_mask < background, structure=structure, border_value=1)
    trimap = np.full(small_mask.shape, 0.5)
    trimap[sure_fg] = 1.0
    trimap[sure_bg] = 0.0
    if not sure_fg.any() or not sure_bg.any():
        return mask
    try:
        alpha = estimate_alpha_cf(small_rgb, trimap)
    except ValueError:
        return mask
    matte = Image.fromarray(np.clip(alpha * 255.0, 0, 255).astype(np.uint8), mode="L")
    matte = matte.resize(rgb.size, Image.Resampling.BILINEAR)
    original = np.asarray(mask)
    refined = np.asarray(matte)
    sure = (original > foreground) | (original < background)
    return Image.fromarray(np.where(sure, original, refined).astype(np.uint8), mode="L")


class ColorKeyCutter:
    """Subject = everything not connected to the border through near-``colour`` pixels.

    This is the cutter for inputs already on a clean plain background (no model needed); the
    enclosed background inside the subject (a mug handle's hole) stays as it is.
    """

    def __init__(self, colour: tuple[int, int, int] = (255, 255, 255), tolerance: int = 10) -> None:
        self.colour = colour
        self.tolerance = tolerance

    def mask(self, image: Image.Image) -> Image.Image:
        """The key mask, with a one-pixel soft edge."""
        if image.mode == "RGBA":
            alpha = np.asarray(image.getchannel("A"))
            if int(alpha.min()) < 255:
                return image.getchannel("A")
        rgb = np.asarray(image.convert("RGB"))
        if self.colour == (255, 255, 255):
            near = rgb.min(axis=2) >= 255 - self.tolerance
        else:
            distance = np.abs(rgb.astype(np.int16) - np.array(self.colour, dtype=np.int16)).max(axis=2)
            near = distance <= self.tolerance
        labels, count = ndimage.label(near)
        border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
        is_background = np.zeros(count + 1, dtype=bool)
        is_background[border] = True
        is_background[0] = False
        subject = Image.fromarray(np.where(is_background[labels], 0, 255).astype(np.uint8), mode="L")
        return subject.filter(ImageFilter.BoxBlur(1))


_LOCK = threading.Lock()
_SESSIONS: dict[tuple[str, tuple[str, ...], SessionTuning], object] = {}
#: Models that cannot be built from a name alone (need extra files or parameters).
_NEEDS_PARAMETERS = ("sam", "u2net_custom", "dis_custom", "ben_custom")


def _session_class(model: str) -> type:
    sessions = session_classes()
    cls = sessions.get(model)
    if cls is None:
        local = sorted(n for n, c in sessions.items() if c.is_local() and n not in _NEEDS_PARAMETERS)
        raise ConfigurationError(
            f"unknown cut-out model {model!r}", hint=f"choose one of: {', '.join(local)} (default u2netp)"
        )
    if model in _NEEDS_PARAMETERS or not cls.is_local() or cls.requires_credentials():
        raise ConfigurationError(
            f"cut-out model {model!r} cannot be used by name",
            hint="choose a local model such as u2netp, isnet-general-use or birefnet-general",
        )
    return cls


def _check_model_file(cls: type, model: str) -> None:
    existing = cls.resolve_existing(f"{model}.onnx")  # type: ignore[attr-defined]
    if existing is None:
        home = os.environ.get("U2NET_HOME") or cls.rembg_home()  # type: ignore[attr-defined]
        fetch = "run `make model` (python -m connector.model_fetch)" if model == "u2netp" else "download it"
        raise ConfigurationError(
            f"model file {model}.onnx is missing in {home}",
            hint=f"{fetch} and put {model}.onnx into U2NET_HOME; there is no internet access to fetch it",
        )


def _providers(requested: tuple[str, ...] | None) -> tuple[str, ...]:
    import onnxruntime as ort

    available = set(ort.get_available_providers())
    if not requested:
        return ("CPUExecutionProvider",)
    usable = tuple(p for p in requested if p in available)
    if not usable:
        raise ConfigurationError(
            f"none of the execution providers {', '.join(requested)} is available",
            hint=f"available here: {', '.join(sorted(available))}; set ONNX_PROVIDERS accordingly",
        )
    return usable


def rembg_session(
    model: str = "u2netp", providers: tuple[str, ...] | None = None, tuning: SessionTuning | None = None
) -> object:
    """The process-wide rembg session for ``model`` on ``providers`` (created on first use).

    ``tuning`` sets onnxruntime's options (default: memory arena and memory patterns off, one
    thread per usable CPU).
    """
    chosen = _providers(providers)
    tuning = tuning or SessionTuning()
    key = (model, chosen, tuning)
    with _LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            cls = _session_class(model)
            _check_model_file(cls, model)
            session = new_session(cls, model, list(chosen), tuning)
            _SESSIONS[key] = session
    return session


def get_cutter(
    model: str = "u2netp",
    providers: tuple[str, ...] | None = None,
    alpha_matting: bool = False,
    tuning: SessionTuning | None = None,
) -> Cutter:
    """A rembg cutter for ``model``; its session is cached per process and shared across jobs.

    Raises ``ConfigurationError`` (with a hint) for an unknown model, a missing model file or
    execution providers that are not available.
    """
    return RembgCutter(rembg_session(model, providers, tuning), model, alpha_matting)

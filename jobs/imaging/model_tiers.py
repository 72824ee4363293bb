"""The cut-out models a store can choose, by tier, with the licence of their weights.

Every model is judged by the same QA gates; a store's model is used when its file is in the model
folder (``U2NET_HOME``), and u2netp (shipped, small) is the default.  Some weights may not be used
commercially: their licence is shown wherever a model is chosen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL = "u2netp"


@dataclass(frozen=True)
class ModelInfo:
    """One rembg model: its tier (speed vs quality), its weights' licence and whether trade may use it."""

    name: str
    tier: str
    licence: str
    commercial: bool
    note: str = ""


_MODELS = (
    ModelInfo("u2netp", "small", "Apache-2.0 (U²-Net)", True, "4.7 MB, fastest; the default"),
    ModelInfo("silueta", "small", "Apache-2.0 (U²-Net, pruned)", True),
    ModelInfo("u2net", "standard", "Apache-2.0 (U²-Net)", True),
    ModelInfo("u2net_human_seg", "standard", "Apache-2.0 (U²-Net)", True, "people only"),
    ModelInfo("isnet-general-use", "standard", "Apache-2.0 (IS-Net / DIS)", True),
    ModelInfo("isnet-anime", "standard", "Apache-2.0 (anime-segmentation)", True, "illustrations"),
    ModelInfo("birefnet-general-lite", "large", "MIT (BiRefNet)", True),
    ModelInfo("birefnet-general", "large", "MIT (BiRefNet)", True),
    ModelInfo("birefnet-portrait", "large", "MIT (BiRefNet)", True, "people only"),
    ModelInfo("birefnet-massive", "large", "MIT (BiRefNet)", True),
    ModelInfo(
        "bria-rmbg",
        "large",
        "bria-rmbg-1.4 (Creative Commons, non-commercial)",
        False,
        "commercial use needs an agreement with BRIA",
    ),
)
MODELS: dict[str, ModelInfo] = {m.name: m for m in _MODELS}


def model_info(name: str) -> ModelInfo:
    """What is known of ``name`` (an unlisted rembg model gets an "unknown" licence to check)."""
    return MODELS.get(name) or ModelInfo(name, "other", "unknown: check the weights' licence", False)


def model_home() -> Path:
    """The model folder: ``U2NET_HOME``, else rembg's default ``~/.u2net``."""
    return Path(os.environ.get("U2NET_HOME") or Path.home() / ".u2net")


def installed_models(home: Path | None = None) -> list[ModelInfo]:
    """The listed models whose ``<name>.onnx`` is in the model folder, smallest tier first."""
    folder = home or model_home()
    return [m for m in _MODELS if (folder / f"{m.name}.onnx").is_file()]

"""Pipeline settings: one frozen value per store, built from a named preset plus overrides.

The settings are JSON-safe (``to_dict``/``from_dict``) and have a stable ``fingerprint`` so the
same image with the same settings is never processed twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from jobs.imaging.errors import ConfigurationError
from jobs.imaging.gates import GATE_SPECS, Gate

#: A gate's limits: ``(pass_at, review_at)``.  Which way is better is part of the gate's definition
#: (:data:`jobs.imaging.gates.GATE_SPECS`): for a higher-is-better gate a score >= pass_at passes and
#: >= review_at goes to review; for a lower-is-better gate <= pass_at passes, <= review_at reviews.
Limit = tuple[float, float]

BACKGROUNDS = ("white", "transparent")
OUTPUT_FORMATS = ("keep", "png", "jpeg", "webp")
CLEAN_INPUT_MODES = ("reframe", "skip", "process")
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ASPECT = re.compile(r"^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class Thresholds:
    """Pass/review limits of every QA gate; the gate name minus ``_min``/``_max`` is its score.

    Scores (see :mod:`jobs.imaging.quality`):

    - ``mask_area``: share of the frame that is subject.
    - ``edges_touched``: image borders the mask touches (0-4).
    - ``main_component``: share of the subject in its largest piece.
    - ``new_holes``: holes punched into the subject (not showing background), as a share of it.
    - ``halo``: share of the cut edge that still looks like the old background.
    - ``clipped``: share of the band just outside the cut that looks like the subject.
    - ``low_contrast``: share of the edge where subject and background are hard to tell apart.
    - ``camouflage``: share of the subject coloured like a plain backdrop (reflective, dark-on-dark).
    - ``reflection``: share of the subject that is a mirror image of the part above it (a floor's reflection).
    - ``filled_holes``: enclosed parts of the subject coloured like the background (holes filled in).
    - ``background_patches``: parts along the subject's outline coloured like the background next to them.
    - ``people``: share of the subject that is skin-toned in sizeable blobs (a hand, a model).
    - ``misplaced_edge``: share of the outline running through flat background with the photo's edge inside.
    - ``thin_structure``: share of the subject in hair-thin parts (hair, lace, wire).
    - ``uncertain``: share of the subject the model left half-transparent away from its edge.
    - ``color_fidelity``: mean CIE76 delta E of the subject in the output versus the original.
    - ``background_purity``: share of background pixels exactly on the target colour.
    - ``resolution``: subject detail kept versus what the settings ask for (1 = not reduced).
    - ``upscale``: how much the subject was enlarged.
    - ``fill``: the subject's share of the frame along its limiting side.
    - ``subject_size``: the subject's longest side in source px.
    """

    mask_area_min: Limit = (0.02, 0.004)
    mask_area_max: Limit = (0.90, 0.97)
    edges_touched: Limit = (0.5, 3)
    main_component: Limit = (0.97, 0.85)
    new_holes: Limit = (0.004, 0.03)
    halo: Limit = (0.3172, 0.4)
    clipped: Limit = (0.1926, 0.3)
    low_contrast: Limit = (0.3125, 1)
    camouflage: Limit = (1e06, 1e06)
    reflection: Limit = (0.05, 1e06)
    filled_holes: Limit = (0.0494, 1e06)
    background_patches: Limit = (1e06, 1e06)
    people: Limit = (0.096, 1e06)
    misplaced_edge: Limit = (0.2, 1e06)
    thin_structure: Limit = (0.04, 0.15)
    uncertain: Limit = (0.04, 0.15)
    color_fidelity: Limit = (3.0, 8.0)
    background_purity: Limit = (0.995, 0.95)
    resolution: Limit = (0.99, 0.5)
    upscale: Limit = (1.6, 3.0)
    fill_min: Limit = (0.0, 0.0)
    subject_size_min: Limit = (250.0, 80.0)

    def __post_init__(self) -> None:
        self.typed()  # every gate's limits are validated when thresholds are set

    def gates(self) -> dict[str, Limit]:
        """Every gate by name with its ``(pass_at, review_at)`` limits."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def typed(self) -> list[Gate]:
        """Every gate as a :class:`~jobs.imaging.gates.Gate` (raises ``ConfigurationError`` when invalid)."""
        return [Gate.build(name, limit) for name, limit in self.gates().items()]

    @staticmethod
    def score_of(gate: str) -> str:
        """The score a gate reads: ``mask_area_min`` reads ``mask_area``."""
        return GATE_SPECS[gate].score

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Thresholds:
        """Thresholds from a JSON-like mapping; unknown gates are a configuration error."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigurationError(
                f"unknown QA gate(s): {', '.join(unknown)}", hint=f"known gates: {', '.join(sorted(known))}"
            )
        values: dict[str, Limit] = {}
        for name, value in data.items():
            try:
                pass_at, review_at = (float(v) for v in value)
            except (TypeError, ValueError):
                raise ConfigurationError(
                    f"QA gate {name} must be two numbers [pass_at, review_at], got {value!r}",
                    hint="for example [0.12, 0.3]",
                ) from None
            values[name] = (pass_at, review_at)
        return cls(**values)


@dataclass(frozen=True)
class PipelineSettings:
    """Everything that decides how one image is processed; build with :meth:`from_preset`."""

    preset: str = "clean-white"
    model: str = "u2netp"
    alpha_matting: bool = False
    #: "white", "transparent" or "#rrggbb".
    background: str = "white"
    #: Minimum free border on each side, as a share of the canvas side.
    margin: float = 0.05
    #: The subject's share of the canvas along its limiting side.
    fill_ratio: float = 0.85
    #: Canvas aspect "w:h" (e.g. "1:1", "4:5"), or None for a canvas that follows the subject.
    aspect: str | None = "1:1"
    #: Exact longest side of the output in px; None keeps the input's size (within min/max).
    target_size: int | None = None
    min_size: int = 0
    max_size: int = 4096
    shadow: bool = True
    shadow_opacity: float = 0.28
    #: "keep" (the input's format where the store accepts it), "png", "jpeg" or "webp".
    output_format: str = "keep"
    quality: int = 90
    #: What to do with an input already on a clean white/transparent background.
    clean_input: str = "reframe"
    #: How far (max channel distance) a background may be from pure white and still count as clean.
    white_tolerance: int = 10
    #: Template name for a mockup scene instead of a studio canvas (see :mod:`jobs.imaging.mockups`).
    mockup: str | None = None
    #: Extra directory of store templates for mockups.
    mockup_dir: str | None = None
    allow_animated: bool = True
    #: Largest decoded size accepted (width x height), checked before decoding.
    max_pixels: int = 40_000_000
    max_bytes: int = 50_000_000
    thresholds: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise ConfigurationError(
                "invalid pipeline settings: " + "; ".join(problems),
                hint="fix the store's pipeline settings (see PipelineSettings in jobs/imaging/settings.py)",
            )

    def _problems(self) -> list[str]:
        out: list[str] = []
        if self.background not in BACKGROUNDS and not _HEX_COLOUR.match(self.background):
            out.append(f"background {self.background!r} is not white, transparent or #rrggbb")
        if self.output_format not in OUTPUT_FORMATS:
            out.append(f"output_format {self.output_format!r} is not one of {', '.join(OUTPUT_FORMATS)}")
        if self.clean_input not in CLEAN_INPUT_MODES:
            out.append(f"clean_input {self.clean_input!r} is not one of {', '.join(CLEAN_INPUT_MODES)}")
        if self.aspect is not None and not _ASPECT.match(self.aspect):
            out.append(f"aspect {self.aspect!r} is not 'w:h' like '1:1'")
        if not 0.0 <= self.margin < 0.45:
            out.append(f"margin {self.margin} must be in [0, 0.45)")
        if not 0.05 <= self.fill_ratio <= 1.0:
            out.append(f"fill_ratio {self.fill_ratio} must be in [0.05, 1]")
        if not 1 <= self.quality <= 100:
            out.append(f"quality {self.quality} must be in [1, 100]")
        if not 0.0 <= self.shadow_opacity <= 1.0:
            out.append(f"shadow_opacity {self.shadow_opacity} must be in [0, 1]")
        if self.target_size is not None and not 16 <= self.target_size <= self.max_size:
            out.append(f"target_size {self.target_size} must be in [16, max_size={self.max_size}]")
        if not 0 <= self.min_size <= self.max_size:
            out.append(f"min_size {self.min_size} must be in [0, max_size={self.max_size}]")
        if not 0 <= self.white_tolerance <= 60:
            out.append(f"white_tolerance {self.white_tolerance} must be in [0, 60]")
        if self.max_pixels <= 0 or self.max_bytes <= 0:
            out.append("max_pixels and max_bytes must be positive")
        return out

    @property
    def aspect_ratio(self) -> float | None:
        """The canvas aspect as width / height, or None when the canvas follows the subject."""
        if self.aspect is None:
            return None
        match = _ASPECT.match(self.aspect)
        assert match is not None
        width, height = float(match.group(1)), float(match.group(2))
        return width / height if height else None

    @property
    def background_rgba(self) -> tuple[int, int, int, int]:
        """The background as RGBA; transparent is white with alpha 0."""
        if self.background == "white":
            return (255, 255, 255, 255)
        if self.background == "transparent":
            return (255, 255, 255, 0)
        value = self.background.lstrip("#")
        return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), 255)

    @property
    def transparent(self) -> bool:
        """True when the background is transparent."""
        return self.background == "transparent"

    @classmethod
    def from_preset(cls, name: str = "clean-white", **overrides: Any) -> PipelineSettings:
        """The named preset with ``overrides`` applied (thresholds may be a partial mapping)."""
        if name not in PRESETS:
            raise ConfigurationError(
                f"unknown pipeline preset {name!r}", hint=f"choose one of {', '.join(sorted(PRESETS))}"
            )
        base = PRESETS[name]
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigurationError(
                f"unknown pipeline setting(s): {', '.join(unknown)}",
                hint=f"known: {', '.join(sorted(known))}",
            )
        thresholds = overrides.pop("thresholds", None)
        if isinstance(thresholds, dict):
            merged = {**_limits_dict(base.thresholds), **thresholds}
            overrides["thresholds"] = Thresholds.from_dict(merged)
        elif isinstance(thresholds, Thresholds):
            overrides["thresholds"] = thresholds
        return replace(base, **overrides)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe mapping that :meth:`from_dict` turns back into equal settings."""
        data = asdict(self)
        data["thresholds"] = _limits_dict(self.thresholds)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineSettings:
        """Settings from :meth:`to_dict` output (missing keys take the preset's values)."""
        data = dict(data)
        preset = data.pop("preset", "clean-white")
        return cls.from_preset(preset, **data)

    def fingerprint(self) -> str:
        """A stable sha256 hex digest of the settings (same settings, same fingerprint)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _limits_dict(thresholds: Thresholds) -> dict[str, list[float]]:
    return {name: [float(a), float(b)] for name, (a, b) in thresholds.gates().items()}


def _build_presets() -> dict[str, PipelineSettings]:
    clean = PipelineSettings(preset="clean-white")
    transparent = PipelineSettings(
        preset="transparent", background="transparent", shadow=False, output_format="png", margin=0.04
    )
    marketplace = PipelineSettings(
        preset="marketplace",
        background="white",
        shadow=False,
        margin=0.03,
        fill_ratio=0.90,
        aspect="1:1",
        min_size=1000,
        max_size=3000,
        output_format="jpeg",
        quality=92,
        white_tolerance=0,
        thresholds=Thresholds(fill_min=(0.85, 0.85), background_purity=(0.999, 0.999)),
    )
    return {p.preset: p for p in (clean, transparent, marketplace)}


#: The named presets: "clean-white" (default), "transparent" and "marketplace" (Amazon main image:
#: pure 255 white, subject fills at least 85 % of the frame, longest side at least 1000 px).
PRESETS: dict[str, PipelineSettings] = _build_presets()

"""A store's processing settings as a merchant changes them: mode, preset, model, QA strictness.

QA strictness moves each gate's line between "passes" and "held for review", never the line
to "fails": ``strict`` holds more results for a person, ``lenient`` fewer; ``standard`` is the
preset's own thresholds.  Saved as pipeline overrides, so a change gives a new settings
fingerprint and the next processing uses it.
"""

from __future__ import annotations

from typing import Any

from connector.errors import ConfigurationError
from connector.imaging import preset_settings
from connector.models import Store, StoreMode
from connector.processing import store_pipeline_settings
from connector.services import Services
from connector.stores import get_store

STRICTNESS = ("lenient", "standard", "strict")
#: how far a level moves pass_at, as a share of the gate's pass/review band
_SHIFT = {"lenient": 0.5, "standard": 0.0, "strict": -0.25}


#: a review limit this far out means the gate only holds (never fails): its band is then its pass limit
_UNBOUNDED = 1e5


def _shifted(pass_at: float, review_at: float, share: float) -> list[float]:
    band = review_at - pass_at if abs(review_at) < _UNBOUNDED else abs(pass_at)
    moved = pass_at + band * share
    if min(pass_at, review_at) >= 0.0 and max(pass_at, review_at) <= 1.0:
        moved = min(1.0, max(0.0, moved))
    return [moved, review_at]


def strictness_thresholds(preset: str, strictness: str) -> dict[str, list[float]]:
    """The gates of ``preset`` at a strictness level (empty for ``standard``)."""
    if strictness not in STRICTNESS:
        raise ConfigurationError(
            f"QA strictness {strictness!r} is not a level", hint=f"choose one of {', '.join(STRICTNESS)}"
        )
    if strictness == "standard":
        return {}
    gates = preset_settings(preset).thresholds.gates()
    return {
        name: _shifted(pass_at, review_at, _SHIFT[strictness])
        for name, (pass_at, review_at) in gates.items()
        if pass_at != review_at
    }


def model_choices(services: Services, current: str) -> list[str]:
    """The models a merchant may pick: those whose file is in U2NET_HOME, the default, the current one."""
    home = services.settings.u2net_home
    found = {p.stem for p in home.glob("*.onnx")} if home.is_dir() else set()
    return sorted(found | {current, services.settings.model})


def store_choices(store: Store) -> dict[str, Any]:
    """The settings a merchant sees for a store."""
    return {
        "mode": store.mode,
        "preset": store.preset,
        "model": store.model,
        "strictness": (store.settings or {}).get("qa_strictness", "standard"),
    }


def configure_store(
    services: Services, store_id: int, *, mode: str, preset: str, model: str, strictness: str
) -> dict[str, Any]:
    """Validate and save a store's settings; ConfigurationError (nothing saved) when one is wrong."""
    if mode not in {m.value for m in StoreMode}:
        raise ConfigurationError(f"{mode!r} is not a mode", hint="choose auto, review or paused")
    with services.session() as s:
        store = get_store(s, store_id)
        if model not in model_choices(services, store.model):
            raise ConfigurationError(
                f"model {model!r} is not installed here",
                hint=f"choose one of {', '.join(model_choices(services, store.model))}",
            )
        pipeline = {
            k: v for k, v in dict((store.settings or {}).get("pipeline", {})).items() if k != "thresholds"
        }
        thresholds = strictness_thresholds(preset, strictness)
        if thresholds:
            pipeline["thresholds"] = thresholds
        store.mode, store.preset, store.model = mode, preset, model
        store.settings = {**(store.settings or {}), "pipeline": pipeline, "qa_strictness": strictness}
        store_pipeline_settings(services, store)  # ConfigurationError rolls the session back
        return store_choices(store)

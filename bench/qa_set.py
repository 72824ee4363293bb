"""The QA evaluation set run through the pipeline: each scene's scores, verdict-free, with its IoU.

Shared by ``qa_calibrate.py`` (chooses thresholds on the calibration part) and ``qa_eval.py``
(judges them on the held-out part).  A cut-out is *good* when its mask's IoU against the true mask
is at least :data:`GOOD_IOU`.  The model's masks are cached under ``var/qa-cache/masks`` by photo
and model, and the scores by photo, model and imaging code (limits left out), so re-running after
a change of thresholds or measures does not run the model again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("U2NET_HOME", str(ROOT / "var" / "models"))

from PIL import Image  # noqa: E402
from sandbox.qa_scenes import (  # noqa: E402
    DEFECT_SCENES,
    DEFECTS,
    Scene,
    calibration_set,
    defective_mask,
    held_out_set,
    mask_iou,
    scene,
)

from jobs.imaging import Cutter, PipelineSettings, get_cutter, run_pipeline  # noqa: E402
from jobs.imaging.calibration import Replay, Sample  # noqa: E402

#: IoU against the true mask from which a cut-out counts as good (the issue's line for "bad").
GOOD_IOU = 0.9
CACHE = ROOT / "var" / "qa-cache"
#: A gate's limits in ``Thresholds`` (jobs/imaging/settings.py).
LIMIT_LINE = re.compile(r"^    (\w+): Limit = \(.*\)$", re.MULTILINE)


@dataclass(frozen=True)
class Measured:
    """One scene's cut-out: its IoU and the pipeline's scores (empty when it stopped before cutting)."""

    scene: str
    kind: str
    iou: float
    scores: dict[str, float]

    def sample(self) -> Sample:
        """The labelled sample calibration and replay work on."""
        return Sample(self.scene, self.scores, self.good)

    @property
    def good(self) -> bool:
        """IoU at least :data:`GOOD_IOU`, and not a deliberate defect (a punched hole is bad at any IoU)."""
        return self.iou >= GOOD_IOU and self.kind != "defect"


def _code_version() -> str:
    """A digest of the imaging code, leaving out the gates' limits (they do not change any score)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "jobs" / "imaging").glob("*.py")):
        digest.update(LIMIT_LINE.sub("", path.read_text()).encode())
    return digest.hexdigest()[:12]


class CachedCutter:
    """The model's masks kept on disk by photo, so changing a QA measure does not rerun the model."""

    def __init__(self, model: str) -> None:
        self.model = model
        self._cutter: Cutter | None = None

    def mask(self, image: Image.Image) -> Image.Image:
        """The model's mask of ``image`` (from the cache when this photo was cut before)."""
        key = hashlib.sha256(image.tobytes() + self.model.encode()).hexdigest()[:24]
        path = CACHE / "masks" / f"{key}.png"
        if path.exists():
            with Image.open(path) as cached:
                return cached.copy()
        self._cutter = self._cutter or get_cutter(self.model)
        mask = self._cutter.mask(image)
        path.parent.mkdir(parents=True, exist_ok=True)
        mask.save(path)
        return mask


def _cached(key_bytes: bytes, compute: Callable[[], Measured]) -> Measured:
    """``compute()``, kept in the cache under a digest of ``key_bytes`` and the imaging code."""
    key = hashlib.sha256(key_bytes + _code_version().encode()).hexdigest()[:24]
    path = CACHE / f"{key}.json"
    if path.exists():
        return Measured(**json.loads(path.read_text()))
    measured = compute()
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(measured.__dict__))
    return measured


def measure(scenes: list[Scene], model: str = "u2netp") -> list[Measured]:
    """Run every scene through the pipeline (default settings) and keep its scores and IoU."""
    settings = PipelineSettings.from_preset(model=model)
    cutter = CachedCutter(model)

    def run(item: Scene) -> Measured:
        outcome = run_pipeline(item.data, settings, cutter)
        iou = mask_iou(outcome.mask, item.mask) if outcome.mask is not None else 0.0
        return Measured(item.name, item.kind, round(iou, 4), outcome.scores)

    return [_cached(item.data + model.encode(), partial(run, item)) for item in scenes]


class FixedCutter:
    """A cutter that returns one given mask (a known defect) whatever the photo."""

    def __init__(self, mask: Image.Image) -> None:
        self._mask = mask

    def mask(self, image: Image.Image) -> Image.Image:
        """The given mask."""
        return self._mask


def measure_defects(quick: bool = False) -> list[Measured]:
    """Calibration samples with typical defects applied to true masks (scored like model cut-outs)."""
    settings = PipelineSettings.from_preset()

    def run(photo: Scene, defect: str) -> Measured:
        mask = defective_mask(photo.mask, defect)
        outcome = run_pipeline(photo.data, settings, FixedCutter(mask))
        iou = round(mask_iou(mask, photo.mask), 4)
        return Measured(f"{photo.name}:{defect}", "defect", iou, outcome.scores)

    photos = [scene(kind, seed) for kind, seed in (DEFECT_SCENES[:1] if quick else DEFECT_SCENES)]
    return [
        _cached(photo.data + defect.encode(), partial(run, photo, defect))
        for photo in photos
        for defect in DEFECTS
    ]


def parts(quick: bool = False) -> tuple[list[Scene], list[Scene]]:
    """The calibration and held-out scenes (``quick``: one seed a kind, for a fast look)."""
    if quick:
        return calibration_set(range(0, 1)), held_out_set(range(100, 101))
    return calibration_set(), held_out_set()


def print_outcome(measured: list[Measured], result: Replay, title: str) -> None:
    """Every cut-out's IoU and verdict, then per gate and overall: bad published, good published/held."""
    print(f"\n## {title}\n")
    print("| scene | IoU | cut-out | verdict | held by |")
    print("|---|---|---|---|---|")
    for m in measured:
        label = "good" if m.good else "BAD"
        verdict = result.verdicts[m.scene]
        flag = " **bad published**" if label == "BAD" and verdict == "pass" else ""
        held = ", ".join(result.held_by[m.scene]) or "-"
        print(f"| {m.scene} | {m.iou:.3f} | {label} | {verdict}{flag} | {held} |")
    samples = [m.sample() for m in measured]
    print("\n| gate | bad held | good held | IoU of the good it held |")
    print("|---|---|---|---|")
    iou = {m.scene: m.iou for m in measured}
    gates = sorted({g for held in result.held_by.values() for g in held})
    for gate in gates:
        bad = [s for s in samples if not s.good and gate in result.held_by[s.name]]
        good = [s for s in samples if s.good and gate in result.held_by[s.name]]
        ious = ", ".join(f"{iou[s.name]:.3f}" for s in good) or "-"
        print(f"| {gate} | {len(bad)} | {len(good)} | {ious} |")
    goods = [s for s in samples if s.good]
    bads = [s for s in samples if not s.good]
    good_pub = result.count(samples, True, True)
    review = sum(1 for s in goods if result.verdicts[s.name] == "review")
    failed = sum(1 for s in goods if result.verdicts[s.name] == "fail")
    share = 100 * good_pub / max(len(goods), 1)
    print(
        f"\noverall: {len(bads)} bad cut-outs (IoU < {GOOD_IOU}), **{result.count(samples, False, True)} "
        f"published**; {len(goods)} good, **{good_pub} published ({share:.0f} %)**, "
        f"{review} to review, {failed} failed"
    )

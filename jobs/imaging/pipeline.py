"""``run_pipeline``: bytes in, a judged studio result out.  Pure: no store, no database.

load -> pre-check (clean input: skip or only re-frame) -> cut (model) -> single-subject check
-> studio (or mockup) -> encode -> QA gates -> verdict.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from PIL import Image

from jobs.imaging.cutter import ColorKeyCutter, Cutter
from jobs.imaging.encode import choose_format, encode
from jobs.imaging.gates import Stage
from jobs.imaging.loading import LoadedImage, load_image
from jobs.imaging.precheck import PreCheck, precheck, single_subject_problem
from jobs.imaging.quality import cut_scores, judge, output_scores
from jobs.imaging.settings import PipelineSettings
from jobs.imaging.studio import clean_mask, decontaminate, plan_layout, render_studio, subject_box

#: Extra tolerance of the colour key over the clean-background detection (JPEG noise near edges).
KEY_SLACK = 6
#: How close (share of the canvas) an input's framing must be to the plan to need no re-framing.
FRAMED_TOLERANCE = 0.03


@dataclass
class Outcome:
    """The result of one pipeline run.

    ``verdict``: "pass" (publishable), "review" (a person decides), "fail" (keep the original;
    ``reasons`` say why) or "skip" (input already clean: ``data`` is None when nothing needed
    doing, or the re-framed image, which passed the gates).  A "review" without ``data`` is a photo
    that was not cut (a lifestyle scene or no clear subject): a person looks at the original.
    """

    verdict: str
    reasons: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    data: bytes | None = None
    mime: str | None = None
    width: int = 0
    height: int = 0
    #: The subject mask ("L", input size) the result was made with: the model's mask after cleaning,
    #: the colour-key mask (subject with its own shadow) for a re-framed clean input, or the raw
    #: model mask of an uncut lifestyle scene.
    mask: Image.Image | None = None
    seconds: float = 0.0
    #: What loading and encoding changed (colour profile converted, format switched, ...).
    notes: list[str] = field(default_factory=list)


def _photo(loaded: LoadedImage) -> Image.Image:
    """The RGB photo the model and QA see: transparent inputs are laid on white."""
    if loaded.image.mode == "RGBA":
        base = Image.new("RGBA", loaded.image.size, (255, 255, 255, 255))
        return Image.alpha_composite(base, loaded.image).convert("RGB")
    return loaded.image


def _already_framed(
    loaded: LoadedImage, check: PreCheck, mask: Image.Image, settings: PipelineSettings
) -> bool:
    """True when a clean input already looks like the studio result would."""
    box = subject_box(mask)
    if box is None:
        return False
    same_background = (check.kind == "transparent") == settings.transparent and settings.background in (
        "white",
        "transparent",
    )
    fmt, _notes = choose_format(settings, loaded.format)
    if not same_background or fmt != loaded.format:
        return False
    layout = plan_layout(box, loaded.image.size, settings)
    canvas_w, canvas_h = layout.canvas
    if abs(canvas_w - loaded.width) > FRAMED_TOLERANCE * canvas_w or abs(canvas_h - loaded.height) > (
        FRAMED_TOLERANCE * canvas_h
    ):
        return False
    limit = FRAMED_TOLERANCE * max(layout.canvas)
    return all(abs(a - b) <= limit for a, b in zip(box, layout.placed, strict=True))


def _finish(
    verdict_if_pass: str,
    first_reason: str | None,
    loaded: LoadedImage,
    photo: Image.Image,
    mask: Image.Image,
    settings: PipelineSettings,
    started: float,
    cut: bool = True,
    raw: Image.Image | None = None,
) -> Outcome:
    """Studio (or mockup), encode and judge a cleaned mask.

    ``cut`` False skips the edge measures (nothing was cut); ``raw`` is the model's mask before cleaning.
    """
    notes = list(loaded.notes)
    box = subject_box(mask)
    if box is None:
        return Outcome(
            "fail",
            ["no subject found in the image"],
            {"mask_area": 0.0},
            width=loaded.width,
            height=loaded.height,
            mask=mask,
            seconds=time.perf_counter() - started,
            notes=notes,
        )
    scores = cut_scores(photo, mask, edges=cut, raw=raw)
    scores["subject_size"] = float(max(box[2] - box[0], box[3] - box[1]))
    if settings.mockup:
        from jobs.imaging.mockups import load_template, render_mockup

        template = load_template(settings.mockup, settings.mockup_dir)
        canvas = render_mockup(decontaminate(photo, mask, box), template)
        encoded = encode(canvas, settings, loaded.format)
    else:
        studio = render_studio(photo, mask, settings)
        assert studio is not None
        canvas = studio.image
        encoded = encode(canvas, settings, loaded.format)
        scores.update(
            output_scores(
                encoded.data,
                photo,
                studio.layout,
                studio.subject_alpha,
                studio.shadow,
                settings.background_rgba,
            )
        )
    notes.extend(encoded.notes)
    stages: list[Stage] = ["mask"]
    if cut:
        stages.append("edges")
    if not settings.mockup:
        stages.append("output")
    judgement = judge(scores, settings.thresholds, stages)
    verdict = verdict_if_pass if judgement.verdict == "pass" else judgement.verdict
    reasons = ([first_reason] if first_reason else []) + judgement.reasons
    return Outcome(
        verdict,
        reasons,
        {k: round(float(v), 5) for k, v in scores.items()},
        encoded.data,
        encoded.mime,
        canvas.width,
        canvas.height,
        mask,
        time.perf_counter() - started,
        notes,
    )


def _reframe_only(check: PreCheck, settings: PipelineSettings) -> bool:
    """A clean input can keep its own pixels when the output background allows it."""
    if settings.clean_input == "process":
        return False
    return check.kind == "transparent" or (check.kind == "white" and settings.background == "white")


def run_pipeline(data: bytes, settings: PipelineSettings, cutter: Cutter) -> Outcome:
    """Run the whole workflow on ``data``; raises ``BadImageError`` for an unusable input."""
    started = time.perf_counter()
    loaded = load_image(data, settings)
    check = precheck(loaded, settings)
    photo = _photo(loaded)

    def early(verdict: str, reason: str, mask: Image.Image | None = None) -> Outcome:
        return Outcome(
            verdict,
            [reason],
            width=loaded.width,
            height=loaded.height,
            mask=mask,
            seconds=time.perf_counter() - started,
            notes=list(loaded.notes),
        )

    if _reframe_only(check, settings):
        if settings.clean_input == "skip":
            return early("skip", check.reason)
        key = ColorKeyCutter(tolerance=min(255, settings.white_tolerance + KEY_SLACK))
        mask = clean_mask(key.mask(loaded.image))
        # Only re-framed: the photo keeps its own shadow (the key mask holds it); none is added.
        reframe = replace(settings, shadow=False)
        if _already_framed(loaded, check, mask, reframe):
            return early("skip", f"{check.reason} and already framed", mask)
        reason = f"{check.reason}: re-framed only"
        return _finish("skip", reason, loaded, photo, mask, reframe, started, cut=check.kind == "transparent")

    raw = cutter.mask(photo)
    problem = single_subject_problem(raw)
    if problem is not None:
        return early("review", problem, raw)
    return _finish("pass", None, loaded, photo, clean_mask(raw), settings, started, raw=raw)

"""The pure image pipeline: load, pre-check, cut out, studio, mockups, encode and QA gates.

It knows nothing of stores or the database; ``jobs.tasks`` calls only what is exported here.
"""

from jobs.imaging.cutter import ColorKeyCutter, Cutter, RembgCutter, get_cutter
from jobs.imaging.lean_rembg import SessionTuning
from jobs.imaging.loading import LoadedImage, load_image
from jobs.imaging.mockups import list_templates
from jobs.imaging.pipeline import Outcome, run_pipeline
from jobs.imaging.settings import PRESETS, PipelineSettings, Thresholds

__all__ = [
    "PRESETS",
    "ColorKeyCutter",
    "Cutter",
    "LoadedImage",
    "Outcome",
    "PipelineSettings",
    "RembgCutter",
    "SessionTuning",
    "Thresholds",
    "get_cutter",
    "list_templates",
    "load_image",
    "run_pipeline",
]

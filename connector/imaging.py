"""The service's side of the imaging library (``jobs.imaging``).

The library is pure and has its own errors; the service calls it only through these functions,
which raise the library's errors as the service's own (same message, hint and code).  The
library (scipy, scikit-image, and rembg with onnxruntime once a cutter is made) is imported on
first use, so processes that never process an image (web, CLI) never load it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from connector.errors import BadImageError, ConfigurationError

if TYPE_CHECKING:
    from jobs.imaging import Cutter, LoadedImage, Outcome, PipelineSettings


@contextmanager
def service_errors() -> Iterator[None]:
    """Raise the imaging library's errors as the service's own."""
    from jobs.imaging import errors as lib

    try:
        yield
    except lib.BadImageError as exc:
        raise BadImageError(exc.message, hint=exc.hint, code=exc.code) from exc
    except lib.ConfigurationError as exc:
        raise ConfigurationError(exc.message, hint=exc.hint, code=exc.code) from exc


def preset_settings(preset: str, **overrides: Any) -> PipelineSettings:
    """The pipeline settings of ``preset`` with ``overrides`` (validated)."""
    from jobs.imaging import PipelineSettings

    with service_errors():
        return PipelineSettings.from_preset(preset, **overrides)


def preset_names() -> list[str]:
    """The names of the library's presets."""
    from jobs.imaging.settings import PRESETS

    return sorted(PRESETS)


def cutter_for(
    model: str,
    providers: Sequence[str],
    alpha_matting: bool = False,
    *,
    threads: int = 0,
    memory_arena: bool = False,
) -> Cutter:
    """The process's cached cutter for ``model`` on ``providers``.

    ``threads`` (0: one per CPU the process may use) and ``memory_arena`` set onnxruntime's
    session options (``ONNX_THREADS``, ``ONNX_MEMORY_ARENA``).
    """
    from jobs.imaging import SessionTuning, get_cutter

    with service_errors():
        return get_cutter(model, tuple(providers), alpha_matting, SessionTuning(threads, memory_arena))


def run_workflow(data: bytes, settings: PipelineSettings, cutter: Cutter) -> Outcome:
    """The whole photo workflow on ``data``."""
    from jobs.imaging import run_pipeline

    with service_errors():
        return run_pipeline(data, settings, cutter)


def decode(data: bytes, settings: PipelineSettings) -> LoadedImage:
    """``data`` decoded upright in sRGB, as the workflow sees it."""
    from jobs.imaging import load_image

    with service_errors():
        return load_image(data, settings)

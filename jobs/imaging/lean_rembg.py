"""rembg's model sessions without rembg's heavy imports, with options for a long-running worker.

``import rembg`` runs its package body, which imports ``rembg.bg`` and with it pymatting (numba,
llvmlite), scikit-image's morphology and scipy's filters: about 150 MiB of resident memory that a
worker cutting with a plain model session never uses.  :func:`session_classes` imports only
``rembg.sessions`` (onnxruntime, numpy, Pillow, pooch); the package body still runs, unchanged,
the first time anything asks ``rembg`` for one of its own names (``rembg.remove``,
``from rembg import new_session``), so other users of rembg in the same process see no difference.

:class:`SessionTuning` holds the onnxruntime options a worker runs with: its memory arena (off by
default: the arena keeps the largest activations of every image size seen, hundreds of MiB, for
the life of the process) and its intra-op thread count (by default the CPUs the process may run
on, so a worker pinned with ``taskset`` to one core runs one thread).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from dataclasses import dataclass
from typing import Any


class _DeferredPackage(types.ModuleType):
    """The ``rembg`` package object before its ``__init__`` ran; runs it on first attribute miss."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        self.__class__ = types.ModuleType  # type: ignore[assignment]  # run the body once
        spec = self.__spec__
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(self)
        return getattr(self, name)


def _defer_package(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        return  # not installed: the import below raises the usual ImportError
    package = _DeferredPackage(name)
    package.__spec__ = spec
    package.__loader__ = spec.loader
    package.__file__ = spec.origin
    package.__package__ = name
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules[name] = package


def session_classes() -> dict[str, Any]:
    """rembg's session classes by model name, imported without ``rembg.bg`` and its matting stack."""
    _defer_package("rembg")
    from rembg.sessions import sessions

    return dict(sessions)


def usable_cpus() -> int:
    """How many CPUs this process may run on (its affinity mask, e.g. from ``taskset``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class SessionTuning:
    """onnxruntime options for a model session.

    ``threads``: intra-op threads (0: one per CPU the process may run on).  ``memory_arena``: keep
    onnxruntime's CPU memory arena: every run reuses the activations' memory (u2netp at 320 x 320:
    about 270 MiB held for the life of the process); without it every run maps and faults in that
    memory afresh (cheap on huge pages, see ``connector.worker_memory``).  Memory patterns are off
    either way: with them the arena grows by whole blocks per pattern (about 200 MiB more for
    u2netp) for no speed gained.
    """

    threads: int = 0
    memory_arena: bool = False

    def resolved_threads(self) -> int:
        """The thread count the session is built with."""
        return self.threads if self.threads > 0 else usable_cpus()

    def session_options(self) -> Any:
        """An ``onnxruntime.SessionOptions`` for these choices (one inter-op thread, sequential)."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.enable_cpu_mem_arena = self.memory_arena
        options.enable_mem_pattern = False
        options.intra_op_num_threads = self.resolved_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        return options


def new_session(cls: type, model: str, providers: list[str], tuning: SessionTuning) -> object:
    """A rembg session of ``cls`` for ``model`` built with ``tuning``'s options."""
    return cls(model, tuning.session_options(), providers=providers)

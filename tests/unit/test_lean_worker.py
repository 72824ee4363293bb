"""A lean worker: model sessions without rembg's matting stack, session options for a long-running
process, memory given back after each job, huge photos worked at a bounded size, and the queues
image workers and publishers serve."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from PIL import Image

from connector.settings import PROJECT_ROOT, Settings
from connector.worker_memory import (
    HUGE_PAGES_TUNABLE,
    huge_pages_environment,
    release_memory,
    worker_queue_names,
)
from jobs.imaging import PipelineSettings, SessionTuning, load_image
from jobs.imaging import loading as loading_module

pytestmark = pytest.mark.unit

_IMPORTS = """
import sys
from jobs.imaging.lean_rembg import session_classes
classes = session_classes()
assert "u2netp" in classes, sorted(classes)
heavy = sorted(m for m in ("rembg.bg", "numba", "pymatting", "skimage.morphology") if m in sys.modules)
import rembg
assert callable(rembg.remove) and callable(rembg.new_session)  # the package body still runs on use
print(",".join(heavy))
"""


def test_session_classes_come_without_the_matting_stack_and_rembg_still_works_after() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _IMPORTS], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"heavy modules imported for a session class: {out.stdout}"


def test_session_options_turn_the_arena_off_and_use_the_cpus_given() -> None:
    options = SessionTuning().session_options()
    assert options.enable_cpu_mem_arena is False
    assert options.enable_mem_pattern is False  # patterns grow the arena by whole blocks
    assert options.intra_op_num_threads == len(os.sched_getaffinity(0))
    assert options.inter_op_num_threads == 1
    chosen = SessionTuning(threads=3, memory_arena=True).session_options()
    assert (chosen.intra_op_num_threads, chosen.enable_cpu_mem_arena) == (3, True)


def test_settings_carry_the_session_choices_and_the_publish_queue() -> None:
    settings = Settings.from_env({"ONNX_THREADS": "1", "ONNX_MEMORY_ARENA": "yes", "REDIS_NAMESPACE": "ns"})
    assert (settings.onnx_threads, settings.onnx_memory_arena) == (1, True)
    assert settings.queue_for("publish") == settings.queue_for("rollback") == "ns-publish"
    assert settings.queue_for("resume") == "ns-publish"
    assert settings.queue_for("process") == settings.queue_for("sync") == "ns-images"
    defaults = Settings.from_env({})
    assert (defaults.onnx_threads, defaults.onnx_memory_arena, defaults.worker_huge_pages) == (0, False, True)
    assert Settings.from_env({"WORKER_HUGE_PAGES": "false"}).worker_huge_pages is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tunables are Linux/glibc only")
def test_image_workers_rerun_once_on_huge_pages_keeping_the_operators_tunables() -> None:
    env = huge_pages_environment({"PATH": "/bin", "GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}, wanted=True)
    assert env is not None and env["PATH"] == "/bin"
    assert env["GLIBC_TUNABLES"] == f"glibc.malloc.arena_max=2:{HUGE_PAGES_TUNABLE}"
    assert huge_pages_environment(env, wanted=True) is None  # the re-run does not run again
    assert huge_pages_environment({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}, wanted=True) is None
    assert huge_pages_environment({}, wanted=False) is None


def test_image_workers_take_image_work_first_and_publishers_only_store_writes() -> None:
    settings = Settings.from_env({"REDIS_NAMESPACE": "ns"})
    assert worker_queue_names(settings, publisher=False) == ["ns-images", "ns-publish"]
    assert worker_queue_names(settings, publisher=True) == ["ns-publish"]
    one_queue = Settings.from_env({"REDIS_NAMESPACE": "ns", "PUBLISH_QUEUE_NAME": ""})
    assert one_queue.queue_for("publish") == "ns-images"
    assert worker_queue_names(one_queue, publisher=False) == ["ns-images"]


def test_release_memory_runs_between_jobs() -> None:
    release_memory()  # gc + malloc_trim where glibc offers it; must never fail


def test_release_memory_collects_cycles_and_freezes_survivors_only_when_asked() -> None:
    import gc
    import weakref

    class Node:
        other: object = None

    try:
        cycle, survivor = Node(), Node()
        cycle.other = cycle
        gone = weakref.ref(cycle)
        del cycle
        release_memory(freeze=True)
        assert gone() is None  # the job's cycles are collected before freezing
        frozen = gc.get_freeze_count()
        assert frozen > 0 and survivor is not None
        later = [Node() for _ in range(1000)]  # what a later job leaves behind
        release_memory()
        # not frozen: the count does not grow (it may shrink as frozen objects are freed)
        assert gc.get_freeze_count() < frozen + len(later) // 2
    finally:
        gc.unfreeze()


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


def _jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (40, 40, 200)).save(out, format="JPEG")
    return out.getvalue()


def test_photos_above_the_working_size_are_scaled_down_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loading_module, "WORKING_MAX_PIXELS", 10_000)
    settings = PipelineSettings.from_preset()
    for data in (_png((400, 100)), _jpeg((400, 100))):
        loaded = load_image(data, settings)
        assert loaded.width * loaded.height <= 10_000
        assert abs(loaded.width / loaded.height - 4.0) < 0.1
        assert any("worked at" in note and "400x100" in note for note in loaded.notes), loaded.notes
    small = load_image(_png((100, 100)), settings)
    assert small.image.size == (100, 100) and not any("worked at" in n for n in small.notes)

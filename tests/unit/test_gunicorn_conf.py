"""The web process's gunicorn settings: each worker freezes what the app loaded (no GC pauses)."""

from __future__ import annotations

import gc
import runpy

import pytest

from connector.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit


def test_gunicorn_workers_freeze_the_loaded_app_out_of_the_collectors_passes() -> None:
    conf = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    try:
        conf["post_worker_init"](object())
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()

"""Browser tests use the session's one chromium: the ``browser`` fixture of tests/conftest.py."""

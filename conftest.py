"""Settings every test run shares; fixtures live in tests/conftest.py."""

import os

# Tests always run with a known secret and never touch the developer's var/ folder.
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("VAR_DIR", os.path.join(os.path.dirname(__file__), "var", "test"))
# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls
# from a thread with a running loop unless told this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

"""The registry refuses, at start-up, a database its search and locks were not written for."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_database_other_than_postgresql_or_sqlite_is_refused_with_a_sentence():
    env = {**os.environ, "DATABASE_URL": "mysql://root@127.0.0.1:3306/registry", "DEBUG": "true"}
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "registry_site.settings"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "runs on PostgreSQL (postgres://...) or SQLite" in done.stderr

"""The statistics libraries load when the process starts, not on the first compare page
(which once took 8 s to answer after a restart)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_setting_up_django_loads_the_statistics_libraries():
    program = (
        "import sys, django; django.setup(); "
        "print(' '.join(m for m in ('scipy.stats', 'sklearn.metrics', 'numpy') if m not in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "registry_site.settings", "DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True
    )
    assert result.stdout.strip() == "", f"loaded only on first use: {result.stdout.strip()}"

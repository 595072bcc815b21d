"""setup/setup_udvd.sh: nothing to clone any more; it checks that the in-repo UDVD builds and is blind at p."""
from __future__ import annotations

import os
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_setup_udvd_checks_the_network():
    r = subprocess.run(["bash", "setup/setup_udvd.sh"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "udvd" in (r.stdout + r.stderr).lower()

"""setup/steps.sh, the step runner of demo.sh and denoise_runs.sh: a finished step is skipped, each step's time is
in $OUT/timings.json (skipped steps keep theirs), a failing step stops the script naming its log, and a dry run
prints without touching the disk. Driven by tiny bash snippets that source the file."""
from __future__ import annotations

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _bash(script: str, out, **env) -> subprocess.CompletedProcess:
    full = {**os.environ, "OUT": str(out), "PY": sys.executable, "PYTHONPATH": REPO, **env}
    return subprocess.run(["bash", "-c", f'set -euo pipefail; source "{REPO}/setup/steps.sh"; {script}'],
                          capture_output=True, text=True, env=full, timeout=60)


def test_step_runs_stamps_logs_and_times_it(tmp_path):
    out = tmp_path / "run"
    r = _bash("step first sleep 0.3; step second echo hello", out)
    assert r.returncode == 0, r.stderr
    times = json.loads((out / "timings.json").read_text())
    assert list(times) == ["first", "second"]
    assert 0.25 <= times["first"] < 5 and 0 <= times["second"] < times["first"]
    assert (out / ".done" / "first").is_file() and (out / ".done" / "second").is_file()
    assert (out / "logs" / "second.log").read_text().splitlines() == ["$ echo hello", "hello"]
    assert [p.name for p in out.iterdir() if p.name.startswith(".tmp")] == []  # the JSON is written atomically


def test_a_rerun_skips_finished_steps_and_keeps_their_time(tmp_path):
    out = tmp_path / "run"
    assert _bash("step slow sleep 0.3", out).returncode == 0
    first = json.loads((out / "timings.json").read_text())["slow"]
    r = _bash(f"step slow touch {tmp_path}/ran; step fresh true", out)
    assert r.returncode == 0, r.stderr
    assert "[done] slow (skipped" in r.stdout and not (tmp_path / "ran").exists()
    times = json.loads((out / "timings.json").read_text())
    assert times["slow"] == first and "fresh" in times


def test_a_failing_step_stops_with_its_log_and_leaves_no_stamp(tmp_path):
    out = tmp_path / "run"
    r = _bash(f"step bad bash -c 'echo oops >&2; exit 3'; touch {tmp_path}/after", out)
    assert r.returncode == 1
    assert "error: step 'bad' failed" in r.stderr and "oops" in r.stderr
    assert not (out / ".done" / "bad").exists() and not (tmp_path / "after").exists()
    assert not (out / "timings.json").exists()


def test_dry_run_prints_quoted_commands_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    r = _bash("step one echo 'a b' c", out, STEPS_DRY_RUN="1")
    assert r.returncode == 0 and r.stdout == "+ echo a\\ b c\n"
    assert not out.exists()

"""Swap a prepared folder into the place a downstream tool reads, and back (setup/prepare_downstream.py; the
README's BUV/POCUS step): the original is kept as `<target>_baseline`, never deleted."""
from __future__ import annotations

import os
import shutil

from common.cli import fail, require_dir


def swap_in(target: str, replacement: str, dry_run: bool = False) -> list[str]:
    """Put `replacement` where `target` was, keeping the original as `<target>_baseline` (README BUV/POCUS step)."""
    target, replacement = target.rstrip(os.sep), replacement.rstrip(os.sep)
    keep = target + "_baseline"
    if os.path.lexists(keep):
        fail(f"{keep} already exists (an earlier swap?); run with --undo first or move it away")
    require_dir(target, "--target")
    require_dir(replacement, "--replacement")
    if os.path.realpath(target) == os.path.realpath(replacement):
        fail("--target and --replacement are the same folder")
    steps = [f"mv {target} {keep}", f"mv {replacement} {target}"]
    if not dry_run:
        shutil.move(target, keep)
        shutil.move(replacement, target)
    return steps


def swap_back(target: str, replacement: str, dry_run: bool = False) -> list[str]:
    """Undo `swap_in`: the swapped-in folder goes back to `replacement`, `<target>_baseline` back to `target`."""
    target, replacement = target.rstrip(os.sep), replacement.rstrip(os.sep)
    keep = target + "_baseline"
    require_dir(keep, "the kept original (<target>_baseline)", nonempty=False)
    if os.path.lexists(replacement):
        fail(f"{replacement} exists; cannot move the swapped-in folder back there")
    steps = ([f"mv {target} {replacement}"] if os.path.lexists(target) else []) + [f"mv {keep} {target}"]
    if not dry_run:
        if os.path.lexists(target):
            shutil.move(target, replacement)
        shutil.move(keep, target)
    return steps

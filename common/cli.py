"""The one user-error type and the guard every CLI uses.

A user mistake (missing folder, malformed annotation line, checkpoint that does not match the flags) raises
`UserError`; `run_cli` turns it into one line on stderr and exit code 2, never a traceback wall.
"""
from __future__ import annotations

import os
import sys
from typing import Callable, NoReturn


class UserError(Exception):
    """A problem with the user's input or flags: shown as one line, exit code 2."""


def fail(message: str) -> NoReturn:
    raise UserError(message)


def run_cli(main: Callable[[], object]) -> None:
    """Run a script's main(); user errors become `error: <what and where>` and a non-zero exit."""
    try:
        rc = main()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted: finished outputs are kept; re-run the same command to resume", file=sys.stderr)
        sys.exit(130)
    if os.environ.get("SAVED_DEBUG_EXIT"):  # pragma: no cover - debugging aid
        print(f"[debug] {main.__module__} returned {rc}", file=sys.stderr)
    sys.exit(int(rc) if isinstance(rc, int) else 0)


def require_dir(path: str, what: str = "folder", nonempty: bool = True) -> str:
    """Return `path` if it is an existing (non-empty) directory, else raise a one-line UserError."""
    if not path:
        fail(f"no {what} given")
    if not os.path.isdir(path):
        fail(f"{what} not found: {path}")
    if nonempty and not any(os.scandir(path)):
        fail(f"{what} is empty: {path}")
    return path


def require_file(path: str, what: str = "file") -> str:
    if not path or not os.path.isfile(path):
        fail(f"{what} not found: {path}")
    return path


def check_not_inside(output: str, input_: str) -> None:
    """Refuse to write outputs into the input tree (inputs are never overwritten)."""
    out = os.path.realpath(output)
    inp = os.path.realpath(input_)
    if out == inp or out.startswith(inp.rstrip(os.sep) + os.sep):
        fail(f"output dir {output} is inside the input dir {input_}; choose another output dir")

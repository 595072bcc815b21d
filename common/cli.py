"""The one user-error type and the guard every CLI uses.

A user mistake (missing folder, malformed annotation line, checkpoint that does not match the flags) raises
`UserError`; `run_cli` turns it into one line on stderr and exit code 2, never a traceback wall.
Every script builds its parser with `ArgumentParser` below, so `--base_folder` and `--base-folder` both work.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import Callable, NoReturn, Sequence


class UserError(Exception):
    """A problem with the user's input or flags: shown as one line, exit code 2."""


def fail(message: str) -> NoReturn:
    raise UserError(message)


def _spelling_key(flag: str) -> str:
    """`--base_folder` and `--base-folder` share one key (the scripts mix both conventions)."""
    return flag.replace("_", "-")


class ArgumentParser(argparse.ArgumentParser):
    """argparse that accepts both spellings of every multi-word long flag (`--frames-dir` = `--frames_dir`).

    The other spelling is rewritten to the declared one before parsing, so the dest, defaults, `required` and
    error messages stay the declared flag's, and --help lists only the spelling the script declares. Argument
    groups, mutually exclusive groups and subcommands (which inherit this class) are covered alike. A token after
    `--` or with a space in it (a value such as "--epochs 2 --seed 1") is never touched.
    """

    def parse_known_args(self, args: Sequence[str] | None = None,
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        args = sys.argv[1:] if args is None else list(args)
        return super().parse_known_args(self.declared_spelling(args), namespace)

    def declared_spelling(self, args: list[str]) -> list[str]:
        """`args` with each long flag this parser does not know, but knows under its other spelling, renamed."""
        known = self._option_string_actions
        twins: dict[str, list[str]] = {}
        for flag in known:
            if flag.startswith("--"):
                twins.setdefault(_spelling_key(flag), []).append(flag)
        out: list[str] = []
        for i, token in enumerate(args):
            if token == "--":
                return out + args[i:]
            name, eq, value = token.partition("=")
            match = twins.get(_spelling_key(name), []) if name.startswith("--") and name not in known else []
            out.append(match[0] + eq + value if len(match) == 1 and " " not in name else token)
        return out


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
    # The interpreter's last garbage collection walks every object torch created (~0.3 s on this CPU, every
    # command); frozen objects are skipped by it. The work is done and its files are closed by now.
    gc.freeze()
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

"""common.cli.ArgumentParser: both spellings of a multi-word flag reach the same dest, for the helper itself, for
real scripts' parsers, and for every script of the repo (each must build its parser through the helper)."""
from __future__ import annotations

import argparse
import glob
import os
import runpy
import sys

import pytest

from common.cli import ArgumentParser, _spelling_key

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _toy() -> ArgumentParser:
    p = ArgumentParser(prog="toy")
    p.add_argument("--base_folder", required=True)
    p.add_argument("--frames-dir", default="f")
    p.add_argument("--added_imgs", "--added-imgs", default=None)  # both declared: scripts may not, the helper copes
    extra = p.add_mutually_exclusive_group()
    extra.add_argument("--no_progress", action="store_true")
    p.add_argument("rest", nargs="*")
    return p


def test_both_spellings_set_the_declared_dest():
    p = _toy()
    for argv in (["--base_folder", "a", "--frames-dir", "b", "--no_progress"],
                 ["--base-folder", "a", "--frames_dir", "b", "--no-progress"],
                 ["--base-folder=a", "--frames_dir=b", "--no-progress"]):
        a = p.parse_args(argv)
        assert (a.base_folder, a.frames_dir, a.no_progress) == ("a", "b", True), argv
    assert p.parse_args(["--base_folder", "a", "--added_imgs", "x"]).added_imgs == "x"
    assert p.parse_args(["--base_folder", "a", "--added-imgs", "x"]).added_imgs == "x"


def test_values_and_tokens_after_double_dash_are_not_renamed():
    p = _toy()
    a = p.parse_args(["--base-folder", "a", "--", "--frames_dir"])
    assert a.rest == ["--frames_dir"] and a.frames_dir == "f"


def test_help_lists_only_the_declared_spelling_and_errors_name_it(capsys):
    p = _toy()
    text = p.format_help()
    assert "--base_folder" in text and "--base-folder" not in text and "--frames_dir" not in text
    with pytest.raises(SystemExit):
        p.parse_args(["--frames_dir", "b"])
    assert "the following arguments are required: --base_folder" in capsys.readouterr().err


def test_subcommands_inherit_both_spellings():
    p = ArgumentParser(prog="toy")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("train").add_argument("--results_path")
    assert p.parse_args(["train", "--results-path", "r"]).results_path == "r"


def test_real_parsers_accept_both_spellings():
    from inference.cli import build_parser
    from main import parse_args as main_args

    assert main_args(["--base-folder", "x", "--batch-size", "3"]).batch_size == 3
    assert main_args(["--base_folder", "x", "--batch_size", "3"]).base_folder == "x"
    den = build_parser("cfc22").parse_args(["--model", "m.ckpt", "--input-dir", "i", "--output-dir", "o"])
    assert (den.input_dir, den.output_dir) == ("i", "o")
    sys.path.insert(0, os.path.join(REPO, "setup"))
    from background_subtract_frames import parse_args as bs_args

    assert bs_args(["--frames_dir", "a", "--output_dir", "b"]).frames_dir == "a"
    assert bs_args(["--frames-dir", "a", "--output-dir", "b"]).output_dir == "b"


class _Parsed(BaseException):
    """Raised instead of parsing: the script got as far as its parser (BaseException: no `except Exception`)."""


def _scripts() -> list[str]:
    """Every file of the repo a user runs: a `__main__` guard in the top level, setup/, other_baselines/, bench/,
    downstream/ (run as `python -m downstream.<name>`)."""
    found = []
    for pattern in ("*.py", "setup/*.py", "setup/slurm/*.py", "other_baselines/*.py", "bench/*.py", "downstream/*.py"):
        for path in sorted(glob.glob(os.path.join(REPO, pattern))):
            with open(path, encoding="utf-8") as f:
                if '__name__ == "__main__"' in f.read():
                    found.append(os.path.relpath(path, REPO))
    return found


def _parsers_reached(monkeypatch) -> dict[str, argparse.ArgumentParser | None]:
    """Run every script with --help up to its parse: script -> the parser it parses (None: no parser reached)."""
    seen: list[argparse.ArgumentParser] = []

    def record(self, args=None, namespace=None):
        seen.append(self)
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_known_args", record)
    monkeypatch.setattr(sys, "path", list(sys.path))  # scripts put their own folder first; undo afterwards
    reached = {}
    for script in _scripts():
        seen.clear()
        monkeypatch.setattr(sys, "argv", [script, "--help"])
        try:
            if script.startswith("downstream/"):
                module = script[:-3].replace("/", ".")
                monkeypatch.delitem(sys.modules, module, raising=False)  # as `python -m`: not imported before
                runpy.run_module(module, run_name="__main__", alter_sys=False)
            else:
                runpy.run_path(os.path.join(REPO, script), run_name="__main__")
        except _Parsed:
            pass
        reached[script] = seen[0] if seen else None
    return reached


def _with_subcommands(parser: argparse.ArgumentParser):
    """`parser` and, recursively, the parsers of its subcommands."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # an alias maps to the same parser
                yield from _with_subcommands(sub)


def test_every_script_builds_its_parser_through_the_helper(monkeypatch):
    reached = _parsers_reached(monkeypatch)
    assert {"main.py", "denoise.py", "track.py", "setup/convert_mot_to_yolo.py", "downstream/report.py",
            "other_baselines/n2v_predict_cfc22.py", "bench/bench_train.py"} <= set(reached)
    wrong = [f"{script}: {type(p).__module__ + '.' + type(p).__name__ if p else 'no parser reached'}"
             for script, p in reached.items() if type(p) is not ArgumentParser]
    assert wrong == []


def test_no_parser_declares_a_flag_in_both_spellings(monkeypatch):
    """The helper already accepts the other spelling: declaring both is redundant (and shows twice in --help), and
    two actions whose flags differ only by '-' vs '_' would leave the helper unable to pick one."""
    twins = []
    for script, parser in _parsers_reached(monkeypatch).items():
        for p in _with_subcommands(parser) if parser else ():
            by_key: dict[str, list[str]] = {}
            for flag in p._option_string_actions:
                if flag.startswith("--"):
                    by_key.setdefault(_spelling_key(flag), []).append(flag)
            twins += [f"{script} ({p.prog}): {' '.join(flags)}" for flags in by_key.values() if len(flags) > 1]
    assert twins == []

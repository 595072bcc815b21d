"""Symlink trees: flatten <domain>/<clip> folders into one folder of links (create_dataset_with_all_frames.py,
make_flat_image_symlinks.py, dataset/own_data.py). Targets are absolute; re-running keeps correct links and
repairs broken ones, so every caller is safe to resume."""
from __future__ import annotations

import os
from typing import Sequence

from common.cli import check_not_inside, fail


def link_path(target: str, link: str) -> str:
    """Make `link` an absolute symlink to `target`; repair a broken or wrong one. Returns created|kept|repaired."""
    target = os.path.abspath(target)
    if os.path.islink(link):
        if os.readlink(link) == target and os.path.exists(link):
            return "kept"
        os.remove(link)
        state = "repaired"
    elif os.path.exists(link):
        fail(f"{link} exists and is not a symlink; refusing to replace it")
    else:
        state = "created"
    os.makedirs(os.path.dirname(os.path.abspath(link)), exist_ok=True)
    os.symlink(target, link)
    return state


def flat_name(rel: str, separator: str) -> str:
    """A relative clip path ('/'-separated, as dataset.clips names clips) joined into one name."""
    return rel.replace(os.sep, "/").replace("/", separator)


def flatten_dirs(root: str, output: str, rels: Sequence[str], separator: str) -> dict:
    """Symlink each `root/<a>/<b>` folder to `output/<a><sep><b>` (absolute targets)."""
    check_not_inside(output, root)
    stats = {"created": 0, "kept": 0, "repaired": 0}
    flat = {}
    for rel in rels:
        if rel == "":
            fail(f"{root} is itself a clip folder; give the folder that holds the <domain>/<clip> tree")
        name = flat_name(rel, separator)
        if name in flat:
            fail(f"two folders flatten to the same name {name!r}: {flat[name]} and {rel}; choose another --separator")
        flat[name] = rel
        stats[link_path(os.path.join(root, rel), os.path.join(output, name))] += 1
    for name, rel in flat.items():  # the paper asserted matching file counts; check each link resolves
        if sorted(os.listdir(os.path.join(output, name))) != sorted(os.listdir(os.path.join(root, rel))):
            fail(f"link {os.path.join(output, name)} does not show the files of {os.path.join(root, rel)}")
    return stats

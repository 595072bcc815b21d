"""Tree walking, per-clip processing, channel merging and symlink flattening for the setup/ tools.

Every frame-preparation script is "read each clip of an input tree, compute, write the same frame names under
an output root", so that loop lives here once: clips are found at any depth (the paper's os.walk,
docs/paper_code_behaviour.md#frame-loading-and-layouts),
outputs mirror the input tree, writes are atomic (common.atomic via dataset.frames.write_frame), finished clips are
skipped so an interrupted run resumes, and the output may never lie inside the input tree.
"""
from __future__ import annotations

import os
import shutil
from typing import Callable, Iterable, Sequence

import numpy as np

from common.cli import UserError, check_not_inside, fail, require_dir
from dataset.frames import IMAGE_EXTS, frame_index, list_frames, natural_key, read_frame, to_gray_uint8, write_frame

# Merged "2-channel" frame (the paper's add_denoised_to_raw_2_ch.py, docs/paper_code_behaviour.md#setup-scripts):
# OpenCV/BGR channel order
# [raw, denoised, denoised], i.e. read as RGB: R = denoised, G = denoised, B = raw. Entries index the sources
# (0 = raw / reference tree, 1 = denoised). For CFC22 "raw" is the background-subtracted frame (frames/raw_bs).
TWO_CHANNEL_LAYOUT = (0, 1, 1)
# add_denoised_3_ch.py: --channel1/2/3 stacked in BGR order.
THREE_CHANNEL_LAYOUT = (0, 1, 2)


def _has_frames(path: str, exts: tuple[str, ...]) -> bool:
    try:
        return any(n.lower().endswith(exts) and not n.startswith(".") for n in os.listdir(path))
    except OSError:
        return False


def find_leaf_dirs(root: str, has_content: Callable[[str], bool]) -> list[str]:
    """Relative paths ("" = root itself) of every folder under `root` (symlinks followed, loops cut) holding content."""
    require_dir(root, "input folder")
    found, seen = [], set()
    for cur, dirs, _files in os.walk(root, followlinks=True):
        real = os.path.realpath(cur)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted((d for d in dirs if not d.startswith(".")), key=natural_key)
        if has_content(cur):
            rel = os.path.relpath(cur, root)
            found.append("" if rel == "." else rel)
    return sorted(found, key=lambda r: [natural_key(p) for p in r.split(os.sep)])


def find_clips(root: str, exts: tuple[str, ...] = IMAGE_EXTS) -> list[str]:
    """Relative paths of the clip folders (folders holding frame images) under `root`; "" if root is one clip."""
    clips = find_leaf_dirs(root, lambda d: _has_frames(d, exts))
    if not clips:
        fail(f"no frames ({', '.join(exts)}) found under {root}")
    return clips


def with_ext(name: str, ext: str | None) -> str:
    """`name` with its extension replaced by `ext` (None keeps it)."""
    return name if not ext else os.path.splitext(name)[0] + (ext if ext.startswith(".") else "." + ext)


def read_native(path: str) -> np.ndarray:
    """One frame as H×W in its native integer depth (uint8 or uint16), colour → gray.

    16-bit microscopy (Cell Tracking Challenge) often uses a small part of the 16-bit range; tools that rescale
    with min-max need the native values rather than dataset.frames' fixed /257 reduction.
    """
    import cv2

    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None or img.dtype not in (np.uint8, np.uint16):
        return read_frame(path)
    if img.ndim == 3:
        return to_gray_uint8(img, path) if img.dtype == np.uint8 else img[..., 0]
    return img


def read_clip_native(clip_dir: str, exts: tuple[str, ...] = IMAGE_EXTS) -> tuple[list[str], np.ndarray]:
    """Frame names and the clip as T×H×W in its native depth (see read_native); sizes must agree."""
    paths = list_frames(clip_dir, exts)
    frames = [read_native(p) for p in paths]
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        fail(f"mixed frame sizes in clip {clip_dir}: {sorted(shapes)}")
    return [os.path.basename(p) for p in paths], np.stack(frames)


def minmax_to_uint8(x: np.ndarray) -> np.ndarray:
    """Min-max scale any array to uint8 (constant → 0)."""
    x = x.astype(np.float64)
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:
        return np.zeros(x.shape, np.uint8)
    return ((x - lo) / (hi - lo) * 255.0).astype(np.uint8)


def _output_complete(out_dir: str, names: Iterable[str]) -> bool:
    return os.path.isdir(out_dir) and all(os.path.exists(os.path.join(out_dir, n)) for n in names)


def _progress(items: Sequence, desc: str, enabled: bool = True, unit: str = "clip"):
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit=unit, disable=not enabled or len(items) < 2)


def map_clips(input_root: str, output_root: str, process: Callable[[np.ndarray], np.ndarray], *,
              overwrite: bool = False, desc: str = "clips", out_ext: str | None = None, jpeg_quality: int = 95,
              exts: tuple[str, ...] = IMAGE_EXTS, reader: Callable[[str], tuple[list[str], np.ndarray]] | None = None,
              progress: bool = True) -> dict:
    """Run `process` (T×H×W clip → T×H×W[×3] images, OpenCV channel order) on every clip of `input_root`.

    Outputs keep the tree and frame names (extension swapped when `out_ext` is given). A clip whose outputs all
    exist is skipped unless `overwrite`. Returns {"clips": n, "written": n, "skipped": n}.
    """
    require_dir(input_root, "input folder")
    check_not_inside(output_root, input_root)
    clips = find_clips(input_root, exts)
    stats = {"clips": len(clips), "written": 0, "skipped": 0}
    for rel in _progress(clips, desc, progress):
        src, dst = os.path.join(input_root, rel), os.path.join(output_root, rel)
        names = [os.path.basename(p) for p in list_frames(src, exts)]
        outs = [with_ext(n, out_ext) for n in names]
        if not overwrite and _output_complete(dst, outs):
            stats["skipped"] += 1
            continue
        if reader is None:
            frames = np.stack([read_frame(os.path.join(src, n)) for n in names])
        else:
            names_read, frames = reader(src)
            assert names_read == names
        if len({f.shape for f in frames}) > 1:
            fail(f"mixed frame sizes in clip {src}")
        result = process(frames)
        if len(result) != len(names):
            raise RuntimeError(f"{desc}: {len(result)} outputs for {len(names)} frames in {src}")
        for name, img in zip(outs, result):
            write_frame(os.path.join(dst, name), np.ascontiguousarray(img), jpeg_quality)
        stats["written"] += 1
    return stats


# ---- channel merging (add_denoised_to_raw_2_ch.py, add_denoised_3_ch.py) ----

def _frame_table(clip_dir: str) -> tuple[dict[str, str], dict[int, str]]:
    """Frames of a clip keyed by stem and by frame number (a denoiser may write `3.png` for `3.jpg`)."""
    if not os.path.isdir(clip_dir):
        return {}, {}
    by_stem, by_index = {}, {}
    for p in list_frames(clip_dir, required=False):
        by_stem[os.path.splitext(os.path.basename(p))[0]] = p
        try:
            by_index.setdefault(frame_index(p), p)
        except UserError:
            pass
    return by_stem, by_index


def _match(tables: tuple[dict, dict], name: str) -> str | None:
    by_stem, by_index = tables
    stem = os.path.splitext(name)[0]
    if stem in by_stem:
        return by_stem[stem]
    try:
        return by_index.get(frame_index(name))
    except UserError:
        return None


def merge_channel_trees(sources: Sequence[str], layout: Sequence[int], output_root: str, *,
                        allow_missing: bool = False, overwrite: bool = False, jpeg_quality: int = 95,
                        names: Sequence[str] | None = None, progress: bool = True) -> dict:
    """Stack frames of several parallel trees into 3-channel images, channel c taken from sources[layout[c]].

    sources[0] is the reference tree: its clips and frame names define the outputs (same tree, same names and
    extension). Other sources are matched by relative clip path and frame stem (or frame number). A frame missing
    in another source is an error listing what is missing; with `allow_missing` that channel falls back to
    sources[0] (the paper's behaviour, docs/paper_code_behaviour.md#setup-scripts). Frames of another size are resized
    to the reference size.
    """
    import cv2

    names = list(names or [f"--source{i}" for i in range(len(sources))])
    for s, n in zip(sources, names):
        require_dir(s, n)
        check_not_inside(output_root, s)
    ref = sources[0]
    plan, missing = [], []
    for rel in find_clips(ref):
        ref_frames = list_frames(os.path.join(ref, rel))
        tables = [_frame_table(os.path.join(s, rel)) for s in sources[1:]]
        for p in ref_frames:
            name = os.path.basename(p)
            others = [_match(t, name) for t in tables]
            for src_i, o in enumerate(others, start=1):
                if o is None:
                    missing.append(f"{names[src_i]} {os.path.join(rel, name)}")
            plan.append((rel, p, others))
    if missing and not allow_missing:
        shown = "; ".join(missing[:5]) + (f"; ... ({len(missing)} in all)" if len(missing) > 5 else "")
        fail(f"{len(missing)} frame(s) missing: {shown}. Run the denoiser on every frame, or pass --allow-missing "
             f"to fall back to {names[0]} for those channels (paper behaviour)")
    stats = {"frames": len(plan), "written": 0, "skipped": 0, "fallbacks": len(missing)}
    for rel, ref_path, others in _progress(plan, "merging", progress, unit="frame"):
        out = os.path.join(output_root, rel, os.path.basename(ref_path))
        if not overwrite and os.path.exists(out):
            stats["skipped"] += 1
            continue
        base = read_frame(ref_path)
        imgs = [base]
        for o in others:
            img = base if o is None else read_frame(o)
            if img.shape != base.shape:
                img = cv2.resize(img, (base.shape[1], base.shape[0]), interpolation=cv2.INTER_LINEAR)
            imgs.append(img)
        write_frame(out, np.dstack([imgs[i] for i in layout]), jpeg_quality)
        stats["written"] += 1
    return stats


# ---- symlinks (create_dataset_with_all_frames.py, make_flat_image_symlinks.py) ----

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
    return rel.replace(os.sep, separator)


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

"""A user's own annotated video → the demo's working tree (`bash demo.sh --data DIR`).

Two input layouts are accepted, both read-only (nothing is ever written into DIR):

- CFC22: `DIR/frames/raw/<domain>/<clip>/<frames>` and `DIR/annotations_mot/<domain>/<clip>/gt.txt`
  (optionally `DIR/annotations/<domain>.json` metadata and `DIR/clean/<domain>/<clip>/` clean frames);
- custom: `DIR/[<domain>/]<clip>/<frames>` or `DIR/[<domain>/]<clip>.mp4` (any video container), with the ground
  truth in `<clip folder>/gt.txt` or `DIR/annotations_mot/[<domain>/]<clip>/gt.txt` (optional clean frames in
  `DIR/clean/[<domain>/]<clip>/`).

Frame file `i` (the last integer of its name, 0-based) is MOT frame `i + 1`, as everywhere in the project.
The whole input is validated before anything is trained (layout, clips without ground truth, empty gt.txt, boxes
outside the frame, mixed frame sizes within a clip); the first problem is one line naming the file. The working
tree is then built under `--out` in the CFC22 layout the demo's stages read: frames are symlinks named `<i>.<ext>`
(videos and non-JPEG/PNG frames are decoded to PNG), gt.txt files are symlinks, metadata is written.

Domain roles: `--train-domain/--val-domain/--test-domain`, else the CFC22 names when present, else a deterministic
split of every clip (by a hash of its name) into domains `train`, `val`, `test`, with a warning.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass

import numpy as np

from common.atomic import write_json, write_text
from common.cli import check_not_inside, fail, require_dir
from dataset.frames import IMAGE_EXTS, VIDEO_EXTS, frame_index, natural_key

CFC22_ROLES = ("kenai-train", "kenai-val", "elwha")
ROLES = ("train", "val", "test")
RESERVED = ("annotations_mot", "annotations", "clean", "counts")  # top-level folders of DIR that hold no clips
LINKED_EXTS = (".jpg", ".jpeg", ".png")  # linked as they are; other image formats are decoded to PNG
SAFE_DOMAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
BOX_TOLERANCE = 1.0  # pixels a box may reach past the frame edge (0- vs 1-based rounding of annotators)
SPLIT_SHARES = {"val": 0.2, "test": 0.3}  # of the clips, when the roles come from a split
COLUMN_NAMES = {"psnr": "PSNR", "ssim": "SSIM", "nmae": "nMAE"}  # the report columns the data can rule out
MANIFEST = "own_data.json"
ROLES_FILE = "roles.txt"


@dataclass
class SourceClip:
    """One clip of the user's data: where its frames and ground truth are, and its frame size."""

    domain: str          # "" when the custom tree has no domain level
    name: str
    source: str          # folder of frames or a video file
    gt: str
    clean: str | None
    n_frames: int
    width: int
    height: int

    @property
    def is_video(self) -> bool:
        return not os.path.isdir(self.source)

    @property
    def label(self) -> str:
        return f"{self.domain}/{self.name}" if self.domain else self.name


# --------------------------------------------------------------------------------------------- discovery
def _visible(entries: list[str]) -> list[str]:
    return sorted((e for e in entries if not e.startswith(".")), key=natural_key)


def _image_files(folder: str) -> list[str]:
    return [f for f in _visible(os.listdir(folder)) if f.lower().endswith(IMAGE_EXTS)]


def detect_layout(data_dir: str) -> str:
    """'cfc22' when DIR/frames/raw exists, else 'custom'."""
    return "cfc22" if os.path.isdir(os.path.join(data_dir, "frames", "raw")) else "custom"


def _custom_entries(data_dir: str) -> list[tuple[str, str, str]]:
    """(domain, clip name, source path) of a custom tree: clips at depth 1 (no domains) or depth 2, never both."""
    found: list[tuple[str, str, str]] = []
    for entry in _visible(os.listdir(data_dir)):
        path = os.path.join(data_dir, entry)
        if entry in RESERVED or not (os.path.isdir(path) or entry.lower().endswith(VIDEO_EXTS)):
            continue
        if not os.path.isdir(path):
            found.append(("", os.path.splitext(entry)[0], path))
        elif _image_files(path):
            found.append(("", entry, path))
        else:
            for sub in _visible(os.listdir(path)):
                sp = os.path.join(path, sub)
                if os.path.isdir(sp):
                    if not _image_files(sp):
                        fail(f"wrong layout: {sp} holds no frames ({', '.join(IMAGE_EXTS)}); expected "
                             f"DIR/<domain>/<clip>/<frames> or DIR/<domain>/<clip>.mp4")
                    found.append((entry, sub, sp))
                elif sub.lower().endswith(VIDEO_EXTS):
                    found.append((entry, os.path.splitext(sub)[0], sp))
            if not any(d == entry for d, _, _ in found):
                fail(f"wrong layout: {path} holds neither frames, clip folders nor videos")
    if not found:
        fail(f"wrong layout: no clips in {data_dir}; expected DIR/frames/raw/<domain>/<clip>/ (CFC22) or "
             f"DIR/[<domain>/]<clip>/<frames> or DIR/[<domain>/]<clip>.mp4 (custom)")
    depths = {bool(d) for d, _, _ in found}
    if len(depths) > 1:
        flat = next(p for d, _, p in found if not d)
        fail(f"wrong layout: {flat} is a clip at the top of {data_dir} while other clips sit in domain folders; "
             f"use one level for all")
    return found


def _cfc22_entries(data_dir: str) -> list[tuple[str, str, str]]:
    raw = os.path.join(data_dir, "frames", "raw")
    found = []
    for domain in _visible(os.listdir(raw)):
        dpath = os.path.join(raw, domain)
        if not os.path.isdir(dpath):
            fail(f"wrong layout: {dpath} is not a domain folder (expected frames/raw/<domain>/<clip>/<frames>)")
        for clip in _visible(os.listdir(dpath)):
            cpath = os.path.join(dpath, clip)
            if not os.path.isdir(cpath) or not _image_files(cpath):
                fail(f"wrong layout: {cpath} is not a clip folder of frames (expected frames/raw/<domain>/<clip>/<i>.jpg)")
            found.append((domain, clip, cpath))
    if not found:
        fail(f"wrong layout: no clips under {raw} (expected frames/raw/<domain>/<clip>/<i>.jpg)")
    return found


def _folder_frames(folder: str) -> tuple[dict[int, str], int, int]:
    """{0-based index: file name}, width, height of a clip folder; mixed sizes or duplicate indices → error."""
    from PIL import Image

    frames: dict[int, str] = {}
    size = None
    first = ""
    for name in _image_files(folder):
        path = os.path.join(folder, name)
        idx = frame_index(name)
        if idx in frames:
            fail(f"two frames with index {idx} in {folder}: {frames[idx]} and {name}")
        frames[idx] = name
        try:
            with Image.open(path) as im:
                s = im.size
        except Exception as exc:  # PIL raises many types for a bad file
            fail(f"unreadable frame: {path} ({exc.__class__.__name__})")
        if size is None:
            size, first = s, name
        elif s != size:
            fail(f"mixed frame sizes in clip {folder}: {first} is {size[0]}x{size[1]}, {name} is {s[0]}x{s[1]}")
    return frames, size[0], size[1]


def _video_info(path: str) -> tuple[int, int, int]:
    """(frame count as the container reports it, width, height) without decoding."""
    import cv2

    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            fail(f"unreadable video: {path}")
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        cap.release()
    if n <= 0 or w <= 0 or h <= 0:
        fail(f"video has no readable frames: {path}")
    return n, w, h


def _first_existing(paths: list[str]) -> str | None:
    return next((p for p in paths if os.path.isfile(p) or os.path.isdir(p)), None)


def discover(data_dir: str) -> tuple[str, list[SourceClip]]:
    """Find every clip with its ground truth, clean frames and frame size; layout problems → one-line error."""
    require_dir(data_dir, "--data folder")
    layout = detect_layout(data_dir)
    entries = _cfc22_entries(data_dir) if layout == "cfc22" else _custom_entries(data_dir)
    clips = []
    for domain, name, source in entries:
        rel = os.path.join(domain, name) if domain else name
        gt_candidates = [os.path.join(data_dir, "annotations_mot", rel, "gt.txt")]
        if layout == "custom" and os.path.isdir(source):
            gt_candidates.insert(0, os.path.join(source, "gt.txt"))
        gt = _first_existing(gt_candidates)
        if gt is None:
            fail(f"clip without ground truth: {source} (looked for {' and '.join(gt_candidates)})")
        clean = os.path.join(data_dir, "clean", rel)
        if os.path.isdir(source):
            frames, w, h = _folder_frames(source)
            n = max(frames) + 1
        else:
            n, w, h = _video_info(source)
        clips.append(SourceClip(domain, name, source, gt, clean if os.path.isdir(clean) else None, n, w, h))
    return layout, clips


# -------------------------------------------------------------------------------------------- validation
def check_ground_truth(clip: SourceClip) -> np.ndarray:
    """The clip's MOT rows; empty file, frames past the clip or boxes outside the frame → one-line error."""
    from common.mot import read_mot

    if os.path.isdir(clip.gt):
        fail(f"ground truth is a folder, not a file: {clip.gt}")
    rows = read_mot(clip.gt)
    if len(rows) == 0:
        fail(f"empty ground truth (no boxes): {clip.gt}")
    late = rows[rows[:, 0] > clip.n_frames]
    if len(late):
        fail(f"{clip.gt}: frame {int(late[0, 0])} (track {int(late[0, 1])}) is past the clip's {clip.n_frames} frames")
    x1, y1 = rows[:, 2] - 1.0, rows[:, 3] - 1.0
    out = ((x1 < -BOX_TOLERANCE) | (y1 < -BOX_TOLERANCE) | (x1 + rows[:, 4] > clip.width + BOX_TOLERANCE)
           | (y1 + rows[:, 5] > clip.height + BOX_TOLERANCE))
    if out.any():
        r = rows[np.argmax(out)]
        fail(f"{clip.gt}: box outside the {clip.width}x{clip.height} frame in frame {int(r[0])} (track {int(r[1])}: "
             f"left {r[2]:g}, top {r[3]:g}, {r[4]:g}x{r[5]:g})")
    return rows


# -------------------------------------------------------------------------------------------------- roles
def assign_roles(clips: list[SourceClip], train: str | None, val: str | None, test: str | None
                 ) -> tuple[dict[str, list[SourceClip]], bool, list[str]]:
    """Clips per role (train/val/test), whether they come from a split, and warnings. Flags win; missing flags
    take the CFC22 names when present; with neither, every clip is split deterministically."""
    domains = sorted({c.domain for c in clips if c.domain}, key=natural_key)
    given = {"train": train, "val": val, "test": test}
    warnings: list[str] = []
    if not any(given.values()) and not all(d in domains for d in CFC22_ROLES):
        return split_clips(clips), True, [
            "no --train-domain/--val-domain/--test-domain given and no kenai-train/kenai-val/elwha domains: "
            "the clips are split deterministically (by a hash of their names) into train/val/test"]
    for role, default in zip(ROLES, CFC22_ROLES):
        if not given[role]:
            if default not in domains:
                fail(f"--{role}-domain not given and there is no {default!r} domain; give all three of "
                     f"--train-domain, --val-domain, --test-domain (domains: {', '.join(domains) or 'none'})")
            given[role] = default
    names = list(given.values())
    if len(set(names)) < 3:
        fail(f"--train-domain, --val-domain and --test-domain must name three different domains, got {', '.join(names)}")
    for role, d in given.items():
        if d not in domains:
            fail(f"--{role}-domain {d!r} is not a domain of the data (domains: {', '.join(domains) or 'none'})")
        if not SAFE_DOMAIN.match(d):
            fail(f"domain folder name {d!r} has characters other than letters, digits and ._+-; rename the folder")
    unused = [d for d in domains if d not in names]
    if unused:
        warnings.append(f"domain(s) {', '.join(unused)} have no role and are not used")
    return {role: [c for c in clips if c.domain == given[role]] for role in ROLES}, False, warnings


def split_clips(clips: list[SourceClip]) -> dict[str, list[SourceClip]]:
    """Deterministic train/val/test split of the clips by a hash of their names (at least one clip each)."""
    if len(clips) < 3:
        fail(f"only {len(clips)} clip(s): need at least 3 to split into train/val/test (or give the domain flags)")
    order = sorted(clips, key=lambda c: hashlib.sha1(c.label.encode()).hexdigest())
    n_val = max(1, round(SPLIT_SHARES["val"] * len(clips)))
    n_test = max(1, round(SPLIT_SHARES["test"] * len(clips)))
    n_train = len(clips) - n_val - n_test
    if n_train < 1:
        n_train, n_val = 1, len(clips) - 1 - n_test
    parts = {"train": order[:n_train], "val": order[n_train:n_train + n_val], "test": order[n_train + n_val:]}
    return {role: sorted(cs, key=lambda c: natural_key(c.label)) for role, cs in parts.items()}


def working_names(roles: dict[str, list[SourceClip]], split: bool) -> dict[str, list[tuple[str, SourceClip]]]:
    """Working-tree domain → [(clip name, clip)]: the user's names, or `train/val/test` and `<domain>_<clip>`."""
    out: dict[str, list[tuple[str, SourceClip]]] = {}
    for role, clips in roles.items():
        domain = role if split else clips[0].domain
        named = [((f"{c.domain}_{c.name}" if c.domain else c.name) if split else c.name, c) for c in clips]
        seen: dict[str, SourceClip] = {}
        for n, c in named:
            if n in seen:
                fail(f"clips {seen[n].source} and {c.source} get the same name {n!r}; rename one")
            seen[n] = c
        out[domain] = named
    return out


# ------------------------------------------------------------------------------------ counting and sizes
def crossing_domains(tree: dict[str, list[tuple[str, SourceClip]]], gt_rows: dict[str, np.ndarray],
                     eval_domains: list[str]) -> dict[str, int]:
    """Ground-truth left/right crossings (CFC counting rule) per evaluation domain."""
    from common.crossings import count_crossings

    totals = {}
    for d in eval_domains:
        totals[d] = sum(sum(count_crossings(gt_rows[c.gt], c.width).values()) for _, c in tree[d])
    return totals


def train_resolution(heights_widths: list[tuple[int, int]], budget: int, step: int) -> int:
    """The denoiser's training height (frames are resized to r × r/2): the largest multiple of `step` that needs
    no upsampling of the smallest frames (r ≤ H and r/2 ≤ W), capped by the preset's `budget`, at least `step`."""
    h = min(min(hw[0], 2 * hw[1]) for hw in heights_widths)
    r = min(budget, (h // step) * step)
    return max(step, r)


def saved_size_step(saved_args: str) -> tuple[int, int]:
    """(preset training height, step) for main.py flags: the step keeps r and r/2 multiples of the network's
    size multiple."""
    import shlex

    from dataset.layouts import train_size
    from main import parse_args
    from models import size_multiple
    from models.training import model_config_for

    args = parse_args(["--base_folder", ".", *shlex.split(saved_args)])
    budget = int(args.train_resolution or args.resolution_target)
    mult = size_multiple(model_config_for(args, train_size("CFC22", budget)))
    return budget, 2 * mult


# ---------------------------------------------------------------------------------------- working tree
def _link(target: str, link: str) -> None:
    from dataset.symlinks import link_path

    link_path(target, link)


def _decode_to(clip: SourceClip, out_dir: str) -> int:
    """Decode a video (or non-JPEG/PNG frames) to `<i>.png` in out_dir, once (a finished folder is kept)."""
    from dataset.frames import read_frame, read_video, write_frame

    if os.path.isdir(out_dir):
        return len(os.listdir(out_dir))
    partial = os.path.join(os.path.dirname(out_dir), f".partial-{os.path.basename(out_dir)}")
    shutil.rmtree(partial, ignore_errors=True)
    if clip.is_video:
        for i, img in enumerate(read_video(clip.source)):
            write_frame(os.path.join(partial, f"{i}.png"), img)
    else:
        for name in _image_files(clip.source):
            write_frame(os.path.join(partial, f"{frame_index(name)}.png"), read_frame(os.path.join(clip.source, name)))
    os.replace(partial, out_dir)
    return len(os.listdir(out_dir))


def _link_frames(folder: str, out_dir: str) -> None:
    for name in _image_files(folder):
        _link(os.path.join(folder, name), os.path.join(out_dir, f"{frame_index(name)}{os.path.splitext(name)[1].lower()}"))


def _metadata(data_dir: str, layout: str, clip: SourceClip) -> dict:
    """The user's metadata entry of the clip (CFC22 annotations/<domain>.json), if any."""
    path = os.path.join(data_dir, "annotations", f"{clip.domain}.json")
    if layout != "cfc22" or not os.path.isfile(path):
        return {}
    from dataset.annotations import load_metadata

    return load_metadata(path).get(clip.name, {})


def build_tree(data_dir: str, layout: str, out: str, tree: dict[str, list[tuple[str, SourceClip]]]) -> dict:
    """Write the CFC22-layout working tree under `out`; returns {domain: {clip: source}}."""
    from dataset.symlinks import flatten_dirs

    sources: dict[str, dict[str, str]] = {}
    rels = []
    for domain, named in tree.items():
        meta = []
        for name, clip in named:
            fdir = os.path.join(out, "frames", "raw", domain, name)
            if clip.is_video or any(not f.lower().endswith(LINKED_EXTS) for f in _image_files(clip.source)):
                n = _decode_to(clip, fdir)
            else:
                _link_frames(clip.source, fdir)
                n = clip.n_frames
            _link(clip.gt, os.path.join(out, "annotations_mot", domain, name, "gt.txt"))
            if clip.clean:
                _link_frames(clip.clean, os.path.join(out, "clean", domain, name))
            entry = {"clip_name": name, "num_frames": n, "width": clip.width, "height": clip.height}
            user = _metadata(data_dir, layout, clip)
            entry.update({k: user[k] for k in ("upstream_direction", "framerate") if k in user})
            meta.append(entry)
            sources[domain] = {**sources.get(domain, {}), name: clip.source}
            rels.append(os.path.join(domain, name))
        write_json(os.path.join(out, "annotations", f"{domain}.json"), meta)
    flatten_dirs(os.path.join(out, "frames", "raw"), os.path.join(out, "frames", "raw_all"), rels, "-")
    flatten_dirs(os.path.join(out, "annotations_mot"), os.path.join(out, "annotations_mot_all"), rels, "-")
    return sources


# ------------------------------------------------------------------------------------------------- driver
def prepare(data_dir: str, out: str, train: str | None = None, val: str | None = None, test: str | None = None,
            count: str = "auto", saved_args: str | None = None, log=print) -> dict:
    """Validate DIR, then build the working tree under `out`; returns the manifest (also `out/own_data.json`,
    and the roles as `key=value` lines in `out/roles.txt` for demo.sh)."""
    import sys

    data_dir = os.path.abspath(data_dir)
    out = os.path.abspath(out)
    check_not_inside(out, data_dir)
    if (data_dir + os.sep).startswith(out.rstrip(os.sep) + os.sep):
        fail(f"--data {data_dir} is inside the output folder {out}; choose another --out")
    if count not in ("auto", "crossings", "none"):
        fail(f"--count must be auto, crossings or none, got {count!r}")
    layout, clips = discover(data_dir)
    gt_rows = {c.gt: check_ground_truth(c) for c in clips}
    roles, split, warnings = assign_roles(clips, train, val, test)
    tree = working_names(roles, split)
    domains = list(tree)
    eval_domains = domains[1:]
    crossings = crossing_domains(tree, gt_rows, eval_domains)
    missing: dict[str, str] = {}
    if count == "none":
        count_domains: list[str] = []
        missing["nmae"] = "--count none: no left/right crossing semantics; per-frame count MAE instead"
    else:
        count_domains = [d for d in eval_domains if crossings[d] > 0]
        if domains[2] not in count_domains:
            if count == "crossings":
                fail(f"--count crossings, but no ground-truth track of the test domain {domains[2]!r} crosses the "
                     f"frame's middle; use --count none")
            count_domains = []
            missing["nmae"] = (f"no ground-truth track of {domains[2]} crosses the frame's middle (CFC counting rule), "
                               f"so nMAE is undefined; per-frame count MAE instead")
    test_clips = [c for _, c in tree[domains[2]]]
    if not all(c.clean for c in test_clips):
        missing["psnr"] = missing["ssim"] = (f"no clean frames for the test clips (DIR/clean/"
                                             f"{'<domain>/' if test_clips[0].domain else ''}<clip>/)")
    resolution = None
    if saved_args:
        budget, step = saved_size_step(saved_args)
        resolution = train_resolution([(c.height, c.width) for cs in roles.values() for c in cs], budget, step)
    request = {"data": data_dir, "train": train, "val": val, "test": test, "count": count}
    manifest_path = os.path.join(out, MANIFEST)
    if os.path.isfile(manifest_path):
        with open(manifest_path, encoding="utf-8") as f:
            old = json.load(f).get("request")
        if old != request:
            fail(f"{out} was prepared from other input or flags ({old}); choose another --out or delete it")
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    sources = build_tree(data_dir, layout, out, tree)
    manifest = {"request": request, "layout": layout, "split": split, "roles": dict(zip(ROLES, domains)),
                "count_domains": count_domains, "crossings": crossings, "missing": missing,
                "train_resolution": resolution, "clips": sources,
                "frame_sizes": sorted({f"{c.width}x{c.height}" for c in clips})}
    manifest["report"] = report_info(manifest)
    write_json(manifest_path, manifest)
    lines = [f"{role}={d}" for role, d in zip(ROLES, domains)]
    lines += [f"count_domains={' '.join(count_domains)}", f"train_resolution={resolution or ''}"]
    write_text(os.path.join(out, ROLES_FILE), "\n".join(lines) + "\n")
    log(f"[data] {layout} layout, {len(clips)} clip(s), frame sizes {', '.join(manifest['frame_sizes'])} (WxH); "
        + ", ".join(f"{role} = {d} ({len(tree[d])} clip(s))" for role, d in zip(ROLES, domains)))
    if resolution:
        log(f"[data] the denoiser trains at {resolution}x{resolution // 2} (HxW; preset budget {budget}x{budget // 2})")
    for reason in dict.fromkeys(missing.values()):
        log(f"[skip] {'/'.join(COLUMN_NAMES[k] for k, v in missing.items() if v == reason)}: {reason}")
    return manifest


def report_info(manifest: dict) -> dict:
    """What the report needs to know about the data: a description, the train domain, the missing columns with
    their reasons, and whether counts are per frame (no crossing semantics)."""
    roles = manifest["roles"]
    how = "a deterministic split of the clips" if manifest["split"] else "the domain folders"
    return {"description": f"Test domain `{roles['test']}` of the annotated data in `{manifest['request']['data']}` "
                           f"({manifest['layout']} layout; roles from {how}); one YOLO detector trained per input kind "
                           f"on `{roles['train']}`, validated on `{roles['val']}`.",
            "train_domain": roles["train"], "missing": manifest["missing"],
            "per_frame_counts": not manifest["count_domains"]}

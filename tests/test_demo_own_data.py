"""demo.sh --data DIR: the whole comparison on a user's own annotated video.

One generated dataset (the --quick preset's size) is rewritten into (a) the CFC22 layout with other domain names,
(b) the custom layout with video files and no domain flags (deterministic split), (c) custom clip folders without
clean frames and without crossings; each runs `demo.sh --quick --data` end to end and writes a report whose rows
and columns match what the data allows. Every bad input fails before training with one line naming the file, and
the input tree is byte-identical after every run (hash of names, bytes and links)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from downstream.report_table import Row, validate

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = dict(clips_per_domain=1, frames=30, height=128, width=64, fish_per_clip=2, seed=0)  # demo.sh --quick sizes
CFC = ("kenai-train", "kenai-val", "elwha")
ROWS = ["raw", "Baseline++", "SAVeD"]
DOWNSTREAM = {"map50", "map50_95", "hota", "mota", "idf1", "train_s", "infer_s"}


def tree_hash(root: str) -> str:
    """Digest of every name, file content and symlink target under root."""
    h = hashlib.sha256()
    for d, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        h.update(f"D {os.path.relpath(d, root)}\n".encode())
        for f in sorted(files):
            p = os.path.join(d, f)
            h.update(f"F {f}\n".encode())
            if os.path.islink(p):
                h.update(os.readlink(p).encode())
            else:
                with open(p, "rb") as fh:
                    h.update(fh.read())
    return h.hexdigest()


def run_demo(data: str, out: str, *flags: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    return subprocess.run(["bash", "demo.sh", "--quick", "--data", data, "--out", out, *flags], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> str:
    """The synthetic benchmark at the --quick preset's size (CFC22 layout, clean frames, crossing fish)."""
    from dataset.synthetic import generate

    root = str(tmp_path_factory.mktemp("generated"))
    generate(root, layout="cfc22", progress=False, **QUICK)
    return root


def _copy_clip_files(src: str, dst: str) -> None:
    os.makedirs(dst, exist_ok=True)
    for f in os.listdir(src):
        shutil.copyfile(os.path.join(src, f), os.path.join(dst, f))


def as_cfc22(gen: str, root: str, names: dict[str, str]) -> str:
    """CFC22 layout with the domains renamed (frames, gt.txt, clean frames)."""
    for old, new in names.items():
        for sub in ("frames/raw", "annotations_mot", "clean"):
            for clip in os.listdir(os.path.join(gen, sub, old)):
                _copy_clip_files(os.path.join(gen, sub, old, clip), os.path.join(root, sub, new, clip))
    return root


def as_custom_videos(gen: str, root: str, names: dict[str, str]) -> str:
    """Custom layout: <domain>/<clip>.mp4, annotations_mot/<domain>/<clip>/gt.txt, clean/<domain>/<clip>/."""
    from dataset.frames import read_clip_array
    from dataset.synthetic import _write_video

    for old, new in names.items():
        for clip in os.listdir(os.path.join(gen, "frames/raw", old)):
            _write_video(os.path.join(root, new, f"{clip}.mp4"), read_clip_array(os.path.join(gen, "frames/raw", old, clip)), 10.0)
            for sub in ("annotations_mot", "clean"):
                _copy_clip_files(os.path.join(gen, sub, old, clip), os.path.join(root, sub, new, clip))
    return root


def without_crossings(rows: np.ndarray, width: int) -> np.ndarray:
    """Cut every track where its box centre first reaches the other half of the frame (no crossing left)."""
    keep = []
    for tid in np.unique(rows[:, 1]):
        track = rows[rows[:, 1] == tid]
        track = track[np.argsort(track[:, 0])]
        side = (track[:, 2] - 1 + track[:, 4] / 2) >= width / 2
        n = int(np.argmax(side != side[0])) if (side != side[0]).any() else len(track)
        keep.append(track[:n])
    return np.vstack(keep)


def as_custom_no_clean_no_crossings(gen: str, root: str) -> str:
    """Custom layout: <domain>/<clip>/frame<i>.jpg with gt.txt inside the clip folder; no clean frames; no track
    crosses the frame's middle."""
    from common.crossings import count_crossings
    from common.mot import read_mot, write_mot

    for d in CFC:
        for clip in os.listdir(os.path.join(gen, "frames/raw", d)):
            dst = os.path.join(root, d, clip)
            os.makedirs(dst)
            for f in os.listdir(os.path.join(gen, "frames/raw", d, clip)):
                shutil.copyfile(os.path.join(gen, "frames/raw", d, clip, f), os.path.join(dst, f"frame{f}"))
            rows = without_crossings(read_mot(os.path.join(gen, "annotations_mot", d, clip, "gt.txt")), QUICK["width"])
            assert count_crossings(rows, QUICK["width"]) == {"left": 0, "right": 0} and len(rows)
            write_mot(os.path.join(dst, "gt.txt"), rows)
    return root


def check_run(r: subprocess.CompletedProcess, out: str, columns: set[str], absent: set[str]) -> dict:
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert list(metrics["rows"]) == ROWS
    assert validate([Row(k, v) for k, v in metrics["rows"].items()]) == []
    for kind, values in metrics["rows"].items():
        assert DOWNSTREAM | (columns - {"psnr", "ssim"}) <= set(values), kind
        assert not absent & set(values), kind
    for key in ("psnr", "ssim"):
        assert (key in metrics["rows"]["SAVeD"]) == (key in columns)
    report = open(os.path.join(out, "report.md")).read()
    for kind in ROWS:
        assert f"| {kind} |" in report
    return metrics


@pytest.mark.parametrize("bad", ["layout", "no_gt", "empty_gt", "box_outside", "mixed_sizes", "out_inside"])
def test_bad_input_fails_before_training_and_writes_nothing(generated, tmp_path, bad):
    data = as_cfc22(generated, str(tmp_path / "data"), {d: d for d in CFC})
    clip = os.path.join(data, "frames/raw/elwha/clip000")
    gt = os.path.join(data, "annotations_mot/elwha/clip000/gt.txt")
    named = {"layout": os.path.join(data, "frames/raw/elwha/clip001"), "no_gt": clip, "empty_gt": gt,
             "box_outside": gt, "mixed_sizes": clip, "out_inside": data}[bad]
    out = os.path.join(data, "results") if bad == "out_inside" else str(tmp_path / "out")
    if bad == "layout":  # a clip folder without frames
        os.makedirs(named)
        open(os.path.join(named, "notes.txt"), "w").write("no frames here\n")
    elif bad == "no_gt":
        os.remove(gt)
    elif bad == "empty_gt":
        open(gt, "w").close()
    elif bad == "box_outside":
        with open(gt, "a") as f:
            f.write("5,99,60,10,20,8,-1,-1,-1,-1\n")  # 60 + 20 > 64 pixels wide
    elif bad == "mixed_sizes":
        import cv2

        cv2.imwrite(os.path.join(clip, "7.jpg"), np.zeros((100, 64), np.uint8))
    before = tree_hash(data)
    r = run_demo(data, out, timeout=120)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and named in lines[0], r.stderr
    assert tree_hash(data) == before
    assert not os.path.exists(out)
    assert "[run ]" not in r.stdout


def test_role_flags_checked_before_training(generated, tmp_path):
    data = as_cfc22(generated, str(tmp_path / "data"), {"kenai-train": "a", "kenai-val": "b", "elwha": "c"})
    r = run_demo(data, str(tmp_path / "out"), "--train-domain", "a", timeout=120)
    assert r.returncode != 0 and "--val-domain" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run_demo(data, str(tmp_path / "out"), "--train-domain", "a", "--val-domain", "b", "--test-domain", "x",
                 timeout=120)
    assert r.returncode != 0 and "'x' is not a domain" in r.stderr
    assert not os.path.exists(tmp_path / "out")


def test_cfc22_layout_other_domain_names(generated, tmp_path):
    data = as_cfc22(generated, str(tmp_path / "data"), {"kenai-train": "site-a", "kenai-val": "site-b",
                                                         "elwha": "site-c"})
    before, out = tree_hash(data), str(tmp_path / "out")
    r = run_demo(data, out, "--train-domain", "site-a", "--val-domain", "site-b", "--test-domain", "site-c")
    metrics = check_run(r, out, {"psnr", "ssim", "nmae"}, {"count_mae"})
    assert metrics["test_domain"] == "site-c" and metrics["train_domain"] == "site-a"
    assert not metrics["missing"]
    # the test domain, per detector seed (the validation domain only validates the detectors now)
    assert os.path.isfile(os.path.join(out, "downstream/SAVeD/seed0/site-c/metrics_count.json"))
    assert tree_hash(data) == before


def test_custom_layout_videos_split(generated, tmp_path):
    data = as_custom_videos(generated, str(tmp_path / "data"), {"kenai-train": "river1", "kenai-val": "river2",
                                                                 "elwha": "river3"})
    before, out = tree_hash(data), str(tmp_path / "out")
    r = run_demo(data, out)
    assert "clips are split deterministically" in r.stderr
    metrics = check_run(r, out, {"psnr", "ssim", "nmae"}, {"count_mae"})
    roles = json.load(open(os.path.join(out, "data/own_data.json")))
    assert roles["split"] and roles["roles"] == {"train": "train", "val": "val", "test": "test"}
    assert metrics["test_domain"] == "test"
    test_clip = next(iter(roles["clips"]["test"]))
    assert sorted(os.listdir(os.path.join(out, "data/frames/raw/test", test_clip))) == sorted(f"{i}.png" for i in range(30))
    assert tree_hash(data) == before


def test_custom_no_clean_no_crossings_and_resume(generated, tmp_path):
    data = as_custom_no_clean_no_crossings(generated, str(tmp_path / "data"))
    before, out = tree_hash(data), str(tmp_path / "out")
    r = run_demo(data, out)
    metrics = check_run(r, out, {"count_mae"}, {"psnr", "ssim", "nmae"})
    assert "[skip] count_SAVeD_seed0_elwha" in r.stdout and "PSNR/SSIM" in r.stdout
    report = open(os.path.join(out, "report.md")).read()
    assert "## Missing from this table" in report and "count MAE/frame" in report
    assert any(m.startswith("PSNR (dB), SSIM: no clean frames") for m in metrics["missing"])
    assert any(m.startswith("nMAE: no ground-truth track of elwha crosses") for m in metrics["missing"])
    again = run_demo(data, out, timeout=300)
    assert again.returncode == 0 and "[run ]" not in again.stdout, again.stderr[-2000:]
    crossings = run_demo(data, out, "--count", "crossings", timeout=120)  # the data has none to count
    assert crossings.returncode != 0 and "no ground-truth track of the test domain 'elwha' crosses" in crossings.stderr
    other = run_demo(data, out, "--count", "none", timeout=120)  # valid, but not what this --out was built from
    assert other.returncode != 0 and "prepared from other input" in other.stderr
    assert tree_hash(data) == before


# ---- the adapter's pieces, hand-computed (no training) -----------------------------------------------------
def _tiny_clip(folder: str, n: int = 3, size: tuple[int, int] = (32, 16), gt: str = "1,1,2,2,4,4,-1,-1,-1,-1\n") -> None:
    import cv2

    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        cv2.imwrite(os.path.join(folder, f"frame{i}.png"), np.full(size, 40 * i, np.uint8))
    if gt is not None:
        open(os.path.join(folder, "gt.txt"), "w").write(gt)


def test_train_resolution_follows_frames_within_budget():
    from dataset.own_data import train_resolution

    assert train_resolution([(128, 64)], budget=128, step=128) == 128
    # the smallest frame (480 high, landscape) allows 384 = 3 x 128 without upsampling; the budget 512 is not reached
    assert train_resolution([(480, 640), (1024, 512)], budget=512, step=128) == 384
    assert train_resolution([(2048, 1024)], budget=512, step=128) == 512          # capped by the preset
    assert train_resolution([(100, 40)], budget=128, step=128) == 128             # never below one step


def test_per_frame_count_errors_hand_case():
    from downstream.counting import per_frame_count_errors

    def rows(frames):
        return np.array([[f, 1, 1, 1, 2, 2, -1, -1, -1, -1] for f in frames], float).reshape(-1, 10)

    # predicted per frame [2, 1, 0] (frame 5 is past the clip), true [1, 0, 3]
    errs = per_frame_count_errors(rows([1, 1, 2, 5]), rows([1, 3, 3, 3]), 3)
    assert errs.tolist() == [1, 1, 3] and errs.mean() == pytest.approx(5 / 3)


def test_split_is_deterministic_and_complete(tmp_path):
    from dataset.own_data import SourceClip, split_clips

    clips = [SourceClip("d", f"c{i}", f"/x/c{i}", "/x/gt.txt", None, 3, 16, 32) for i in range(10)]
    a, b = split_clips(clips), split_clips(list(reversed(clips)))
    assert {k: [c.name for c in v] for k, v in a.items()} == {k: [c.name for c in v] for k, v in b.items()}
    assert [len(a[r]) for r in ("train", "val", "test")] == [5, 2, 3]
    assert sorted(c.name for v in a.values() for c in v) == sorted(c.name for c in clips)


def test_custom_tree_without_domains_is_split(tmp_path, capsys):
    from dataset.own_data import prepare

    data = tmp_path / "data"
    for name in ("c1", "c2", "c3"):
        _tiny_clip(str(data / name))
    before = tree_hash(str(data))
    manifest = prepare(str(data), str(tmp_path / "work"))
    assert manifest["split"] and manifest["layout"] == "custom"
    assert sorted(n for d in manifest["clips"].values() for n in d) == ["c1", "c2", "c3"]
    assert manifest["missing"]["psnr"].startswith("no clean frames")
    test_clip = next(iter(manifest["clips"]["test"]))
    assert sorted(os.listdir(tmp_path / "work/frames/raw/test" / test_clip)) == ["0.png", "1.png", "2.png"]
    assert os.path.islink(tmp_path / "work/annotations_mot/test" / test_clip / "gt.txt")
    assert "split deterministically" in capsys.readouterr().err
    assert tree_hash(str(data)) == before


def test_clips_at_two_depths_are_a_wrong_layout(tmp_path):
    from common.cli import UserError
    from dataset.own_data import discover

    _tiny_clip(str(tmp_path / "c1"))
    _tiny_clip(str(tmp_path / "dom" / "c2"))
    with pytest.raises(UserError, match=r"wrong layout: .*c1 is a clip at the top"):
        discover(str(tmp_path))

"""inference/ (engine, denoiser, output) with dataset/clips.py: clip discovery, sharding, output mapping, the
windowed network path with encoder reuse, and whole-tree runs (names, sizes, resume, previews, errors) on
synthetic and real clips."""
from __future__ import annotations

import os

import numpy as np
import pytest

from common.cli import UserError
from dataset.frames import list_frames, read_clip_array, read_frame
from common.imaging import to_uint8
from dataset.clips import Clip, find_clips
from inference.denoiser import Denoiser, network_size
from inference.engine import InferenceOptions, RunSpec, denoise_tree, parse_shard, select_shard
from inference.output import map_output
from tests.inference.helpers import TINY_CNN, write_clip


def _spec(ckpt: str, inp: str, out: str, **opts) -> RunSpec:
    opts.setdefault("progress", False)
    opts.setdefault("batch_size", 4)
    return RunSpec(checkpoint=ckpt, input_dir=inp, opts=InferenceOptions(output_dir=out, **opts), prefer_ext=".jpg")


def _stems(folder: str) -> list[str]:
    return [os.path.splitext(os.path.basename(p))[0] for p in list_frames(folder)]


# ------------------------------------------------------------------------------------------------ discovery
def test_find_clips_domain_nested_single_and_video(tmp_path, noisy_frames):
    write_clip(str(tmp_path / "dom" / "clip10"), noisy_frames[:2], "jpg")
    write_clip(str(tmp_path / "dom" / "clip2"), noisy_frames[:2], "jpg")
    write_clip(str(tmp_path / "dom" / "deep" / "clipA"), noisy_frames[:2], "png")
    (tmp_path / "dom" / ".hidden").mkdir()
    clips = find_clips(str(tmp_path / "dom"))
    assert [c.name for c in clips] == ["clip2", "clip10", os.path.join("deep", "clipA")]
    single = find_clips(str(tmp_path / "dom" / "clip2"))
    assert [(c.name, len(c.frame_paths)) for c in single] == [("", 2)]
    assert single[0].out_dir("/o") == "/o"


def test_find_clips_prefers_the_script_frame_type_but_accepts_others(tmp_path, noisy_frames):
    write_clip(str(tmp_path / "a"), noisy_frames[:3], "jpg")
    write_clip(str(tmp_path / "a"), noisy_frames[:1], names=["thumb.png"])
    write_clip(str(tmp_path / "b"), noisy_frames[:2], "png")
    clips = {c.name: c for c in find_clips(str(tmp_path), prefer_ext=".jpg")}
    assert [os.path.basename(p) for p in clips["a"].frame_paths] == ["0.jpg", "1.jpg", "2.jpg"]
    assert [os.path.basename(p) for p in clips["b"].frame_paths] == ["0.png", "1.png"]


def test_find_clips_errors(tmp_path, noisy_frames):
    (tmp_path / "empty" / "clip").mkdir(parents=True)
    with pytest.raises(UserError, match="no frames or videos found"):
        find_clips(str(tmp_path / "empty"))
    with pytest.raises(UserError, match="input not found"):
        find_clips(str(tmp_path / "nope"))
    write_clip(str(tmp_path / "dup"), noisy_frames[:1], names=["0.png"])
    write_clip(str(tmp_path / "dup"), noisy_frames[:1], names=["0.tif"])
    with pytest.raises(UserError, match="same name stem"):
        find_clips(str(tmp_path / "dup"))


def test_shards_partition_the_sorted_clips():
    clips = [Clip(f"c{i}", f"/x/c{i}", ["f"]) for i in range(5)]
    assert parse_shard("2/3") == (2, 3)
    assert [c.name for c in select_shard(clips, (1, 3))] == ["c0", "c3"]
    assert [c.name for c in select_shard(clips, (2, 3))] == ["c1", "c4"]
    assert [c.name for c in select_shard(clips, (3, 3))] == ["c2"]
    with pytest.raises(UserError, match="K/N"):
        parse_shard("2-3")
    with pytest.raises(UserError, match="1 <= K <= N"):
        parse_shard("0/3")


# ------------------------------------------------------------------------------------------------ mapping
def test_output_mapping_by_hand():
    x = np.array([[0.5, 1.0], [1.5, 2.5]], dtype=np.float32)
    assert map_output(x, "frame").tolist() == [[0, 64], [128, 255]]          # (x-0.5)/2*255, rounded
    assert map_output(x, "clip", (0.0, 5.0)).tolist() == [[26, 51], [76, 128]]
    assert map_output(x, "none").tolist() == [[128, 255], [255, 255]]        # fixed [0,1] range, clipped
    const = np.full((3, 4), 0.7, dtype=np.float32)
    assert map_output(const, "frame").tolist() == np.zeros((3, 4), np.uint8).tolist()  # no division by zero
    assert to_uint8(const, 0.7, 0.7).dtype == np.uint8


def test_network_size_prefers_the_checkpoint_resolution():
    assert network_size({"input_height": 64, "input_width": 32}, 1024, 0.5) == (64, 32)
    assert network_size({"resolution_target": 1024}, None, 0.5) == (1024, 512)  # the paper's res x res/2
    assert network_size({"resolution_target": 512}, 1024, 1.0) == (1024, 1024)  # CVA/Fluo trained square


# ------------------------------------------------------------------------------------------------ network path
@pytest.fixture(scope="module")
def tiny_model():
    import torch

    from models import build_model

    torch.manual_seed(0)
    return build_model(TINY_CNN)


def test_encoder_reuse_equals_plain_windows_with_edge_replication(tiny_model, noisy_frames):
    import torch
    import torch.nn.functional as F

    n = len(noisy_frames)
    reuse = Denoiser(tiny_model, TINY_CNN, (64, 32), batch_size=3, reuse_encoder=True)
    plain = Denoiser(tiny_model, TINY_CNN, (64, 32), batch_size=2, reuse_encoder=False)
    assert reuse.reuse_encoder and not plain.reuse_encoder
    a = dict(reuse.run(noisy_frames, n))
    b = dict(plain.run(iter(noisy_frames), n))
    assert sorted(a) == list(range(n)) and a[0].shape == (50, 30)
    # By hand, one frame at a time: window [t, t-1, t-2] with the first frame replicated before the clip.
    x = torch.from_numpy(noisy_frames).float().div(255).unsqueeze(1)
    x = F.interpolate(x, size=(64, 32), mode="bilinear", align_corners=False, antialias=True)
    for t in range(n):
        win = torch.cat([x[max(t - k, 0)] for k in range(3)]).unsqueeze(0)
        with torch.no_grad():
            y = F.interpolate(tiny_model(win), size=(50, 30), mode="bicubic", align_corners=False, antialias=True)
        np.testing.assert_allclose(a[t], y[0, 0].numpy(), atol=1e-5)
        np.testing.assert_allclose(b[t], a[t], atol=1e-5)


def test_run_on_a_subset_of_targets_matches_the_full_run(tiny_model, noisy_frames):
    den = Denoiser(tiny_model, TINY_CNN, (64, 32), batch_size=2)
    full = dict(den.run(noisy_frames, 7))
    part = dict(den.run(noisy_frames, 7, targets=[6, 1, 4]))
    assert sorted(part) == [1, 4, 6]
    for t in part:
        np.testing.assert_allclose(part[t], full[t], atol=1e-6)


def test_bf16_precision_runs_close_to_fp32(tiny_model, noisy_frames):
    fp32 = dict(Denoiser(tiny_model, TINY_CNN, (64, 32)).run(noisy_frames, 7))
    bf16 = dict(Denoiser(tiny_model, TINY_CNN, (64, 32), precision="bf16").run(noisy_frames, 7))
    scale = max(float(np.abs(v).max()) for v in fp32.values()) + 1e-6
    assert max(float(np.abs(fp32[t] - bf16[t]).max()) for t in fp32) / scale < 0.1


# ------------------------------------------------------------------------------------------------ whole trees
def test_synthetic_domain_every_frame_same_names_and_sizes(synthetic_cfc22, tiny_ckpt, tmp_path):
    domain = os.path.join(synthetic_cfc22, "frames", "raw", "kenai-val")
    out = str(tmp_path / "out")
    s = denoise_tree(_spec(tiny_ckpt, domain, out))
    clips = sorted(os.listdir(domain))
    assert sorted(os.listdir(out)) == clips
    assert s["written"] == sum(len(list_frames(os.path.join(domain, c))) for c in clips) and s["encoder_reuse"]
    for c in clips:
        assert _stems(os.path.join(out, c)) == _stems(os.path.join(domain, c))
        raw, den = read_clip_array(os.path.join(domain, c)), read_clip_array(os.path.join(out, c))
        assert den.shape == raw.shape
        assert all(f.min() == 0 and f.max() == 255 for f in den)  # the paper's per-frame stretch
        assert all(p.endswith(".png") for p in list_frames(os.path.join(out, c)))


def test_interrupted_run_resumes_without_recomputing(tmp_path, tiny_ckpt, noisy_frames):
    write_clip(str(tmp_path / "dom" / "c1"), noisy_frames, "jpg")
    write_clip(str(tmp_path / "dom" / "c2"), noisy_frames[:4], "jpg")
    out = str(tmp_path / "out")
    first = denoise_tree(_spec(tiny_ckpt, str(tmp_path / "dom"), out, max_frames=5))
    assert first["written"] == 5 and len(os.listdir(tmp_path / "out" / "c1")) == 5
    stamps = {p: os.stat(p).st_mtime_ns for p in list_frames(str(tmp_path / "out" / "c1"))}
    second = denoise_tree(_spec(tiny_ckpt, str(tmp_path / "dom"), out))
    assert (second["written"], second["skipped"]) == (6, 5)
    assert all(os.stat(p).st_mtime_ns == m for p, m in stamps.items())
    assert _stems(out + "/c1") == [str(i) for i in range(7)] and _stems(out + "/c2") == ["0", "1", "2", "3"]
    # The resumed frames equal a from-scratch run.
    fresh = str(tmp_path / "fresh")
    denoise_tree(_spec(tiny_ckpt, str(tmp_path / "dom"), fresh))
    np.testing.assert_array_equal(read_clip_array(out + "/c1"), read_clip_array(fresh + "/c1"))
    third = denoise_tree(_spec(tiny_ckpt, str(tmp_path / "dom"), out, overwrite=True))
    assert third["written"] == 11


def test_clip_and_none_normalization_and_constant_frames(tmp_path, tiny_ckpt, noisy_frames):
    frames = noisy_frames.copy()
    frames[3] = 77  # a constant frame inside the clip
    write_clip(str(tmp_path / "clip"), frames, "png")
    clip_out = str(tmp_path / "clipnorm")
    denoise_tree(_spec(tiny_ckpt, str(tmp_path / "clip"), clip_out, normalize="clip"))
    den = read_clip_array(clip_out)
    assert den.shape == frames.shape and den.min() == 0 and den.max() == 255
    assert sum(int(f.min() == 0 and f.max() == 255) for f in den) < len(den)  # one stretch, not one per frame
    none_out = str(tmp_path / "none")
    denoise_tree(_spec(tiny_ckpt, str(tmp_path / "clip"), none_out, normalize="none", fmt="tif"))
    raw_float = read_frame_unchanged(os.path.join(none_out, "3.tif"))
    assert raw_float.dtype == np.float32 and raw_float.shape == (50, 30)  # the paper's Fluo float TIFF
    frame_out = str(tmp_path / "frame")
    denoise_tree(_spec(tiny_ckpt, str(tmp_path / "clip"), frame_out, fmt="jpg"))
    assert sorted(os.listdir(frame_out)) == sorted(f"{i}.jpg" for i in range(7))


def read_frame_unchanged(path: str) -> np.ndarray:
    import cv2

    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


def test_sixteen_bit_frames_and_preview(tmp_path, tiny_ckpt, noisy_frames):
    import cv2
    from PIL import Image

    clip = tmp_path / "fluo" / "seq01"
    clip.mkdir(parents=True)
    for i, f in enumerate(noisy_frames):
        cv2.imwrite(str(clip / f"t{i:03d}.tif"), f.astype(np.uint16) * 257)
    out = str(tmp_path / "out")
    denoise_tree(_spec(tiny_ckpt, str(tmp_path / "fluo"), out, fmt="tif", preview=True))
    assert _stems(os.path.join(out, "seq01")) == [f"t{i:03d}" for i in range(7)]
    assert read_frame(os.path.join(out, "seq01", "t000.tif")).shape == (50, 30)
    with Image.open(os.path.join(out, "_previews", "seq01.gif")) as gif:
        assert gif.n_frames == 7 and gif.size == (60, 50)  # raw | denoised side by side


def test_errors_are_one_line_user_errors(tmp_path, tiny_ckpt, noisy_frames):
    write_clip(str(tmp_path / "dom" / "c1"), noisy_frames, "png")
    with pytest.raises(UserError, match="inside the input"):
        denoise_tree(_spec(tiny_ckpt, str(tmp_path / "dom"), str(tmp_path / "dom" / "c1" / "out")))
    mixed = tmp_path / "mixed"
    write_clip(str(mixed), noisy_frames[:3], "png")
    write_clip(str(mixed), np.zeros((1, 20, 20), np.uint8), names=["3.png"])
    with pytest.raises(UserError, match=r"mixed frame sizes.*3\.png"):
        denoise_tree(_spec(tiny_ckpt, str(mixed), str(tmp_path / "o1")))
    broken = tmp_path / "broken"
    write_clip(str(broken), noisy_frames[:3], "png")
    (broken / "1.png").write_bytes(b"not an image")
    with pytest.raises(UserError, match=r"unreadable frame: .*broken.1\.png"):
        denoise_tree(_spec(tiny_ckpt, str(broken), str(tmp_path / "o2")))
    (tmp_path / "void" / "clip").mkdir(parents=True)
    with pytest.raises(UserError, match="no frames or videos"):
        denoise_tree(_spec(tiny_ckpt, str(tmp_path / "void"), str(tmp_path / "o3")))


# ------------------------------------------------------------------------------------------------ real clips
def test_real_sonar_video_and_fluorescence_folder(shared_data, tiny_ckpt, tmp_path):
    video = os.path.join(shared_data, "didson_sonar", "lamprey1.avi")
    out = str(tmp_path / "sonar")
    s = denoise_tree(_spec(tiny_ckpt, video, out, batch_size=8))
    assert s["written"] == 150
    assert _stems(out) == [str(i) for i in range(150)] and read_frame(os.path.join(out, "149.png")).shape == (774, 400)
    fluo = os.path.join(shared_data, "fluoro_ctc")
    out = str(tmp_path / "fluo")
    denoise_tree(_spec(tiny_ckpt, fluo, out))
    assert _stems(out) == _stems(fluo)
    assert read_clip_array(out).shape == read_clip_array(fluo).shape == (48, 200, 200)


@pytest.mark.parametrize("model_type", ["udvd", "unet_tiny_3d"])
def test_windows_with_future_frames_and_3d_input(model_type):
    """UDVD reads t-2..t+2 and the 3-D U-Net a 31-frame B×1×H×W×T window (per-window min-max,
    docs/paper_code_behaviour.md#value-ranges): the engine
    reads ahead far enough and replicates the last frame past the clip end."""
    import torch
    import torch.nn.functional as F

    from models import build_model

    torch.manual_seed(0)
    cfg = dict(model_type=model_type, input_height=16, input_width=16)
    model = build_model(cfg).eval()
    frames = np.random.default_rng(1).integers(0, 256, size=(5, 20, 12), dtype=np.uint8)
    got = dict(Denoiser(model, cfg, (16, 16), batch_size=2).run(iter(frames), 5))
    x = F.interpolate(torch.from_numpy(frames).float().div(255).unsqueeze(1), size=(16, 16), mode="bilinear",
                      align_corners=False, antialias=True)
    for t in (0, 4):
        if model_type == "udvd":
            win = torch.cat([x[min(max(t + o, 0), 4)] for o in range(-2, 3)]).unsqueeze(0)
        else:
            win = torch.stack([x[min(max(t + o, 0), 4)] for o in range(-15, 16)], dim=-1).unsqueeze(0)
            win = (win - win.min()) / (win.max() - win.min())
        with torch.no_grad():
            y = model(win)
        y = y.reshape(1, 1, 16, 16)
        y = F.interpolate(y, size=(20, 12), mode="bicubic", align_corners=False, antialias=True)
        np.testing.assert_allclose(got[t], y[0, 0].numpy(), atol=1e-5)


def test_paper_checkpoint_needs_its_flags_and_gets_the_script_aspect(tmp_path):
    """A checkpoint written by the paper code records no architecture or resolution
    (docs/paper_code_behaviour.md#checkpoint-layout): the README flags
    rebuild it; CFC22/POCUS then run at res x res/2 as the paper, CVA/Fluo at res x res (trained square,
    docs/paper_code_behaviour.md#defect-9-2-wrong-inference-resolution)."""
    import torch

    from inference.denoiser import load_for_inference
    from models import build_model
    from models.checkpoint import save_paper_style_state_dict

    readme = dict(model_type="cnn", resolution_target=1024, fine_layers=True, bottleneck_size=512,
                  with_skip_connections=True)
    torch.manual_seed(0)
    path = str(tmp_path / "paper.ckpt")
    save_paper_style_state_dict(build_model(readme), path)
    cfc = load_for_inference(path, readme, "cpu", "fp32", 4, fallback_resolution=1024, aspect=0.5)
    assert cfc.size == (1024, 512) and cfc.offsets == [0, -1, -2] and cfc.reuse_encoder
    cva = load_for_inference(path, readme, "cpu", "fp32", 4, fallback_resolution=1024, aspect=1.0)
    assert cva.size == (1024, 1024)
    with pytest.raises(UserError, match="does not fit"):
        load_for_inference(path, {}, "cpu", "fp32", 4)

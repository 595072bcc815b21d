"""Self-supervised training targets: every `--target` of the paper as a named pure function of a frame window.

A window is a dict `{offset: tensor}` holding f_{t+offset} as B×1×H×W float tensors in [0, 1] (offsets -2..+2),
and `bg` is the clip's global background B (docs/paper_code_behaviour.md#global-background, B×1×H×W) or None. Targets
are built in the training
step, on the device (the dataset only slices frames), so a new target is one function plus one registry line.

`make_target(name, window, bg, paper=False)` is the entry point. With `paper=True` it reproduces what the paper's
CNN training datasets computed: their "frame5" (meant to be f_{t+2}) was f_t (docs/paper_code_behaviour.md#input-frames
and #defect-9-1-wrong-frame-in-training-targets), which changes
l1, l2, l1_and_obj, gap2, positive_diff, all_frame_diffs, sum_minus_5 and bs_local. stddev_all loaded the real
f_{t+2} in the paper too, so it is unaffected.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional

import torch
from torch import Tensor

from common.cli import UserError
from dataset.augment import gaussian_blur

Window = Mapping[int, Tensor]


def _relu(x: Tensor) -> Tensor:
    return torch.clamp(x, min=0)


def _nrelu(x: Tensor) -> Tensor:
    return torch.clamp(x, max=0)


def identity(f: Window, bg: Optional[Tensor]) -> Tensor:
    """f_t (the Fluo recipe)."""
    return f[0]


def identity_t_minus_1(f: Window, bg: Optional[Tensor]) -> Tensor:
    """f_{t-1}."""
    return f[-1]


def l1(f: Window, bg: Optional[Tensor]) -> Tensor:
    """|f_{t+1} - f_{t+2}| (main.py's default target)."""
    return (f[1] - f[2]).abs()


def l2(f: Window, bg: Optional[Tensor]) -> Tensor:
    """(f_{t+1} - f_{t+2})^2."""
    return (f[1] - f[2]) ** 2


def gap1_and_curr_frame(f: Window, bg: Optional[Tensor]) -> Tensor:
    """f_t + relu(f_{t+1} - f_t) + relu(f_{t-1} - f_t): the bright motion envelope added to f_t (CFC22, POCUS)."""
    return f[0] + _relu(f[1] - f[0]) + _relu(f[-1] - f[0])


def gap1_inverted_and_curr_frame(f: Window, bg: Optional[Tensor]) -> Tensor:
    """f_t + nrelu(f_{t+1} - f_t) + nrelu(f_{t-1} - f_t): the dark envelope (BUV, where lesions are dark)."""
    return f[0] + _nrelu(f[1] - f[0]) + _nrelu(f[-1] - f[0])


def gap2_and_curr_frame(f: Window, bg: Optional[Tensor]) -> Tensor:
    """f_t + relu(f_{t+2} - f_t) + relu(f_{t-2} - f_t)."""
    return f[0] + _relu(f[2] - f[0]) + _relu(f[-2] - f[0])


def positive_diff_and_curr_frame(f: Window, bg: Optional[Tensor]) -> Tensor:
    """f_t + relu(f_{t+2} - f_{t+1}) + relu(f_{t-1} - f_t)."""
    return f[0] + _relu(f[2] - f[1]) + _relu(f[-1] - f[0])


def all_frame_diffs_and_curr(f: Window, bg: Optional[Tensor]) -> Tensor:
    """f_t + |f_{t+2}-f_{t+1}| + |f_{t+1}-f_{t-2}| + |f_{t-2}-f_{t-1}| + |f_{t-1}-f_t| (the paper's pairing, sic)."""
    return (f[0] + (f[2] - f[1]).abs() + (f[1] - f[-2]).abs() + (f[-2] - f[-1]).abs()
            + (f[-1] - f[0]).abs())


def stddev_3(f: Window, bg: Optional[Tensor]) -> Tensor:
    """Unbiased temporal std of (f_{t-1}, f_t, f_{t+1})."""
    return torch.stack([f[-1], f[0], f[1]]).std(dim=0)


def stddev_all(f: Window, bg: Optional[Tensor]) -> Tensor:
    """Unbiased temporal std of f_{t-2..t+2} (the paper's "σ" target)."""
    return torch.stack([f[o] for o in range(-2, 3)]).std(dim=0)


def sum_minus_3_background(f: Window, bg: Optional[Tensor]) -> Tensor:
    """relu(f_t + f_{t-1} + f_{t-2} - 3B)."""
    return _relu(f[0] + f[-1] + f[-2] - 3 * bg)


def sum_minus_5_background(f: Window, bg: Optional[Tensor]) -> Tensor:
    """relu(f_{t-2} + f_{t-1} + f_t + f_{t+1} + f_{t+2} - 5B) (the paper's "Σ−5Ī")."""
    return _relu(f[-2] + f[-1] + f[0] + f[1] + f[2] - 5 * bg)


def bs_global(f: Window, bg: Optional[Tensor]) -> Tensor:
    """f_t - B (signed)."""
    return f[0] - bg


def bs_local(f: Window, bg: Optional[Tensor]) -> Tensor:
    """Centre frame of the paper's background subtraction (docs/paper_code_behaviour.md#setup-scripts) applied to the
    5-frame stack f_{t-2..t+2}.

    M = temporal mean of the 5×5-Gaussian-blurred frames, D = f - M, D <- (D / max|D| + 1) / 2 with one max per
    sample over the stack, so 0.5 means "equals the local background". A constant stack gives 0.5.
    """
    stack = torch.stack([f[o] for o in range(-2, 3)])  # 5×B×1×H×W
    b = stack.shape[1]
    blurred = gaussian_blur(stack.flatten(0, 1), ksize=5).view_as(stack)
    d = stack - blurred.mean(dim=0, keepdim=True)
    peak = d.abs().amax(dim=(0, 2, 3, 4)).view(1, b, 1, 1, 1)
    scale = torch.where(peak > 1e-6, 1.0 / peak.clamp(min=1e-6), torch.zeros_like(peak))  # flat stack → 0.5
    return ((d * scale + 1) / 2)[2]


@dataclass(frozen=True)
class Target:
    """A registered target: its function, the frame offsets it reads and whether it needs the background B."""

    fn: Callable[[Window, Optional[Tensor]], Tensor]
    offsets: tuple[int, ...]
    needs_background: bool = False
    paper_uses_ft_as_t_plus_2: bool = True  # the frame5 bug applies when it reads offset +2
                                            # (docs/paper_code_behaviour.md#defect-9-1-wrong-frame-in-training-targets)


_ALL = (-2, -1, 0, 1, 2)
TARGETS: dict[str, Target] = {
    "identity": Target(identity, (0,)),
    "identity_t-1": Target(identity_t_minus_1, (-1,)),
    "l1": Target(l1, (0, 1, 2)),
    "l2": Target(l2, (0, 1, 2)),
    "l1_and_obj": Target(l1, (0, 1, 2)),  # same target; paired with --loss l1_and_obj
                                          # (docs/paper_code_behaviour.md#target-formulas)
    "gap1_and_curr_frame": Target(gap1_and_curr_frame, (-1, 0, 1)),
    "gap1_inverted_and_curr_frame": Target(gap1_inverted_and_curr_frame, (-1, 0, 1)),
    "gap2_and_curr_frame": Target(gap2_and_curr_frame, (-2, 0, 2)),
    "positive_diff_and_curr_frame": Target(positive_diff_and_curr_frame, (-1, 0, 1, 2)),
    "all_frame_diffs_and_curr": Target(all_frame_diffs_and_curr, _ALL),
    "stddev_3": Target(stddev_3, (-1, 0, 1)),
    "stddev_all": Target(stddev_all, _ALL, paper_uses_ft_as_t_plus_2=False),
    "sum_minus_3_background": Target(sum_minus_3_background, (-2, -1, 0), needs_background=True),
    "sum_minus_5_background": Target(sum_minus_5_background, _ALL, needs_background=True),
    "bs_global": Target(bs_global, (0,), needs_background=True),
    "bs_local": Target(bs_local, _ALL),
}


def get_target(name: str) -> Target:
    """The registered target `name`; an unknown name is a one-line UserError listing the valid ones."""
    if name not in TARGETS:
        raise UserError(f"unknown --target {name!r}; valid: {', '.join(TARGETS)}")
    return TARGETS[name]


def paper_window(f: Window) -> dict[int, Tensor]:
    """The window as the paper's training datasets saw it: "frame5" = (t+1)-1 = f_t instead of f_{t+2}
    (docs/paper_code_behaviour.md#input-frames)."""
    out = dict(f)
    out[2] = f[0]
    return out


def make_target(name: str, f: Window, bg: Optional[Tensor] = None, paper: bool = False) -> Tensor:
    """Compute target `name` from window `f` (and background `bg`); `paper=True` reproduces the paper's frame5 bug
    (docs/paper_code_behaviour.md#defect-9-1-wrong-frame-in-training-targets)."""
    target = get_target(name)
    if target.needs_background and bg is None:
        raise UserError(f"--target {name} needs the clip background, which was not computed")
    if paper and target.paper_uses_ft_as_t_plus_2 and 2 in target.offsets:
        f = paper_window(f)
    return target.fn(f, bg)

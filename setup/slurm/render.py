"""Render the Slurm templates of this folder into ready-to-submit job scripts (no scheduler needed to render).

    # 2 nodes x 4 GPUs, the README CFC22 recipe; arguments after -- go to main.py unchanged
    python setup/slurm/render.py train --out jobs/train.sbatch --nodes 2 --gpus_per_node 4 \\
        --results_path checkpoints/cfc22 -- --base_folder $FRAMES_DIR/raw_all --epochs 20 --batch_size 16 ...
    sbatch jobs/train.sbatch
    # denoise one domain as a 16-task array, one output tree; arguments after -- go to denoise.py
    python setup/slurm/render.py denoise --out jobs/denoise.sbatch --shards 16 --model best_model.ckpt \\
        --input_dir $FRAMES_DIR/raw/elwha --output_dir $RESULTS_DIR/frames/all_denoised/elwha
    sbatch jobs/denoise.sbatch

Prints the path it wrote and the command one task runs. The cluster launch is the existing engines: Lightning's
SLURM environment for DDP (`srun`, one task per GPU) and `denoise.py --shard K/N` for arrays.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import stat
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, REPO)

from common.atomic import write_text  # noqa: E402
from common.cli import ArgumentParser, fail, run_cli  # noqa: E402

TEMPLATES = {"train": "train.sbatch", "denoise": "denoise_array.sbatch"}


def render(template: str, values: dict[str, str]) -> str:
    """Fill every {{name}}; a placeholder without a value (or a value without a placeholder) is an error."""
    names = set(re.findall(r"{{(\w+)}}", template))
    if names - set(values):
        fail(f"template placeholders without a value: {', '.join(sorted(names - set(values)))}")
    if set(values) - names:
        fail(f"values for no placeholder of the template: {', '.join(sorted(set(values) - names))}")
    return re.sub(r"{{(\w+)}}", lambda m: values[m.group(1)], template)


def _q(path: str) -> str:
    return shlex.quote(path)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="kind", required=True)

    def common(sp: argparse.ArgumentParser, job: str, time: str) -> None:
        sp.add_argument("--out", required=True, help="where to write the job script")
        sp.add_argument("--job_name", default=job, help="Slurm job name")
        sp.add_argument("--gpus_per_node", type=int, default=1, help="GPUs per node (train) or per task (denoise); "
                        "0 = CPU only, no --gres line")
        sp.add_argument("--cpus_per_task", type=int, default=8, help="CPU cores per task (data workers, decoding)")
        sp.add_argument("--time", default=time, help="wall-clock limit, HH:MM:SS or D-HH:MM:SS")
        sp.add_argument("--log_dir", default="slurm_logs", help="folder of the jobs' stdout files (must exist)")
        sp.add_argument("--python", default=os.path.join(REPO, ".venv", "bin", "python"), help="python to run")
        sp.add_argument("--repo", default=REPO, help="repository path on the cluster")
        sp.add_argument("extra", nargs=argparse.REMAINDER, help="after --: arguments passed to the script unchanged")

    t = sub.add_parser("train", help="multi-node DDP training (srun main.py)")
    common(t, "saved-train", "24:00:00")
    t.add_argument("--nodes", type=int, default=1, help="nodes (--num_nodes)")
    t.add_argument("--results_path", required=True, help="main.py --results_path (shared filesystem)")
    t.add_argument("--cache_dir", default=None, help="main.py --cache_dir (default <results_path>/cache)")
    t.add_argument("--tasks_per_node", type=int, default=None, help="processes per node (default: GPUs per "
                   "node, or 1 for CPU)")
    t.add_argument("--num_workers", type=int, default=None, help="data-loader workers per task (default "
                   "cpus_per_task - 1)")
    t.add_argument("--checkpoint_every_n_steps", type=int, default=2000, help="mid-epoch last.ckpt period")
    d = sub.add_parser("denoise", help="array-sharded denoising (denoise.py --shard K/N)")
    common(d, "saved-denoise", "12:00:00")
    d.add_argument("--shards", type=int, required=True, help="array size N (tasks 1..N)")
    d.add_argument("--script", default="denoise.py", help="denoise.py, denoise_CVA.py, denoise_POCUS.py, denoise_Fluo.py")
    d.add_argument("--model", required=True, help="checkpoint")
    d.add_argument("--input_dir", required=True, help="input tree (one domain or the whole dataset)")
    d.add_argument("--output_dir", required=True, help="the one output tree every task writes into")
    args = p.parse_args(argv)
    args.extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
    return args


def values_for(args: argparse.Namespace) -> dict[str, str]:
    gpus = args.gpus_per_node
    gres = f"#SBATCH --gres=gpu:{gpus}" if gpus > 0 else "# CPU only: no GPU requested"
    base = dict(job_name=args.job_name, gres=gres, cpus_per_task=str(args.cpus_per_task), time=args.time,
                log_dir=args.log_dir, repo=_q(args.repo), python=_q(args.python))
    if args.kind == "train":
        for flag in ("--results_path", "--cache_dir", "--devices", "--num_nodes", "--accelerator", "--resume"):
            if flag in args.extra:
                fail(f"{flag} is set by the template; give it to render.py (or leave it to Slurm), not after --")
        tasks = args.tasks_per_node or max(1, gpus)
        return {**base, "nodes": str(args.nodes), "tasks_per_node": str(tasks),
                "results_path": _q(args.results_path),
                "cache_dir": _q(args.cache_dir or os.path.join(args.results_path, "cache")),
                "accelerator": "gpu" if gpus > 0 else "cpu",
                "num_workers": str(args.num_workers if args.num_workers is not None else max(0, args.cpus_per_task - 1)),
                "checkpoint_every_n_steps": str(args.checkpoint_every_n_steps), "train_args": shlex.join(args.extra)}
    if args.shards < 1:
        fail("--shards must be >= 1")
    if "--shard" in args.extra:
        fail("--shard is set by the template from SLURM_ARRAY_TASK_ID; do not pass it after --")
    return {**base, "shards": str(args.shards), "script": args.script, "model": _q(args.model),
            "input_dir": _q(args.input_dir), "output_dir": _q(args.output_dir),
            "denoise_args": shlex.join(args.extra)}


def main() -> int:
    args = parse_args()
    with open(os.path.join(HERE, TEMPLATES[args.kind]), encoding="utf-8") as f:
        text = render(f.read(), values_for(args))
    write_text(args.out, text)
    os.chmod(args.out, os.stat(args.out).st_mode | stat.S_IXUSR)
    command = text.rstrip().splitlines()[-1]
    print(f"wrote {args.out}; each task runs:\n  {command}\nsubmit with: sbatch {args.out}")
    return 0


if __name__ == "__main__":
    run_cli(main)

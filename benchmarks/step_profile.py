"""Where one training step's time goes (issue 18): a torch.profiler breakdown of notebook 05's step.

    python -m benchmarks.step_profile [--steps 12] [--compile]

Trains notebook 05's configuration (``SENTIMENT_RECIPE`` triplets, ``TrainingConfig()``) through
the course's trainer for ``--steps`` steps, profiles every step after the first two, and prints a
table: the share of step time per phase (loading and collating a batch, forward, backward,
optimiser, the rest = trainer overhead) and, inside forward and backward, per kind of operator.
"""

from __future__ import annotations

import argparse
import functools
import os
import time
from collections import defaultdict
from contextlib import contextmanager

#: Operator kinds for the forward/backward breakdown: the first pattern an op's name contains.
OP_KINDS = (
    ("matmul (linear layers)", ("addmm", "aten::mm", "linear")),
    ("attention (bmm, sdpa)", ("bmm", "attention", "baddbmm", "sdpa")),
    ("softmax", ("softmax",)),
    ("GELU", ("gelu",)),
    ("LayerNorm", ("layer_norm",)),
    ("dropout", ("dropout", "bernoulli", "native_dropout")),
    ("embedding lookup", ("embedding",)),
    ("elementwise & copies", ("add", "mul", "div", "copy", "clone", "sub", "cat", "to",
                              "contiguous", "where", "sum", "mean", "norm", "fill",
                              "zero", "pow", "sqrt", "clamp", "relu", "max", "index")),
)


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _kind(name: str) -> str:
    lowered = name.lower()
    for kind, patterns in OP_KINDS:
        if any(p in lowered for p in patterns):
            return kind
    return "other ops"


#: The trainer methods that make up a step, and the label each gets in the profile.
PHASES = {
    "get_batch_samples": "phase: load + collate batch",
    "compute_loss": "phase: forward + loss",
    "_clip_grad_norm": "phase: gradient clipping",
}


@contextmanager
def _labelled_phases():
    """Wrap the course trainer's step phases (and accelerate's backward) in profiler labels."""
    from accelerate import Accelerator
    from sentence_transformers import SentenceTransformerTrainer
    from torch.profiler import record_function

    def labelled(method, label):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            with record_function(label):
                return method(*args, **kwargs)
        return wrapper

    targets = [(SentenceTransformerTrainer, name, label) for name, label in PHASES.items()]
    targets.append((Accelerator, "backward", "phase: backward"))
    originals = [(owner, name, owner.__dict__.get(name)) for owner, name, _ in targets]
    try:
        for owner, name, label in targets:
            setattr(owner, name, labelled(getattr(owner, name), label))
        yield
    finally:
        for owner, name, original in originals:
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def profile_steps(steps: int = 12, skip: int = 2) -> dict:
    """Train notebook 05's configuration for ``steps`` steps; profile steps ``skip+1..steps``."""
    import torch
    from torch.profiler import ProfilerActivity, profile, schedule
    from transformers import TrainerCallback

    import course_utils as cu
    from course_utils import training_presets as training

    train = cu.data.load_course_data("train")
    triplets = cu.triplets.make_triplets(train, **training.SENTIMENT_RECIPE, seed=0)
    config = training.TrainingConfig(max_steps=steps, progress="none", snapshot_every=None)
    walls: list[float] = []

    class Profiled(TrainerCallback):
        """Starts the profiler with training and advances its schedule after each step."""

        def on_train_begin(self, args, state, control, **kwargs):
            self.prof = profile(activities=[ProfilerActivity.CPU],
                                schedule=schedule(wait=skip, warmup=0, active=steps - skip),
                                record_shapes=False)
            self.prof.__enter__()
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            now = time.perf_counter()
            walls.append(now - self.start)
            self.start = now
            self.prof.step()

        def on_train_end(self, args, state, control, **kwargs):
            self.prof.__exit__(None, None, None)

    profiler = Profiled()
    load_before = _load()
    with _labelled_phases():
        training.train_triplets(triplets, config=config, callbacks=[profiler])
    events = profiler.prof.key_averages()
    profiled = walls[skip:]
    return {"events": events, "walls": profiled, "load": (load_before, _load()),
            "threads": torch.get_num_threads(), "batch_size": config.batch_size}


def summarise(result: dict) -> str:
    """Markdown tables: the phases of a step, then the top operators by self time."""
    events = result["events"]
    steps = len(result["walls"])
    step_ms = 1000 * sum(result["walls"]) / steps
    inclusive = {e.key: e.cpu_time_total / 1000 / steps for e in events}  # ms per step

    def phase(prefix: str) -> float:
        return sum(ms for name, ms in inclusive.items() if name.startswith(prefix))

    phases = [
        ("load + collate batch (tokenise)", phase("phase: load + collate")),
        ("forward + loss", phase("phase: forward")),
        ("backward", phase("phase: backward")),
        ("gradient clipping (norm of all gradients)", phase("phase: gradient clipping")),
        ("optimiser step (AdamW)", phase("Optimizer.step#")),
    ]
    phases.append(("rest (trainer loop, callbacks, logging, profiler)",
                   step_ms - sum(ms for _, ms in phases)))
    kinds: dict[str, float] = defaultdict(float)
    for e in events:
        if e.key.startswith("aten::") or e.key.startswith("autograd::engine"):
            name = e.key.split(": ")[-1].replace("Backward0", "").replace("Backward1", "")
            kinds[_kind(name)] += e.self_cpu_time_total / 1000 / steps
    lines = [
        f"Profiled {steps} steps (after 2 unprofiled), batch {result['batch_size']} triplets "
        f"= {3 * result['batch_size']} sentences, {result['threads']} torch threads, load "
        f"average {result['load'][0]} -> {result['load'][1]}; "
        f"{step_ms:.0f} ms per step under the profiler.",
        "",
        "| phase | ms per step | share |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {ms:.0f} | {ms / step_ms:.0%} |" for name, ms in phases]
    lines += ["", "Operator self time by kind (forward and backward together):", "",
              "| kind | ms per step | share of step |", "|---|---:|---:|"]
    for kind, ms in sorted(kinds.items(), key=lambda item: -item[1]):
        lines.append(f"| {kind} | {ms:.0f} | {ms / step_ms:.0%} |")
    lines += ["", "Top operators by self time:", "",
              "| operator | calls per step | ms per step | share of step |", "|---|---:|---:|---:|"]
    for e in sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:20]:
        ms = e.self_cpu_time_total / 1000 / steps
        lines.append(f"| `{e.key[:60]}` | {e.count // steps} | {ms:.1f} | {ms / step_ms:.1%} |")
    return "\n".join(lines)


def compile_payback(calls: int = 4) -> list[tuple[str, list[float]]]:
    """Seconds per forward + backward of 16 sentences, eager and under ``torch.compile``.

    The first compiled call includes the compilation; it pays back within the course's 40 steps
    only if 40 x (eager - compiled) exceeds it.
    """
    import torch

    import course_utils as cu

    model = cu.models.load_model()
    model.train()
    features = model.tokenize(["The room was spotless and the bed was comfortable."] * 16)
    inner = model[0].auto_model
    rows = []
    for name, module in (("eager", inner), ("torch.compile", torch.compile(inner, dynamic=True))):
        seconds = []
        for _ in range(calls):
            start = time.perf_counter()
            out = module(input_ids=features["input_ids"],
                         attention_mask=features["attention_mask"]).last_hidden_state
            out.sum().backward()
            seconds.append(time.perf_counter() - start)
        rows.append((name, seconds))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--compile", action="store_true",
                        help="also time torch.compile against eager (compiling takes minutes)")
    args = parser.parse_args(argv)
    print(summarise(profile_steps(args.steps)))
    if args.compile:
        print("\nforward + backward of 16 sentences, seconds per call:")
        for name, seconds in compile_payback():
            print(f"  {name}: " + ", ".join(f"{s:.3f}" for s in seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

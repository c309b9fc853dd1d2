"""Training efficiency against the physical limit, and before/after quality.

* seconds per step and sentences per second in the fine-tuning configuration of notebook 05;
* an estimate of the FLOPs of one step from its (padded) token count, divided by the measured
  float32 matmul throughput of the same machine: the fraction of the physical limit reached;
* the held-out before/after table for the course dataset and, when cached, for VADER.

FLOP model (standard for transformer encoders): a forward pass costs about
2 x (non-embedding parameters) FLOPs per token plus 4 x layers x seq_len x hidden per token
for attention scores and their weighted sum; backward costs twice the forward, so one training
step is about 3x the forward FLOPs of the step's 3 x batch_size padded sequences.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd


def padded_tokens_per_step(model, triplets: pd.DataFrame, batch_size: int, *, samples: int = 50,
                           seed: int = 0) -> tuple[float, float]:
    """Mean padded tokens per step and mean padded sequence length, from random batches.

    sentence-transformers tokenises the anchor, positive and negative columns separately and
    pads each to the longest sequence in the batch; we mimic that on random batches.
    """
    tokenizer = model.tokenizer
    rng = np.random.default_rng(seed)
    limit = model.max_seq_length
    lengths = {col: np.array([min(len(tokenizer(t)["input_ids"]), limit) for t in triplets[col]])
               for col in ("anchor", "positive", "negative")}
    totals, seq_lens = [], []
    for _ in range(samples):
        rows = rng.choice(len(triplets), size=min(batch_size, len(triplets)), replace=False)
        step_tokens = 0
        for col in lengths:
            longest = int(lengths[col][rows].max())
            step_tokens += longest * len(rows)
            seq_lens.append(longest)
        totals.append(step_tokens)
    return float(np.mean(totals)), float(np.mean(seq_lens))


def step_flops(model, tokens_per_step: float, mean_seq_len: float) -> float:
    """Estimated FLOPs of one training step (forward + backward)."""
    transformer = model[0].auto_model
    config = transformer.config
    embedding_params = sum(p.numel() for n, p in transformer.named_parameters()
                           if "embeddings" in n)
    non_embedding = sum(p.numel() for p in transformer.parameters()) - embedding_params
    per_token = 2 * non_embedding + 4 * config.num_hidden_layers * mean_seq_len * config.hidden_size
    return 3 * per_token * tokens_per_step


def measure_course_training(repeats: int = 3) -> dict:
    """Train notebook 05's configuration ``repeats`` times; time steps, report quality."""
    import course_utils as cu
    from course_utils.training import TrainingConfig, before_after_report, train_triplets
    from course_utils.triplets import make_triplets

    train = cu.data.load_course_data("train")
    test = cu.data.load_course_data("test")
    triplets = make_triplets(train, label_col="sentiment", group_col="topic",
                             negatives="same_group", seed=0)
    config = TrainingConfig(progress="none", snapshot_every=None)
    runs = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = train_triplets(triplets, config=config)
        runs.append({"wall_s": time.perf_counter() - start,
                     "train_s": result.train_seconds,
                     "s_per_step": result.seconds_per_step})
    model = result.model
    tokens, seq_len = padded_tokens_per_step(model, triplets, result.config.batch_size)
    base = cu.models.load_model()
    table = before_after_report(base, model, train, test)
    return {
        "config": result.config,
        "steps": result.steps,
        "runs": runs,
        "tokens_per_step": tokens,
        "mean_padded_len": seq_len,
        "flops_per_step": step_flops(model, tokens, seq_len),
        "sentences_per_step": 3 * result.config.batch_size,
        "table": table,
    }


def measure_vader_quality(per_class: int = 60) -> pd.DataFrame | None:
    """Before/after on a balanced VADER sample (same-domain negatives); None if not cached."""
    import course_utils as cu
    from course_utils.training import TrainingConfig, before_after_report, train_triplets
    from course_utils.triplets import make_triplets
    from course_utils.vader import is_cached

    if not is_cached():
        return None
    frame = cu.data.load_vader(per_class=per_class, seed=0)
    frame["split"] = cu.data.stratified_split(frame, ["domain", "sentiment"], seed=0)
    train = frame[frame["split"] == "train"].reset_index(drop=True)
    test = frame[frame["split"] == "test"].reset_index(drop=True)
    triplets = make_triplets(train, label_col="sentiment", group_col="domain",
                             negatives="same_group", seed=0)
    result = train_triplets(triplets, config=TrainingConfig(progress="none",
                                                            snapshot_every=None))
    return before_after_report(cu.models.load_model(), result.model, train, test,
                               label_cols=("domain", "sentiment"))

"""Training efficiency against the physical limit.

* seconds per step and sentences per second in the fine-tuning configuration of notebook 05;
* an estimate of the FLOPs of one step from its (padded) token count, divided by the measured
  float32 matmul throughput of the same machine: the fraction of the physical limit reached.

The runs themselves are notebook 05's own training cell, timed inside the notebook
(``benchmarks.run_all`` collects them), so the benchmark trains nothing twice.

FLOP model (standard for transformer encoders): a forward pass costs about
2 x (non-embedding parameters) FLOPs per token plus 4 x layers x seq_len x hidden per token
for attention scores and their weighted sum; backward costs twice the forward, so one training
step is about 3x the forward FLOPs of the step's 3 x batch_size padded sequences.
"""

from __future__ import annotations

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


#: Printed in notebook 05's kernel after its run: the training result of that run.
TRAINING_SNIPPET = """import json as _json
print(_json.dumps({"train_s": result.train_seconds, "s_per_step": result.seconds_per_step,
                   "steps": result.steps, "batch_size": result.batch_size,
                   "learning_rate": args.learning_rate, "margin": margin,
                   "distance": "euclidean", "max_seq_length": model.max_seq_length,
                   "bf16": bool(args.bf16)}))"""


def parse_training(printed: str) -> dict:
    """The dictionary :data:`TRAINING_SNIPPET` printed."""
    import json

    return json.loads(printed.strip().splitlines()[-1])


def training_efficiency(runs: list[dict]) -> dict:
    """Seconds per step of notebook 05's training runs against the step's estimated FLOPs.

    ``runs`` are :func:`parse_training` results, one per execution of notebook 05. The padded
    token count is estimated on notebook 05's own triplets (``SENTIMENT_RECIPE``) with the
    batch size and sequence limit of those runs.
    """
    import course_utils as cu
    from course_utils.training_presets import SENTIMENT_RECIPE

    config = runs[0]
    model = cu.models.load_model()
    model.max_seq_length = config["max_seq_length"]
    train = cu.data.load_course_data("train")
    triplets = cu.triplets.make_triplets(train, **SENTIMENT_RECIPE, seed=0)
    tokens, seq_len = padded_tokens_per_step(model, triplets, config["batch_size"])
    return {
        "config": config,
        "runs": runs,
        "tokens_per_step": tokens,
        "mean_padded_len": seq_len,
        "flops_per_step": step_flops(model, tokens, seq_len),
        "sentences_per_step": 3 * config["batch_size"],
    }

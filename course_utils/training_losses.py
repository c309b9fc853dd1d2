"""The same fine-tuning with another loss: notebook 06's comparison and ``make experiments``.

:func:`train_with_loss` trains a fresh copy of the course model on the same sentences, steps,
batch size and learning rate with one of :data:`LOSS_NAMES`; only the loss and the shape of the
training data change:

=================================================  ==========================================
loss                                               one training example
=================================================  ==========================================
``TripletLoss``                                    (anchor, positive, negative) - our negatives
``MultipleNegativesRankingLoss``                   (anchor, positive); the other positives in
                                                   the batch are the negatives
``MultipleNegativesRankingLoss + hard negative``   (anchor, positive, negative): the batch's
                                                   other texts *and* our chosen negative (the
                                                   standard recipe)
``BatchHardTripletLoss``                           (sentence, label); each anchor's farthest
                                                   same-label and nearest other-label sentence
                                                   in the batch
=================================================  ==========================================

MultipleNegativesRankingLoss keeps the library's default ``scale`` of 20: the cosine
similarities are multiplied by 20 before the softmax, i.e. an InfoNCE temperature of 0.05.
BatchHardTripletLoss uses the config's margin (euclidean, as TripletLoss).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from course_utils.training import TrainingConfig, train_labelled, train_triplets
from course_utils.training_record import TrainingResult

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

TRIPLET = "TripletLoss"
IN_BATCH = "MultipleNegativesRankingLoss"
IN_BATCH_HARD = "MultipleNegativesRankingLoss + hard negative"
BATCH_HARD = "BatchHardTripletLoss"
#: The losses :func:`train_with_loss` knows, in the order notebook 06 shows them.
LOSS_NAMES = (TRIPLET, IN_BATCH, IN_BATCH_HARD, BATCH_HARD)


def multiple_negatives_ranking_loss(model: SentenceTransformer):
    """InfoNCE with in-batch negatives (the library's default scale 20 = temperature 0.05)."""
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    return MultipleNegativesRankingLoss(model)


def _batch_hard_loss(margin: float):
    def batch_hard_triplet_loss(model: SentenceTransformer):
        """BatchHardTripletLoss at the course's margin (euclidean between unit vectors)."""
        from sentence_transformers.sentence_transformer.losses import BatchHardTripletLoss

        return BatchHardTripletLoss(model, margin=margin)

    return batch_hard_triplet_loss


def train_with_loss(loss_name: str, triplets: pd.DataFrame, sentences: pd.DataFrame | None = None,
                    *, config: TrainingConfig | None = None, label_col: str = "sentiment",
                    text_col: str = "text", model: SentenceTransformer | None = None
                    ) -> TrainingResult:
    """Fine-tune ``model`` (default: a fresh course model) with ``loss_name``.

    Args:
        loss_name: one of :data:`LOSS_NAMES`.
        triplets: (anchor, positive, negative) rows, e.g. from ``cu.triplets.make_triplets``;
            the in-batch losses use their anchor and positive columns (and the negative for
            the hard-negative recipe).
        sentences: labelled sentences (``text_col``, ``label_col``), needed only by
            ``BatchHardTripletLoss``, which builds its own triplets inside each batch.
        config: steps, batch size, learning rate, seed ... (default ``TrainingConfig()``).

    Returns:
        The :class:`~course_utils.training_record.TrainingResult` (``.model``,
        ``.train_seconds``, ``.losses``).
    """
    config = TrainingConfig() if config is None else config
    if loss_name not in LOSS_NAMES:
        raise ValueError(f"loss_name must be one of {LOSS_NAMES}, got {loss_name!r}.")
    if loss_name == TRIPLET:
        return train_triplets(triplets, model, config=config)
    if loss_name in (IN_BATCH, IN_BATCH_HARD):
        columns = ["anchor", "positive"] + (["negative"] if loss_name == IN_BATCH_HARD else [])
        if not isinstance(triplets, pd.DataFrame) or not set(columns) <= set(triplets.columns):
            raise ValueError(f"{loss_name} needs a triplets DataFrame with columns {columns}.")
        return train_triplets(triplets[columns], model, config=config,
                              loss=multiple_negatives_ranking_loss)
    if sentences is None:
        raise ValueError(f"{BATCH_HARD} trains on labelled sentences: pass sentences= (a "
                         f"DataFrame with columns {text_col!r} and {label_col!r}).")
    return train_labelled(sentences, model, config=config, text_col=text_col,
                          label_col=label_col, loss=_batch_hard_loss(config.margin))

"""A recipe's `Stage`s, how they share the epochs, and scoped seeding."""

import contextlib
import dataclasses
import random

import keras
import numpy as np

from keras_imbalance._validation import check_float, invalid

__all__ = ["MODEL_KINDS", "Stage"]

MODEL_KINDS = ("new", "bilateral", "previous")
"""What a `Stage` trains: a new model, a new bilateral-branch pair, or the
model of the stage before."""


def _check_step(name, value):
    if value is not None and not callable(value):
        raise invalid(name, "None or a callable", value)
    return value


@dataclasses.dataclass(frozen=True)
class Stage:
    """One training stage of a recipe: the model, loss, data and budget of one `fit`.

    The runner (`Strategy.fit`) runs a recipe's stages in order; after each
    one it re-estimates the model's BatchNorm statistics (under the
    protocol's `precise_bn`), then `Strategy.finish` turns the last model
    into the inference model.

    Attributes:
        model: `"new"`: a fresh model from `model_fn` with the recipe's head;
            `"bilateral"`: a fresh bilateral-branch pair (`model_fn.bilateral`
            or `models.build_generic_bilateral`), whose two-input train model
            is fitted (validation data given as pairs) and whose one-input
            inference model is kept; `"previous"`: the model of the stage
            before. Defaults to `"new"`.
        loss: `loss(context, model)` returning the loss (it sees the model:
            LDAM reads its cosine head's scale), or `None` for sparse
            cross-entropy on logits.
        data: `data(context)` returning a `tf.data.Dataset` of batches, or
            `None` for the training arrays shuffled every epoch.
        callbacks: `callbacks(context, loss)` returning the stage's
            callbacks, or `None`.
        share: The stage's share of the epochs, in `(0, 1]` (see
            `split_epochs`). Defaults to `1.0`.
        prepare: `prepare(model, context)` called on the model before the
            stage compiles it (e.g. `models.retrain_classifier`), or `None`.
        learning_rate_multiplier: The stage's peak learning rate over the
            protocol's (or the caller's constant rate), a positive number or
            `multiplier(context)`. Defaults to `1.0`.
        restart_schedule: Whether the protocol's schedule restarts at its
            peak without warm-up (a second stage). Defaults to `False`.

    Example:

    >>> first = Stage()
    >>> second = Stage(model="previous", share=0.1, restart_schedule=True)
    >>> split_epochs(20, [first.share, second.share])
    [18, 2]
    """

    model: str = "new"
    loss: object = None
    data: object = None
    callbacks: object = None
    share: float = 1.0
    prepare: object = None
    learning_rate_multiplier: object = 1.0
    restart_schedule: bool = False

    def __post_init__(self):
        if self.model not in MODEL_KINDS:
            raise invalid("model", f"one of {MODEL_KINDS}", self.model)
        for name in ("loss", "data", "callbacks", "prepare"):
            _check_step(name, getattr(self, name))
        check_float("share", self.share, low=0, high=1, low_open=True)
        if not callable(self.learning_rate_multiplier):
            check_float(
                "learning_rate_multiplier",
                self.learning_rate_multiplier,
                low=0,
                low_open=True,
            )
        if not isinstance(self.restart_schedule, bool):
            raise invalid("restart_schedule", "True or False", self.restart_schedule)

    def multiplier(self, context):
        """The learning-rate multiplier for this fit."""
        value = self.learning_rate_multiplier
        return float(value(context) if callable(value) else value)


def split_epochs(epochs, shares):
    """Epochs per stage: each stage but the first gets `max(1, round(share * epochs))`,
    the first the rest (at least 1; with very few epochs the stages may
    together take more than `epochs`).

    >>> split_epochs(3, [0.9, 0.1]), split_epochs(1, [0.9, 0.1])
    ([2, 1], [1, 1])
    """
    later = [max(1, int(round(share * epochs))) for share in shares[1:]]
    return [max(1, epochs - sum(later)), *later]


@contextlib.contextmanager
def seeded(seed):
    """Seed Python, NumPy and the backend for a block; restore Python's and NumPy's.

    Keras draws initial weights, dropout masks and the shuffling of `fit`
    from the backend and its global seed generator, so `Strategy.fit` seeds
    them (`keras.utils.set_random_seed`) for reproducible runs. Python's
    `random` and NumPy's global state are restored when the block ends; the
    backend's global seed stays set (Keras has no public way to read and
    restore it). `seed=None` seeds nothing.

    >>> import random
    >>> random.seed(5); expected = random.random(); random.seed(5)
    >>> with seeded(0):
    ...     _ = random.random()
    >>> random.random() == expected
    True
    """
    if seed is None:
        yield
        return
    # NumPy's legacy global state is what `np.random.*` callers draw from.
    python_state = random.getstate()
    numpy_state = np.random.get_state()  # noqa: NPY002
    keras.utils.set_random_seed(int(seed))
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)  # noqa: NPY002

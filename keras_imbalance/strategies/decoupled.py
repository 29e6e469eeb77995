"""The built-in recipes that change the classifier after or beside training:
post-hoc logit adjustment, tau-normalisation, classifier re-training (cRT)
and the bilateral-branch network."""

import keras
import numpy as np

from keras_imbalance import callbacks as imbalance_callbacks
from keras_imbalance import data, models
from keras_imbalance._arrays import predict
from keras_imbalance._labels import integer_class_ids
from keras_imbalance._validation import check_float, invalid
from keras_imbalance.strategies.base import Strategy
from keras_imbalance.strategies.registry import register
from keras_imbalance.strategies.stages import split_epochs

__all__ = [
    "BBN",
    "TAU_GRID",
    "ClassifierRetraining",
    "PosthocLogitAdjustment",
    "TauNormalization",
]

TAU_GRID = tuple(round(0.1 * i, 1) for i in range(21))
"""Values of `tau` tried by `tau="auto"` (0 to 2 in steps of 0.1)."""


def _check_tau(tau):
    if isinstance(tau, str):
        if tau != "auto":
            raise invalid("tau", "'auto' or a non-negative float", tau)
        return tau
    return check_float("tau", tau, low=0)


def _balanced_accuracy(y, predicted):
    present = np.unique(y)
    return float(np.mean([np.mean(predicted[y == c] == c) for c in present]))


def tau_scores(model, candidate_model, head_scores, x_val):
    """A function of `tau` giving the validation scores of the tau model.

    `candidate_model(tau)` builds the inference model for a tau. When the
    head of `model` gives its output, `head_scores(x_val, head)` returns
    that function from one forward pass instead (the same scores); with
    layers after the head, each tau's model predicts.
    """
    head = _output_head(model)
    if head is None:
        return lambda tau: _predict(candidate_model(tau), x_val)
    return head_scores(x_val, head)


def tune_tau(strategy, context, model, candidate_model, head_scores):
    """The `tau` of `TAU_GRID` with the best validation balanced accuracy.

    The validation scores of each tau come from `tau_scores`; ties go to
    the smallest tau, and the choice is recorded in
    `strategy.tuned_params_["tau"]`. A numeric `strategy.tau` is returned
    as is.

    >>> class Fixed:
    ...     tau = 0.5
    >>> tune_tau(Fixed(), None, None, None, None)
    0.5
    """
    if strategy.tau != "auto":
        return strategy.tau
    if context.validation_data is None:
        raise ValueError(
            f"{strategy.name}: tau='auto' tunes tau on validation data "
            "(Kang et al. 2020, Menon et al. 2021); pass `validation_data` to "
            "fit, or a number, e.g. tau=1.0."
        )
    x_val, y_val = context.validation_data[0], context.validation_data[1]
    y_val = integer_class_ids(y_val, context.num_classes, name="validation y")
    scores_for = tau_scores(model, candidate_model, head_scores, x_val)
    best_tau, best_score = None, -1.0
    for tau in TAU_GRID:
        score = _balanced_accuracy(y_val, np.argmax(scores_for(tau), axis=-1))
        if score > best_score + 1e-12:
            best_tau, best_score = tau, score
    strategy.tuned_params_["tau"] = best_tau
    return best_tau


def _predict(model, x):
    return np.asarray(predict(model, x, batch_size=256))


def _output_head(model):
    """`model`'s head (`find_head`) if it gives the one output, else `None`."""
    head = models.find_head(model)
    return head if len(model.outputs) == 1 and model.layers[-1] is head else None


def _head_inputs(model, head, x):
    """The features `head` sees for `x` (one forward pass up to the head)."""
    return _predict(keras.Model(model.inputs, head.input), x)


class _TunedTau(Strategy):
    """A recipe with a `tau` that `"auto"` tunes on the validation data."""

    def __init__(self, tau="auto"):
        self.tau = _check_tau(tau)

    def description_fields(self):
        tau = self.tau
        words = "tau tuned on validation data" if tau == "auto" else f"tau={tau:g}"
        return {**self.get_config(), "tau_words": words}


@register("posthoc_logit_adjustment")
class PosthocLogitAdjustment(_TunedTau):
    """Cross-entropy, then `logits - tau * log(prior)` at inference (Menon et al.).

    >>> PosthocLogitAdjustment(tau=1.0).description
    'cross-entropy, then logits - tau * log(prior) at inference (tau=1)'
    """

    summary = "cross-entropy, then logits - tau * log(prior) at inference ({tau_words})"
    reference = "Menon et al., Long-tail learning via logit adjustment, ICLR 2021"

    def finish(self, model, context):
        # An empty class has prior 0 (log -inf); count it as one sample.
        priors = np.maximum(np.asarray(context.class_counts, "float64"), 1.0)
        priors = priors / priors.sum()

        def adjusted(tau):
            return models.with_logit_adjustment(model, priors, tau=tau)

        def head_scores(x_val, head):
            # The adjustment acts on the output logits: predict them once.
            logits, log_priors = _predict(model, x_val), np.log(priors)
            return lambda tau: logits - tau * log_priors

        return adjusted(tune_tau(self, context, model, adjusted, head_scores))


@register("bbn")
class BBN(Strategy):
    """The bilateral-branch network (Zhou et al. 2020): instance + reversed
    sampling, cumulative learning.

    >>> BBN().stages()[0].model
    'bilateral'
    """

    summary = "bilateral-branch network, instance + reversed sampling, cumulative"
    reference = "Zhou et al., BBN: Bilateral-Branch Network, CVPR 2020"

    def stages(self):
        return [
            self.default_stage(
                model="bilateral",
                data=lambda context: data.bilateral_dataset(
                    context.x,
                    context.y,
                    batch_size=context.batch_size,
                    seed=context.seed,
                ),
                callbacks=lambda context, loss: [
                    imbalance_callbacks.CumulativeLearning(context.epochs)
                ],
            )
        ]


@register("crt")
class ClassifierRetraining(Strategy):
    """cRT (Kang et al. 2020): cross-entropy, then the re-initialised head on
    class-balanced batches.

    >>> ClassifierRetraining().stage_epochs(20)
    (18, 2)
    """

    summary = (
        "two stages: cross-entropy, then the re-initialised head alone on "
        "class-balanced batches (last {retrain_percent}% of epochs, schedule "
        "restarted at {multiplier_words} the peak rate)"
    )
    reference = "Kang et al., Decoupling Representation and Classifier, ICLR 2020"

    def __init__(self, retrain_fraction=0.1, head_learning_rate_multiplier=None):
        self.retrain_fraction = check_float(
            "retrain_fraction", retrain_fraction, low=0, high=1, low_open=True
        )
        if head_learning_rate_multiplier is not None:
            head_learning_rate_multiplier = check_float(
                "head_learning_rate_multiplier",
                head_learning_rate_multiplier,
                low=0,
                low_open=True,
            )
        self.head_learning_rate_multiplier = head_learning_rate_multiplier

    def description_fields(self):
        percent = round(100 * self.retrain_fraction, 6)
        multiplier = self.head_learning_rate_multiplier
        words = "10x (Adam) or 1x (SGD)" if multiplier is None else f"{multiplier:g}x"
        return {
            **self.get_config(),
            "retrain_percent": f"{percent:g}",
            "multiplier_words": words,
        }

    def stage_epochs(self, epochs):
        """`(first, second)`: the epochs of each stage (`epochs=1`: one each)."""
        return tuple(split_epochs(epochs, [1.0, self.retrain_fraction]))

    def multiplier(self, context):
        """The second stage's peak learning rate over the first's.

        `None` (the default) means 1 under SGD, as Kang et al., who restart
        the schedule at its peak, and 10 under Adam, whose 1e-3 leaves a
        head trained from scratch in a few epochs under-fit (balanced
        accuracy 0.52 instead of 0.96 on digits-lt after 2 epochs).
        """
        if self.head_learning_rate_multiplier is not None:
            return self.head_learning_rate_multiplier
        sgd = context.protocol is not None and context.protocol.optimizer == "sgd"
        return 1.0 if sgd else 10.0

    def stages(self):
        # The runner re-estimates BatchNorm after the first stage, so the
        # frozen features of the second are normalised with statistics of
        # the final first-stage weights.
        return [
            self.default_stage(),
            self.default_stage(
                model="previous",
                share=self.retrain_fraction,
                callbacks=None,
                prepare=lambda model, context: models.retrain_classifier(model),
                data=lambda context: context.balanced_dataset("balanced"),
                learning_rate_multiplier=self.multiplier,
                restart_schedule=True,
            ),
        ]


@register("tau_norm")
class TauNormalization(_TunedTau):
    """tau-normalisation (Kang et al. 2020): head columns scaled to `w / ||w||^tau`.

    >>> TauNormalization(tau=0.5).description
    'cross-entropy, then head columns scaled to w / ||w||^tau (tau=0.5)'
    """

    summary = "cross-entropy, then head columns scaled to w / ||w||^tau ({tau_words})"
    reference = "Kang et al., Decoupling Representation and Classifier, ICLR 2020"

    def finish(self, model, context):
        def normalized(tau):
            return models.tau_normalize(model, tau=tau)

        def head_scores(x_val, head):
            # Only the head changes with tau: the features once, then each
            # tau-normalised head on them.
            features = _head_inputs(model, head, x_val)
            return lambda tau: keras.ops.convert_to_numpy(
                models.find_head(normalized(tau))(features)
            )

        return normalized(tune_tau(self, context, model, normalized, head_scores))

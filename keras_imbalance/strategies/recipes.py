"""The built-in recipes that change the loss or the training data.

Each is declared by its parameters (validated in `__init__`), a `summary`
template and the steps of its stage; `Strategy.fit` runs them.
"""

import math

from keras_imbalance import callbacks as imbalance_callbacks
from keras_imbalance import data, losses, models
from keras_imbalance._validation import check_float, check_positive_int
from keras_imbalance.class_weights import compute_class_weights
from keras_imbalance.data.augmentation import check_augmenter_arguments
from keras_imbalance.data.mixing import check_remix_arguments
from keras_imbalance.layers import CosineClassifier
from keras_imbalance.strategies.base import Strategy
from keras_imbalance.strategies.registry import register

__all__ = [
    "DRW_FRACTION",
    "LDAMDRW",
    "SMOTE",
    "BalancedSampling",
    "BalancedSoftmax",
    "ClassBalancedFocal",
    "CrossEntropy",
    "Focal",
    "LogitAdjusted",
    "MinorityAugmentation",
    "RemixDRW",
    "WeightedCE",
]

DRW_FRACTION = 0.8
"""Deferred re-weighting starts after this fraction of the epochs (160/200)."""


def drw_start(epochs, fraction):
    """The 0-based epoch where deferred re-weighting starts (at most the last).

    >>> drw_start(200, DRW_FRACTION), drw_start(1, DRW_FRACTION)
    (160, 0)
    """
    return min(epochs - 1, int(math.floor(fraction * epochs)))


def _check_drw_fraction(value):
    return check_float("drw_fraction", value, low=0, high=1)


@register("ce")
class CrossEntropy(Strategy):
    """Plain cross-entropy with instance sampling: the baseline.

    >>> CrossEntropy().name, CrossEntropy().get_config()
    ('ce', {})
    """

    summary = "plain cross-entropy, instance sampling (the baseline)"
    reference = "-"


@register("weighted_ce")
class WeightedCE(Strategy):
    """Cross-entropy weighted by inverse class frequency (King & Zeng 2001).

    >>> WeightedCE().description
    'cross-entropy weighted by inverse class frequency N / (K n_c)'
    """

    summary = "cross-entropy weighted by inverse class frequency N / (K n_c)"
    reference = "King & Zeng 2001; sklearn class_weight='balanced'"

    def loss(self, context):
        return losses.WeightedCrossEntropy(
            compute_class_weights(context.class_counts).tolist(), from_logits=True
        )


@register("focal")
class Focal(Strategy):
    """Softmax focal loss without class weights (Lin et al. 2017).

    >>> Focal(gamma=1).description
    'focal loss, gamma=1 (no class weights)'
    """

    summary = "focal loss, gamma={gamma:g} (no class weights)"
    reference = "Lin et al., Focal Loss for Dense Object Detection, ICCV 2017"

    def __init__(self, gamma=2.0):
        self.gamma = check_float("gamma", gamma, low=0)

    def loss(self, context):
        return losses.FocalLoss(gamma=self.gamma, from_logits=True)


@register("cb_focal")
class ClassBalancedFocal(Strategy):
    """Class-balanced sigmoid focal loss (effective number; Cui et al. 2019).

    >>> ClassBalancedFocal(beta=0.99).get_config()
    {'beta': 0.99, 'gamma': 1.0}
    """

    summary = "class-balanced sigmoid focal loss, beta={beta:g}, gamma={gamma:g}"
    reference = "Cui et al., Class-Balanced Loss Based on Effective Number, CVPR 2019"

    def __init__(self, beta=0.9999, gamma=1.0):
        self.beta = check_float("beta", beta, low=0, high=1, high_open=True)
        self.gamma = check_float("gamma", gamma, low=0)

    def loss(self, context):
        return losses.ClassBalancedLoss(
            context.class_counts,
            beta=self.beta,
            loss_type="focal",
            gamma=self.gamma,
            from_logits=True,
        )


def _with_drw_percent(recipe):
    percent = round(100 * (1 - recipe.drw_fraction), 6)
    return {**recipe.get_config(), "drw_percent": f"{percent:g}"}


def _drw_callbacks(recipe):
    def callbacks(context, loss):
        start = drw_start(context.epochs, recipe.drw_fraction)
        return [
            imbalance_callbacks.DeferredReweighting(loss, **context.drw_weights(start))
        ]

    return callbacks


@register("ldam_drw")
class LDAMDRW(Strategy):
    """LDAM on a cosine head with deferred re-weighting.

    The loss step sees the model: on a `CosineClassifier` head, which
    already multiplies cosines by its scale `s_h`, the paper's
    `s * (cos - m)` is `(s / s_h) * (s_h cos - s_h m)`; on raw logits the
    margins are in logit units with no extra scale.

    >>> LDAMDRW(drw_fraction=0.5).description.endswith("last 50% of epochs")
    True
    """

    summary = (
        "LDAM margin loss (max_margin={max_margin:g}, scale={scale:g}) on a "
        "cosine head, deferred re-weighting for the last {drw_percent}% of epochs"
    )
    reference = "Cao et al., Learning Imbalanced Datasets with LDAM Loss, NeurIPS 2019"
    head = "cosine"

    def __init__(self, max_margin=0.5, scale=30.0, drw_fraction=DRW_FRACTION):
        self.max_margin = check_float("max_margin", max_margin, low=0)
        self.scale = check_float("scale", scale, low=0, low_open=True)
        self.drw_fraction = _check_drw_fraction(drw_fraction)

    def description_fields(self):
        return _with_drw_percent(self)

    def margin_loss(self, context, model):
        head = models.find_head(model)
        if isinstance(head, CosineClassifier):
            return losses.LDAMLoss(
                context.class_counts,
                max_margin=self.max_margin * head.scale,
                scale=self.scale / head.scale,
            )
        return losses.LDAMLoss(
            context.class_counts, max_margin=self.max_margin, scale=1.0
        )

    def stages(self):
        return [
            self.default_stage(loss=self.margin_loss, callbacks=_drw_callbacks(self))
        ]


@register("balanced_softmax")
class BalancedSoftmax(Strategy):
    """Balanced softmax: log class counts added to the logits (Ren et al. 2020).

    >>> BalancedSoftmax().name
    'balanced_softmax'
    """

    summary = "balanced softmax: log n_c added to the logits in the loss"
    reference = "Ren et al., Balanced Meta-Softmax, NeurIPS 2020"

    def loss(self, context):
        return losses.BalancedSoftmaxLoss(context.class_counts)


@register("logit_adjusted")
class LogitAdjusted(Strategy):
    """The logit-adjusted loss: `tau * log(prior)` added (Menon et al. 2021).

    >>> LogitAdjusted(tau=0.5).description
    'logit-adjusted loss, tau * log(prior) added in the loss (tau=0.5)'
    """

    summary = "logit-adjusted loss, tau * log(prior) added in the loss (tau={tau:g})"
    reference = "Menon et al., Long-tail learning via logit adjustment, ICLR 2021"

    def __init__(self, tau=1.0):
        self.tau = check_float("tau", tau, low=0)

    def loss(self, context):
        return losses.LogitAdjustedLoss(class_counts=context.class_counts, tau=self.tau)


@register("balanced_sampling")
class BalancedSampling(Strategy):
    """Cross-entropy on class-balanced batches (Kang et al. 2020).

    >>> BalancedSampling().name
    'balanced_sampling'
    """

    summary = "cross-entropy on class-balanced batches (class, then sample)"
    reference = "Kang et al., Decoupling Representation and Classifier, ICLR 2020"

    def training_data(self, context):
        return context.balanced_dataset("balanced")


@register("minority_augmentation")
class MinorityAugmentation(Strategy):
    """Cross-entropy with rarer classes augmented more often.

    >>> MinorityAugmentation(flip="horizontal").flip
    'horizontal'
    """

    summary = (
        "cross-entropy, rarer classes augmented more (rotation {rotation:g}, "
        "zoom {zoom:g}, flip {flip}, power {power:g})"
    )
    reference = "Shorten & Khoshgoftaar, Image Data Augmentation survey, 2019"

    def __init__(self, rotation=0.05, zoom=0.1, flip=None, power=1.0):
        self.rotation, self.zoom, self.flip = check_augmenter_arguments(
            rotation, zoom, flip
        )
        self.power = check_float("power", power, low=0)

    def check_inputs(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                "minority_augmentation augments images (H, W, C). Received "
                f"inputs of shape {tuple(input_shape)}."
            )

    def training_data(self, context):
        self.check_inputs(context.input_shape)
        augmenter = data.default_image_augmenter(
            rotation=self.rotation, zoom=self.zoom, flip=self.flip, seed=context.seed
        )
        return data.augment_minority(
            context.balanced_dataset("instance"),
            augmenter,
            class_counts=context.class_counts,
            power=self.power,
            seed=context.seed,
        )


@register("remix_drw")
class RemixDRW(Strategy):
    """Remix (labels favour the rarer class) + DRW (Chou et al. 2020).

    >>> RemixDRW(kappa=2).get_config()
    {'alpha': 1.0, 'kappa': 2.0, 'tau': 0.5, 'drw_fraction': 0.8}
    """

    summary = (
        "Remix (labels favour the rare class; alpha={alpha:g}, kappa={kappa:g}, "
        "tau={tau:g}) + deferred re-weighting for the last {drw_percent}% of "
        "epochs"
    )
    reference = "Chou et al., Remix: Rebalanced Mixup, ECCV Workshops 2020"

    def __init__(self, alpha=1.0, kappa=3.0, tau=0.5, drw_fraction=DRW_FRACTION):
        self.alpha, self.kappa, self.tau = check_remix_arguments(alpha, kappa, tau)
        self.drw_fraction = _check_drw_fraction(drw_fraction)

    def description_fields(self):
        return _with_drw_percent(self)

    def loss(self, context):
        return losses.WeightedCrossEntropy(
            [1.0] * context.num_classes, from_logits=True
        )

    def training_data(self, context):
        return data.remix(
            context.balanced_dataset("instance"),
            class_counts=context.class_counts,
            alpha=self.alpha,
            kappa=self.kappa,
            tau=self.tau,
            seed=context.seed,
        )

    def callbacks(self, context, loss):
        return _drw_callbacks(self)(context, loss)


@register("smote")
class SMOTE(Strategy):
    """Cross-entropy on SMOTE-oversampled inputs (Chawla et al. 2002).

    The same `ceil(N / B)` steps an epoch as the other recipes.

    >>> SMOTE(k_neighbors=3).get_config()
    {'k_neighbors': 3}
    """

    summary = (
        "cross-entropy on SMOTE-oversampled inputs (imbalanced-learn, "
        "k_neighbors={k_neighbors}), N/B steps"
    )
    reference = "Chawla et al., SMOTE, JAIR 2002"

    def __init__(self, k_neighbors=5):
        self.k_neighbors = check_positive_int("k_neighbors", k_neighbors)

    def training_data(self, context):
        present = [n for n in context.class_counts if n > 0]
        k = min(self.k_neighbors, min(present) - 1)
        if k < 1:
            raise ValueError(
                f"The rarest class has {min(present)} sample(s) but SMOTE needs "
                "at least 2 per class (k_neighbors + 1 with k_neighbors >= 1)."
            )
        dataset = data.smote_dataset(
            context.x,
            context.y,
            batch_size=context.batch_size,
            seed=context.seed,
            num_classes=context.num_classes,
            k_neighbors=k,
        )
        # The same budget as the other recipes: ceil(N / B) steps an epoch,
        # from the over-sampled set reshuffled every epoch (a full pass over
        # it would be up to C times more steps).
        return dataset.take(math.ceil(len(context.y) / context.batch_size))

"""Bilateral-branch network (BBN, Zhou et al. 2020)."""

import keras

from keras_imbalance.layers.bilateral import BilateralMixing
from keras_imbalance.models._common import (
    BACKBONES,
    apply_layers,
    check_attention,
    check_choice,
    check_dropout,
    check_head,
    check_input_shape,
    check_num_classes,
    check_size,
    head_layers,
    pooled,
    trunk,
)

__all__ = ["BilateralBranchTrainer", "build_bilateral_branch_network"]

MIXING_LAYER = "bilateral_mixing"


def _pair(value, what):
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    raise ValueError(
        "The bilateral-branch training model takes ((x_c, x_r), (y_c, y_r)): "
        f"{what} must be a pair (conventional, re-balancing). Received: {value!r}"
    )


@keras.saving.register_keras_serializable(package="keras_imbalance")
class BilateralBranchTrainer(keras.Model):
    """The training half of a BBN: two inputs, the BBN loss.

    A functional model over `(x_c, x_r)`, an instance-sampled and a
    reverse-sampled batch, whose `fit` minimises
    `alpha * L(z, y_c) + (1 - alpha) * L(z, y_r)` with `L` the compiled loss
    and `alpha` the `BilateralMixing` layer's weight (set per epoch by
    `callbacks.CumulativeLearning`). Targets are the pair `(y_c, y_r)`;
    compiled metrics are computed against `y_c`. Built by
    `build_bilateral_branch_network`.

    Example:

    >>> train_model, inference_model = build_bilateral_branch_network(
    ...     (16, 16, 3), 4, width=8, depth=2)
    >>> isinstance(train_model, BilateralBranchTrainer)
    True
    >>> [tensor.name for tensor in train_model.inputs]
    ['conventional', 'rebalancing']
    >>> isinstance(inference_model, BilateralBranchTrainer)
    False
    """

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        y_c, y_r = _pair(y, "y")
        w_c, w_r = (
            (None, None)
            if sample_weight is None
            else _pair(sample_weight, "sample_weight")
        )
        alpha = self.get_layer(MIXING_LAYER).alpha
        loss_c = super().compute_loss(x, y_c, y_pred, w_c, training=training)
        loss_r = super().compute_loss(x, y_r, y_pred, w_r, training=training)
        alpha = keras.ops.cast(alpha, loss_c.dtype)
        return alpha * loss_c + (1.0 - alpha) * loss_r

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        y_c, _ = _pair(y, "y")
        w_c = (
            None if sample_weight is None else _pair(sample_weight, "sample_weight")[0]
        )
        return super().compute_metrics(x, y_c, y_pred, w_c)


def build_bilateral_branch_network(
    input_shape,
    num_classes,
    *,
    backbone="small_cnn",
    width=32,
    depth=3,
    attention=None,
    head="dense",
    dropout=0.0,
    name="bbn",
):
    """Bilateral-branch network: `(train_model, inference_model)`.

    BBN learns the representation from the data as it is (conventional
    branch, instance-sampled batches) and the classifier's re-balancing
    from reverse-sampled batches (re-balancing branch), moving the emphasis
    from the first to the second with the cumulative weight
    `alpha = 1 - (epoch / total)^2`. The two branches share the early stages
    (the trunk) and have their own last stage; their pooled features are
    mixed by `BilateralMixing` into one classifier (`"classifier"`, a
    top-level layer of both models, so `find_head` and the decoupling
    functions find it):

    * `train_model([x_c, x_r])` gives `z = 2 (alpha W_c f_c(x_c) + (1 - alpha)
      W_r f_r(x_r)) + b` and, when fitted on a dataset of
      `((x_c, x_r), (y_c, y_r))` (see `keras_imbalance.data.bilateral_dataset`),
      minimises `alpha L(z, y_c) + (1 - alpha) L(z, y_r)`;
    * `inference_model(x)` runs both branches on `x` with `alpha = 0.5` and
      shares every weight with the training model.

    Reference: Zhou, Cui, Wei, Chen. "BBN: Bilateral-Branch Network with
    Cumulative Learning for Long-Tailed Visual Recognition". CVPR 2020.
    https://arxiv.org/abs/1912.02413

    Args:
        input_shape: Shape without the batch axis: `(H, W, C)`, `(T, C)` or
            `(F,)`.
        num_classes: Number of classes (>= 2).
        backbone: `"small_cnn"` or `"small_resnet"`. Defaults to `"small_cnn"`.
        width: Filters of the first stage (>= 1). Defaults to `32`.
        depth: Stages in all (>= 2); the last one is per branch. Defaults to `3`.
        attention: `"se"`, `"cbam"`, `"eca"`, a name added with
            `layers.register_attention`, or `None`. Defaults to `None`.
        head: `"dense"`, `"cosine"` or a name added with
            `layers.register_head`. Defaults to `"dense"`.
        dropout: Dropout rate before the head. Defaults to `0.0`.
        name: Prefix of the two models' names. Defaults to `"bbn"`.

    Returns:
        `(train_model, inference_model)`. Compile and fit `train_model` with
        `callbacks.CumulativeLearning(epochs)`; predict and export with
        `inference_model`.

    Example:

    >>> train_model, inference_model = build_bilateral_branch_network(
    ...     (16, 16, 3), 4, width=8, depth=2)
    >>> len(train_model.inputs), tuple(inference_model.output.shape)
    (2, (None, 4))
    """
    # Validate.
    input_shape = check_input_shape(input_shape)
    num_classes = check_num_classes(num_classes)
    check_attention(attention)
    check_choice("backbone", backbone, BACKBONES)
    check_head(head)
    width = check_size("width", width)
    depth = check_size("depth", depth, low=2)
    dropout = check_dropout(dropout)
    args = dict(backbone=backbone, width=width, depth=depth, attention=attention)

    # Shared trunk and the two branches, as sub-models called on both inputs.
    x = keras.Input(input_shape, name="inputs")
    shared = trunk(x, stop=depth - 1, prefix="trunk", **args)
    trunk_model = keras.Model(x, shared, name="trunk")
    branches = {}
    for branch in ("conventional", "rebalancing"):
        t = keras.Input(shared.shape[1:], name=f"{branch}_inputs")
        f = pooled(trunk(t, start=depth - 1, prefix=branch, **args), f"{branch}_pool")
        branches[branch] = keras.Model(t, f, name=f"{branch}_branch")

    # The head ("classifier", top-level in both models) is built once, shared.
    classifier = head_layers(num_classes, head, dropout=dropout)

    # Training model: (x_c, x_r) -> z.
    x_c = keras.Input(input_shape, name="conventional")
    x_r = keras.Input(input_shape, name="rebalancing")
    mixed = BilateralMixing(alpha=1.0, name=MIXING_LAYER)(
        [
            branches["conventional"](trunk_model(x_c)),
            branches["rebalancing"](trunk_model(x_r)),
        ]
    )
    train_model = BilateralBranchTrainer(
        [x_c, x_r], apply_layers(mixed, classifier), name=f"{name}_train"
    )

    # Inference model: x -> z with alpha = 0.5, sharing every weight.
    x = keras.Input(input_shape, name="inputs")
    t = trunk_model(x)
    mixed = BilateralMixing(alpha=0.5, name=MIXING_LAYER)(
        [branches["conventional"](t), branches["rebalancing"](t)]
    )
    inference_model = keras.Model(x, apply_layers(mixed, classifier), name=name)
    return train_model, inference_model

"""Expert ensemble with a shared trunk (RIDE-style, Wang et al. 2021)."""

import keras

from keras_imbalance._validation import invalid
from keras_imbalance.models._common import (
    BACKBONES,
    check_attention,
    check_choice,
    check_dropout,
    check_head,
    check_input_shape,
    check_num_classes,
    check_size,
    classifier_head,
    pooled,
    trunk,
)

__all__ = ["build_expert_ensemble"]


def build_expert_ensemble(
    input_shape,
    num_classes,
    *,
    num_experts=3,
    backbone="small_cnn",
    width=32,
    depth=3,
    shared_depth=None,
    attention=None,
    head="dense",
    dropout=0.0,
    return_expert_logits=False,
    name="expert_ensemble",
):
    """Experts with shared early stages, independent late stages, averaged logits.

    Following RIDE, the early stages (generic features) are shared and each
    expert has its own later stages and classifier; the ensemble's logits
    are the mean of the experts' logits. Diverse experts reduce the variance
    that hurts the tail classes; with `return_expert_logits=True` each
    expert's logits are an output too, so each can get its own loss (for
    example one expert per re-weighting scheme).

    Reference: Wang, Lian, Miao, Liu, Yu. "Long-tailed Recognition by Routing
    Diverse Distribution-Aware Experts". ICLR 2021.
    https://arxiv.org/abs/2010.01809

    Args:
        input_shape: Shape without the batch axis: `(H, W, C)`, `(T, C)` or `(F,)`.
        num_classes: Number of classes (>= 2).
        num_experts: Number of experts (>= 1). Defaults to `3`.
        backbone: `"small_cnn"` or `"small_resnet"`. Defaults to `"small_cnn"`.
        width: Filters of the first stage. Defaults to `32`.
        depth: Stages in all. Defaults to `3`.
        shared_depth: Stages shared by the experts, in `[0, depth)`. Defaults
            to `depth - 1`.
        attention: `"se"`, `"cbam"`, `"eca"`, a name added with
            `layers.register_attention`, or `None`. Defaults to `None`.
        head: `"dense"`, `"cosine"` or a name added with
            `layers.register_head`; expert `k`'s head is named
            `"expert_<k>_classifier"`. Defaults to `"dense"`.
        dropout: Dropout rate before the heads. Defaults to `0.0`.
        return_expert_logits: Output a dict `{"logits", "expert_0", ...}`
            instead of the averaged logits alone. Defaults to `False`.
        name: Model name. Defaults to `"expert_ensemble"`.

    Returns:
        A functional `keras.Model` with logits output (or a dict of logits).

    Example:

    >>> model = build_expert_ensemble((16, 16, 3), 4, num_experts=2, width=8, depth=2)
    >>> tuple(model.output.shape)
    (None, 4)
    """
    # Validate.
    input_shape = check_input_shape(input_shape)
    num_classes = check_num_classes(num_classes)
    check_attention(attention)
    check_choice("backbone", backbone, BACKBONES)
    check_head(head)
    num_experts = check_size("num_experts", num_experts)
    width = check_size("width", width)
    depth = check_size("depth", depth)
    shared_depth = depth - 1 if shared_depth is None else shared_depth
    if check_size("shared_depth", shared_depth, low=0) >= depth:
        raise invalid("shared_depth", f"an integer in [0, depth={depth})", shared_depth)
    shared_depth = int(shared_depth)
    dropout = check_dropout(dropout)
    args = dict(backbone=backbone, width=width, depth=depth, attention=attention)

    # Shared trunk, then one late stage and head per expert.
    inputs = keras.Input(input_shape, name="inputs")
    shared = trunk(inputs, stop=shared_depth, prefix="shared", **args)
    experts = []
    for k in range(num_experts):
        x = trunk(shared, start=shared_depth, prefix=f"expert_{k}", **args)
        features = pooled(x, f"expert_{k}_pool")
        experts.append(
            classifier_head(
                features,
                num_classes,
                head,
                dropout=dropout,
                name=f"expert_{k}_classifier",
            )
        )
    logits = (
        experts[0] if num_experts == 1 else keras.layers.Average(name="logits")(experts)
    )
    if not return_expert_logits:
        return keras.Model(inputs, logits, name=name)
    outputs = {"logits": logits}
    outputs.update({f"expert_{k}": e for k, e in enumerate(experts)})
    return keras.Model(inputs, outputs, name=name)

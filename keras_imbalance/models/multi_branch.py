"""Multi-branch and multi-input classifiers fused with `BranchFusion`."""

import keras

from keras_imbalance._validation import invalid
from keras_imbalance.layers.fusion import BranchFusion
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
    conv_trunk,
    global_pool,
    mlp_trunk,
)

__all__ = ["build_multi_branch_classifier", "default_branches"]

_BRANCH_KEYS = {"depth", "kernel_size", "attention", "width", "backbone"}


def default_branches(depth=3):
    """Three branches over one input with growing receptive fields.

    Kernel sizes 3, 5 and 7 and depths `depth - 1`, `depth`, `depth` (at least
    one stage each); the first has no attention, the others SE and ECA.

    Example:

    >>> [b["kernel_size"] for b in default_branches()]
    [3, 5, 7]
    """
    return [
        {"kernel_size": 3, "depth": max(1, depth - 1), "attention": None},
        {"kernel_size": 5, "depth": depth, "attention": "se"},
        {"kernel_size": 7, "depth": depth, "attention": "eca"},
    ]


def _check_branch(spec, index):
    if not isinstance(spec, dict) or not set(spec) <= _BRANCH_KEYS:
        raise invalid(
            f"branches[{index}]",
            f"a dict with keys among {sorted(_BRANCH_KEYS)}",
            spec,
        )
    check_attention(spec.get("attention"))
    for key in ("depth", "kernel_size", "width"):
        if key in spec:
            check_size(f"branches[{index}][{key!r}]", spec[key])
    if "backbone" in spec:
        check_choice(f"branches[{index}]['backbone']", spec["backbone"], BACKBONES)
    return spec


def _branch(x, spec, *, width, embedding, prefix):
    """One branch: a small trunk on `x`, pooled and projected to `embedding`."""
    depth = spec.get("depth", 2)
    width = spec.get("width", width)
    if len(x.shape) == 2:
        features = mlp_trunk(
            x, width=width, depth=depth, attention=spec.get("attention"), prefix=prefix
        )
    else:
        x = conv_trunk(
            x,
            backbone=spec.get("backbone", "small_cnn"),
            width=width,
            depth=depth,
            attention=spec.get("attention"),
            kernel_size=spec.get("kernel_size", 3),
            prefix=f"{prefix}_stage",
        )
        features = global_pool(x, name=f"{prefix}_pool")
    return keras.layers.Dense(embedding, activation="relu", name=f"{prefix}_embedding")(
        features
    )


def build_multi_branch_classifier(
    inputs,
    num_classes,
    *,
    branches=None,
    fusion="concat",
    head="dense",
    auxiliary_outputs=False,
    width=16,
    embedding=64,
    dropout=0.0,
    name="multi_branch_classifier",
):
    """Several branches, over one input or several named inputs, fused.

    Each branch learns its own representation (a different depth or receptive
    field over one input, or one branch per modality, e.g. image + tabular);
    `BranchFusion` combines them before the head. With
    `auxiliary_outputs=True` each branch also gets its own head, so each can
    carry its own loss in `compile` (deep supervision, as in the multi-branch
    designs of the long-tail literature, e.g. BBN and RIDE).

    Args:
        inputs: One input shape (a tuple, e.g. `(32, 32, 3)`) or a dict
            `{name: shape}` of several named inputs.
        num_classes: Number of classes (>= 2).
        branches: For one input, a list of branch specs (dicts with keys among
            `depth`, `kernel_size`, `attention` (a name registered in
            `layers.ATTENTION_LAYERS` or `None`), `width`, `backbone`);
            defaults to `default_branches()`. For named inputs, a dict
            `{name: spec}`; missing names get `{"depth": 2}`.
        fusion: `BranchFusion` mode: `"concat"`, `"sum"`, `"mean"`, `"gated"`
            or `"attention"`. Defaults to `"concat"`.
        head: `"dense"`, `"cosine"` or a name added with
            `layers.register_head`; the fused head is named `"classifier"`.
            Defaults to `"dense"`.
        auxiliary_outputs: Also output one logit head per branch. The model
            then outputs a dict `{"logits": ..., "branch_<k>": ...}` (named
            inputs: `"branch_<name>"`). Defaults to `False`.
        width: Filters of each branch's first stage. Defaults to `16`.
        embedding: Width every branch is projected to before fusion.
            Defaults to `64`.
        dropout: Dropout rate before the heads. Defaults to `0.0`.
        name: Model name. Defaults to `"multi_branch_classifier"`.

    Returns:
        A functional `keras.Model` with logits output (or a dict of logits).

    Example:

    >>> model = build_multi_branch_classifier(
    ...     {"image": (16, 16, 1), "tabular": (8,)}, 3, fusion="gated")
    >>> sorted(model.input)
    ['image', 'tabular']
    >>> tuple(model.output.shape)
    (None, 3)
    """
    # Validate.
    num_classes = check_num_classes(num_classes)
    check_head(head)
    width = check_size("width", width)
    embedding = check_size("embedding", embedding)
    dropout = check_dropout(dropout)
    if isinstance(inputs, dict):
        if not inputs:
            raise invalid(
                "inputs", "a shape tuple or a non-empty dict of shapes", inputs
            )
        shapes = {
            k: check_input_shape(v, name=f"inputs[{k!r}]") for k, v in inputs.items()
        }
        branches = {} if branches is None else branches
        if not isinstance(branches, dict) or not set(branches) <= set(shapes):
            raise invalid(
                "branches",
                f"a dict of branch specs keyed by input names {sorted(shapes)}",
                branches,
            )
        specs = {k: _check_branch(branches.get(k, {"depth": 2}), k) for k in shapes}
    else:
        shape = check_input_shape(inputs, name="inputs")
        branches = default_branches() if branches is None else branches
        if not isinstance(branches, (list, tuple)) or len(branches) < 2:
            raise invalid("branches", "a list of at least 2 branch specs", branches)
        specs = {str(i): _check_branch(spec, i) for i, spec in enumerate(branches)}

    # Branches.
    if isinstance(inputs, dict):
        model_inputs = {k: keras.Input(s, name=k) for k, s in shapes.items()}
        sources = model_inputs
    else:
        model_inputs = keras.Input(shape, name="inputs")
        sources = {k: model_inputs for k in specs}
    features = {
        k: _branch(
            sources[k], spec, width=width, embedding=embedding, prefix=f"branch_{k}"
        )
        for k, spec in specs.items()
    }

    # Fusion, heads and model.
    if len(features) == 1:
        fused = next(iter(features.values()))
    else:
        fused = BranchFusion(fusion, name="fusion")(list(features.values()))
    logits = classifier_head(fused, num_classes, head, dropout=dropout)
    if not auxiliary_outputs:
        return keras.Model(model_inputs, logits, name=name)
    outputs = {"logits": logits}
    for k, f in features.items():
        outputs[f"branch_{k}"] = classifier_head(
            f, num_classes, head, dropout=dropout, name=f"branch_{k}_classifier"
        )
    return keras.Model(model_inputs, outputs, name=name)

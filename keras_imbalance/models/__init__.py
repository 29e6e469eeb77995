"""Builders returning functional `keras.Model`s with logits outputs.

Every builder is a function `build_*(...) -> keras.Model` with keyword-only
options; the final classifier layer is named `"classifier"` so the
decoupling functions (`retrain_classifier`, `tau_normalize` ...) find it
(`find_head`). `attention=` and `head=` are names of the registries of
`keras_imbalance.layers` (`register_attention`, `register_head`). The model
zoo (`MODELS`, `model_factory`) names ready-made architectures.
"""

from keras_imbalance.models.attention_classifier import build_attention_classifier
from keras_imbalance.models.batch_norm import recompute_batch_norm_statistics
from keras_imbalance.models.bilateral import (
    BilateralBranchTrainer,
    build_bilateral_branch_network,
)
from keras_imbalance.models.decoupling import (
    find_head,
    learnable_weight_scaling,
    retrain_classifier,
    tau_normalize,
    with_logit_adjustment,
)
from keras_imbalance.models.experts import build_expert_ensemble
from keras_imbalance.models.multi_branch import (
    build_multi_branch_classifier,
    default_branches,
)
from keras_imbalance.models.transfer import BACKBONES as TRANSFER_BACKBONES
from keras_imbalance.models.transfer import (
    build_transfer_classifier,
    unfreeze_backbone,
)
from keras_imbalance.models.zoo import (
    MODELS,
    ModelFactory,
    accepts_head,
    build_generic_bilateral,
    model_factory,
)

__all__ = [
    "MODELS",
    "TRANSFER_BACKBONES",
    "BilateralBranchTrainer",
    "ModelFactory",
    "accepts_head",
    "build_attention_classifier",
    "build_bilateral_branch_network",
    "build_expert_ensemble",
    "build_generic_bilateral",
    "build_multi_branch_classifier",
    "build_transfer_classifier",
    "default_branches",
    "find_head",
    "learnable_weight_scaling",
    "model_factory",
    "recompute_batch_norm_statistics",
    "retrain_classifier",
    "tau_normalize",
    "unfreeze_backbone",
    "with_logit_adjustment",
]

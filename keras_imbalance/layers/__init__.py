"""Layers for class-imbalanced models: attention, pooling, heads and fusion.

Every attention layer returns its input re-weighted (same shape); attention
maps and scores are an extra output only on request. All layers are written
with `keras.ops` (any backend) and save with `model.save("m.keras")` without
`custom_objects`.
"""

from keras_imbalance.layers.attention_pooling import AttentionPooling
from keras_imbalance.layers.bilateral import BilateralMixing
from keras_imbalance.layers.cbam import CBAM, ChannelAttention, SpatialAttention
from keras_imbalance.layers.cosine_classifier import CosineClassifier
from keras_imbalance.layers.decoupling import LearnableWeightScaling, LogitAdjustment
from keras_imbalance.layers.eca import EfficientChannelAttention, eca_kernel_size
from keras_imbalance.layers.factory import (
    ATTENTION_LAYERS,
    HEAD_LAYERS,
    get_attention,
    get_head,
    register_attention,
    register_head,
)
from keras_imbalance.layers.feature_attention import FeatureAttention
from keras_imbalance.layers.fusion import BranchFusion
from keras_imbalance.layers.imputation import MeanImputation
from keras_imbalance.layers.squeeze_excitation import SqueezeExcitation

__all__ = [
    "ATTENTION_LAYERS",
    "CBAM",
    "HEAD_LAYERS",
    "AttentionPooling",
    "BilateralMixing",
    "BranchFusion",
    "ChannelAttention",
    "CosineClassifier",
    "EfficientChannelAttention",
    "FeatureAttention",
    "LearnableWeightScaling",
    "LogitAdjustment",
    "MeanImputation",
    "SpatialAttention",
    "SqueezeExcitation",
    "eca_kernel_size",
    "get_attention",
    "get_head",
    "register_attention",
    "register_head",
]

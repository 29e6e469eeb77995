"""Loss functions for class-imbalanced and long-tailed training.

Each loss is a `keras.losses.Loss` subclass (for `model.compile`) with a
functional twin returning one value per sample. Multi-class losses take
integer or one-hot labels and dense-prediction shapes such as `(B, H, W, C)`.
"""

from keras_imbalance.losses.asymmetric import AsymmetricLoss, asymmetric_loss
from keras_imbalance.losses.class_balanced import ClassBalancedLoss, class_balanced_loss
from keras_imbalance.losses.focal import (
    BinaryFocalLoss,
    FocalLoss,
    SigmoidFocalCrossEntropy,
    binary_focal_loss,
    focal_loss,
    sigmoid_focal_crossentropy,
)
from keras_imbalance.losses.identifiers import get
from keras_imbalance.losses.ldam import LDAMLoss, ldam_loss, ldam_margins
from keras_imbalance.losses.logit_adjustment import (
    BalancedSoftmaxLoss,
    LogitAdjustedLoss,
    balanced_softmax_loss,
    logit_adjusted_loss,
)
from keras_imbalance.losses.overlap import (
    DiceLoss,
    TverskyLoss,
    dice_loss,
    tversky_loss,
)
from keras_imbalance.losses.weighted import WeightedCrossEntropy, weighted_cross_entropy

__all__ = [
    "AsymmetricLoss",
    "BalancedSoftmaxLoss",
    "BinaryFocalLoss",
    "ClassBalancedLoss",
    "DiceLoss",
    "FocalLoss",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "SigmoidFocalCrossEntropy",
    "TverskyLoss",
    "WeightedCrossEntropy",
    "asymmetric_loss",
    "balanced_softmax_loss",
    "binary_focal_loss",
    "class_balanced_loss",
    "dice_loss",
    "focal_loss",
    "get",
    "ldam_loss",
    "ldam_margins",
    "logit_adjusted_loss",
    "sigmoid_focal_crossentropy",
    "tversky_loss",
    "weighted_cross_entropy",
]

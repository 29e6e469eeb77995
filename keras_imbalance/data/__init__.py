"""`tf.data` pipelines for imbalanced training.

Re-sampling (`balanced_dataset`, `rebalance`, `bilateral_dataset`),
class-aware augmentation (`augment_minority`), mixing (`mixup`, `cutmix`,
`remix`) and SMOTE on deep data (`smote_dataset`, `feature_space_oversample`).
Every random pipeline takes `seed`: the same seed gives the same batches.
"""

from keras_imbalance.data.augmentation import augment_minority, default_image_augmenter
from keras_imbalance.data.files import COLOR_MODES, IMAGE_EXTENSIONS, ImageFiles
from keras_imbalance.data.mixing import cutmix, mixup, remix, remix_labels
from keras_imbalance.data.sampling import (
    ProgressiveSampling,
    balanced_dataset,
    bilateral_dataset,
    rebalance,
    sampling_weights,
)
from keras_imbalance.data.smote import (
    feature_space_oversample,
    resample_arrays,
    smote_dataset,
)

__all__ = [
    "COLOR_MODES",
    "IMAGE_EXTENSIONS",
    "ImageFiles",
    "ProgressiveSampling",
    "augment_minority",
    "balanced_dataset",
    "bilateral_dataset",
    "cutmix",
    "default_image_augmenter",
    "feature_space_oversample",
    "mixup",
    "rebalance",
    "remix",
    "remix_labels",
    "resample_arrays",
    "sampling_weights",
    "smote_dataset",
]

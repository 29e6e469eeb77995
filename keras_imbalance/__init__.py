"""keras_imbalance: deep learning on class-imbalanced and long-tailed data.

Losses, metrics, class statistics, attention layers, model builders and
callbacks that plug into the ordinary Keras 3 workflow (`compile`, `fit`,
`save`, `export`); named training strategies and the `keras-imbalance`
command that compares them.
"""

from keras_imbalance import (
    callbacks,
    data,
    datasets,
    evaluation,
    export,
    layers,
    losses,
    metrics,
    models,
    strategies,
)
from keras_imbalance.class_weights import (
    class_counts,
    class_priors,
    compute_class_weights,
    imbalance_ratio,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "callbacks",
    "class_counts",
    "class_priors",
    "compute_class_weights",
    "data",
    "datasets",
    "evaluation",
    "export",
    "imbalance_ratio",
    "layers",
    "losses",
    "metrics",
    "models",
    "strategies",
]

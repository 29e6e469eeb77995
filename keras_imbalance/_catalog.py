"""Names of the built-in strategies and models, without importing Keras.

The `keras-imbalance` command lists and checks these before anything loads
Keras or TensorFlow (so `--help` and argument errors answer at once); the
registries of `keras_imbalance.strategies` are built from the same names, and
a test checks that the two agree; `keras_imbalance.models.zoo` builds the
models named here.
"""

__all__ = ["MODELS", "STRATEGIES", "TABLE_MODELS"]

STRATEGIES = (
    "ce",
    "weighted_ce",
    "focal",
    "cb_focal",
    "ldam_drw",
    "balanced_softmax",
    "logit_adjusted",
    "posthoc_logit_adjustment",
    "balanced_sampling",
    "minority_augmentation",
    "remix_drw",
    "smote",
    "bbn",
    "crt",
    "tau_norm",
)
"""The built-in strategies, in registration order."""

MODELS = {
    "small_cnn": "plain conv-BN-ReLU-pool stages, global pooling, dense head",
    "attention_cnn": "small_cnn with a squeeze-and-excitation block per stage",
    "cbam_cnn": "small_cnn with a CBAM block per stage",
    "eca_cnn": "small_cnn with an ECA block per stage",
    "small_resnet": "residual stages (two convolutions each), dense head",
    "attention_resnet": "small_resnet with a squeeze-and-excitation block per stage",
    "mlp": "for tables (feature vectors): Dense-BN-ReLU blocks, dense head",
    "attention_mlp": "mlp starting with a FeatureAttention layer (feature weights)",
}
"""Model names of `models.model_factory` (also `strategies.model_factory`), with one
line each."""

TABLE_MODELS = ("mlp", "attention_mlp")
"""The models of `MODELS` for tables only: inputs `(features,)`."""

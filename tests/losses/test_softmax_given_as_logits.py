"""A softmax/sigmoid output given to a logits loss: the warning, and only then."""

import warnings
from functools import partial

import keras
import pytest

from keras_imbalance import losses
from tests.losses import probability_inputs_fixtures
from tests.losses.probability_inputs_fixtures import (
    COUNTS,
    PROBABILITY_LOSSES,
    C,
    make_data,
    model_data,
    twin_name,
)

policy = probability_inputs_fixtures.policy  # the shared fixture

# Every loss with from_logits=True, and the three on logits by default.
LOGITS_LOSSES = {
    **{
        name: (
            partial(factory, from_logits=True),
            partial(twin, from_logits=True),
            kind,
        )
        for name, (factory, twin, kind) in PROBABILITY_LOSSES.items()
    },
    "LDAMLoss": (
        partial(losses.LDAMLoss, COUNTS),
        partial(losses.ldam_loss, class_counts=COUNTS),
        "multiclass",
    ),
    "BalancedSoftmaxLoss": (
        partial(losses.BalancedSoftmaxLoss, COUNTS),
        partial(losses.balanced_softmax_loss, class_counts=COUNTS),
        "multiclass",
    ),
    "LogitAdjustedLoss": (
        partial(losses.LogitAdjustedLoss, class_counts=COUNTS),
        partial(losses.logit_adjusted_loss, class_counts=COUNTS),
        "multiclass",
    ),
}


def activation_warnings(record):
    return [
        str(w.message)
        for w in record
        if issubclass(w.category, UserWarning)
        and "y_pred was produced by a softmax/sigmoid" in str(w.message)
    ]


@pytest.mark.parametrize("name", sorted(LOGITS_LOSSES))
def test_softmax_output_given_as_logits_warns(name):
    factory, twin, kind = LOGITS_LOSSES[name]
    y, z = make_data(kind, logits=True)
    activation = keras.activations.sigmoid
    if kind != "multilabel":
        activation = keras.activations.softmax
    expects = (
        "works on logits only" if name == "LDAMLoss" else "received from_logits=True"
    )
    for loss, loss_name in ((factory(), name), (twin, twin_name(twin))):
        with pytest.warns(UserWarning) as record:
            loss(y, activation(z))
        assert activation_warnings(record) == [
            f"{loss_name} {expects} but y_pred was produced by a softmax/sigmoid "
            "activation, so it holds probabilities, not logits. Remove the final "
            "activation (every keras_imbalance builder outputs logits)"
            + ("." if name == "LDAMLoss" else " or pass from_logits=False.")
        ]
        # Plain logits: no warning, whatever their values.
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            loss(y, z)
        assert activation_warnings(record) == []


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="Keras marks a softmax output (`_keras_logits`) inside a compiled "
    "step on TensorFlow only; JAX tracers and PyTorch tensors do not carry it",
)
@pytest.mark.parametrize("dtype_policy", ["float32", "mixed_float16"])
def test_softmax_model_warns_once_in_fit(dtype_policy, policy):
    # Under mixed precision Keras casts y_pred before `call`, losing its
    # `_keras_logits` mark: the class checks it before that.
    policy(dtype_policy)
    inputs = keras.Input((6,))
    outputs = keras.layers.Dense(C, activation="softmax")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss=losses.FocalLoss(from_logits=True))
    x, y = model_data("multiclass", batch=16)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("default")
        model.fit(x, y, batch_size=4, epochs=2, verbose=0)
        model.evaluate(x, y, batch_size=4, verbose=0)
    assert len(activation_warnings(record)) == 1

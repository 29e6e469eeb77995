"""Checks every public loss gets for free (imbalanced-learn's conformance idea).

A new loss is added to `CASES` and inherits serialization, saving, export,
label-format, shape, reduction, precision and stability checks.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_imbalance import losses

C = 4
COUNTS = [400, 90, 20, 4]
RNG = np.random.default_rng(7)

# name -> (factory, kind, from_logits). kind: "multiclass" (softmax over C,
# integer or one-hot labels), "multilabel" (sigmoid per label, multi-hot),
# "segmentation" (per-sample overlap loss on (B, H, W, C)).
CASES = {
    "focal": (lambda: losses.FocalLoss(from_logits=True), "multiclass", True),
    "focal_probs": (
        lambda: losses.FocalLoss(gamma=[1, 2, 2, 3], alpha=[0.1, 0.3, 1.0, 2.0]),
        "multiclass",
        False,
    ),
    "binary_focal": (
        lambda: losses.BinaryFocalLoss(alpha=0.25, from_logits=True),
        "multilabel",
        True,
    ),
    "sigmoid_focal_tfa": (
        lambda: losses.SigmoidFocalCrossEntropy(
            from_logits=True, reduction="sum_over_batch_size"
        ),
        "multilabel",
        True,
    ),
    "weighted_ce": (
        lambda: losses.WeightedCrossEntropy([0.5, 1.0, 2.0, 4.0], from_logits=True),
        "multiclass",
        True,
    ),
    "weighted_ce_probs": (
        lambda: losses.WeightedCrossEntropy({3: 5.0}, label_smoothing=0.1),
        "multiclass",
        False,
    ),
    "cb_focal": (
        lambda: losses.ClassBalancedLoss(COUNTS, beta=0.999, from_logits=True),
        "multiclass",
        True,
    ),
    "cb_softmax": (
        lambda: losses.ClassBalancedLoss(COUNTS, loss_type="softmax", from_logits=True),
        "multiclass",
        True,
    ),
    "cb_sigmoid_probs": (
        lambda: losses.ClassBalancedLoss(COUNTS, loss_type="sigmoid"),
        "multiclass",
        False,
    ),
    "ldam": (
        lambda: losses.LDAMLoss(COUNTS, class_weight=[0.2, 0.6, 1.2, 2.0]),
        "multiclass",
        True,
    ),
    "balanced_softmax": (
        lambda: losses.BalancedSoftmaxLoss(COUNTS),
        "multiclass",
        True,
    ),
    "balanced_softmax_probs": (
        lambda: losses.BalancedSoftmaxLoss(COUNTS, from_logits=False),
        "multiclass",
        False,
    ),
    "logit_adjusted": (
        lambda: losses.LogitAdjustedLoss(class_counts=COUNTS, tau=1.5),
        "multiclass",
        True,
    ),
    "asymmetric": (lambda: losses.AsymmetricLoss(from_logits=True), "multilabel", True),
    "asymmetric_probs": (lambda: losses.AsymmetricLoss(), "multilabel", False),
    "dice": (lambda: losses.DiceLoss(from_logits=True), "segmentation", True),
    "tversky": (
        lambda: losses.TverskyLoss(gamma=4 / 3, from_logits=True),
        "segmentation",
        True,
    ),
}
NAMES = sorted(CASES)
MULTICLASS = [n for n in NAMES if CASES[n][1] == "multiclass"]
PER_POSITION = [n for n in NAMES if CASES[n][1] != "segmentation"]


def make_data(kind, from_logits, batch=8, rng=RNG):
    if kind == "segmentation":
        y = rng.integers(0, C, size=(batch, 5, 5))
        z = rng.normal(size=(batch, 5, 5, C)).astype("float32")
        return y, z if from_logits else tf.nn.softmax(z).numpy()
    z = rng.normal(size=(batch, C)).astype("float32") * 2
    if kind == "multilabel":
        y = (rng.random(size=(batch, C)) > 0.6).astype("float32")
        return y, z if from_logits else tf.sigmoid(z).numpy()
    y = rng.integers(0, C, size=(batch,))
    return y, z if from_logits else tf.nn.softmax(z).numpy()


def make_model(kind, from_logits):
    if kind == "segmentation":
        inputs = keras.Input((5, 5, 2))
        outputs = keras.layers.Conv2D(C, 1, name="head")(inputs)
    else:
        inputs = keras.Input((6,))
        outputs = keras.layers.Dense(C, name="head")(inputs)
    if not from_logits:
        activation = "sigmoid" if kind == "multilabel" else "softmax"
        outputs = keras.layers.Activation(activation, dtype="float32")(outputs)
    return keras.Model(inputs, outputs)


def model_data(kind, batch=16, rng=RNG):
    y, _ = make_data(kind, True, batch=batch, rng=rng)
    shape = (batch, 5, 5, 2) if kind == "segmentation" else (batch, 6)
    return rng.normal(size=shape).astype("float32"), y


@pytest.fixture
def policy():
    """Set a global dtype policy for one test and restore it afterwards."""
    previous = keras.config.dtype_policy()
    yield keras.config.set_dtype_policy
    keras.config.set_dtype_policy(previous)


@pytest.mark.parametrize("name", NAMES)
class TestConformance:
    def test_config_round_trip(self, name):
        loss = CASES[name][0]()
        config = loss.get_config()
        assert json.loads(json.dumps(config)) == json.loads(json.dumps(config))
        clone = type(loss).from_config(config)
        assert clone.get_config() == config
        restored = keras.losses.deserialize(keras.losses.serialize(loss))
        assert type(restored) is type(loss)
        assert restored.get_config() == config

    def test_registered_name(self, name):
        loss = CASES[name][0]()
        registered = keras.saving.get_registered_name(type(loss))
        assert registered == f"keras_imbalance>{type(loss).__name__}"
        assert keras.saving.get_registered_object(registered) is type(loss)

    def test_keras_file_round_trip(self, name, tmp_path):
        factory, kind, from_logits = CASES[name]
        model = make_model(kind, from_logits)
        model.compile(optimizer="adam", loss=factory())
        x, y = model_data(kind)
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)
        before = model.evaluate(x, y, verbose=0)
        path = tmp_path / "model.keras"
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
        assert type(loaded.loss) is type(model.loss)
        assert loaded.loss.get_config() == model.loss.get_config()
        np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), before, rtol=1e-6)

    def test_saved_model_round_trip(self, name, tmp_path):
        factory, kind, from_logits = CASES[name]
        loss = factory()
        y, y_pred = make_data(kind, from_logits)
        y_spec = tf.TensorSpec((None,) + y.shape[1:], tf.as_dtype(y.dtype))
        p_spec = tf.TensorSpec((None,) + y_pred.shape[1:], tf.float32)
        module = tf.Module()
        module.loss = tf.function(
            lambda a, b: loss(a, b), input_signature=[y_spec, p_spec]
        )
        tf.saved_model.save(module, str(tmp_path / "loss"))
        loaded = tf.saved_model.load(str(tmp_path / "loss"))
        np.testing.assert_allclose(loaded.loss(y, y_pred), loss(y, y_pred), rtol=1e-6)

    def test_reductions_and_sample_weight(self, name):
        factory, kind, from_logits = CASES[name]
        y, y_pred = make_data(kind, from_logits)
        config = factory().get_config()
        per_sample = type(factory()).from_config({**config, "reduction": "none"})
        values = np.asarray(per_sample(y, y_pred))
        assert values.shape == (8,) if kind != "segmentation" else (8,)
        assert np.all(values >= -1e-6)
        reduced = {
            r: float(type(factory()).from_config({**config, "reduction": r})(y, y_pred))
            for r in ("sum", "sum_over_batch_size", "mean")
        }
        np.testing.assert_allclose(reduced["sum"], values.sum(), rtol=1e-5)
        np.testing.assert_allclose(
            reduced["sum_over_batch_size"], values.mean(), rtol=1e-5
        )
        np.testing.assert_allclose(reduced["mean"], values.mean(), rtol=1e-5)
        weights = RNG.random(size=8).astype("float32")
        weighted = type(factory()).from_config(
            {**config, "reduction": "sum_over_batch_size"}
        )
        np.testing.assert_allclose(
            weighted(y, y_pred, sample_weight=weights),
            (values * weights).mean(),
            rtol=1e-5,
        )
        by_weight = type(factory()).from_config(
            {**config, "reduction": "mean_with_sample_weight"}
        )
        np.testing.assert_allclose(
            by_weight(y, y_pred, sample_weight=weights),
            (values * weights).sum() / weights.sum(),
            rtol=1e-5,
        )

    def test_dtype_argument(self, name):
        factory, kind, from_logits = CASES[name]
        config = factory().get_config()
        loss = type(factory()).from_config({**config, "dtype": "float64"})
        y, y_pred = make_data(kind, from_logits)
        value = loss(y, y_pred)
        assert keras.backend.standardize_dtype(value.dtype) == "float64"
        np.testing.assert_allclose(value, factory()(y, y_pred), rtol=1e-5)
        assert loss.get_config()["dtype"] == "float64"

    def test_finite_loss_and_gradients_at_extremes(self, name):
        factory, kind, from_logits = CASES[name]
        loss = factory()
        y, _ = make_data(kind, from_logits)
        if from_logits:
            shape = (8, 5, 5, C) if kind == "segmentation" else (8, C)
            extreme = np.where(RNG.random(size=shape) > 0.5, 1e4, -1e4)
            candidates = [extreme.astype("float32"), np.zeros(shape, "float32")]
        else:
            # Probabilities of exactly 0 and 1: right and wrong one-hot guesses.
            index = RNG.integers(
                0, C, size=y.shape[: 1 if kind == "multilabel" else None]
            )
            if kind == "multilabel":
                candidates = [
                    (RNG.random(size=(8, C)) > 0.5).astype("float32"),
                    y.astype("float32"),
                    1.0 - y.astype("float32"),
                ]
            else:
                candidates = [
                    np.eye(C, dtype="float32")[index],
                    np.eye(C, dtype="float32")[y],
                ]
        for y_pred in candidates:
            y_pred = tf.constant(y_pred)
            with tf.GradientTape() as tape:
                tape.watch(y_pred)
                value = loss(y, y_pred)
            gradient = tape.gradient(value, y_pred)
            assert np.isfinite(float(value)), name
            assert np.all(np.isfinite(gradient.numpy())), name

    @pytest.mark.parametrize("dtype_policy", ["mixed_float16", "mixed_bfloat16"])
    def test_mixed_precision_training_step(self, name, dtype_policy, policy):
        factory, kind, from_logits = CASES[name]
        policy(dtype_policy)
        model = make_model(kind, from_logits)
        assert model.get_layer("head").compute_dtype != "float32"
        model.compile(optimizer="adam", loss=factory())
        x, y = model_data(kind)
        # Large inputs push half-precision logits to their extremes too.
        for scale in (1.0, 1e3):
            loss_value = model.train_on_batch(x * scale, y)
            assert np.isfinite(loss_value), (name, scale)
        assert all(np.all(np.isfinite(w)) for w in model.get_weights())

    def test_mixed_precision_gradients_of_half_logits(self, name):
        factory, kind, from_logits = CASES[name]
        if not from_logits:
            pytest.skip("half-precision extremes are a logits concern")
        loss = factory()
        y, y_pred = make_data(kind, from_logits)
        for dtype in ("float16", "bfloat16"):
            z = tf.constant(np.clip(y_pred * 5e3, -6e4, 6e4), dtype=dtype)
            with tf.GradientTape() as tape:
                tape.watch(z)
                value = loss(y, z)
            assert np.isfinite(float(value))
            assert np.all(np.isfinite(tf.cast(tape.gradient(value, z), "float32")))

    def test_jit_compile(self, name):
        factory, kind, from_logits = CASES[name]
        x, y = model_data(kind)
        results = []
        for jit in (False, True):
            keras.utils.set_random_seed(0)
            model = make_model(kind, from_logits)
            model.compile(optimizer="sgd", loss=factory(), jit_compile=jit)
            results.append(model.train_on_batch(x, y))
            results.append(model.evaluate(x, y, verbose=0))
        assert all(np.isfinite(results))
        np.testing.assert_allclose(results[:2], results[2:], rtol=1e-4)


@pytest.mark.parametrize("name", MULTICLASS)
class TestLabelFormats:
    def test_integer_shapes_and_one_hot_agree(self, name):
        factory, _, from_logits = CASES[name]
        loss = factory()
        y, y_pred = make_data("multiclass", from_logits)
        want = loss(np.eye(C, dtype="float32")[y], y_pred)
        for labels in (y, y.reshape(-1, 1), y.astype("float32"), tf.constant(y)):
            np.testing.assert_allclose(loss(labels, y_pred), want, rtol=1e-6)

    def test_dense_prediction_shapes(self, name):
        factory, _, from_logits = CASES[name]
        loss = factory()
        y, y_pred = make_data("segmentation", from_logits)
        dense = loss(np.eye(C, dtype="float32")[y], y_pred)
        np.testing.assert_allclose(loss(y, y_pred), dense, rtol=1e-6)
        np.testing.assert_allclose(loss(y[..., None], y_pred), dense, rtol=1e-6)
        # The mean over every position equals the mean of the flattened batch.
        flat = loss(y.reshape(-1), np.reshape(y_pred, (-1, C)))
        np.testing.assert_allclose(dense, flat, rtol=1e-5)

    def test_ignore_class(self, name):
        factory, _, from_logits = CASES[name]
        config = factory().get_config()
        loss = type(factory()).from_config({**config, "ignore_class": 255})
        y, y_pred = make_data("segmentation", from_logits)
        y = y.copy()
        y[:, :2] = 255
        kept = type(factory()).from_config(config)(y[:, 2:], y_pred[:, 2:])
        np.testing.assert_allclose(loss(y, y_pred), kept, rtol=1e-5)
        # An ignored real class works with one-hot labels as with integers.
        as_class = type(factory()).from_config({**config, "ignore_class": 0})
        labels, preds = make_data("multiclass", from_logits)
        np.testing.assert_allclose(
            as_class(labels, preds),
            as_class(np.eye(C, dtype="float32")[labels], preds),
            rtol=1e-6,
        )


def test_get_by_registered_name():
    # Keras 3 does not resolve registered names in `compile(loss="...")`
    # (keras-team/keras#20112); `losses.get` does, for `compile(loss=get(...))`.
    assert isinstance(losses.get("keras_imbalance>FocalLoss"), losses.FocalLoss)
    assert isinstance(losses.get("DiceLoss"), losses.DiceLoss)
    assert (
        keras.saving.get_registered_object("keras_imbalance>BinaryFocalLoss")
        is losses.BinaryFocalLoss
    )
    model = make_model("multiclass", False)
    model.compile(optimizer="adam", loss=losses.get("keras_imbalance>FocalLoss"))
    x, y = model_data("multiclass")
    np.testing.assert_allclose(
        model.evaluate(x, y, verbose=0, batch_size=len(x)),
        losses.FocalLoss()(y, model.predict(x, verbose=0)),
        rtol=1e-5,
    )
    ldam = losses.get(
        {"class_name": "keras_imbalance>LDAMLoss", "config": {"class_counts": COUNTS}}
    )
    assert isinstance(ldam, losses.LDAMLoss) and ldam.class_counts == COUNTS
    focal = losses.FocalLoss(gamma=3.0)
    assert losses.get(focal) is focal
    assert losses.get("categorical_crossentropy") is not None
    with pytest.raises(ValueError, match="`LDAMLoss` needs `class_counts`"):
        losses.get("keras_imbalance>LDAMLoss")
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        losses.get("no_such_loss")


def test_per_sample_weight_broadcasts_over_positions():
    loss = losses.FocalLoss(from_logits=True)
    y, y_pred = make_data("segmentation", True)
    weights = RNG.random(size=8).astype("float32")
    per_position = losses.focal_loss(y, y_pred, from_logits=True)
    want = np.mean(np.asarray(per_position) * weights[:, None, None])
    np.testing.assert_allclose(loss(y, y_pred, sample_weight=weights), want, rtol=1e-5)
    by_weight = losses.FocalLoss(from_logits=True, reduction="mean_with_sample_weight")
    np.testing.assert_allclose(
        by_weight(y, y_pred, sample_weight=weights),
        np.sum(np.asarray(per_position) * weights[:, None, None])
        / (weights.sum() * 25),
        rtol=1e-5,
    )


BAD_ARGUMENTS = [
    (lambda: losses.FocalLoss(gamma=-1), "`gamma`.*Received: gamma=-1"),
    (lambda: losses.FocalLoss(gamma=[1.0, -2.0]), "`gamma`"),
    (lambda: losses.FocalLoss(alpha=-0.5), "`alpha`.*Received: alpha=-0.5"),
    (lambda: losses.FocalLoss(label_smoothing=1.5), "`label_smoothing`"),
    (lambda: losses.FocalLoss(from_logits="yes"), "`from_logits`"),
    (lambda: losses.FocalLoss(reduction="avg"), "`reduction`"),
    (lambda: losses.FocalLoss(ignore_class=1.5), "`ignore_class`"),
    (lambda: losses.BinaryFocalLoss(gamma=-0.1), "`gamma`"),
    (lambda: losses.BinaryFocalLoss(alpha=1.5), "`alpha`.*Received: alpha=1.5"),
    (lambda: losses.SigmoidFocalCrossEntropy(gamma=-2.0), "`gamma`"),
    (lambda: losses.WeightedCrossEntropy([1.0, -1.0]), "`class_weight`"),
    (lambda: losses.WeightedCrossEntropy({-1: 2.0}), "`class_weight`"),
    (
        lambda: losses.ClassBalancedLoss(COUNTS, loss_type="hinge"),
        "`loss_type`.*Received: loss_type='hinge'",
    ),
    (lambda: losses.ClassBalancedLoss(COUNTS, beta=1.0), "`beta`.*Received: beta=1.0"),
    (lambda: losses.ClassBalancedLoss([10, -1, 3]), "`class_counts`.*-1"),
    (lambda: losses.ClassBalancedLoss([0, 0, 0]), "`class_counts`.*not all zero"),
    (lambda: losses.LDAMLoss([5, 0, -2]), "`class_counts`"),
    (lambda: losses.LDAMLoss(COUNTS, scale=0), "`scale`"),
    (lambda: losses.LDAMLoss(COUNTS, max_margin=-1), "`max_margin`"),
    (lambda: losses.BalancedSoftmaxLoss([]), "`class_counts`"),
    (
        lambda: losses.LogitAdjustedLoss(class_counts=COUNTS, tau=-1.0),
        "`tau`.*Received: tau=-1.0",
    ),
    (lambda: losses.LogitAdjustedLoss(class_priors=[0.5, -0.5]), "`class_priors`"),
    (lambda: losses.AsymmetricLoss(clip=1.0), "`clip`.*Received: clip=1.0"),
    (lambda: losses.AsymmetricLoss(clip=-0.1), "`clip`"),
    (lambda: losses.AsymmetricLoss(gamma_neg=-1), "`gamma_neg`"),
    (lambda: losses.DiceLoss(smooth=-1), "`smooth`"),
    (lambda: losses.TverskyLoss(gamma=0), "`gamma`"),
    (lambda: losses.TverskyLoss(alpha=-0.3), "`alpha`"),
]


@pytest.mark.parametrize("factory,message", BAD_ARGUMENTS)
def test_constructor_errors(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


@pytest.mark.parametrize(
    "loss,message",
    [
        (losses.FocalLoss(alpha=[1.0, 2.0]), "`alpha`.*one value per class"),
        (losses.FocalLoss(gamma=[1.0, 2.0, 3.0]), "`gamma`.*one value per class"),
        (losses.LDAMLoss([10, 5]), "`class_counts`.*one value per class"),
        (losses.ClassBalancedLoss([10, 5, 1]), "`class_counts`.*one value per class"),
        (
            losses.WeightedCrossEntropy([1.0, 2.0]),
            "`class_weight`.*one value per class",
        ),
        (losses.BalancedSoftmaxLoss([3, 2, 1, 1, 1]), "`class_counts`"),
    ],
)
def test_per_class_length_errors(loss, message):
    # Probabilities for the probability losses: logits would (rightly) be
    # refused first, with the from_logits error.
    y, y_pred = make_data("multiclass", getattr(loss, "from_logits", True))
    with pytest.raises(ValueError, match=message):
        loss(y, y_pred)


def test_label_shape_error():
    with pytest.raises(ValueError, match="Integer labels must have shape"):
        losses.FocalLoss()(np.zeros((8, 3)), np.full((8, C), 0.25))

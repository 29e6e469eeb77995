"""Checks every public loss gets for free (imbalanced-learn's conformance idea).

Every public loss class has cases in `tests/conformance/case_tables.py` (`_loss_cases`;
a new loss without one fails `test_every_public_loss_has_a_case`) and
inherits the shared checks (config, serialization, `.keras` and SavedModel
round trips, dtype policies, XLA) and the label-format, shape, reduction,
precision and stability checks below.
"""

import keras
import numpy as np
import pytest

from keras_imbalance import losses
from tests import conformance
from tests.conformance import COUNTS, C, from_logits

RNG = np.random.default_rng(7)
CASES = conformance.cases("loss")
MULTICLASS = conformance.cases("loss", lambda case: case.labels == "multiclass")


def make_data(labels, logits, batch=8):
    return conformance.loss_data(labels, logits, batch=batch, rng=RNG)


def model_data(labels, batch=16):
    return conformance.loss_model_data(labels, batch=batch, rng=RNG)


make_model = conformance.loss_model


def test_every_public_loss_has_a_case():
    assert not conformance.missing_cases("loss"), conformance.missing_cases("loss")


@pytest.fixture
def policy():
    """Set a global dtype policy for one test and restore it afterwards."""
    previous = keras.config.dtype_policy()
    yield keras.config.set_dtype_policy
    keras.config.set_dtype_policy(previous)


@pytest.mark.parametrize("case", CASES)
class TestConformance:
    def test_config_round_trip(self, case):
        conformance.run_check("config_round_trip", case, None)

    def test_serialization_round_trip(self, case):
        conformance.run_check("serialization_round_trip", case, None)

    @pytest.mark.slow
    def test_keras_file_round_trip(self, case, tmp_path):
        conformance.run_check("keras_file_round_trip", case, tmp_path)

    @pytest.mark.slow
    @pytest.mark.skipif(
        keras.backend.backend() != "tensorflow",
        reason="a loss in a tf.function of a tf.Module, saved as a SavedModel: "
        "TensorFlow tensors only (the .keras round trip runs on every backend)",
    )
    def test_saved_model_round_trip(self, case, tmp_path):
        import tensorflow as tf

        loss = case.make()
        y, y_pred = make_data(case.labels, from_logits(loss))
        signature = [
            tf.TensorSpec((None,) + y.shape[1:], tf.as_dtype(y.dtype)),
            tf.TensorSpec((None,) + y_pred.shape[1:], tf.float32),
        ]
        loaded = conformance.check_saved_function_round_trip(
            loss, lambda obj, a, b: obj(a, b), signature, [(y, y_pred)], tmp_path
        )
        np.testing.assert_allclose(loaded.fn(y, y_pred), loss(y, y_pred), rtol=1e-6)

    def test_reductions_and_sample_weight(self, case):
        y, y_pred = make_data(case.labels, from_logits(case.make()))
        config = case.make().get_config()
        cls = type(case.make())
        values = keras.ops.convert_to_numpy(
            cls.from_config({**config, "reduction": "none"})(y, y_pred)
        )
        assert values.shape == (8,)
        assert np.all(values >= -1e-6)
        reduced = {
            r: float(cls.from_config({**config, "reduction": r})(y, y_pred))
            for r in ("sum", "sum_over_batch_size", "mean")
        }
        np.testing.assert_allclose(reduced["sum"], values.sum(), rtol=1e-5)
        np.testing.assert_allclose(
            reduced["sum_over_batch_size"], values.mean(), rtol=1e-5
        )
        np.testing.assert_allclose(reduced["mean"], values.mean(), rtol=1e-5)
        weights = RNG.random(size=8).astype("float32")
        weighted = cls.from_config({**config, "reduction": "sum_over_batch_size"})
        np.testing.assert_allclose(
            weighted(y, y_pred, sample_weight=weights),
            (values * weights).mean(),
            rtol=1e-5,
        )
        by_weight = cls.from_config({**config, "reduction": "mean_with_sample_weight"})
        np.testing.assert_allclose(
            by_weight(y, y_pred, sample_weight=weights),
            (values * weights).sum() / weights.sum(),
            rtol=1e-5,
        )

    def test_dtype_argument(self, case):
        reference = case.make()
        loss = type(reference).from_config(
            {**reference.get_config(), "dtype": "float64"}
        )
        y, y_pred = make_data(case.labels, from_logits(reference))
        value = loss(y, y_pred)
        # JAX without `jax_enable_x64` has no float64: Keras makes it float32.
        float64 = keras.ops.convert_to_tensor(1.0, "float64").dtype
        assert value.dtype == float64
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(value),
            keras.ops.convert_to_numpy(reference(y, y_pred)),
            rtol=1e-5,
        )
        assert loss.get_config()["dtype"] == "float64"
        # Half and double precision predictions give a finite value of the
        # loss's own dtype.
        for dtype in ("float16", "float64"):
            conformance.check_finite(
                reference(y, y_pred.astype(dtype)), reference.dtype
            )

    @pytest.mark.slow
    def test_float64_policy(self, case):
        # mixed_float16 and mixed_bfloat16: test_mixed_precision_training_step.
        conformance.check_dtype_policies(case, policies=("float64",))

    def test_finite_loss_and_gradients_at_extremes(self, case):
        loss = case.make()
        kind, logits = case.labels, from_logits(loss)
        y, _ = make_data(kind, logits)
        if logits:
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
            value, gradient = conformance.value_and_gradient(
                lambda z: loss(y, z), y_pred
            )
            assert np.isfinite(float(value)), case.id
            assert np.all(np.isfinite(gradient)), case.id

    @pytest.mark.slow
    @pytest.mark.parametrize("dtype_policy", ["mixed_float16", "mixed_bfloat16"])
    def test_mixed_precision_training_step(self, case, dtype_policy, policy):
        policy(dtype_policy)
        loss = case.make()
        model = make_model(case.labels, from_logits(loss))
        assert model.get_layer("head").compute_dtype != "float32"
        # Eager: the dtypes are the compiled step's, without its tracing (the
        # compiled steps are test_jit_compile_matches_eager's).
        model.compile(optimizer="adam", loss=loss, run_eagerly=True)
        x, y = model_data(case.labels)
        # Large inputs push half-precision logits to their extremes too.
        for scale in (1.0, 1e3):
            loss_value = model.train_on_batch(x * scale, y)
            assert np.isfinite(loss_value), (case.id, scale)
        assert all(np.all(np.isfinite(w)) for w in model.get_weights())

    def test_mixed_precision_gradients_of_half_logits(self, case):
        loss = case.make()
        if not from_logits(loss):
            pytest.skip("half-precision extremes are a logits concern")
        y, y_pred = make_data(case.labels, True)
        for dtype in ("float16", "bfloat16"):
            value, gradient = conformance.value_and_gradient(
                lambda z: loss(y, z), np.clip(y_pred * 5e3, -6e4, 6e4), dtype=dtype
            )
            assert np.isfinite(float(value)), dtype
            assert np.all(np.isfinite(gradient)), dtype

    @pytest.mark.slow
    def test_jit_compile_matches_eager(self, case):
        conformance.run_check("jit_matches_eager", case, None)


@pytest.mark.parametrize("case", MULTICLASS)
class TestLabelFormats:
    def test_integer_shapes_and_one_hot_agree(self, case):
        loss = case.make()
        y, y_pred = make_data("multiclass", from_logits(loss))
        want = loss(np.eye(C, dtype="float32")[y], y_pred)
        tensor = keras.ops.convert_to_tensor(y)
        for labels in (y, y.reshape(-1, 1), y.astype("float32"), tensor):
            np.testing.assert_allclose(loss(labels, y_pred), want, rtol=1e-6)

    def test_dense_prediction_shapes(self, case):
        loss = case.make()
        y, y_pred = make_data("segmentation", from_logits(loss))
        dense = loss(np.eye(C, dtype="float32")[y], y_pred)
        np.testing.assert_allclose(loss(y, y_pred), dense, rtol=1e-6)
        np.testing.assert_allclose(loss(y[..., None], y_pred), dense, rtol=1e-6)
        # The mean over every position equals the mean of the flattened batch.
        flat = loss(y.reshape(-1), np.reshape(y_pred, (-1, C)))
        np.testing.assert_allclose(dense, flat, rtol=1e-5)

    def test_ignore_class(self, case):
        reference = case.make()
        cls, config, logits = (
            type(reference),
            reference.get_config(),
            from_logits(reference),
        )
        loss = cls.from_config({**config, "ignore_class": 255})
        y, y_pred = make_data("segmentation", logits)
        y = y.copy()
        y[:, :2] = 255
        kept = cls.from_config(config)(y[:, 2:], y_pred[:, 2:])
        np.testing.assert_allclose(loss(y, y_pred), kept, rtol=1e-5)
        # An ignored real class works with one-hot labels as with integers.
        as_class = cls.from_config({**config, "ignore_class": 0})
        labels, preds = make_data("multiclass", logits)
        np.testing.assert_allclose(
            as_class(labels, preds),
            as_class(np.eye(C, dtype="float32")[labels], preds),
            rtol=1e-6,
        )


@pytest.mark.slow
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
    want = np.mean(keras.ops.convert_to_numpy(per_position) * weights[:, None, None])
    np.testing.assert_allclose(loss(y, y_pred, sample_weight=weights), want, rtol=1e-5)
    by_weight = losses.FocalLoss(from_logits=True, reduction="mean_with_sample_weight")
    np.testing.assert_allclose(
        by_weight(y, y_pred, sample_weight=weights),
        np.sum(keras.ops.convert_to_numpy(per_position) * weights[:, None, None])
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

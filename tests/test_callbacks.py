"""Callbacks: deferred re-weighting, cumulative learning, the imbalance monitor.

The quick tests run on every Keras backend: the loss of the compiled step
(`tf.function`, JAX's stateless `jax.jit` step, PyTorch's eager one) jumps
at the epoch a schedule switches, and a `tf.data` validation set feeds the
monitor of a JAX or PyTorch model.
"""

import csv

import keras
import numpy as np
import pytest
import tensorflow as tf
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

from keras_imbalance import callbacks, compute_class_weights, losses, models

COUNTS = [60, 20, 6]
RNG = np.random.default_rng(0)
X = RNG.normal(size=(86, 5)).astype("float32")
Y = np.repeat(np.arange(3), COUNTS)


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])


class TestSchedulesInTheCompiledStep:
    """With a learning rate of 0 the weights stay: only a schedule changes the
    loss, and each epoch's training loss must be the eager loss of its epoch's
    setting (the compiled step saw the change, on every backend)."""

    def test_deferred_reweighting_loss_jumps_at_start_epoch(self):
        loss = losses.LDAMLoss(COUNTS, scale=5.0)
        model = _model()
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss)
        drw = callbacks.DeferredReweighting(loss, class_counts=COUNTS, start_epoch=2)
        history = model.fit(X, Y, epochs=3, batch_size=86, verbose=0, callbacks=[drw])
        logits = keras.ops.convert_to_numpy(model(X))
        unweighted = losses.LDAMLoss(COUNTS, scale=5.0)
        values = history.history["loss"]
        want = float(keras.ops.convert_to_numpy(unweighted(Y, logits)))
        np.testing.assert_allclose(values[:2], want, rtol=1e-5)
        want = float(keras.ops.convert_to_numpy(loss(Y, logits)))
        np.testing.assert_allclose(values[2], want, rtol=1e-5)
        assert abs(values[2] - values[1]) > 1e-2

    def test_cumulative_learning_loss_follows_alpha(self):
        def dense(input_shape, num_classes):
            inputs = keras.Input(input_shape)
            x = keras.layers.Dense(4, activation="relu")(inputs)
            outputs = keras.layers.Dense(num_classes, name="classifier")(x)
            return keras.Model(inputs, outputs)

        keras.utils.set_random_seed(0)
        train_model, _ = models.build_generic_bilateral(dense, (5,), 3)
        ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        train_model.compile(optimizer=keras.optimizers.SGD(0.0), loss=ce)
        y_r = Y[::-1].copy()
        schedule = callbacks.CumulativeLearning(3)
        history = train_model.fit(
            (X, X[::-1]),
            (Y, y_r),
            epochs=3,
            batch_size=86,
            verbose=0,
            callbacks=[schedule],
        )
        mixing = train_model.get_layer("bilateral_mixing")
        want = []
        for epoch in range(3):
            alpha = schedule.alpha_at(epoch)
            mixing.alpha.assign(alpha)
            z = train_model([X, X[::-1]])
            value = alpha * ce(Y, z) + (1 - alpha) * ce(y_r, z)
            want.append(float(keras.ops.convert_to_numpy(value)))
        np.testing.assert_allclose(history.history["bbn_alpha"], [1, 8 / 9, 5 / 9])
        np.testing.assert_allclose(history.history["loss"], want, rtol=1e-5)
        assert abs(want[1] - want[0]) > 1e-3 and abs(want[2] - want[1]) > 1e-3


@pytest.mark.slow
class TestDeferredReweighting:
    @pytest.mark.parametrize("jit_compile", [False, True])
    @pytest.mark.parametrize(
        "make_loss",
        [
            lambda: losses.LDAMLoss(COUNTS, scale=5.0),
            lambda: losses.WeightedCrossEntropy([1.0, 1.0, 1.0], from_logits=True),
            lambda: losses.FocalLoss(gamma=1.0, from_logits=True),
        ],
    )
    def test_loss_changes_in_compiled_step_at_start_epoch(self, make_loss, jit_compile):
        loss = make_loss()
        model = _model()
        # A learning rate of 0 keeps the weights: only the loss can change.
        model.compile(
            optimizer=keras.optimizers.SGD(0.0), loss=loss, jit_compile=jit_compile
        )
        drw = callbacks.DeferredReweighting(loss, class_counts=COUNTS, start_epoch=2)
        history = model.fit(X, Y, epochs=4, batch_size=86, verbose=0, callbacks=[drw])
        values = history.history["loss"]
        logits = model.predict(X, verbose=0)
        before = type(loss).from_config(
            {**loss.get_config(), drw.attribute: drw.initial_weights}
        )
        np.testing.assert_allclose(values[:2], float(before(Y, logits)), rtol=1e-5)
        np.testing.assert_allclose(values[2:], float(loss(Y, logits)), rtol=1e-5)
        assert abs(values[2] - values[1]) > 1e-3
        weights = compute_class_weights(COUNTS, "effective_number", beta=0.9999)
        np.testing.assert_allclose(getattr(loss, drw.attribute), weights)

    def test_resumes_with_backup_and_restore(self, tmp_path):
        def run(interrupt_at=None):
            loss = losses.LDAMLoss(COUNTS, scale=5.0)
            model = _model()
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
            drw = callbacks.DeferredReweighting(
                loss, class_counts=COUNTS, start_epoch=2
            )

            class Interrupt(keras.callbacks.Callback):
                def on_epoch_end(self, epoch, logs=None):
                    if epoch == interrupt_at:
                        raise RuntimeError("interrupted")

            backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
            fit = dict(epochs=5, batch_size=86, verbose=0, shuffle=False)
            if interrupt_at is None:
                history = model.fit(X, Y, callbacks=[drw], **fit)
                return model, history, loss
            with pytest.raises(RuntimeError, match="interrupted"):
                model.fit(X, Y, callbacks=[drw, backup, Interrupt()], **fit)
            # A new process would rebuild everything: do the same.
            loss = losses.LDAMLoss(COUNTS, scale=5.0)
            model = _model(seed=1)
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
            drw = callbacks.DeferredReweighting(
                loss, class_counts=COUNTS, start_epoch=2
            )
            history = model.fit(X, Y, callbacks=[drw, backup], **fit)
            return model, history, loss

        straight, straight_history, _ = run()
        resumed, resumed_history, loss = run(interrupt_at=2)
        assert len(resumed_history.history["loss"]) == 2  # epochs 3 and 4
        np.testing.assert_allclose(
            resumed_history.history["loss"],
            straight_history.history["loss"][3:],
            rtol=1e-5,
        )
        for a, b in zip(resumed.get_weights(), straight.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        assert loss.class_weight is not None

    def test_errors(self):
        with pytest.raises(TypeError, match="DeferredReweighting switches"):
            callbacks.DeferredReweighting(
                keras.losses.CategoricalCrossentropy(),
                class_counts=COUNTS,
                start_epoch=1,
            )
        loss = losses.LDAMLoss(COUNTS)
        with pytest.raises(ValueError, match="`start_epoch`"):
            callbacks.DeferredReweighting(loss, class_counts=COUNTS, start_epoch=-1)
        with pytest.raises(ValueError, match="`beta`"):
            callbacks.DeferredReweighting(
                loss, class_counts=COUNTS, start_epoch=1, beta=1.0
            )
        with pytest.raises(ValueError, match="`class_counts`"):
            callbacks.DeferredReweighting(loss, class_counts=[0, 0], start_epoch=1)


@pytest.fixture(scope="module")
def monitored(tmp_path_factory):
    """A model fitted with ImbalanceMonitor, CSVLogger and EarlyStopping."""
    model = _model()
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    csv_path = tmp_path_factory.mktemp("logs") / "log.csv"
    monitor = callbacks.ImbalanceMonitor(
        (X, Y), class_counts=[150, 40, 5], class_names=["head", "middle", "tail"]
    )
    stop = keras.callbacks.EarlyStopping(
        monitor="val_balanced_accuracy", mode="max", patience=1
    )
    history = model.fit(
        X,
        Y,
        epochs=6,
        batch_size=16,
        verbose=0,
        callbacks=[monitor, keras.callbacks.CSVLogger(str(csv_path)), stop],
    )
    return model, history, csv_path, stop


class TestImbalanceMonitor:
    @pytest.mark.slow
    def test_logs_match_scikit_learn_and_imblearn(self, monitored):
        model, history, _, _ = monitored
        logs = {k: v[-1] for k, v in history.history.items()}
        predicted = model.predict(X, verbose=0).argmax(-1)
        assert logs["val_balanced_accuracy"] == pytest.approx(
            balanced_accuracy_score(Y, predicted), abs=1e-6
        )
        assert logs["val_macro_f1"] == pytest.approx(
            f1_score(Y, predicted, average="macro"), abs=1e-6
        )
        assert logs["val_g_mean"] == pytest.approx(
            geometric_mean_score(Y, predicted), abs=1e-6
        )
        recalls = recall_score(Y, predicted, average=None)
        for name, value in zip(["head", "middle", "tail"], recalls):
            assert logs[f"val_recall/{name}"] == pytest.approx(value, abs=1e-6)
        # Shot groups from the class counts: many (150), medium (40), few (5).
        assert logs["val_many_shot_accuracy"] == pytest.approx(recalls[0], abs=1e-6)
        assert logs["val_medium_shot_accuracy"] == pytest.approx(recalls[1], abs=1e-6)
        assert logs["val_few_shot_accuracy"] == pytest.approx(recalls[2], abs=1e-6)

    @pytest.mark.slow
    def test_csv_logger_and_early_stopping_see_the_keys(self, monitored):
        _, history, csv_path, stop = monitored
        with open(csv_path) as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == len(history.history["loss"])
        assert "val_balanced_accuracy" in rows[0] and "val_recall/tail" in rows[0]
        assert stop.best == pytest.approx(max(history.history["val_balanced_accuracy"]))

    def test_dataset_and_one_hot_validation_data(self):
        model = _model()
        model.compile(
            optimizer="sgd", loss=keras.losses.CategoricalCrossentropy(from_logits=True)
        )
        one_hot = np.eye(3, dtype="float32")[Y]
        dataset = tf.data.Dataset.from_tensor_slices((X, one_hot)).batch(20)
        history = model.fit(
            X,
            one_hot,
            epochs=1,
            verbose=0,
            callbacks=[callbacks.ImbalanceMonitor(dataset)],
        )
        predicted = model.predict(X, verbose=0).argmax(-1)
        assert history.history["val_balanced_accuracy"][0] == pytest.approx(
            balanced_accuracy_score(Y, predicted), abs=1e-6
        )
        assert "val_few_shot_accuracy" not in history.history

    def test_errors(self):
        with pytest.raises(ValueError, match="`class_names`"):
            callbacks.ImbalanceMonitor((X, Y), class_counts=COUNTS, class_names=["a"])
        model = _model()
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        with pytest.raises(ValueError, match="`validation_data` must be"):
            model.fit(
                X, Y, epochs=1, verbose=0, callbacks=[callbacks.ImbalanceMonitor(X)]
            )

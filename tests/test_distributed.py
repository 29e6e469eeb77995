"""Training on two devices gives the numbers of one, in a subprocess each.

`tf.distribute.MirroredStrategy` needs two logical CPU devices, which must be
configured before TensorFlow initialises: a child process sets them up and,
with the same data and weights on one device and on two, records every loss
of `keras_imbalance.losses` (value, and the weights after one SGD step: the
gradient), every metric of `keras_imbalance.metrics`, a `DeferredReweighting`
run and the batches of `data.balanced_dataset` distributed with
`strategy.experimental_distribute_dataset`. A second child runs JAX over two
host CPU devices (`XLA_FLAGS=--xla_force_host_platform_device_count=2`) with
`keras.distribution.DataParallel`: a builder model trained with an imbalance
loss and metrics, and `comparison.compare(..., distribution=...)`. Each child
prints a JSON report the tests below assert on.
"""

import textwrap

import numpy as np
import pytest

from tests.child_report import child_report

# --------------------------------------------------------------- TensorFlow

# The long-tailed images `compare` trains on under MirroredStrategy (global
# batches of 16), made the same way by both children that use them.
COMPARE_ARRAYS = textwrap.dedent(
    """
    images_rng = np.random.default_rng(5)
    images = images_rng.normal(size=(3, 8, 8, 1)).astype("float32")
    def split(per_class):
        labels = np.repeat([0, 1, 2], per_class)
        noise = images_rng.normal(size=(len(labels), 8, 8, 1))
        return images[labels] + noise.astype("float32"), labels
    arrays = (split([100, 40, 20]), split([10, 10, 10]))
    factory = comparison.model_factory("small_cnn", width=4, depth=1)
    """
)

TF_CHILD = textwrap.dedent(
    """
    import contextlib
    import json

    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    import keras
    import numpy as np

    from keras_imbalance import callbacks as C, data as D, losses as L, metrics as M

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    ONE = contextlib.nullcontext
    TWO = strategy.scope
    rng = np.random.default_rng(0)
    x = rng.normal(size=(35, 4)).astype("float32") * 2
    y = np.arange(35) % 3
    multi = (rng.random(size=(35, 3)) > 0.5).astype("float32")
    counts = [40, 10, 2]
    keras.utils.set_random_seed(1)
    w0 = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]).get_weights()
    LR = 0.5

    def dense_model(scope, lr=LR, **compile_args):
        with scope():
            model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
            model.set_weights(w0)
            model.compile(optimizer=keras.optimizers.SGD(lr), **compile_args)
        return model

    losses = {
        "AsymmetricLoss": (lambda: L.AsymmetricLoss(from_logits=True), multi),
        "BalancedSoftmaxLoss": (lambda: L.BalancedSoftmaxLoss(counts), y),
        "BinaryFocalLoss": (lambda: L.BinaryFocalLoss(from_logits=True), multi),
        "ClassBalancedLoss": (
            lambda: L.ClassBalancedLoss(counts, from_logits=True), y),
        "DiceLoss": (lambda: L.DiceLoss(from_logits=True), y),
        "FocalLoss": (lambda: L.FocalLoss(from_logits=True), y),
        "LDAMLoss": (lambda: L.LDAMLoss(counts), y),
        "LogitAdjustedLoss": (lambda: L.LogitAdjustedLoss(class_counts=counts), y),
        "SigmoidFocalCrossEntropy": (
            lambda: L.SigmoidFocalCrossEntropy(
                from_logits=True, reduction="sum_over_batch_size"), multi),
        "TverskyLoss": (lambda: L.TverskyLoss(from_logits=True), y),
        "WeightedCrossEntropy": (
            lambda: L.WeightedCrossEntropy([1.0, 2.0, 3.0], from_logits=True), y),
        # TF-Addons' default: one value per sample (see the report).
        "SigmoidFocalCrossEntropy(reduction=None)": (
            lambda: L.SigmoidFocalCrossEntropy(from_logits=True), multi),
    }
    out = {"replicas": strategy.num_replicas_in_sync, "losses": {}}
    out["loss_classes"] = sorted(
        n for n in L.__all__
        if isinstance(getattr(L, n), type)
        and issubclass(getattr(L, n), keras.losses.Loss)
    )
    for name, (make, target) in losses.items():
        row = {}
        for where, scope in (("one", ONE), ("two", TWO)):
            model = dense_model(scope, loss=make())
            # 35 samples in batches of 16: 8 + 8 per replica, then 2 + 1.
            value = model.evaluate(x, target, batch_size=16, verbose=0)
            model.fit(x[:16], target[:16], batch_size=16, shuffle=False, verbose=0)
            step = [(w - v) / LR for w, v in zip(model.get_weights(), w0)]
            row[where] = {
                "loss": float(np.mean(value)),
                "gradient": np.concatenate([s.ravel() for s in step]).tolist(),
            }
        out["losses"][name] = row

    metrics = {
        "BalancedAccuracy": lambda: M.BalancedAccuracy(3),
        "GeometricMeanRecall": lambda: M.GeometricMeanRecall(3),
        "GroupAccuracy": lambda: M.GroupAccuracy(counts, group="few"),
        "MacroF1": lambda: M.MacroF1(3),
    }
    out["metric_classes"] = sorted(
        n for n in M.__all__
        if isinstance(getattr(M, n), type)
        and issubclass(getattr(M, n), keras.metrics.Metric)
    )
    out["metrics"] = {}
    for where, scope in (("one", ONE), ("two", TWO)):
        model = dense_model(
            scope,
            loss=L.FocalLoss(from_logits=True),
            metrics=[make() for make in metrics.values()],
        )
        # Uneven last batch (3 samples: 2 + 1 per replica) included.
        out["metrics"][where] = model.evaluate(
            x, y, batch_size=16, verbose=0, return_dict=True
        )

    out["drw"] = {}
    for where, scope in (("one", ONE), ("two", TWO)):
        loss = L.LDAMLoss(counts)
        # A learning rate of 0: the loss changes at the switch only.
        model = dense_model(scope, lr=0.0, loss=loss)
        drw = C.DeferredReweighting(loss, class_counts=counts, start_epoch=2)
        history = model.fit(
            x[:32], y[:32], batch_size=16, epochs=4, shuffle=False, verbose=0,
            callbacks=[drw],
        )
        out["drw"][where] = history.history["loss"]

    # balanced_dataset: a sample's id as its input, to follow it.
    labels = np.repeat([0, 1, 2], [200, 40, 10])
    ids = np.arange(len(labels), dtype="float32")[:, None]
    def stream(scope):
        with scope():
            return D.balanced_dataset(ids, labels, batch_size=32, seed=7)
    reference = stream(ONE)
    single = [
        [b[0][:, 0].numpy().astype(int).tolist() for b in reference]
        for _ in range(2)
    ]
    replicas = []
    for made_in in (ONE, TWO):  # built outside and inside the scope
        distributed = strategy.experimental_distribute_dataset(stream(made_in))
        epochs = []
        for _ in range(2):
            steps = []
            for batch in distributed:
                parts = strategy.experimental_local_results(batch[0])
                steps.append(
                    [p[:, 0].numpy().astype(int).tolist() for p in parts]
                )
            epochs.append(steps)
        replicas.append(epochs)
    out["balanced"] = {
        "labels": labels.tolist(), "single": single, "replicas": replicas
    }
    trained = {}
    features = np.repeat(x[:3], [200, 40, 10], axis=0)
    features = features + rng.normal(size=features.shape).astype("float32")
    for where, scope in (("one", ONE), ("two", TWO)):
        model = dense_model(scope, loss=L.BalancedSoftmaxLoss([200, 40, 10]))
        batches = D.balanced_dataset(features, labels, batch_size=32, seed=7)
        if where == "one":
            # Keras' fit under a MirroredStrategy starts the dataset's second
            # pass (it opens one iterator before training): skip one here.
            for _ in batches:
                pass
        model.fit(batches, epochs=1, verbose=0)
        trained[where] = np.concatenate(
            [w.ravel() for w in model.get_weights()]).tolist()
    out["balanced"]["fit"] = trained

    # compare under the strategy (global batches of 16); its results file is
    # rerun by a new process (MIRRORED_RERUN_CHILD).
    from keras_imbalance import comparison
    COMPARE_ARRAYS
    compared = {}
    for where, given in (("one", None), ("two", strategy)):
        result = comparison.compare(
            "focal", arrays, epochs=1, batch_size=16, model=factory,
            distribution=given)
        compared[where] = {
            "validation": result.runs[0].validation.balanced_accuracy,
            "test": result.runs[0].test.balanced_accuracy,
            "distribution": result.setup["distribution"],
            "in_scope_after": tf.distribute.has_strategy(),
        }
    compared["results"] = result.to_json()
    out["compare"] = compared
    print("REPORT" + json.dumps(out))
    """
).replace("COMPARE_ARRAYS\n", COMPARE_ARRAYS)


@pytest.fixture(scope="module")
def mirrored():
    pytest.importorskip("tensorflow")
    return child_report(TF_CHILD, KERAS_BACKEND="tensorflow")


# `rerun` of the results file in a new process with the same two devices (a
# second MirroredStrategy over the same devices in one process collides with
# the first one's collective ops in TensorFlow).
MIRRORED_RERUN_CHILD = (
    textwrap.dedent(
        """
        import json, sys

        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
        import numpy as np

        from keras_imbalance import comparison
        """
    )
    + COMPARE_ARRAYS
    + textwrap.dedent(
        """
        again = comparison.rerun(sys.argv[1], data=arrays)
        print("REPORT" + json.dumps({
            "distribution": again.setup["distribution"],
            "test": again.runs[0].test.balanced_accuracy,
        }))
        """
    )
)


@pytest.fixture(scope="module")
def mirrored_rerun(mirrored, tmp_path_factory):
    path = tmp_path_factory.mktemp("rerun") / "results.json"
    path.write_text(mirrored["compare"]["results"], encoding="utf-8")
    return child_report(
        MIRRORED_RERUN_CHILD, args=[str(path)], KERAS_BACKEND="tensorflow"
    )


@pytest.mark.slow  # a subprocess
class TestMirroredStrategy:
    def test_two_replicas(self, mirrored):
        assert mirrored["replicas"] == 2

    def test_every_loss_is_checked(self, mirrored):
        checked = {name.split("(")[0] for name in mirrored["losses"]}
        assert checked == set(mirrored["loss_classes"])

    @pytest.mark.parametrize(
        "name",
        [
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
        ],
    )
    def test_loss_and_gradient_equal_one_device(self, mirrored, name):
        one, two = mirrored["losses"][name]["one"], mirrored["losses"][name]["two"]
        np.testing.assert_allclose(two["loss"], one["loss"], rtol=1e-5)
        assert np.max(np.abs(one["gradient"])) > 1e-3  # the step moved
        np.testing.assert_allclose(two["gradient"], one["gradient"], atol=1e-5)

    def test_unreduced_sigmoid_focal_gradient(self, mirrored):
        # One value per sample: the gradient (of the sum) is the same on two
        # replicas; the logged value is not (see docs/distributed.md).
        row = mirrored["losses"]["SigmoidFocalCrossEntropy(reduction=None)"]
        np.testing.assert_allclose(
            row["two"]["gradient"], row["one"]["gradient"], atol=1e-5
        )

    def test_every_metric_equals_one_device(self, mirrored):
        one, two = mirrored["metrics"]["one"], mirrored["metrics"]["two"]
        names = {
            "BalancedAccuracy": "balanced_accuracy",
            "GeometricMeanRecall": "g_mean",
            "GroupAccuracy": "few_shot_accuracy",
            "MacroF1": "macro_f1",
        }
        assert set(names) == set(mirrored["metric_classes"])
        assert set(one) == set(two) == {"loss", *names.values()}
        for key in one:
            np.testing.assert_allclose(two[key], one[key], rtol=1e-5, err_msg=key)

    def test_deferred_reweighting_switches(self, mirrored):
        one, two = mirrored["drw"]["one"], mirrored["drw"]["two"]
        np.testing.assert_allclose(two, one, rtol=1e-5)
        assert abs(two[2] - two[1]) > 0.01 * two[1]  # the switch, at epoch 2
        np.testing.assert_allclose([two[1], two[3]], [two[0], two[2]], rtol=1e-6)

    def test_balanced_batches_split_without_loss_or_copies(self, mirrored):
        # Each global batch is the single-device batch of the same seed, cut
        # in two: replica 0 the first half, replica 1 the second, in both
        # epochs, whether the dataset was built inside the scope or not.
        single = mirrored["balanced"]["single"]
        for replicas in mirrored["balanced"]["replicas"]:
            assert len(replicas) == len(single) == 2
            for epoch, expected in zip(replicas, single):
                assert len(epoch) == len(expected) == 8  # ceil(250 / 32)
                for parts, batch in zip(epoch, expected):
                    assert [len(p) for p in parts] == [16, 16]
                    assert parts[0] + parts[1] == batch
        assert single[0] != single[1]  # each epoch draws anew

    def test_each_replica_sees_balanced_classes(self, mirrored):
        labels = np.asarray(mirrored["balanced"]["labels"])
        for replica in (0, 1):
            ids = [
                i
                for epoch in mirrored["balanced"]["replicas"][0]
                for step in epoch
                for i in step[replica]
            ]
            drawn = np.bincount(labels[ids], minlength=3)
            n = len(ids)  # 2 epochs x 8 steps x 16 = 256
            sd = np.sqrt(n * (1 / 3) * (2 / 3))
            np.testing.assert_array_less(np.abs(drawn - n / 3), 4.5 * sd)

    def test_fit_on_balanced_dataset_equals_one_device(self, mirrored):
        fit = mirrored["balanced"]["fit"]
        np.testing.assert_allclose(fit["two"], fit["one"], atol=1e-5)

    def test_compare_trains_under_the_strategy_and_records_it(self, mirrored):
        runs = mirrored["compare"]
        assert runs["one"]["distribution"] is None
        recorded = runs["two"]["distribution"]
        assert recorded["class_name"] == "MirroredStrategy"
        assert recorded["replicas"] == 2 and len(recorded["devices"]) == 2
        for where in ("one", "two"):
            assert not runs[where]["in_scope_after"]
            assert 0.0 <= runs[where]["test"] <= 1.0

    def test_rerun_replays_the_strategy(self, mirrored, mirrored_rerun):
        runs = mirrored["compare"]
        assert mirrored_rerun["distribution"] == runs["two"]["distribution"]
        assert mirrored_rerun["test"] == runs["two"]["test"]


# ---------------------------------------------------------------------- JAX

JAX_CHILD = textwrap.dedent(
    """
    import json

    import keras
    import numpy as np

    from keras_imbalance import comparison, losses as L, metrics as M, models

    devices = keras.distribution.list_devices()
    out = {"backend": keras.backend.backend(), "devices": len(devices)}
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8, 8, 1)).astype("float32")
    y = np.repeat([0, 1, 2], [40, 16, 8])
    counts = [40, 16, 8]

    def build():
        return models.build_attention_classifier(
            input_shape=(8, 8, 1), num_classes=3, width=4, depth=2
        )

    keras.utils.set_random_seed(0)
    w0 = build().get_weights()

    def train():
        model = build()
        model.set_weights(w0)
        model.compile(
            optimizer=keras.optimizers.SGD(0.1),
            loss=L.LDAMLoss(counts),
            metrics=[M.BalancedAccuracy(3), M.MacroF1(3)],
        )
        history = model.fit(
            x, y, batch_size=16, epochs=2, shuffle=False, verbose=0
        )
        logs = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
        weights = np.concatenate([w.ravel() for w in model.get_weights()])
        return {
            "history": history.history,
            "evaluate": logs,
            "weights": weights.tolist(),
        }

    out["one"] = train()
    distribution = keras.distribution.DataParallel(devices=devices)
    with distribution.scope():
        out["two"] = train()

    # A long-tailed set whose splits the 2 devices divide: 144 training, 16
    # validation (10% of each class), 30 test samples; batches of 16.
    train_counts, test_counts = [100, 40, 20], [10, 10, 10]
    centres = rng.normal(size=(3, 8, 8, 1)).astype("float32")
    def samples(per_class):
        labels = np.repeat([0, 1, 2], per_class)
        noise = rng.normal(size=(len(labels), 8, 8, 1)).astype("float32")
        return centres[labels] + noise, labels
    arrays = (samples(train_counts), samples(test_counts))

    results = []

    def scores(**options):
        result = comparison.compare(
            "focal", arrays, epochs=1, batch_size=16,
            model=comparison.model_factory("small_cnn", width=4, depth=1),
            **options,
        )
        results.append(result)
        run = result.runs[0]
        return {
            "validation": run.validation.balanced_accuracy,
            "macro_f1": run.validation.macro_f1,
            "test": run.test.balanced_accuracy,
            "sizes": [sum(result.setup[k]) for k in (
                "class_counts", "validation_counts", "test_counts")],
            "distribution": result.setup["distribution"],
            "after": repr(keras.distribution.distribution()),
        }

    out["compare"] = {
        "one": scores(),
        "named": scores(distribution="data_parallel"),
        "given": scores(distribution=distribution),
    }
    # rerun replays the recorded DataParallel over the same devices.
    again = comparison.rerun(results[-1].to_json(), data=arrays)
    out["rerun"] = {
        "distribution": again.setup["distribution"],
        "same": again.values("focal") == results[-1].values("focal"),
    }
    try:
        comparison.compare(
            "ce", arrays, epochs=1, batch_size=15, distribution="data_parallel")
    except ValueError as error:
        out["ragged_error"] = str(error)
    print("REPORT" + json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def data_parallel():
    pytest.importorskip("jax")
    return child_report(
        JAX_CHILD,
        KERAS_BACKEND="jax",
        XLA_FLAGS="--xla_force_host_platform_device_count=2",
    )


@pytest.mark.slow  # a subprocess
class TestDataParallel:
    def test_two_host_devices(self, data_parallel):
        assert data_parallel["backend"] == "jax"
        assert data_parallel["devices"] == 2

    def test_builder_trains_with_the_numbers_of_one_device(self, data_parallel):
        one, two = data_parallel["one"], data_parallel["two"]
        assert set(one["history"]) == {"loss", "balanced_accuracy", "macro_f1"}
        for key, values in one["history"].items():
            np.testing.assert_allclose(
                two["history"][key], values, rtol=1e-5, err_msg=key
            )
        for key, value in one["evaluate"].items():
            np.testing.assert_allclose(
                two["evaluate"][key], value, rtol=1e-5, err_msg=key
            )
        np.testing.assert_allclose(two["weights"], one["weights"], atol=1e-5)

    def test_compare_with_a_distribution_scores_as_without(self, data_parallel):
        runs = data_parallel["compare"]
        for key in ("validation", "macro_f1", "test"):
            for option in ("named", "given"):
                np.testing.assert_allclose(
                    runs[option][key], runs["one"][key], atol=1e-6, err_msg=key
                )

    def test_compare_checks_the_devices_divide_every_batch(self, data_parallel):
        assert data_parallel["compare"]["one"]["sizes"] == [144, 16, 30]
        assert data_parallel["ragged_error"].startswith(
            "DataParallel over 2 devices shards every batch 2 ways"
        )
        assert "{'batch_size': 15}" in data_parallel["ragged_error"]

    def test_compare_records_and_restores_the_distribution(self, data_parallel):
        runs = data_parallel["compare"]
        assert runs["one"]["distribution"] is None
        for option in ("named", "given"):
            recorded = runs[option]["distribution"]
            assert recorded["class_name"] == "DataParallel"
            assert recorded["devices"] == ["cpu:0", "cpu:1"]
            assert runs[option]["after"] == "None"

    def test_rerun_replays_the_distribution(self, data_parallel):
        rerun = data_parallel["rerun"]
        assert (
            rerun["distribution"] == data_parallel["compare"]["given"]["distribution"]
        )
        assert rerun["same"]


class TestDistributionArgument:
    """`compare(distribution=...)`'s checks, in this (TensorFlow) process."""

    def test_keras_distribution_needs_jax(self):
        from keras_imbalance.comparison import compare

        with pytest.raises(ValueError, match="needs the JAX backend; Keras runs on"):
            compare("ce", epochs=1, distribution="data_parallel")

    def test_unknown_distribution(self):
        from keras_imbalance.strategies.context import distribution_scope

        with pytest.raises(ValueError, match="Invalid value for argument `distr"):
            distribution_scope("model_parallel")
        with pytest.raises(ValueError, match="keras.distribution.DataParallel or Mod"):
            distribution_scope(2)

    def test_fewer_than_two_devices(self, monkeypatch):
        import keras

        from keras_imbalance.strategies.context import distribution_scope

        monkeypatch.setattr(keras.config, "backend", lambda: "jax")
        monkeypatch.setattr(keras.distribution, "list_devices", lambda: ["cpu:0"])
        with pytest.raises(ValueError, match="needs at least 2 devices; JAX sees 1"):
            distribution_scope("data_parallel")

    def test_tf_strategy_is_used_and_recorded(self):
        tf = pytest.importorskip("tensorflow")
        from keras_imbalance.strategies.context import distribution_scope

        strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
        scope, record = distribution_scope(strategy)
        with scope:
            assert tf.distribute.get_strategy() is strategy
        assert record["class_name"] == "OneDeviceStrategy"
        assert record["replicas"] == 1

    def test_rerun_asks_for_a_distribution_it_cannot_rebuild(self):
        from keras_imbalance.strategies.context import replayed_distribution

        assert replayed_distribution(None) is None
        for record in (
            {"class_name": "ModelParallel", "devices": ["cpu:0"]},
            {"class_name": "DataParallel", "devices": ["cpu:0", "cpu:1"]},
            {"class_name": "MirroredStrategy", "devices": ["/device:CPU:7"]},
            {"class_name": "MultiWorkerMirroredStrategy", "devices": []},
        ):
            with pytest.raises(ValueError, match="Pass `distribution=` to `rerun`"):
                replayed_distribution(record)

    def test_ragged_batches_named(self):
        from keras_imbalance.strategies.context import check_batches

        record = {"class_name": "DataParallel", "mesh_shape": [4]}
        check_batches(record, 32, {"training": 400})
        with pytest.raises(ValueError, match=r"these are not: \{'training': 30"):
            check_batches(record, 32, {"training": 30, "test": 8})
        check_batches({"class_name": "MirroredStrategy"}, 3, {"training": 7})

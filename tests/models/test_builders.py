"""Builders: shapes, numerics, BBN training and errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_imbalance import callbacks, losses, models

RNG = np.random.default_rng(0)


class TestAttentionClassifier:
    @pytest.mark.parametrize("input_shape", [(16, 16, 3), (20, 4), (10,)])
    @pytest.mark.parametrize("attention", ["se", "cbam", "eca", None])
    def test_input_ranks_and_attention(self, input_shape, attention):
        if attention == "cbam" and len(input_shape) == 2:
            pytest.skip("CBAM's spatial attention is built for images")
        model = models.build_attention_classifier(
            input_shape, 3, attention=attention, width=4, depth=2
        )
        x = RNG.normal(size=(2,) + input_shape).astype("float32")
        assert model(x).shape == (2, 3)
        names = [layer.name for layer in model.layers]
        assert names[-1] == "classifier"
        has_attention = any("attention" in n for n in names)
        assert has_attention == (attention is not None)

    def test_tabular_uses_feature_attention(self):
        model = models.build_attention_classifier((10,), 3, width=4, depth=1)
        assert any(type(layer).__name__ == "FeatureAttention" for layer in model.layers)

    def test_cosine_head_and_residual_backbone(self):
        model = models.build_attention_classifier(
            (16, 16, 3), 3, head="cosine", backbone="small_resnet", width=4, depth=2
        )
        assert type(model.get_layer("classifier")).__name__ == "CosineClassifier"
        assert any(layer.name.endswith("_add") for layer in model.layers)


class TestMultiBranch:
    @pytest.mark.parametrize("fusion", ["concat", "sum", "mean", "gated", "attention"])
    def test_fusion_modes(self, fusion):
        model = models.build_multi_branch_classifier(
            (12, 12, 1), 4, fusion=fusion, width=4, embedding=8
        )
        x = RNG.normal(size=(2, 12, 12, 1)).astype("float32")
        assert model(x).shape == (2, 4)
        assert model.get_layer("fusion").mode == fusion

    def test_named_inputs_with_auxiliary_heads(self):
        model = models.build_multi_branch_classifier(
            {"image": (12, 12, 1), "tabular": (6,)},
            3,
            branches={"image": {"depth": 2, "attention": "se"}},
            auxiliary_outputs=True,
            width=4,
            embedding=8,
        )
        assert set(model.output) == {"logits", "branch_image", "branch_tabular"}
        x = {
            "image": RNG.normal(size=(16, 12, 12, 1)).astype("float32"),
            "tabular": RNG.normal(size=(16, 6)).astype("float32"),
        }
        y = RNG.integers(0, 3, size=16)
        # Every head outputs logits. One compiled (graph) step: the builders
        # train in compiled steps here (test_conformance trains them eagerly).
        ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(
            optimizer="adam",
            loss={
                "logits": losses.FocalLoss(from_logits=True),
                "branch_image": ce,
                "branch_tabular": ce,
            },
            loss_weights={"logits": 1.0, "branch_image": 0.3, "branch_tabular": 0.3},
        )
        history = model.fit(x, {k: y for k in model.output}, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])

    def test_branches_differ(self):
        model = models.build_multi_branch_classifier((12, 12, 1), 3, width=4)
        kernels = {
            layer.name: layer.kernel_size
            for layer in model.layers
            if layer.name.endswith("_conv") and layer.name.startswith("branch_")
        }
        assert {k[0] for k in kernels.values()} == {3, 5, 7}


class TestExpertEnsemble:
    def test_average_of_experts(self):
        model = models.build_expert_ensemble(
            (12, 12, 3), 4, num_experts=3, width=4, depth=2, return_expert_logits=True
        )
        x = RNG.normal(size=(2, 12, 12, 3)).astype("float32")
        out = {k: ops.convert_to_numpy(v) for k, v in model(x).items()}
        experts = np.stack([out[f"expert_{k}"] for k in range(3)])
        np.testing.assert_allclose(out["logits"], experts.mean(0), rtol=1e-5, atol=1e-6)

    def test_shared_trunk_and_independent_experts(self):
        model = models.build_expert_ensemble((12, 12, 3), 4, num_experts=2, width=4)
        names = [layer.name for layer in model.layers]
        assert sum(n.startswith("shared") and n.endswith("_conv") for n in names) == 2
        assert "expert_0_stage2_conv" not in names  # prefixes are per expert
        assert "expert_02_conv" in names and "expert_12_conv" in names

    def test_tabular(self):
        model = models.build_expert_ensemble((8,), 3, num_experts=2, width=4)
        assert model(np.zeros((2, 8), "float32")).shape == (2, 3)


@pytest.fixture(scope="module")
def bbn():
    keras.utils.set_random_seed(1)
    return models.build_bilateral_branch_network((10, 10, 1), 3, width=4, depth=2)


def _bbn_data(n=32):
    x_c = RNG.normal(size=(n, 10, 10, 1)).astype("float32")
    x_r = RNG.normal(size=(n, 10, 10, 1)).astype("float32")
    return x_c, x_r, RNG.integers(0, 3, size=n), RNG.integers(0, 3, size=n)


class TestBilateralBranchNetwork:
    def test_models_share_every_weight(self, bbn):
        train_model, inference_model = bbn
        train_ids = {id(v) for v in train_model.trainable_variables}
        assert {id(v) for v in inference_model.trainable_variables} == train_ids

    def test_one_top_level_classifier_shared_by_both_models(self, bbn):
        train_model, inference_model = bbn
        head = models.find_head(inference_model)
        assert head is models.find_head(train_model)
        assert head.kernel.shape == (2 * 8, 3)  # both branches' pooled features

    def test_same_logits_at_alpha_half(self, bbn):
        train_model, inference_model = bbn
        train_model.get_layer("bilateral_mixing").alpha.assign(0.5)
        x = RNG.normal(size=(4, 10, 10, 1)).astype("float32")
        np.testing.assert_allclose(
            ops.convert_to_numpy(train_model([x, x], training=False)),
            ops.convert_to_numpy(inference_model(x, training=False)),
            rtol=1e-5,
            atol=1e-6,
        )

    def test_bbn_loss_and_cumulative_schedule(self, bbn):
        # Compiled fit and evaluate (one trace each, the cost of this test);
        # the reference outputs are eager calls, not two more traced predicts.
        train_model, inference_model = bbn
        x_c, x_r, y_c, y_r = _bbn_data(16)
        dataset = tf.data.Dataset.from_tensor_slices(((x_c, x_r), (y_c, y_r))).batch(8)
        ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        train_model.compile(optimizer="adam", loss=ce, metrics=["accuracy"])
        seen = []

        class Record(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                seen.append(float(self.model.get_layer("bilateral_mixing").alpha))

        history = train_model.fit(
            dataset,
            epochs=3,
            verbose=0,
            callbacks=[callbacks.CumulativeLearning(3), Record()],
        )
        np.testing.assert_allclose(seen, [1.0, 1 - (1 / 3) ** 2, 1 - (2 / 3) ** 2])
        np.testing.assert_allclose(history.history["bbn_alpha"], seen)
        # evaluate() reports alpha * L(z, y_c) + (1 - alpha) * L(z, y_r).
        alpha = seen[-1]
        z = keras.ops.convert_to_numpy(train_model([x_c, x_r], training=False))
        want = alpha * ce(y_c, z) + (1 - alpha) * ce(y_r, z)
        result = train_model.evaluate(dataset, verbose=0, return_dict=True)
        np.testing.assert_allclose(result["loss"], want, rtol=1e-5)
        accuracy = np.mean(z.argmax(-1) == y_c)
        np.testing.assert_allclose(result["accuracy"], accuracy, rtol=1e-6)
        assert inference_model(x_c, training=False).shape == (16, 3)

    def test_train_model_keras_round_trip(self, bbn, tmp_path):
        train_model, _ = bbn
        train_model.get_layer("bilateral_mixing").alpha.assign(0.3)
        path = tmp_path / "bbn_train.keras"
        train_model.save(path)
        loaded = keras.saving.load_model(path)
        assert type(loaded).__name__ == "BilateralBranchTrainer"
        assert float(loaded.get_layer("bilateral_mixing").alpha) == pytest.approx(0.3)
        x = RNG.normal(size=(2, 10, 10, 1)).astype("float32")
        np.testing.assert_allclose(
            ops.convert_to_numpy(loaded([x, x], training=False)),
            ops.convert_to_numpy(train_model([x, x], training=False)),
            rtol=1e-5,
            atol=1e-6,
        )

    def test_tabular_bbn(self):
        train_model, inference_model = models.build_bilateral_branch_network(
            (6,), 3, width=4, depth=2
        )
        assert inference_model(np.zeros((2, 6), "float32")).shape == (2, 3)

    def test_wrong_targets_are_explained(self, bbn):
        train_model, _ = bbn
        train_model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        x_c, x_r, y_c, _ = _bbn_data(8)
        with pytest.raises(ValueError, match=r"\(\(x_c, x_r\), \(y_c, y_r\)\)"):
            train_model.fit((x_c, x_r), y_c, epochs=1, verbose=0)

    def test_callback_needs_mixing_layer(self):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
        model.compile(optimizer="sgd", loss="mse")
        with pytest.raises(ValueError, match="needs a `bilateral_mixing` layer"):
            model.fit(
                np.zeros((4, 2)),
                np.zeros((4, 2)),
                verbose=0,
                callbacks=[callbacks.CumulativeLearning(2)],
            )


BAD_BUILDS = [
    (
        lambda: models.build_attention_classifier((8, 8, 3), 3, attention="senet"),
        r"`attention`.*\['se', 'cbam', 'eca', None\]",
    ),
    (
        lambda: models.build_attention_classifier((8, 8, 3), 3, backbone="vgg"),
        r"`backbone`.*small_cnn",
    ),
    (
        lambda: models.build_attention_classifier((8, 8, 3), 3, head="mlp"),
        r"`head`.*\['dense', 'cosine'\]",
    ),
    (lambda: models.build_attention_classifier((8, 8, 3), 1), "`num_classes`"),
    (lambda: models.build_attention_classifier((2, 8, 8, 3), 3), "`input_shape`"),
    (lambda: models.build_attention_classifier((8, 8, 3), 3, dropout=1.0), "`dropout`"),
    (
        lambda: models.build_multi_branch_classifier((8, 8, 3), 3, fusion="max"),
        "fusion|mode",
    ),
    (
        lambda: models.build_multi_branch_classifier((8, 8, 3), 3, branches=[{}]),
        "`branches`",
    ),
    (
        lambda: models.build_multi_branch_classifier(
            (8, 8, 3), 3, branches=[{"depht": 2}, {}]
        ),
        r"`branches\[0\]`",
    ),
    (
        lambda: models.build_multi_branch_classifier(
            {"a": (4,)}, 3, branches={"b": {}}
        ),
        "`branches`",
    ),
    (
        lambda: models.build_bilateral_branch_network((8, 8, 3), 3, depth=1),
        r"`depth`. Expected an integer >= 2",
    ),
    (
        lambda: models.build_bilateral_branch_network((8, 8, 3), 3, width=None),
        r"`width`. Expected a positive integer. Received: width=None",
    ),
    (
        lambda: models.build_bilateral_branch_network((8, 8, 3), 3, dropout=-0.1),
        r"`dropout`. Expected a float in \[0, 1\)",
    ),
    (
        lambda: models.build_bilateral_branch_network((8, 8, 3), 3, head="mlp"),
        r"`head`.*\['dense', 'cosine'\].*register_head",
    ),
    (
        lambda: models.build_attention_classifier((8, 8, 3), 3, width=0),
        r"`width`. Expected a positive integer",
    ),
    (
        lambda: models.build_attention_classifier((8, 8, 3), 3, depth=2.5),
        r"`depth`. Expected a positive integer",
    ),
    (
        lambda: models.build_multi_branch_classifier((8, 8, 3), 3, width=None),
        r"`width`. Expected a positive integer",
    ),
    (
        lambda: models.build_multi_branch_classifier((8, 8, 3), 3, embedding=0),
        r"`embedding`. Expected a positive integer",
    ),
    (
        lambda: models.build_multi_branch_classifier((8, 8, 3), 3, head="mlp"),
        r"`head`.*\['dense', 'cosine'\]",
    ),
    (
        lambda: models.build_multi_branch_classifier(
            (8, 8, 3), 3, branches=[{"depth": 0}, {}]
        ),
        r"`branches\[0\]\['depth'\]`. Expected a positive integer",
    ),
    (
        lambda: models.build_multi_branch_classifier(
            (8, 8, 3), 3, branches=[{"attention": "senet"}, {}]
        ),
        r"`attention`.*register_attention",
    ),
    (lambda: models.build_bilateral_branch_network((8, 8, 3), 0), "`num_classes`"),
    (
        lambda: models.build_expert_ensemble((8, 8, 3), 3, shared_depth=3),
        "`shared_depth`",
    ),
    (
        lambda: models.build_expert_ensemble((8, 8, 3), 3, num_experts=0),
        r"`num_experts`. Expected a positive integer. Received: num_experts=0",
    ),
    (
        lambda: models.build_expert_ensemble((8, 8, 3), 3, width=None),
        r"`width`. Expected a positive integer. Received: width=None",
    ),
    (
        lambda: models.build_expert_ensemble((8, 8, 3), 3, depth=0),
        r"`depth`. Expected a positive integer. Received: depth=0",
    ),
    (
        lambda: models.build_expert_ensemble((8, 8, 3), 3, shared_depth=-1),
        r"`shared_depth`. Expected an integer >= 0",
    ),
    (lambda: callbacks.CumulativeLearning(0), "`total_epochs`"),
]


@pytest.mark.parametrize("build,message", BAD_BUILDS)
def test_builder_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()

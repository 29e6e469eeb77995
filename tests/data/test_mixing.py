"""Tests for `keras_imbalance.data.mixing`.

References: mixup (Zhang et al. 2018), CutMix (Yun et al. 2019) and Remix
(Chou et al. 2020). The pairs a pipeline formed are recovered from its
output: with identity labels (sample `i` of a batch has class `i`) the mixed
label names the partner and the factor; with identity inputs (`x_i = e_i`)
the mixed input does.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from keras_imbalance.data.mixing import cutmix, mixup, remix, remix_labels

BATCH = 8


def identity_label_dataset(x, batches=1):
    """Batches of `BATCH` samples whose labels are the rows of `eye(BATCH)`."""
    labels = np.tile(np.eye(BATCH, dtype="float32"), (batches, 1))
    return tf.data.Dataset.from_tensor_slices((x, labels)).batch(BATCH)


def pairs_from_labels(y):
    """(anchor share, partner index) of each row of identity-mixed labels."""
    pairs = []
    for i, row in enumerate(y):
        others = [c for c in np.nonzero(row > 1e-7)[0] if c != i]
        pairs.append((float(row[i]), others[0] if others else i))
    return pairs


def first_batch(dataset):
    return [np.asarray(t) for t in next(iter(dataset))]


def epoch(dataset):
    return [np.asarray(t) for element in dataset for t in tf.nest.flatten(element)]


class TestRemixLabels:
    # (n_i, n_j, lam, expected label weight of y_i), kappa=3, tau=0.5.
    CASES = [
        (100, 10, 0.3, 0.0),  # i head, j tail, lam < tau: wholly y_j
        (100, 10, 0.7, 0.7),  # i head but it dominates the input: mixup
        (10, 100, 0.8, 1.0),  # j head, 1 - lam < tau: wholly y_i
        (10, 100, 0.3, 0.3),  # j head but it dominates the input: mixup
        (50, 40, 0.2, 0.2),  # ratio 1.25 < kappa: mixup
        (30, 10, 0.4, 0.0),  # ratio exactly kappa counts (>=)
        (100, 10, 0.5, 0.5),  # lam exactly tau does not (<)
    ]

    @pytest.mark.parametrize("n_i, n_j, lam, weight", CASES)
    def test_cases(self, n_i, n_j, lam, weight):
        y_i, y_j = [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]
        out = remix_labels(y_i, y_j, n_i, n_j, lam, kappa=3.0, tau=0.5)
        np.testing.assert_allclose(out, [weight, 0.0, 1.0 - weight], atol=1e-7)

    def test_batched_matches_reference(self):
        rng = np.random.default_rng(0)
        size, classes = 200, 5
        counts = np.array([500, 200, 60, 20, 5], dtype="float32")
        c_i, c_j = rng.integers(0, classes, (2, size))
        lam = rng.random(size).astype("float32")
        y_i, y_j = np.eye(classes, dtype="float32")[[c_i, c_j]]
        n_i, n_j = counts[c_i], counts[c_j]
        out = remix_labels(y_i, y_j, n_i, n_j, lam, kappa=2.0, tau=0.4)
        weight = np.where(
            (n_i / n_j >= 2.0) & (lam < 0.4),
            0.0,
            np.where((n_j / n_i >= 2.0) & (1 - lam < 0.4), 1.0, lam),
        )
        expected = weight[:, None] * y_i + (1 - weight[:, None]) * y_j
        np.testing.assert_allclose(out, expected, atol=1e-6)

    @pytest.mark.parametrize(
        "kwargs, match",
        [({"kappa": 0.5}, "kappa"), ({"tau": 1.5}, "tau"), ({"tau": -0.1}, "tau")],
    )
    def test_errors(self, kwargs, match):
        with pytest.raises(ValueError, match=f"Invalid value for argument `{match}`"):
            remix_labels([1.0, 0.0], [0.0, 1.0], 10, 1, 0.5, **kwargs)


class TestMixup:
    @pytest.mark.parametrize("shape", [(5,), (4, 4, 3)], ids=["vectors", "images"])
    def test_formula(self, shape):
        x = np.random.default_rng(1).random((BATCH, *shape)).astype("float32")
        x_out, y_out = first_batch(mixup(identity_label_dataset(x), alpha=1.0, seed=3))
        assert x_out.shape == x.shape
        np.testing.assert_allclose(y_out.sum(axis=-1), 1.0, rtol=1e-6)
        shares = []
        for i, (lam, j) in enumerate(pairs_from_labels(y_out)):
            np.testing.assert_allclose(
                x_out[i], lam * x[i] + (1 - lam) * x[j], rtol=1e-6, atol=1e-7
            )
            if j != i:
                shares.append(lam)
        assert len(set(np.round(shares, 6))) > 1  # one factor per sample

    def test_factor_distribution(self):
        # x_i = e_i: the mixed input holds lam_i at i and 1 - lam_i at j.
        x = np.tile(np.eye(BATCH, dtype="float32"), (250, 1))
        dataset = identity_label_dataset(x, batches=250)
        lams = []
        for x_out, _ in mixup(dataset, alpha=0.4, seed=0).as_numpy_iterator():
            for i, row in enumerate(x_out):
                partner = np.delete(row, i)
                if partner.max() > 0:  # not paired with itself
                    lams.append(row[i])
        assert stats.kstest(lams, stats.beta(0.4, 0.4).cdf).pvalue > 1e-3

    def test_integer_labels_with_num_classes(self):
        x = np.random.default_rng(2).random((16, 3)).astype("float32")
        y = np.arange(16) % 4
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
        out = mixup(dataset, num_classes=4, seed=0)
        assert out.element_spec[1] == tf.TensorSpec((None, 4), tf.float32)
        for _, y_out in out.as_numpy_iterator():
            np.testing.assert_allclose(y_out.sum(axis=-1), 1.0, rtol=1e-6)

    def test_integer_inputs_become_float(self):
        x = np.random.default_rng(2).integers(0, 256, (8, 4, 4, 1)).astype("uint8")
        out = mixup(identity_label_dataset(x), seed=0)
        assert out.element_spec[0].dtype == tf.float32


class TestCutMix:
    @pytest.mark.slow
    def test_images(self):
        x = np.random.default_rng(3).random((BATCH, 10, 12, 3)).astype("float32")
        x_out, y_out = first_batch(cutmix(identity_label_dataset(x), seed=4))
        np.testing.assert_allclose(y_out.sum(axis=-1), 1.0, rtol=1e-6)
        for i, (kept, j) in enumerate(pairs_from_labels(y_out)):
            from_j = np.all(x_out[i] == x[j], axis=-1)
            assert np.all(from_j | np.all(x_out[i] == x[i], axis=-1))
            if j == i:
                continue
            # The pasted region is one box across all channels, and the label
            # weight is the exact fraction of pixels kept.
            np.testing.assert_allclose(1.0 - from_j.mean(), kept, atol=1e-6)
            rows, cols = np.nonzero(from_j)
            if rows.size:
                box = from_j[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
                assert box.all() and box.sum() == from_j.sum()

    def test_feature_vectors(self):
        x = np.random.default_rng(5).random((BATCH, 20)).astype("float32")
        x_out, y_out = first_batch(cutmix(identity_label_dataset(x), seed=6))
        shares = []
        for i, (kept, j) in enumerate(pairs_from_labels(y_out)):
            if j == i:
                continue
            from_j = x_out[i] == x[j]
            np.testing.assert_array_equal(x_out[i][~from_j], x[i][~from_j])
            np.testing.assert_allclose(1.0 - from_j.mean(), kept, atol=1e-6)
            span = np.nonzero(from_j)[0]
            if span.size:  # one contiguous span
                assert span.max() - span.min() + 1 == span.size
            shares.append(kept)
        assert len(set(np.round(shares, 6))) > 1

    def test_area_matches_beta(self):
        # Box areas before clipping are 1 - lam, lam ~ Beta(1, 1); clipping
        # only shrinks them, so the mean kept fraction is at least 1/2.
        x = np.random.default_rng(7).random((400 * BATCH, 6)).astype("float32")
        out = cutmix(identity_label_dataset(x, batches=400), alpha=1.0, seed=0)
        kept = [
            share
            for _, y_out in out.as_numpy_iterator()
            for share, j in pairs_from_labels(y_out)
        ]
        assert 0.5 <= np.mean(kept) <= 0.8


class TestRemix:
    @pytest.mark.slow
    def test_label_rule_end_to_end(self):
        # x_i = e_i (one-hot over the batch), so x~ names lam and the partner.
        rng = np.random.default_rng(8)
        counts = np.array([900, 300, 100, 10])
        batches = 100
        x = np.tile(np.eye(BATCH, dtype="float32"), (batches, 1))
        y = rng.integers(0, 4, BATCH * batches)
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH)
        out = remix(dataset, class_counts=counts, alpha=1.0, seed=0)
        to_tail, head_tail_pairs = 0, 0
        for b, (x_out, y_out) in enumerate(out.as_numpy_iterator()):
            labels = y[b * BATCH : (b + 1) * BATCH]
            for i, row in enumerate(x_out):
                lam, others = row[i], np.delete(row, i)
                j = np.delete(np.arange(BATCH), i)[np.argmax(others)]
                if others.max() == 0:  # paired with itself
                    j = i
                expected = remix_labels(
                    np.eye(4)[labels[i]],
                    np.eye(4)[labels[j]],
                    counts[labels[i]],
                    counts[labels[j]],
                    lam,
                )
                np.testing.assert_allclose(y_out[i], expected, atol=1e-6)
                if counts[labels[i]] >= 3 * counts[labels[j]]:
                    head_tail_pairs += 1
                    to_tail += int(y_out[i][labels[j]] == 1.0)
        # P(lam < tau) = 0.5 for Beta(1, 1).
        assert head_tail_pairs > 100
        p = to_tail / head_tail_pairs
        assert abs(p - 0.5) <= 4 * np.sqrt(0.25 / head_tail_pairs)

    @pytest.mark.slow
    def test_favours_tail_over_mixup(self):
        # One tail sample per batch of 10: mixup keeps its label mass at 1 per
        # batch on average; Remix adds E[lam; lam < 1/2] = 1/8 for each of the
        # 0.9 head anchors paired with it and as much for the tail anchor
        # paired with a head sample: 1 + 0.225 per batch.
        counts = [90, 10]
        y = np.array(([0] * 9 + [1]) * 300)
        x = np.zeros((y.size, 2), "float32")
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(10)
        tail_mass = {}
        for name, out in [
            ("mixup", mixup(dataset, alpha=1.0, num_classes=2, seed=0)),
            ("remix", remix(dataset, class_counts=counts, alpha=1.0, seed=0)),
        ]:
            tail_mass[name] = np.mean(
                [y_out[:, 1].sum() for _, y_out in out.as_numpy_iterator()]
            )
        assert abs(tail_mass["mixup"] - 1.0) < 0.1
        assert abs(tail_mass["remix"] - 1.225) < 0.1

    def test_sample_weights_mixed_like_labels(self):
        y = np.array([0, 0, 0, 1] * 4)
        w = np.ones(16, "float32")
        x = np.random.default_rng(9).random((16, 3)).astype("float32")
        dataset = tf.data.Dataset.from_tensor_slices((x, y, w)).batch(8)
        out = remix(dataset, class_counts=[12, 4], seed=0)
        for _, y_out, w_out in out.as_numpy_iterator():
            assert w_out.shape == (8,)
            np.testing.assert_allclose(w_out, 1.0, rtol=1e-6)
            np.testing.assert_allclose(y_out.sum(axis=-1), 1.0, rtol=1e-6)


MIXERS = {
    "mixup": lambda ds, **kw: mixup(ds, num_classes=3, **kw),
    "cutmix": lambda ds, **kw: cutmix(ds, num_classes=3, **kw),
    "remix": lambda ds, **kw: remix(ds, class_counts=[20, 8, 4], **kw),
}


def small_dataset(dict_inputs=False, size=32):
    rng = np.random.default_rng(10)
    images = rng.random((size, 6, 6, 3)).astype("float32")
    y = np.array([0, 0, 0, 0, 0, 1, 1, 2] * (size // 8))
    x = {"image": images, "meta": rng.random((size, 4)).astype("float32")}
    return tf.data.Dataset.from_tensor_slices((x if dict_inputs else images, y))


@pytest.mark.parametrize("name", sorted(MIXERS))
class TestCommon:
    @pytest.mark.slow
    def test_seed(self, name):
        dataset = small_dataset().batch(8)
        mixer = MIXERS[name]
        first = epoch(mixer(dataset, seed=1))
        again = epoch(mixer(dataset, seed=1))
        other = epoch(mixer(dataset, seed=2))
        for a, b in zip(first, again):
            np.testing.assert_array_equal(a, b)
        assert any(not np.array_equal(a, b) for a, b in zip(first, other))
        out = mixer(dataset, seed=1)
        epochs = [epoch(out), epoch(out)]  # each epoch draws anew
        assert any(not np.array_equal(a, b) for a, b in zip(*epochs))

    def test_dict_inputs_share_factor_and_partner(self, name):
        rng = np.random.default_rng(11)
        image = rng.random((BATCH, 4, 4, 1)).astype("float32")
        x = {"image": image, "copy": image.copy()}
        y = np.array([0, 0, 0, 0, 0, 1, 1, 2])
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH)
        x_out, y_out = next(iter(MIXERS[name](dataset, seed=0)))
        np.testing.assert_array_equal(x_out["image"], x_out["copy"])
        assert not np.array_equal(x_out["image"], image)
        np.testing.assert_allclose(np.sum(y_out, axis=-1), 1.0, rtol=1e-6)

    def test_fit(self, name):
        train = MIXERS[name](small_dataset().batch(8), seed=0)
        model = keras.Sequential(
            [
                keras.Input((6, 6, 3)),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(3),
            ]
        )
        model.compile("sgd", keras.losses.CategoricalCrossentropy(from_logits=True))
        history = model.fit(train, epochs=2, verbose=0, shuffle=False)
        assert np.all(np.isfinite(history.history["loss"]))

    def test_fit_dict_inputs(self, name):
        train = MIXERS[name](small_dataset(dict_inputs=True).batch(8), seed=0)
        image = keras.Input((6, 6, 3), name="image")
        meta = keras.Input((4,), name="meta")
        features = keras.layers.Concatenate()(
            [keras.layers.GlobalAveragePooling2D()(image), meta]
        )
        model = keras.Model(
            {"image": image, "meta": meta}, keras.layers.Dense(3)(features)
        )
        model.compile("sgd", keras.losses.CategoricalCrossentropy(from_logits=True))
        history = model.fit(train, epochs=1, verbose=0, shuffle=False)
        assert np.isfinite(history.history["loss"][0])

    @pytest.mark.parametrize("alpha", [0.0, -1.0])
    def test_bad_alpha(self, name, alpha):
        with pytest.raises(ValueError, match="Invalid value for argument `alpha`"):
            MIXERS[name](small_dataset().batch(8), alpha=alpha)

    def test_unbatched(self, name):
        with pytest.raises(ValueError, match="batch the dataset first"):
            MIXERS[name](small_dataset())

    def test_bad_seed(self, name):
        with pytest.raises(ValueError, match="Invalid value for argument `seed`"):
            MIXERS[name](small_dataset().batch(8), seed="a")


class TestErrors:
    @pytest.mark.parametrize("function", [mixup, cutmix])
    def test_integer_labels_need_num_classes(self, function):
        dataset = small_dataset().batch(8)
        with pytest.raises(ValueError, match="One-hot encode them or pass"):
            function(dataset)

    @pytest.mark.parametrize("function", [mixup, cutmix])
    def test_num_classes(self, function):
        one_hot = small_dataset().batch(8).map(lambda x, y: (x, tf.one_hot(y, 3)))
        with pytest.raises(ValueError, match="num_classes=4"):
            function(one_hot, num_classes=4)
        with pytest.raises(ValueError, match="Invalid value for argument"):
            function(one_hot, num_classes=0)

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"kappa": 0.5}, "Invalid value for argument `kappa`"),
            ({"tau": 1.5}, "Invalid value for argument `tau`"),
            ({"tau": -0.5}, "Invalid value for argument `tau`"),
            ({"class_counts": [5, -1, 2]}, "Invalid value for argument `class_counts`"),
            ({"class_counts": [20, 8]}, "`class_counts` has 2 entries"),
        ],
    )
    def test_remix_arguments(self, kwargs, match):
        one_hot = small_dataset().batch(8).map(lambda x, y: (x, tf.one_hot(y, 3)))
        kwargs = {"class_counts": [20, 8, 4], **kwargs}
        with pytest.raises(ValueError, match=match):
            remix(one_hot, **kwargs)

    def test_remix_label_out_of_range(self):
        dataset = small_dataset().batch(8)
        out = remix(dataset, class_counts=[20, 8])
        with pytest.raises(tf.errors.InvalidArgumentError, match="class ids"):
            list(out)

    def test_not_a_dataset(self):
        with pytest.raises(TypeError, match="tf.data.Dataset"):
            mixup(np.zeros((4, 2)))

    def test_labels_of_rank_three(self):
        dataset = tf.data.Dataset.from_tensor_slices(
            (np.zeros((4, 2)), np.zeros((4, 2, 3)))
        ).batch(2)
        with pytest.raises(ValueError, match="labels of shape"):
            mixup(dataset)

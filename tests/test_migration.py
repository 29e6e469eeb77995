"""The migration guide (docs/migration.md), checked against the peers it names.

Each section of the guide has its tests here: the claims of equality are
measured against the peer itself where it imports under Keras 3 (`focal-loss`,
imbalanced-learn, Keras), and against a NumPy transcription of its source
where it does not (tensorflow-addons).
"""

import os
import pathlib
import re
import warnings

import keras
import numpy as np
import pytest

from keras_imbalance import losses
from keras_imbalance.data import balanced_dataset

GUIDE = pathlib.Path(__file__).resolve().parent.parent / "docs" / "migration.md"
EPS = 1e-7  # keras.config.epsilon(), the fuzz factor of every peer here


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def binary_data():
    """Multi-label targets `(16, 3)` with logits and their probabilities."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=(16, 3)).astype("float32")
    z = rng.normal(scale=2.0, size=(16, 3)).astype("float32")
    return y, z, _sigmoid(z.astype("float64")).astype("float32")


@pytest.fixture(scope="module")
def sparse_data():
    """Integer labels of 4 classes with logits and their softmax."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, size=(16,))
    z = rng.normal(scale=2.0, size=(16, 4)).astype("float32")
    return y, z, _softmax(z.astype("float64")).astype("float32")


# ------------------------------------------------------- the guide's code blocks


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)


def _sections():
    """`{heading: [python blocks]}` for each `## ` section of the guide."""
    sections = {}
    for chunk in GUIDE.read_text().split("\n## ")[1:]:
        heading = chunk.splitlines()[0]
        sections[heading] = re.findall(r"```python\n(.*?)```", chunk, flags=re.S)
    return sections


def test_every_python_block_of_the_guide_compiles():
    blocks = _python_blocks()
    assert len(blocks) >= 10
    for number, block in enumerate(blocks):
        compile(block, f"migration.md block {number}", "exec")


def _guide_namespace():
    """The names the guide's blocks take as given, small and imbalanced."""
    rng = np.random.default_rng(7)
    y = np.array([0] * 34 + [1] * 14 + [2] * 8 + [3] * 8)  # 4 x 8 = one batch of 32
    x = rng.normal(size=(64, 4)).astype("float32")
    model = _dense(units=4)
    model.compile("sgd", _scce())
    two_heads = _two_heads()
    two_heads.compile("sgd", [_scce(), _scce()])
    segmenter = _segmenter()
    segmenter.compile("sgd", _scce())

    def python_generator():
        while True:
            yield x, y

    return {
        "x": x,
        "y": y,
        "s": rng.uniform(0.5, 2.0, size=64).astype("float32"),
        "y_a": (rng.random(64) < 0.2).astype("int64"),
        "y_b": (rng.random(64) < 0.3).astype("int64"),
        "model": model,
        "two_heads": two_heads,
        "segmenter": segmenter,
        "images": rng.normal(size=(4, 3, 3, 2)).astype("float32"),
        "masks": rng.integers(0, 2, size=(4, 3, 3)),
        "python_generator": python_generator(),
        "y_true": rng.integers(0, 2, size=(8, 3)).astype("float32"),
        "logits": rng.normal(size=(8, 3)).astype("float32"),
    }


def _run_failing_calls(block, namespace):
    """Each call of a block followed by `# Error: message` raises just that."""
    lines = block.splitlines()
    checked = 0
    for line, comment in zip(lines, lines[1:]):
        found = re.fullmatch(r"# (\w+): (.*)", comment)
        if line.startswith("#") or not found:
            continue
        with pytest.raises(Exception) as caught:
            exec(line, namespace)  # noqa: S102 - the guide's own code
        assert type(caught.value).__name__ == found[1]
        assert found[2] in str(caught.value)
        checked += 1
    return checked


@pytest.mark.parametrize(
    "heading",
    [
        "From tensorflow-addons (`tfa.losses.SigmoidFocalCrossEntropy`)",
        "From the `focal-loss` package",
        "From imbalanced-learn's `BalancedBatchGenerator`",
        "From `model.fit(class_weight=...)`",
        "From Keras' focal losses",
    ],
)
def test_the_guide_blocks_run(heading):
    """Each section's blocks, in order, on small data (TF-Addons' import aside)."""
    blocks = _sections()[heading]
    if "focal-loss" in heading:
        pytest.importorskip("focal_loss")
    if "imbalanced-learn" in heading:
        pytest.importorskip("imblearn")
    namespace = _guide_namespace()
    # A block may set os.environ (the guide's KERAS_BACKEND example): later
    # tests in this process, and the notebook kernels it starts, inherit it.
    environment = dict(os.environ)
    try:
        for block in blocks:
            if "tensorflow_addons" in block:
                continue
            if "fails in Keras" in block.splitlines()[0]:
                assert _run_failing_calls(block, namespace) == 4
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # imblearn's PyDataset warning
                exec(block, namespace)  # noqa: S102 - the guide's own code
    finally:
        os.environ.clear()
        os.environ.update(environment)


# ------------------------------------------------------------- tensorflow-addons


def _tfa_sigmoid_focal_crossentropy(y, y_pred, alpha=0.25, gamma=2.0, logits=False):
    """tensorflow-addons 0.23 `sigmoid_focal_crossentropy`, transcribed.

    `ce = K.binary_crossentropy(y, y_pred, from_logits)` (tf.keras 2's
    backend: clip to [eps, 1 - eps], then `log(p + eps)`), `p_t`, the alpha
    factor if `alpha`, the modulating factor if `gamma`, summed over the last
    axis.
    """
    y = np.asarray(y, "float64")
    y_pred = np.asarray(y_pred, "float64")
    if logits:
        ce = np.maximum(y_pred, 0) - y_pred * y + np.log1p(np.exp(-np.abs(y_pred)))
        p = _sigmoid(y_pred)
    else:
        p = y_pred
        c = np.clip(p, EPS, 1 - EPS)
        ce = -(y * np.log(c + EPS) + (1 - y) * np.log(1 - c + EPS))
    p_t = y * p + (1 - y) * (1 - p)
    alpha_factor = y * alpha + (1 - y) * (1 - alpha) if alpha else 1.0
    modulating_factor = (1.0 - p_t) ** gamma if gamma else 1.0
    return (alpha_factor * modulating_factor * ce).sum(axis=-1)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("alpha", [0.25, 0.9, None])
@pytest.mark.parametrize("gamma", [2.0, 0.5, None])
def test_sigmoid_focal_crossentropy_equals_tfa_formula(
    binary_data, gamma, alpha, from_logits
):
    y, z, p = binary_data
    y_pred = z if from_logits else p
    ours = losses.SigmoidFocalCrossEntropy(
        from_logits=from_logits, alpha=alpha, gamma=gamma
    )(y, y_pred)
    expected = _tfa_sigmoid_focal_crossentropy(y, y_pred, alpha, gamma, from_logits)
    assert ours.shape == (16,)  # reduction="none", as in TF-Addons
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    # The functional twin, positional arguments in TF-Addons' order.
    twin = losses.sigmoid_focal_crossentropy(y, y_pred, alpha, gamma, from_logits)
    np.testing.assert_allclose(twin, expected, rtol=1e-5, atol=1e-6)


def test_sigmoid_focal_crossentropy_tfa_documentation_example():
    y_true = [[1.0], [1.0], [0.0]]
    y_pred = [[0.97], [0.91], [0.03]]
    expected = [6.8532745e-06, 1.9097870e-04, 2.0559824e-05]
    np.testing.assert_allclose(
        losses.SigmoidFocalCrossEntropy()(y_true, y_pred), expected, rtol=1e-5
    )
    np.testing.assert_allclose(
        _tfa_sigmoid_focal_crossentropy(y_true, y_pred), expected, rtol=1e-5
    )


def test_sigmoid_focal_crossentropy_zero_turns_factors_off(binary_data):
    """TF-Addons' `if alpha:` / `if gamma:` rule: 0 and None are the same."""
    y, z, _ = binary_data
    none = losses.SigmoidFocalCrossEntropy(True, alpha=None, gamma=None)(y, z)
    zero = losses.SigmoidFocalCrossEntropy(True, alpha=0.0, gamma=0.0)(y, z)
    bce = keras.losses.binary_crossentropy(y, z, from_logits=True) * 3  # summed
    np.testing.assert_allclose(none, zero)
    np.testing.assert_allclose(none, bce, rtol=1e-5)


# -------------------------------------------------------------- focal-loss package


@pytest.fixture(scope="module")
def focal_loss_package():
    return pytest.importorskip("focal_loss")


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("pos_weight", [None, 0.5, 3.0])
@pytest.mark.parametrize("gamma", [0.0, 2.0, 5.0])
def test_binary_focal_loss_pos_weight_identity(
    focal_loss_package, binary_data, gamma, pos_weight, from_logits
):
    """`BinaryFocalLoss(pos_weight=w)` (theirs) = (1 + w) * ours(alpha=w/(1+w))."""
    y, z, p = binary_data
    y_pred = z if from_logits else p
    theirs = focal_loss_package.BinaryFocalLoss(
        gamma, pos_weight=pos_weight, from_logits=from_logits
    )(y, y_pred)
    if pos_weight is None:
        alpha, scale = None, 1.0
    else:
        alpha, scale = pos_weight / (1 + pos_weight), 1 + pos_weight
    ours = losses.BinaryFocalLoss(gamma=gamma, alpha=alpha, from_logits=from_logits)
    np.testing.assert_allclose(scale * float(ours(y, y_pred)), theirs, rtol=1e-6)


def test_binary_focal_loss_loss_weights_give_their_exact_value(
    focal_loss_package, binary_data
):
    """The guide's recipe: `loss_weights=1 + w` in `compile` restores the scale."""
    y, z, _ = binary_data
    w = 3.0
    x = np.eye(16, dtype="float32")
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(3)])
    model.set_weights([z, np.zeros(3, "float32")])  # the model outputs z
    theirs = focal_loss_package.BinaryFocalLoss(2.0, pos_weight=w, from_logits=True)
    model.compile(
        loss=losses.BinaryFocalLoss(gamma=2.0, alpha=w / (1 + w), from_logits=True),
        loss_weights=1 + w,
    )
    value = model.evaluate(x, y, batch_size=16, verbose=0)
    np.testing.assert_allclose(value, theirs(y, z), rtol=1e-6)


def test_binary_focal_loss_reduction_none_shapes(focal_loss_package, binary_data):
    """Theirs: one value per label; ours: one per sample (mean over labels)."""
    y, z, _ = binary_data
    theirs = focal_loss_package.BinaryFocalLoss(
        2.0, from_logits=True, reduction="none"
    )(y, z)
    ours = losses.BinaryFocalLoss(from_logits=True, reduction="none")(y, z)
    assert theirs.shape == (16, 3) and ours.shape == (16,)
    np.testing.assert_allclose(ours, np.mean(theirs, axis=-1), rtol=1e-6)


def _their_smoothed_binary_focal(y, p, gamma, smoothing):
    """focal-loss' label smoothing: two separately modulated terms."""
    y = (1 - smoothing) * y + 0.5 * smoothing
    p = np.asarray(p, "float64")
    pos = -((1 - p) ** gamma) * np.log(np.maximum(p, EPS))
    neg = -(p**gamma) * np.log(np.maximum(1 - p, EPS))
    return np.mean(y * pos + (1 - y) * neg)


@pytest.mark.parametrize("smoothing", [0.1, 0.3])
@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_binary_focal_loss_label_smoothing_conventions(
    focal_loss_package, binary_data, gamma, smoothing
):
    y, _, p = binary_data
    theirs = float(
        focal_loss_package.BinaryFocalLoss(gamma, label_smoothing=smoothing)(y, p)
    )
    ours = float(losses.BinaryFocalLoss(gamma=gamma, label_smoothing=smoothing)(y, p))
    keras_value = float(
        keras.losses.BinaryFocalCrossentropy(gamma=gamma, label_smoothing=smoothing)(
            y, p
        )
    )
    np.testing.assert_allclose(ours, keras_value, rtol=1e-6)  # Keras' convention
    np.testing.assert_allclose(
        theirs, _their_smoothed_binary_focal(y, p, gamma, smoothing), rtol=1e-5
    )
    if gamma == 0:  # both are binary cross-entropy on the smoothed labels
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    else:  # ours is smaller: the smoothed p_t modulates the whole term
        assert ours < theirs * 0.95


def test_binary_focal_loss_pos_weight_and_smoothing_do_not_map(
    focal_loss_package, binary_data
):
    """With smoothing, `pos_weight=3` has no exact `alpha` even at gamma=0."""
    y, _, p = binary_data
    theirs = float(
        focal_loss_package.BinaryFocalLoss(0.0, pos_weight=3.0, label_smoothing=0.1)(
            y, p
        )
    )
    ours = 4.0 * float(
        losses.BinaryFocalLoss(gamma=0.0, alpha=0.75, label_smoothing=0.1)(y, p)
    )
    assert abs(theirs - ours) > 1e-3 * theirs


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("class_weight", [None, [1.0, 2.0, 0.5, 4.0]])
@pytest.mark.parametrize("gamma", [0.0, 2.0, [0.0, 1.0, 2.0, 3.0]])
def test_sparse_categorical_focal_loss_equals_focal_loss(
    focal_loss_package, sparse_data, gamma, class_weight, from_logits
):
    y, z, p = sparse_data
    y_pred = z if from_logits else p
    theirs = focal_loss_package.SparseCategoricalFocalLoss(
        gamma, class_weight=class_weight, from_logits=from_logits
    )(y, y_pred)
    ours = losses.FocalLoss(gamma=gamma, alpha=class_weight, from_logits=from_logits)
    np.testing.assert_allclose(float(ours(y, y_pred)), theirs, rtol=1e-6)


def test_sparse_categorical_focal_loss_gamma_zero_is_weighted_cross_entropy(
    focal_loss_package, sparse_data
):
    y, z, _ = sparse_data
    weights = [1.0, 2.0, 0.5, 4.0]
    theirs = focal_loss_package.SparseCategoricalFocalLoss(
        0.0, class_weight=weights, from_logits=True
    )(y, z)
    ours = losses.WeightedCrossEntropy(weights, from_logits=True)(y, z)
    np.testing.assert_allclose(float(ours), theirs, rtol=1e-6)


def test_sparse_categorical_focal_loss_dense_and_channels_first(focal_loss_package):
    rng = np.random.default_rng(2)
    masks = rng.integers(0, 4, size=(2, 3, 3))
    logits = rng.normal(size=(2, 3, 3, 4)).astype("float32")
    theirs = focal_loss_package.SparseCategoricalFocalLoss(
        2.0, from_logits=True, reduction="none"
    )
    ours = losses.FocalLoss(gamma=2.0, from_logits=True, reduction="none")
    np.testing.assert_allclose(ours(masks, logits), theirs(masks, logits), rtol=1e-5)
    # Their function's `axis=1` (channels first; the class has no `axis`) =
    # ours on the channels-last transpose.
    first = np.moveaxis(logits, -1, 1)
    theirs_first = focal_loss_package.sparse_categorical_focal_loss(
        masks, first, 2.0, from_logits=True, axis=1
    )
    np.testing.assert_allclose(
        ours(masks, np.moveaxis(first, 1, -1)), theirs_first, rtol=1e-5
    )


def test_sparse_categorical_focal_loss_unnormalised_probabilities(
    focal_loss_package, sparse_data
):
    """Rows not summing to 1: ours renormalises p everywhere, theirs in log p only."""
    y, _, p = sparse_data
    q = p.copy()
    q[0] *= 0.5
    theirs = float(focal_loss_package.SparseCategoricalFocalLoss(2.0)(y, q))
    ours = float(losses.FocalLoss(gamma=2.0)(y, q))
    np.testing.assert_allclose(ours, float(losses.FocalLoss(gamma=2.0)(y, p)))
    assert abs(theirs - ours) > 1e-4


# ----------------------------------------------------------------- imbalanced-learn


@pytest.fixture(scope="module")
def skewed():
    """100 samples of class 0, 20 of class 1; x[i, 0] = i identifies a sample."""
    x = np.stack([np.arange(120), np.zeros(120)], axis=1).astype("float32")
    y = np.array([0] * 100 + [1] * 20)
    return x, y


def _epoch_ids(batches):
    return np.concatenate([np.asarray(xb)[:, 0] for xb, _ in batches]).astype(int)


@pytest.fixture(scope="module")
def imblearn_generator(skewed):
    imblearn_keras = pytest.importorskip("imblearn.keras")
    x, y = skewed
    with pytest.warns(UserWarning, match="should call `super"):
        # Keras 3 warns once its fit/iteration touches the PyDataset attributes.
        gen = imblearn_keras.BalancedBatchGenerator(x, y, batch_size=8, random_state=0)
        _ = gen.workers
    return gen


def test_balanced_batch_generator_resamples_once(skewed, imblearn_generator):
    x, y = skewed
    gen = imblearn_generator
    assert len(gen) == 40 // 8  # 2 classes x 20 (the minority count)
    first = _epoch_ids(gen[i] for i in range(len(gen)))
    second = _epoch_ids(gen[i] for i in range(len(gen)))
    np.testing.assert_array_equal(first, second)  # the same batches every epoch
    assert np.bincount(y[first]).tolist() == [20, 20]
    assert len(set(first[y[first] == 0])) == 20  # 80 majority samples never seen


def test_balanced_batch_generator_fits_under_keras3(imblearn_generator):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(imblearn_generator, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_tensorflow_balanced_batch_generator_resamples_once(skewed):
    imblearn_tf = pytest.importorskip("imblearn.tensorflow")
    x, y = skewed
    generator, steps = imblearn_tf.balanced_batch_generator(
        x, y, batch_size=8, random_state=0
    )
    assert steps == 5
    epochs = [_epoch_ids(next(generator) for _ in range(steps)) for _ in range(3)]
    np.testing.assert_array_equal(epochs[0], epochs[1])
    np.testing.assert_array_equal(epochs[0], epochs[2])


def test_balanced_batch_generator_refuses_images_and_smote(skewed):
    imblearn_keras = pytest.importorskip("imblearn.keras")
    from imblearn.over_sampling import SMOTE

    x, y = skewed
    images = np.zeros((120, 4, 4, 1), "float32")
    with pytest.raises(ValueError, match="Found array with dim 4"):
        imblearn_keras.BalancedBatchGenerator(images, y, batch_size=8)
    with pytest.raises(
        ValueError, match="needs to have an attribute 'sample_indices_'"
    ):
        imblearn_keras.BalancedBatchGenerator(x, y, sampler=SMOTE(), batch_size=8)


def test_balanced_dataset_draws_new_batches_every_epoch(skewed):
    x, y = skewed
    ds = balanced_dataset(x, y, batch_size=8, seed=0)
    assert int(ds.cardinality()) == 15  # ceil(120 / 8): N samples an epoch
    epochs = [_epoch_ids(ds) for _ in range(4)]
    assert not np.array_equal(epochs[0], epochs[1])
    seen = np.concatenate(epochs)
    labels = y[seen]
    assert abs(labels.mean() - 0.5) < 0.1  # class-balanced (in expectation)
    assert len(set(seen[labels == 0])) > 20  # more majority samples than the subset
    again = balanced_dataset(x, y, batch_size=8, seed=0)
    np.testing.assert_array_equal(_epoch_ids(again), epochs[0])  # seeded


def test_balanced_dataset_takes_images(skewed):
    _, y = skewed
    images = np.zeros((120, 4, 4, 1), "float32")
    xb, yb = next(iter(balanced_dataset(images, y, batch_size=8, seed=0)))
    assert tuple(xb.shape) == (8, 4, 4, 1) and tuple(yb.shape) == (8,)


# ---------------------------------------------------- model.fit(class_weight=...)

WEIGHTS = [1.0, 5.0]
CLASS_WEIGHT = {0: 1.0, 1: 5.0}


@pytest.fixture(scope="module")
def fit_data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (rng.random(32) < 0.2).astype("int64")
    s = rng.uniform(0.5, 2.0, size=32).astype("float32")
    images = rng.normal(size=(4, 3, 3, 2)).astype("float32")
    masks = rng.integers(0, 2, size=(4, 3, 3))
    return x, y, s, images, masks


def _dense(units=2, inputs=4, name=None):
    return keras.Sequential(
        [keras.Input((inputs,)), keras.layers.Dense(units, name=name)]
    )


def _two_heads():
    inputs = keras.Input((4,))
    outputs = [keras.layers.Dense(2, name=n)(inputs) for n in ("a", "b")]
    return keras.Model(inputs, outputs)


def _segmenter():
    return keras.Sequential([keras.Input((3, 3, 2)), keras.layers.Conv2D(2, 1)])


def _weighted_ce(labels, logits, weights, sample_weight=None):
    """NumPy: mean over samples (or positions) of s * w_y * CE, Keras' reduction."""
    logits = np.asarray(logits, "float64")
    log_p = logits - logits.max(-1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(-1, keepdims=True))
    ce = -np.take_along_axis(log_p, labels[..., None], -1)[..., 0]
    loss = np.asarray(weights)[labels] * ce
    if sample_weight is not None:
        loss = loss * sample_weight.reshape(sample_weight.shape + (1,) * (ce.ndim - 1))
    return loss.mean()


def _scce():
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def test_keras_refuses_class_weight_with_sample_weight(fit_data):
    x, y, s, _, _ = fit_data
    model = _dense()
    model.compile("sgd", _scce())
    with pytest.raises(ValueError, match="cannot `class_weight` and `sample_weight`"):
        model.fit(x, y, class_weight=CLASS_WEIGHT, sample_weight=s, verbose=0)


def test_keras_refuses_class_weight_on_multi_output(fit_data):
    x, y, _, _, _ = fit_data
    model = _two_heads()
    model.compile("sgd", [_scce(), _scce()])
    with pytest.raises(ValueError, match="only supported for Models with a single"):
        model.fit(x, (y, y), class_weight=CLASS_WEIGHT, verbose=0)


def test_keras_crashes_on_class_weight_with_3d_targets(fit_data):
    _, _, _, images, masks = fit_data
    model = _segmenter()
    model.compile("sgd", _scce())
    with pytest.raises(TypeError, match="only 0-dimensional arrays"):
        model.fit(images, masks, class_weight=CLASS_WEIGHT, verbose=0)


def test_keras_refuses_class_weight_with_python_generator(fit_data):
    x, y, _, _, _ = fit_data

    def batches():
        while True:
            yield x, y

    model = _dense()
    model.compile("sgd", _scce())
    with pytest.raises(ValueError, match="not supported for Python generator"):
        model.fit(batches(), steps_per_epoch=1, class_weight=CLASS_WEIGHT, verbose=0)


def test_weighted_cross_entropy_step_equals_fit_class_weight(fit_data):
    """One SGD step: `WeightedCrossEntropy` moves the weights as `class_weight` does."""
    x, y, _, _, _ = fit_data
    keras_model, ours_model = _dense(), _dense()
    ours_model.set_weights(keras_model.get_weights())
    keras_model.compile(keras.optimizers.SGD(0.5), _scce())
    ours_model.compile(
        keras.optimizers.SGD(0.5),
        losses.WeightedCrossEntropy(WEIGHTS, from_logits=True),
    )
    logits = keras_model(x)
    fit = {"batch_size": 32, "epochs": 1, "shuffle": False, "verbose": 0}
    history = keras_model.fit(x, y, class_weight=CLASS_WEIGHT, **fit)
    ours = ours_model.fit(x, y, **fit)
    expected = _weighted_ce(y, logits, WEIGHTS)
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)
    np.testing.assert_allclose(ours.history["loss"][0], expected, rtol=1e-5)
    for theirs, mine in zip(keras_model.get_weights(), ours_model.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_weighted_cross_entropy_with_sample_weight(fit_data):
    x, y, s, _, _ = fit_data
    model = _dense()
    model.compile("sgd", losses.WeightedCrossEntropy(WEIGHTS, from_logits=True))
    logits = model(x)  # fit's single full batch: the loss before the step
    history = model.fit(x, y, sample_weight=s, batch_size=32, epochs=1, verbose=0)
    np.testing.assert_allclose(
        history.history["loss"][0], _weighted_ce(y, logits, WEIGHTS, s), rtol=1e-5
    )


def test_weighted_cross_entropy_per_output(fit_data):
    x, y, _, _, _ = fit_data
    model = _two_heads()
    other = [2.0, 1.0]
    model.compile(
        "sgd",
        [
            losses.WeightedCrossEntropy(WEIGHTS, from_logits=True),
            losses.WeightedCrossEntropy(other, from_logits=True),
        ],
    )
    logits_a, logits_b = model(x)
    expected = _weighted_ce(y, logits_a, WEIGHTS) + _weighted_ce(y, logits_b, other)
    history = model.fit(x, (y, y), batch_size=32, epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)


def test_weighted_cross_entropy_on_segmentation_masks(fit_data):
    _, _, _, images, masks = fit_data
    model = _segmenter()
    model.compile("sgd", losses.WeightedCrossEntropy(WEIGHTS, from_logits=True))
    expected = _weighted_ce(masks, model(images), WEIGHTS)
    history = model.fit(images, masks, batch_size=4, epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)


def test_weighted_cross_entropy_ignore_class_on_masks(fit_data):
    _, _, _, _, masks = fit_data
    labels = masks.copy()
    labels[0, 0] = 255
    logits = np.random.default_rng(8).normal(size=(4, 3, 3, 2)).astype("float32")
    loss = losses.WeightedCrossEntropy(WEIGHTS, from_logits=True, ignore_class=255)
    valid = labels != 255
    safe = np.where(valid, labels, 0)
    log_p = np.log(_softmax(logits.astype("float64")))
    terms = (
        -np.asarray(WEIGHTS)[safe]
        * np.take_along_axis(log_p, safe[..., None], -1)[..., 0]
    )
    np.testing.assert_allclose(
        float(loss(labels, logits)), terms[valid].mean(), rtol=1e-5
    )


def test_weighted_cross_entropy_with_python_generator(fit_data):
    x, y, _, _, _ = fit_data

    def batches():
        while True:
            yield x, y

    model = _dense()
    model.compile("sgd", losses.WeightedCrossEntropy(WEIGHTS, from_logits=True))
    logits = model(x)
    history = model.fit(
        batches(), steps_per_epoch=1, epochs=1, shuffle=False, verbose=0
    )
    np.testing.assert_allclose(
        history.history["loss"][0], _weighted_ce(y, logits, WEIGHTS), rtol=1e-5
    )


def test_focal_loss_alpha_takes_class_weights_on_masks(fit_data):
    """`FocalLoss(alpha=w, gamma=0)` is the same class-weighted cross-entropy."""
    _, _, _, images, masks = fit_data
    logits = np.random.default_rng(4).normal(size=(4, 3, 3, 2)).astype("float32")
    ours = losses.FocalLoss(gamma=0.0, alpha=WEIGHTS, from_logits=True)(masks, logits)
    np.testing.assert_allclose(ours, _weighted_ce(masks, logits, WEIGHTS), rtol=1e-5)


# ------------------------------------------------------------ Keras' focal losses


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_focal_loss_equals_categorical_focal_crossentropy(
    sparse_data, gamma, smoothing
):
    y, z, _ = sparse_data
    keras_loss = keras.losses.CategoricalFocalCrossentropy(
        alpha=0.25, gamma=gamma, from_logits=True, label_smoothing=smoothing
    )
    ours = losses.FocalLoss(
        alpha=0.25, gamma=gamma, from_logits=True, label_smoothing=smoothing
    )
    expected = float(keras_loss(np.eye(4, dtype="float32")[y], z))
    np.testing.assert_allclose(float(ours(y, z)), expected, rtol=1e-6)


def test_categorical_focal_crossentropy_refuses_integer_labels(sparse_data):
    y, z, _ = sparse_data
    loss = keras.losses.CategoricalFocalCrossentropy(from_logits=True)
    with pytest.raises(Exception, match="Incompatible shapes"):
        loss(y, z)


def test_categorical_focal_crossentropy_lists_broadcast(sparse_data):
    """Undocumented in Keras, but list alpha / gamma broadcast: our numbers."""
    y, z, _ = sparse_data
    alpha, gamma = [1.0, 2.0, 0.5, 4.0], [2.0, 2.0, 1.0, 0.0]
    keras_loss = keras.losses.CategoricalFocalCrossentropy(
        alpha=alpha, gamma=gamma, from_logits=True
    )
    ours = losses.FocalLoss(alpha=alpha, gamma=gamma, from_logits=True)
    np.testing.assert_allclose(
        float(ours(y, z)), float(keras_loss(np.eye(4)[y], z)), rtol=1e-6
    )


def test_binary_focal_loss_equals_binary_focal_crossentropy(binary_data):
    y, z, _ = binary_data
    keras_loss = keras.losses.BinaryFocalCrossentropy(
        apply_class_balancing=True, alpha=0.25, gamma=2.0, from_logits=True
    )
    ours = losses.BinaryFocalLoss(alpha=0.25, gamma=2.0, from_logits=True)
    np.testing.assert_allclose(float(ours(y, z)), float(keras_loss(y, z)), rtol=1e-6)
    plain = keras.losses.BinaryFocalCrossentropy(gamma=2.0, from_logits=True)
    np.testing.assert_allclose(
        float(losses.BinaryFocalLoss(from_logits=True)(y, z)),
        float(plain(y, z)),
        rtol=1e-6,
    )
    with pytest.raises(TypeError):  # Keras: no per-label alpha
        keras.losses.BinaryFocalCrossentropy(
            apply_class_balancing=True, alpha=[0.1, 0.5, 0.9], from_logits=True
        )(y, z)
    per_label = losses.BinaryFocalLoss(alpha=[0.1, 0.5, 0.9], from_logits=True)
    assert np.isfinite(float(per_label(y, z)))


def test_categorical_focal_crossentropy_smooths_on_last_axis_with_axis_1():
    """keras#23437: with `axis=1` Keras divides the smoothing by shape[-1]."""
    rng = np.random.default_rng(5)
    masks = rng.integers(0, 4, size=(2, 3, 3))
    logits = rng.normal(size=(2, 3, 3, 4)).astype("float32")
    one_hot = np.eye(4, dtype="float32")[masks]
    args = {"alpha": 1.0, "gamma": 2.0, "from_logits": True, "label_smoothing": 0.2}
    last = float(keras.losses.CategoricalFocalCrossentropy(**args)(one_hot, logits))
    first = float(
        keras.losses.CategoricalFocalCrossentropy(axis=1, **args)(
            np.moveaxis(one_hot, -1, 1), np.moveaxis(logits, -1, 1)
        )
    )
    ours = float(losses.FocalLoss(**args)(masks, logits))
    np.testing.assert_allclose(ours, last, rtol=1e-6)
    assert abs(first - last) > 1e-2  # the same data, channels first: not the same


def test_keras_tversky_weights_false_negatives_by_alpha():
    """keras#23333: Keras 3.15's `Tversky(alpha, beta)` puts alpha on FN."""
    y = np.array([[1.0, 1.0, 0.0, 0.0, 1.0]])
    p = np.array([[0.9, 0.2, 0.7, 0.1, 0.6]])
    tp, fp, fn = (y * p).sum(), ((1 - y) * p).sum(), (y * (1 - p)).sum()
    value = float(keras.losses.Tversky(alpha=0.3, beta=0.7)(y, p))
    swapped = 1 - tp / (tp + 0.3 * fn + 0.7 * fp + EPS)
    paper = 1 - tp / (tp + 0.3 * fp + 0.7 * fn + EPS)
    if not np.isclose(value, swapped, rtol=1e-5):  # fixed upstream
        np.testing.assert_allclose(value, paper, rtol=1e-5)
        pytest.skip("this Keras no longer swaps alpha and beta")
    assert not np.isclose(value, paper, rtol=1e-3)


def test_tversky_loss_puts_alpha_on_false_positives():
    """Ours (Salehi et al.): `TI_c = (TP + s) / (TP + alpha FP + beta FN + s)`."""
    rng = np.random.default_rng(6)
    masks = rng.integers(0, 3, size=(2, 4, 4))
    probs = _softmax(rng.normal(size=(2, 4, 4, 3)))
    target = np.eye(3)[masks]
    axes = (1, 2)
    tp = (target * probs).sum(axes)
    fp = ((1 - target) * probs).sum(axes)
    fn = (target * (1 - probs)).sum(axes)
    index = (tp + 1.0) / (tp + 0.3 * fp + 0.7 * fn + 1.0)
    expected = (1 - index).mean(-1)
    ours = losses.TverskyLoss(alpha=0.3, beta=0.7, reduction="none")(
        masks, probs.astype("float32")
    )
    np.testing.assert_allclose(ours, expected, rtol=1e-5)

"""Every random pipeline: the same `seed` gives the same batches whatever
TensorFlow's global seed, another seed gives others, and epochs differ."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_imbalance.data import (
    augment_minority,
    balanced_dataset,
    bilateral_dataset,
    cutmix,
    default_image_augmenter,
    mixup,
    rebalance,
    remix,
    smote_dataset,
)

COUNTS = [24, 8, 4]
Y = np.repeat(np.arange(3), COUNTS)
RNG = np.random.default_rng(0)
X = RNG.standard_normal((Y.size, 4)).astype("float32") + Y[:, None]
IMAGES = RNG.random((Y.size, 8, 8, 3)).astype("float32")


def vectors():
    return tf.data.Dataset.from_tensor_slices((X, Y))


def images():
    return tf.data.Dataset.from_tensor_slices((IMAGES, Y))


PIPELINES = {
    "balanced_dataset": lambda seed: balanced_dataset(X, Y, batch_size=8, seed=seed),
    "bilateral_dataset": lambda seed: bilateral_dataset(X, Y, batch_size=8, seed=seed),
    "rebalance": lambda seed: rebalance(vectors(), num_classes=3, seed=seed).batch(8),
    # Keras random layers, built without a seed of their own: the pipeline's
    # seed sets their generators.
    "augment_minority": lambda seed: augment_minority(
        images(), default_image_augmenter(), class_counts=COUNTS, seed=seed
    ).batch(8),
    "augment_minority_batched": lambda seed: augment_minority(
        images().batch(8),
        keras.Sequential(
            [keras.layers.RandomFlip("horizontal"), keras.layers.RandomContrast(0.5)]
        ),
        class_counts=COUNTS,
        power=0.0,
        seed=seed,
    ),
    "mixup": lambda seed: mixup(vectors().batch(8), num_classes=3, seed=seed),
    "cutmix": lambda seed: cutmix(images().batch(8), num_classes=3, seed=seed),
    "remix": lambda seed: remix(vectors().batch(8), class_counts=COUNTS, seed=seed),
    "smote_dataset": lambda seed: smote_dataset(
        X, Y, batch_size=8, seed=seed, k_neighbors=3
    ),
}


def flat(dataset):
    """One epoch as a list of NumPy arrays (every component of every batch)."""
    return [np.asarray(t) for batch in dataset for t in tf.nest.flatten(batch)]


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


@pytest.fixture(autouse=True)
def reset_global_seed():
    yield
    tf.random.set_seed(None)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_global_seed_plays_no_part(name):
    tf.random.set_seed(1)
    first = flat(PIPELINES[name](11))
    tf.random.set_seed(2)
    second = flat(PIPELINES[name](11))
    tf.random.set_seed(None)
    third = flat(PIPELINES[name](11))
    assert same(first, second) and same(first, third)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_another_seed_gives_other_batches(name):
    assert not same(flat(PIPELINES[name](11)), flat(PIPELINES[name](12)))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_epochs_differ_and_repeat_with_the_seed(name):
    dataset = PIPELINES[name](11)
    first, second = flat(dataset), flat(dataset)
    assert not same(first, second)
    again = PIPELINES[name](11)
    assert same(flat(again), first) and same(flat(again), second)


@pytest.mark.slow
def test_augment_minority_reseeds_an_augmenter_that_already_ran():
    augmenter = default_image_augmenter(seed=5)
    augmenter(IMAGES[:4], training=True)  # advances its generators

    def pipeline():
        return augment_minority(images(), augmenter, class_counts=COUNTS, seed=3)

    first = flat(pipeline().batch(8))
    augmenter(IMAGES[:4], training=True)
    assert same(first, flat(pipeline().batch(8)))
    # The augmented rows did change.
    augmented = np.concatenate(first[0::2])
    assert not np.allclose(augmented[Y > 0], IMAGES[Y > 0])
    np.testing.assert_array_equal(augmented[Y == 0], IMAGES[Y == 0])


def test_negative_seeds_are_their_own():
    # The element pipelines take any integer seed; -3 is not 3.
    minus, plus = flat(PIPELINES["mixup"](-3)), flat(PIPELINES["mixup"](3))
    assert not same(minus, plus)
    assert same(minus, flat(PIPELINES["mixup"](-3)))

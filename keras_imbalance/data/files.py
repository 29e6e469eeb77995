"""Images kept on disk and decoded inside `tf.data`: `ImageFiles`."""

import os

import numpy as np
import tensorflow as tf

from keras_imbalance._validation import check_positive_int, invalid

__all__ = ["COLOR_MODES", "IMAGE_EXTENSIONS", "ImageFiles"]

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
"""The file types `keras.utils.image_dataset_from_directory` reads."""

COLOR_MODES = {"grayscale": 1, "rgb": 3, "rgba": 4}
"""Colour mode -> channels, as in `keras.utils.image_dataset_from_directory`."""


def _check_image_size(image_size):
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    try:
        height, width = image_size
        return (
            check_positive_int("image_size", height),
            check_positive_int("image_size", width),
        )
    except (TypeError, ValueError):
        raise invalid(
            "image_size", "(height, width), two positive integers", image_size
        ) from None


class ImageFiles:
    """Image files read on demand: an input `x` that is not held in memory.

    It behaves like an array of images `(N, height, width, channels)` where
    the library takes one: `len`, `shape`, `dtype`, indexing with integer
    arrays, slices or masks (a new `ImageFiles`). Only the paths are held;
    the images are read, decoded and resized inside the `tf.data`
    pipelines (`dataset`, and the samplers of `keras_imbalance.data`, which
    draw paths and decode the batches they drew), so memory does not grow
    with the number of images.

    Decoding follows `keras.utils.image_dataset_from_directory`: the same
    file types, `tf.io.decode_image` to `channels` (`color_mode`), bilinear
    resizing to `image_size` (aspect ratio not kept), float32 values, here
    scaled to `[0, 1]` (`pixel / 255`) like the other datasets of
    `keras_imbalance.datasets`.

    `keras_imbalance.datasets.load_image_folder` lists a folder of class
    subfolders into `ImageFiles` and labels; `compare`, `Strategy.fit` and
    `evaluate_imbalanced` take them as `x`. Pixel-space SMOTE is refused on
    them (it would load every image and interpolate pixels).

    Args:
        paths: One file path per image.
        image_size: `(height, width)` (or one int) the images are resized
            to. Defaults to `(64, 64)`.
        color_mode: `"grayscale"` (1 channel), `"rgb"` (3) or `"rgba"`
            (4). Defaults to `"rgb"`.

    Example:

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> paths = []
    >>> for i in range(3):
    ...     path = os.path.join(folder, f"{i}.png")
    ...     png = tf.io.encode_png(tf.fill([5, 7, 1], tf.constant(i * 100, "uint8")))
    ...     tf.io.write_file(path, png)
    ...     paths.append(path)
    >>> files = ImageFiles(paths, image_size=(4, 4), color_mode="grayscale")
    >>> files.shape, len(files[1:])
    ((3, 4, 4, 1), 2)
    >>> batch = next(iter(files.dataset(batch_size=3)))
    >>> np.round(batch.numpy()[:, 0, 0, 0], 3).tolist()
    [0.0, 0.392, 0.784]
    """

    #: Marks a source of inputs read from files (`_arrays.is_file_source`).
    is_file_source = True

    def __init__(self, paths, image_size=(64, 64), color_mode="rgb"):
        paths = np.asarray([os.fspath(p) for p in paths], dtype=object)
        self.paths = paths.astype(str) if paths.size else np.zeros((0,), str)
        self.image_size = _check_image_size(image_size)
        if color_mode not in COLOR_MODES:
            raise invalid("color_mode", f"one of {sorted(COLOR_MODES)}", color_mode)
        self.color_mode = color_mode

    @property
    def channels(self):
        return COLOR_MODES[self.color_mode]

    @property
    def shape(self):
        """`(N, height, width, channels)`, as for an array of the images."""
        return (len(self.paths), *self.image_size, self.channels)

    @property
    def ndim(self):
        return 4

    dtype = np.dtype("float32")

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            raise TypeError(
                "Index ImageFiles with an array, a slice or a mask (a subset "
                "of files); `load()` reads images into memory."
            )
        return ImageFiles(self.paths[index], self.image_size, self.color_mode)

    def __repr__(self):
        return f"<ImageFiles: {len(self)} images, shape {self.shape}>"

    def get_config(self):
        return {
            "paths": self.paths.tolist(),
            "image_size": list(self.image_size),
            "color_mode": self.color_mode,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # ------------------------------------------------------------ decoding

    def decode(self, path):
        """One image, `(height, width, channels)` float32 in `[0, 1]`, from
        a scalar string tensor (for `tf.data.Dataset.map`)."""
        image = tf.io.decode_image(
            tf.io.read_file(path), channels=self.channels, expand_animations=False
        )
        image = tf.image.resize(image, self.image_size, method="bilinear")
        image = tf.ensure_shape(image, (*self.image_size, self.channels))
        return tf.cast(image, tf.float32) / 255.0

    def decode_batch(self, paths):
        """A batch of images from a vector of paths (inside a traced map)."""
        return tf.map_fn(
            self.decode,
            paths,
            fn_output_signature=tf.TensorSpec((*self.image_size, self.channels)),
            parallel_iterations=16,
        )

    def dataset(self, y=None, *, batch_size=32, shuffle=False, seed=None):
        """Batches of decoded images (and `y`), read in parallel, prefetched.

        `shuffle=True` draws a new order every epoch (from `seed`). This is
        what `fit`, `predict` and `evaluate` get in place of the files.
        """
        batch_size = check_positive_int("batch_size", batch_size)
        paths = tf.constant(self.paths, tf.string)
        if y is None:
            dataset = tf.data.Dataset.from_tensor_slices(paths)
        else:
            dataset = tf.data.Dataset.from_tensor_slices((paths, np.asarray(y)))
        if shuffle:
            dataset = dataset.shuffle(
                max(len(self), 1), seed=seed, reshuffle_each_iteration=True
            )

        def read(path, *rest):
            return (self.decode(path), *rest) if rest else self.decode(path)

        dataset = dataset.map(read, num_parallel_calls=tf.data.AUTOTUNE)
        return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def load(self):
        """Every image in memory, `(N, height, width, channels)` float32."""
        images = np.empty(self.shape, "float32")  # one copy, filled in place
        start = 0
        for batch in self.dataset(batch_size=256):
            images[start : start + len(batch)] = batch.numpy()
            start += len(batch)
        return images

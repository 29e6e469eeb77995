"""Image folders read from disk: listing, bad folders, `ImageFiles`, samplers."""

import os

import numpy as np
import pytest
import tensorflow as tf

from keras_imbalance import data, datasets
from keras_imbalance.data import ImageFiles

COUNTS = (12, 6, 3)


def write_png(path, pixels):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tf.io.write_file(path, tf.io.encode_png(np.asarray(pixels, "uint8")))


def constant_image(value, height=6, width=5, channels=3):
    return np.full((height, width, channels), value, "uint8")


def make_folder(root, counts=COUNTS, *, sizes=((6, 5),)):
    """Class `c` image `i` is constant `10 * c + i` (a fingerprint)."""
    for c, n in enumerate(counts):
        for i in range(n):
            height, width = sizes[i % len(sizes)]
            path = os.path.join(root, f"class_{c}", f"{i:03d}.png")
            write_png(path, constant_image(10 * c + i, height, width))
    return root


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_folder(str(tmp_path_factory.mktemp("images")))


# --- listing and splits ---------------------------------------------------------


def test_classes_are_the_sorted_subfolders(tmp_path):
    for name in ("zebra", "ant", "moth"):
        write_png(str(tmp_path / name / "a.png"), constant_image(0))
        write_png(str(tmp_path / name / "b.png"), constant_image(0))
    listing = datasets.list_image_folder(str(tmp_path))
    assert listing["class_names"] == ["ant", "moth", "zebra"]
    assert listing["labels"].tolist() == [0, 0, 1, 1, 2, 2]


def test_nested_subfolders_are_searched(tmp_path):
    write_png(str(tmp_path / "a" / "x.png"), constant_image(0))
    write_png(str(tmp_path / "a" / "deeper" / "y.png"), constant_image(0))
    write_png(str(tmp_path / "b" / "z.png"), constant_image(0))
    assert datasets.list_image_folder(str(tmp_path))["counts"] == [2, 1]


def test_stratified_test_split_is_recorded_and_reproducible(folder):
    first = datasets.load_image_folder(folder, image_size=(4, 4), seed=3)
    again = datasets.load_image_folder(folder, image_size=(4, 4), seed=3)
    other = datasets.load_image_folder(folder, image_size=(4, 4), seed=4)
    assert first["test_split"] == {"source": "stratified", "fraction": 0.2, "seed": 3}
    assert np.bincount(first["test"][1]).tolist() == [2, 1, 1]
    assert np.bincount(first["train"][1]).tolist() == [10, 5, 2]
    assert first["test"][0].paths.tolist() == again["test"][0].paths.tolist()
    assert first["test"][0].paths.tolist() != other["test"][0].paths.tolist()
    train = set(first["train"][0].paths.tolist())
    assert not train & set(first["test"][0].paths.tolist())
    assert first["imbalance_ratio"] == 5.0 and first["num_classes"] == 3


def test_train_and_test_subfolders_are_used(tmp_path):
    make_folder(str(tmp_path / "train"), (4, 3))
    make_folder(str(tmp_path / "test"), (2, 2))
    loaded = datasets.load_image_folder(str(tmp_path), image_size=4)
    assert loaded["test_split"]["source"] == "folders"
    assert np.bincount(loaded["train"][1]).tolist() == [4, 3]
    assert np.bincount(loaded["test"][1]).tolist() == [2, 2]
    assert loaded["class_names"] == ["class_0", "class_1"]


def test_load_dataset_reads_a_folder_and_cuts_it_to_a_ratio(folder):
    loaded = datasets.load_dataset(folder, image_size=(4, 4), imbalance_ratio=2)
    assert isinstance(loaded["train"][0], ImageFiles)
    counts = np.bincount(loaded["train"][1]).tolist()
    assert counts[0] / counts[-1] == pytest.approx(2, rel=0.5)
    assert loaded["imbalance_ratio"] == 2.0


def test_image_options_are_refused_for_other_datasets():
    with pytest.raises(ValueError, match="`image_size` is for image folders"):
        datasets.load_dataset("digits-lt", image_size=(8, 8))


# --- bad folders: each a clear error, or a counted skip ------------------------


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such image folder"):
        datasets.load_image_folder(str(tmp_path / "nope"))


def test_no_class_subfolder(tmp_path):
    write_png(str(tmp_path / "lonely.png"), constant_image(0))
    with pytest.raises(ValueError, match="has no class subfolder.*a subfolder named"):
        datasets.load_image_folder(str(tmp_path))


def test_empty_class(tmp_path):
    make_folder(str(tmp_path), (3, 3))
    os.makedirs(tmp_path / "class_2")
    with pytest.raises(ValueError, match="'class_2' .* holds no readable image"):
        datasets.load_image_folder(str(tmp_path))


def test_class_of_damaged_files_only(tmp_path):
    make_folder(str(tmp_path), (3,))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "a.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="'broken' .*1 other or damaged file"):
        datasets.load_image_folder(str(tmp_path))


def test_damaged_and_non_image_files_are_skipped_and_counted(tmp_path):
    make_folder(str(tmp_path), (4, 3))
    (tmp_path / "class_0" / "notes.txt").write_text("hello")
    (tmp_path / "class_0" / "Thumbs.db").write_bytes(b"\0\0")
    (tmp_path / "class_1" / "cut.jpg").write_bytes(b"\xff\xd8")  # too short
    (tmp_path / "class_1" / "fake.png").write_bytes(b"GIF89a....")  # not a PNG
    with pytest.warns(UserWarning, match=r"2 image file\(s\) .* skipped"):
        loaded = datasets.load_image_folder(str(tmp_path), image_size=4)
    assert loaded["skipped"] == {"ignored": 2, "unreadable": 2}
    assert len(loaded["train"][0]) + len(loaded["test"][0]) == 7


def test_class_with_one_image(tmp_path):
    make_folder(str(tmp_path), (4, 1))
    with pytest.raises(ValueError, match="'class_1' .* has 1 image"):
        datasets.load_image_folder(str(tmp_path))


def test_test_classes_unknown_to_train(tmp_path):
    make_folder(str(tmp_path / "train"), (3, 3))
    make_folder(str(tmp_path / "test"), (2, 2, 2))
    with pytest.raises(ValueError, match=r"train/ lacks: \['class_2'\]"):
        datasets.load_image_folder(str(tmp_path))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"image_size": (0, 4)}, "image_size"),
        ({"image_size": "big"}, "image_size"),
        ({"color_mode": "cmyk"}, "color_mode"),
        ({"test_split": 0.9}, "test_split"),
    ],
)
def test_bad_arguments(folder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.load_image_folder(folder, **kwargs)


# --- ImageFiles -----------------------------------------------------------------


def test_decoded_values_sizes_and_channels(tmp_path):
    make_folder(str(tmp_path), (2, 2), sizes=((6, 5), (3, 9)))  # mixed sizes
    listing = datasets.list_image_folder(str(tmp_path))
    for mode, channels in (("rgb", 3), ("grayscale", 1), ("rgba", 4)):
        files = ImageFiles(listing["paths"], image_size=(4, 7), color_mode=mode)
        images = files.load()
        assert images.shape == (4, 4, 7, channels) == files.shape
        assert images.dtype == np.float32
        # Constant images stay constant through resizing: value / 255.
        expected = np.array([0, 1, 10, 11]) / 255.0
        np.testing.assert_allclose(
            images[..., 0].mean(axis=(1, 2)), expected, atol=1e-6
        )
        if mode == "rgba":
            np.testing.assert_allclose(images[..., 3], 1.0)


def test_indexing_and_config(folder):
    files = datasets.load_image_folder(folder, image_size=4)["train"][0]
    subset = files[np.array([2, 0])]
    assert isinstance(subset, ImageFiles) and len(subset) == 2
    assert subset.paths.tolist() == [files.paths[2], files.paths[0]]
    assert len(files[files.paths != files.paths[0]]) == len(files) - 1
    with pytest.raises(TypeError, match="load"):
        files[0]
    again = ImageFiles.from_config(files.get_config())
    assert again.paths.tolist() == files.paths.tolist() and again.shape == files.shape


def test_dataset_matches_load_and_shuffles_per_seed(folder):
    files = datasets.load_image_folder(folder, image_size=4)["train"][0]
    labels = np.arange(len(files))
    batches = list(files.dataset(labels, batch_size=5))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), files.load())
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), labels)
    order = [
        np.concatenate([b[1] for b in files.dataset(labels, shuffle=True, seed=s)])
        for s in (0, 0, 1)
    ]
    assert sorted(order[0].tolist()) == labels.tolist()
    assert order[0].tolist() == order[1].tolist() != order[2].tolist()


@pytest.mark.parametrize("sampling", ["balanced", "sqrt", "instance"])
def test_samplers_draw_the_same_batches_from_files_and_arrays(folder, sampling):
    files, labels = datasets.load_image_folder(folder, image_size=4)["train"]
    arrays = files.load()
    from_files = data.balanced_dataset(
        files, labels, batch_size=4, sampling=sampling, seed=7
    )
    from_arrays = data.balanced_dataset(
        arrays, labels, batch_size=4, sampling=sampling, seed=7
    )
    assert int(from_files.cardinality()) == int(from_arrays.cardinality())
    for (xf, yf), (xa, ya) in zip(from_files, from_arrays):
        np.testing.assert_array_equal(xf, xa)
        np.testing.assert_array_equal(yf, ya)


def test_bilateral_sampler_on_files_equals_arrays(folder):
    files, labels = datasets.load_image_folder(folder, image_size=4)["train"]
    pairs = zip(
        data.bilateral_dataset(files, labels, batch_size=4, seed=1),
        data.bilateral_dataset(files.load(), labels, batch_size=4, seed=1),
    )
    for ((fc, fr), yf), ((ac, ar), ya) in pairs:
        np.testing.assert_array_equal(fc, ac)
        np.testing.assert_array_equal(fr, ar)
        np.testing.assert_array_equal(yf[1], ya[1])


def test_pixel_space_smote_is_refused_with_what_to_use(folder):
    files, labels = datasets.load_image_folder(folder, image_size=4)["train"]
    with pytest.raises(TypeError, match="SMOTE on image files.*feature_space"):
        data.smote_dataset(files, labels, batch_size=4, seed=0)

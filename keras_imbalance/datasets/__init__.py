"""Long-tailed datasets: builders and loaders for real data available offline.

Loaders return `(x_train, y_train), (x_test, y_test)` like `keras.datasets`,
with images as float32 arrays `(N, H, W, C)` scaled to `[0, 1]` and labels as
int64 class ids `(N,)`. The training split is long-tailed, the test split
balanced, so that per-class and balanced metrics on the test split measure what
a model learned about the tail.

- `make_long_tailed`: the CIFAR-LT protocol of Cao et al. (2019) on any
  labelled arrays (exponential or step profile).
- `load_digits_lt`: the digits bundled with scikit-learn (no download).
- `load_fashion_mnist_lt`: Fashion-MNIST (Xiao et al., 2017) from local IDX
  files (e.g. the Debian package `dataset-fashion-mnist`) or the Keras cache.
- `load_cifar_lt`: CIFAR-10-LT and CIFAR-100-LT exactly as Cao et al. (2019)
  draw them, from the CIFAR python files or the Keras cache.
- `load_npz`: the user's own data from an `.npz` file.
- `load_image_folder`: the user's own images, one subfolder per class, kept
  on disk (`keras_imbalance.data.ImageFiles`) and decoded in `tf.data`.
- `load_table`: the user's own CSV table (numeric and categorical columns),
  preprocessed by a Keras model fitted on the training split;
  `table_model` puts a trained model behind it, to serve raw rows.

References:
    - K. Cao, C. Wei, A. Gaidon, N. Arechiga, T. Ma. "Learning Imbalanced
      Datasets with Label-Distribution-Aware Margin Loss." NeurIPS 2019.
      https://arxiv.org/abs/1906.07413 (code: https://github.com/kaidic/LDAM-DRW)
    - H. Xiao, K. Rasul, R. Vollgraf. "Fashion-MNIST: a Novel Image Dataset for
      Benchmarking Machine Learning Algorithms." 2017.
      https://arxiv.org/abs/1708.07747
    - A. Krizhevsky. "Learning Multiple Layers of Features from Tiny Images."
      2009. https://www.cs.toronto.edu/~kriz/cifar.html
"""

from keras_imbalance.datasets._cifar import load_cifar_lt
from keras_imbalance.datasets._digits import load_digits_lt
from keras_imbalance.datasets._fashion_mnist import (
    FASHION_MNIST_CLASS_NAMES,
    FASHION_MNIST_FILES,
    load_fashion_mnist_lt,
)
from keras_imbalance.datasets._image_folder import (
    is_image_folder,
    list_image_folder,
    load_image_folder,
)
from keras_imbalance.datasets._long_tail import (
    long_tailed_counts,
    make_long_tailed,
    stratified_split,
)
from keras_imbalance.datasets._npz import is_npz_path, load_npz
from keras_imbalance.datasets._registry import (
    DATASETS,
    dataset_kind,
    load_balanced_reference,
    load_dataset,
)
from keras_imbalance.datasets._table import is_table_path, load_table
from keras_imbalance.datasets._table_model import table_model

__all__ = [
    "DATASETS",
    "FASHION_MNIST_CLASS_NAMES",
    "FASHION_MNIST_FILES",
    "dataset_kind",
    "is_image_folder",
    "is_npz_path",
    "is_table_path",
    "list_image_folder",
    "load_balanced_reference",
    "load_cifar_lt",
    "load_dataset",
    "load_digits_lt",
    "load_fashion_mnist_lt",
    "load_image_folder",
    "load_npz",
    "load_table",
    "long_tailed_counts",
    "make_long_tailed",
    "stratified_split",
    "table_model",
]

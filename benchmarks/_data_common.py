"""The settings and the data of `bench_data.py`, shared by its parts."""

import os
import sys
import warnings
from pathlib import Path

__all__ = [
    "FIT_EPOCHS",
    "FIT_TARGET",
    "ITERATE_TARGET",
    "MEMORY_RATIOS",
    "NUM_CLASSES",
    "NUM_FEATURES",
    "NUM_SAMPLES",
    "PARTS",
    "RATIO",
    "ROOT",
    "SCRIPT",
    "SECTION",
    "imblearn_generator",
    "long_tail_counts",
    "make_data",
    "quiet",
]

ROOT = Path(__file__).resolve().parents[1]
#: The script itself: the memory rows run it again, one subprocess each.
SCRIPT = Path(__file__).resolve().with_name("bench_data.py")
SECTION = "bench_data"  # its part of docs/benchmarks.md, between marker comments
NUM_SAMPLES = 100_000
NUM_FEATURES = 64
NUM_CLASSES = 10
RATIO = 100
MEMORY_RATIOS = (10, 100, 1000)
ITERATE_TARGET = 2.0
FIT_TARGET = 1.0
FIT_EPOCHS = 3
PARTS = ("iterate", "fit", "memory", "augment")


def long_tail_counts(n=NUM_SAMPLES, num_classes=NUM_CLASSES, ratio=RATIO):
    """Exponential profile `n_c ∝ ratio^(-c/(C-1))`, summing to `n`."""
    import numpy as np

    raw = float(ratio) ** (-np.arange(num_classes) / (num_classes - 1))
    counts = np.floor(raw / raw.sum() * n).astype("int64")
    counts[0] += n - counts.sum()
    return counts


def make_data(ratio=RATIO, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    counts = long_tail_counts(ratio=ratio)
    y = rng.permutation(np.repeat(np.arange(NUM_CLASSES), counts))
    centres = 0.25 * rng.standard_normal((NUM_CLASSES, NUM_FEATURES), dtype="float32")
    x = rng.standard_normal((y.size, NUM_FEATURES), dtype="float32")
    x += centres[y]
    return x, y, counts


def quiet():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def imblearn_generator(x, y, batch_size, seed):
    from imblearn.keras import BalancedBatchGenerator
    from imblearn.over_sampling import RandomOverSampler

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return BalancedBatchGenerator(
            x,
            y,
            sampler=RandomOverSampler(random_state=seed),
            batch_size=batch_size,
            random_state=seed,
        )

"""Evaluation reports and plots for class-imbalanced classifiers.

`evaluate_imbalanced` turns a trained Keras model (or its predictions) and
test labels into an `ImbalanceReport`: per-class precision, recall, F1 and
support, plain and balanced accuracy, macro F1, the G-mean, the many-,
medium- and few-shot accuracy of the long-tail literature, the expected
calibration error and the confusion matrix; for a two-class task also the
PR-AUC, ROC-AUC, precision, recall and F1 of the positive class (class 1 by
default) at the decision threshold used. `tune_threshold` chooses that
threshold on held-out data (threshold moving: maximal F1, or a target
recall). The definitions are those of
`keras_imbalance.metrics` (and so of scikit-learn and imbalanced-learn), here
computed once in NumPy over all the predictions.

`ImbalanceReport.plot` and `plot_per_class_recall` return
`matplotlib.figure.Figure` objects built without `pyplot`, so they work
headless; save them with `figure.savefig(path)`.

References:

- Brodersen, Ong, Stephan, Buhmann. "The balanced accuracy and its posterior
  distribution". ICPR 2010.
- Kubat, Matwin. "Addressing the curse of imbalanced training sets:
  one-sided selection". ICML 1997 (G-mean).
- Liu, Miao, Zhan, Wang, Gong, Yu. "Large-Scale Long-Tailed Recognition in an
  Open World". CVPR 2019 (many / medium / few-shot groups).
- Guo, Pleiss, Sun, Weinberger. "On Calibration of Modern Neural Networks".
  ICML 2017 (expected calibration error).
"""

# Also importable from here, outside `__all__`: ECE_BINS, MANY_THRESHOLD,
# FEW_THRESHOLD and expected_calibration_error.
from keras_imbalance.evaluation._calibration import ECE_BINS as ECE_BINS
from keras_imbalance.evaluation._calibration import (
    expected_calibration_error as expected_calibration_error,
)
from keras_imbalance.evaluation._evaluate import evaluate_imbalanced
from keras_imbalance.evaluation._plots import plot_per_class_recall
from keras_imbalance.evaluation._report import ImbalanceReport
from keras_imbalance.evaluation._shots import FEW_THRESHOLD as FEW_THRESHOLD
from keras_imbalance.evaluation._shots import MANY_THRESHOLD as MANY_THRESHOLD
from keras_imbalance.evaluation._shots import (
    OLTR_SHOT_THRESHOLDS,
    auto_shot_thresholds,
)
from keras_imbalance.evaluation._thresholds import tune_threshold

__all__ = [
    "OLTR_SHOT_THRESHOLDS",
    "ImbalanceReport",
    "auto_shot_thresholds",
    "evaluate_imbalanced",
    "plot_per_class_recall",
    "tune_threshold",
]

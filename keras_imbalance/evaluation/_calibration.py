"""The expected calibration error (Guo et al., ICML 2017)."""

import numpy as np

__all__ = ["ECE_BINS", "expected_calibration_error"]

ECE_BINS = 15
"""Number of equal-width confidence bins of the expected calibration error."""


def expected_calibration_error(confidence, correct, num_bins=ECE_BINS):
    """Expected calibration error of top-class confidences (Guo et al. 2017).

    Equal-width bins `(k/num_bins, (k+1)/num_bins]`; the error is the
    sample-weighted mean of `|accuracy - mean confidence|` over the bins.

    Example:

    >>> expected_calibration_error([0.9, 0.9, 0.6, 0.6], [True, False, True, True])
    0.4
    """
    confidence = np.asarray(confidence, dtype="float64").reshape(-1)
    correct = np.asarray(correct, dtype="float64").reshape(-1)
    if confidence.size == 0:
        return 0.0
    inner_edges = np.linspace(0.0, 1.0, num_bins + 1)[1:-1]
    bins = np.searchsorted(inner_edges, confidence, side="left")
    total = 0.0
    for b in np.unique(bins):
        members = bins == b
        gap = abs(correct[members].mean() - confidence[members].mean())
        total += members.sum() / confidence.size * gap
    return float(total)

"""The imbalanced-learn samplers of the SMOTE family, made and checked.

`make_sampler` builds a named sampler from imbalanced-learn's own keyword
arguments (or takes an instance); `resample` checks, in data terms, that
every over-sampled class is large enough for the sampler's neighbourhoods
before imbalanced-learn runs, then resamples.
"""

import numbers

import numpy as np
from imblearn.combine import SMOTEENN, SMOTETomek
from imblearn.over_sampling import (
    ADASYN,
    SMOTE,
    SVMSMOTE,
    BorderlineSMOTE,
    KMeansSMOTE,
    RandomOverSampler,
)
from imblearn.utils import check_sampling_strategy

from keras_imbalance._validation import check_optional_int, invalid

__all__ = ["SAMPLERS", "make_sampler", "resample"]

SAMPLERS = {
    "smote": SMOTE,
    "borderline_smote": BorderlineSMOTE,
    "svm_smote": SVMSMOTE,
    "adasyn": ADASYN,
    "kmeans_smote": KMeansSMOTE,
    "random_over": RandomOverSampler,
    "smote_tomek": SMOTETomek,
    "smote_enn": SMOTEENN,
}
"""Sampler names and their imbalanced-learn classes."""


def make_sampler(sampler, seed, sampler_kwargs):
    """A sampler from a name of `SAMPLERS` and its keyword arguments, or as given."""
    if isinstance(sampler, str):
        if sampler not in SAMPLERS:
            raise invalid(
                "sampler",
                f"one of {list(SAMPLERS)} or an imbalanced-learn sampler "
                "instance (an object with `fit_resample`)",
                sampler,
            )
        cls = SAMPLERS[sampler]
        if "random_state" in sampler_kwargs:
            raise ValueError(
                "Pass `seed`, not `random_state`: it seeds the sampler "
                f"(random_state=seed) and the shuffling. Received: "
                f"random_state={sampler_kwargs['random_state']!r}"
            )
        valid = set(cls().get_params(deep=False)) - {"random_state"}
        unknown = sorted(set(sampler_kwargs) - valid)
        if unknown:
            raise TypeError(
                f"Unknown keyword argument(s) {unknown} for sampler={sampler!r} "
                f"(imblearn {cls.__name__}). Valid ones: {sorted(valid)}."
            )
        return cls(random_state=seed, **sampler_kwargs)
    if hasattr(sampler, "fit_resample"):
        if sampler_kwargs:
            raise ValueError(
                "Sampler keyword arguments are only taken with a sampler name; "
                f"set them on the {type(sampler).__name__} instance instead. "
                f"Received: {sorted(sampler_kwargs)}"
            )
        return sampler
    raise invalid(
        "sampler",
        f"one of {list(SAMPLERS)} or an imbalanced-learn sampler instance "
        "(an object with `fit_resample`)",
        sampler,
    )


def _neighbourhood_rules(sampler):
    """The neighbourhood parameters a sampler fits, and on which samples.

    `"class"`: fitted on the samples of each over-sampled class, so each of
    those classes needs `k + 1` samples (the sample itself and `k`
    neighbours); `"all"`: fitted on the whole data.
    """
    if isinstance(sampler, ADASYN):
        return [("n_neighbors", "class")]
    if isinstance(sampler, BorderlineSMOTE):
        k_scope = "all" if sampler.kind == "borderline-2" else "class"
        return [("k_neighbors", k_scope), ("m_neighbors", "all")]
    if isinstance(sampler, SVMSMOTE):
        return [("k_neighbors", "class"), ("m_neighbors", "all")]
    if isinstance(sampler, (SMOTE, KMeansSMOTE)):
        return [("k_neighbors", "class")]
    return []


def _samples_needed(value, param):
    """`(samples needed, words)` for an int or a NearestNeighbors-like value."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value < 1:
            return None  # imbalanced-learn rejects it with its own message
        return int(value) + 1, f"{param} + 1 = {int(value) + 1}"
    n_neighbors = getattr(value, "n_neighbors", None)
    if isinstance(n_neighbors, numbers.Integral) and n_neighbors >= 1:
        return int(n_neighbors), f"the n_neighbors={n_neighbors} of its {param}"
    return None


def _samples(count):
    return f"{int(count)} sample" + ("" if count == 1 else "s")


def _check_neighbourhoods(sampler, labels):
    """Raise, in data terms, where a class is too small for its neighbourhood.

    Checked before imbalanced-learn runs (whose own error speaks of
    `n_neighbors` and `n_samples_fit` without naming the class), and only for
    the classes that will be over-sampled.
    """
    combined = None
    if isinstance(sampler, (SMOTEENN, SMOTETomek)):
        combined = type(sampler).__name__
        inner = sampler.smote
        if inner is None:
            inner = SMOTE(sampling_strategy=sampler.sampling_strategy)
        sampler = inner
    rules = _neighbourhood_rules(sampler)
    if not rules:
        return
    try:
        targets = check_sampling_strategy(
            sampler.sampling_strategy, labels, "over-sampling"
        )
    except (ValueError, TypeError):
        return  # an invalid sampling_strategy: imbalanced-learn says so itself
    over_sampled = sorted(c for c, n in targets.items() if n > 0)
    if not over_sampled:
        return
    counts = np.bincount(labels)
    name = type(sampler).__name__
    who = name if combined is None else f"{combined}'s {name}"

    def fix(param, value, available):
        if available < 1:
            return "use sampler='random_over' or gather more samples"
        if isinstance(value, numbers.Integral):
            setting = f"{param}={available}"
            limit = f"{param} <= {available}"
        else:
            setting = f"{param}=<an estimator with n_neighbors <= {available + 1}>"
            limit = f"{param} to an estimator with n_neighbors <= {available + 1}"
        if combined is not None:
            return f"pass smote={name}({setting}) or use sampler='random_over'"
        return f"set {limit} or use sampler='random_over'"

    for param, scope in rules:
        value = getattr(sampler, param)
        needed = _samples_needed(value, param)
        if needed is None:
            continue
        need, words = needed
        if scope == "all":
            total = labels.size
            if total < need:
                raise ValueError(
                    f"x has {_samples(total)} in all but {who} needs {words}; "
                    f"{fix(param, value, total - 1)}."
                )
            continue
        for c in over_sampled:
            if counts[c] < need:
                raise ValueError(
                    f"class {c} has {_samples(counts[c])} but {who} needs "
                    f"{words}; {fix(param, value, int(counts[c]) - 1)}."
                )


def resample(inputs, labels, sampler, seed, sampler_kwargs):
    """`(x, y)` resampled by `sampler`, in the form of `inputs` and `labels`."""
    seed = check_optional_int("seed", seed, low=0)
    sampler = make_sampler(sampler, seed, sampler_kwargs)
    _check_neighbourhoods(sampler, labels.labels)
    matrix, ids = sampler.fit_resample(inputs.matrix, labels.labels)
    return inputs.restore(np.asarray(matrix)), labels.restore(ids)

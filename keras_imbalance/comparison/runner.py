"""`compare`: train strategies x seeds, choose on validation, report on test."""

import numbers
import os
import time

import numpy as np

from keras_imbalance import datasets, evaluation, protocols
from keras_imbalance import strategies as recipes_registry
from keras_imbalance._dataset_checks import checked_arrays
from keras_imbalance._logs import without_retracing_notices
from keras_imbalance._validation import (
    check_float,
    check_positive_int,
    check_seed,
    invalid,
    is_integer,
    is_seed,
)
from keras_imbalance.comparison._choice import _applicable, _strategy_list
from keras_imbalance.comparison._machine import machine
from keras_imbalance.comparison.progress import Progress, epoch_callback
from keras_imbalance.comparison.results import Comparison
from keras_imbalance.comparison.runs import Run, chance_warnings
from keras_imbalance.comparison.thresholds import (
    evaluate_run,
    recorded_option,
    threshold_objective,
)
from keras_imbalance.models.zoo import ModelFactory, model_factory
from keras_imbalance.strategies.context import check_batches, distribution_scope

__all__ = ["Progress", "compare", "model_factory"]


def _fresh(recipe):
    """A new instance with the same parameters (one per run)."""
    return type(recipe).from_config(recipe.get_config())


def _recorded_recipe(recipe):
    """`strategies.serialize(recipe)`, or `None` for an unregistered class."""
    try:
        return recipes_registry.serialize(recipe)
    except ValueError:
        return None


def _recorded_model(model):
    """The `model` argument as plain data, or `None` for a callable of the user's."""
    if isinstance(model, str):
        return model
    if isinstance(model, ModelFactory):
        return {"model_factory": model.get_config()}
    return None


def _seeds(seeds):
    if is_integer(seeds):
        seeds = (seeds,)
    seeds = list(seeds)
    if not seeds or not all(is_seed(s) for s in seeds):
        raise invalid("seeds", "a non-empty sequence of integers in [0, 2**32)", seeds)
    if len(set(seeds)) != len(seeds):
        raise invalid("seeds", "distinct seeds", seeds)
    return [int(s) for s in seeds]


def _load(data, *, imbalance_ratio, data_seed, data_dir, num_classes, source_options):
    if isinstance(data, (str, os.PathLike)):
        return datasets.load_dataset(
            data,
            imbalance_ratio=imbalance_ratio,
            seed=data_seed,
            data_dir=data_dir,
            num_classes=num_classes,
            **source_options,
        )
    if isinstance(data, dict) and "train" in data:
        return data
    try:
        (x, y), (x_test, y_test) = data
    except (TypeError, ValueError):
        raise invalid(
            "data",
            "a dataset name, an .npz path or ((x_train, y_train), (x_test, y_test))",
            type(data).__name__,
        ) from None
    (x, y), (x_test, y_test), num_classes = checked_arrays(
        (x, y), (x_test, y_test), num_classes
    )
    names = [str(c) for c in range(num_classes)]
    counts = np.bincount(y, minlength=num_classes)
    return {
        "name": "arrays",
        "train": (x, y),
        "test": (x_test, y_test),
        "class_names": names,
        "num_classes": num_classes,
        "imbalance_ratio": float(counts.max() / counts[counts > 0].min()),
    }


def _shot_thresholds(option, counts):
    if option is None or option == "auto":
        thresholds = evaluation.auto_shot_thresholds(counts)
        source = (
            "auto: OLTR"
            if thresholds == evaluation.OLTR_SHOT_THRESHOLDS
            else "auto: log-scale terciles"
        )
        return thresholds, source
    if not (
        isinstance(option, (tuple, list))
        and len(option) == 2
        and all(isinstance(v, numbers.Integral) for v in option)
        and option[0] >= option[1] >= 0
    ):
        raise invalid(
            "shot_thresholds", "'auto' or (many, few), many >= few >= 0", option
        )
    return (int(option[0]), int(option[1])), "given"


def compare(
    strategies=None,
    data="digits-lt",
    *,
    model="small_cnn",
    epochs=20,
    batch_size=None,
    seeds=(0,),
    validation_split=0.1,
    protocol="default",
    head=None,
    imbalance_ratio=None,
    data_seed=0,
    data_dir=None,
    num_classes=None,
    image_size=None,
    color_mode=None,
    target=None,
    class_names=None,
    shot_thresholds="auto",
    threshold="auto",
    keep_models=False,
    progress=None,
    verbose=0,
    distribution=None,
):
    """Train strategies on one long-tailed dataset and compare them honestly.

    For every seed and every strategy, a fresh model is trained on the
    training split minus a stratified validation split
    (`datasets.stratified_split` with `data_seed`: the same split for every
    run), under one training protocol (`keras_imbalance.protocols`), then
    evaluated on the validation and the test split. The best strategy is the
    one with the highest mean validation balanced accuracy, and the post-hoc
    recipes tune their `tau` (two-class runs their decision threshold) on
    the validation split; the test split chooses nothing. Report mean ± std
    over at least 3 seeds before calling one strategy better than another.

    Args:
        strategies: Names of `keras_imbalance.strategies` (or `Strategy`
            instances), `"all"`, or `None` for `recipes_registry.DEFAULT_COMPARE`.
            With `"all"` or `None`, the recipes that cannot train on the data
            (`Strategy.check_inputs`, e.g. image augmentation on a table)
            are left out and listed in `setup["skipped_strategies"]`; a
            recipe named explicitly raises instead.
        data: A name of `datasets.DATASETS` (`"digits-lt"`,
            `"fashion-mnist-lt"`, `"cifar10-lt"`, `"cifar100-lt"`), the
            path of an `.npz` or of a folder of images with one subfolder
            per class (read from disk as the models train; see
            `datasets.load_dataset`), a dict as `load_dataset` returns
            it, or arrays
            `((x_train, y_train), (x_test, y_test))` with integer labels.
            Arrays and `.npz` files are checked first (finite inputs of one
            per-sample shape, non-negative class ids, no mostly empty class
            set, no test label without training samples; see
            `datasets.load_dataset`).
        model: A name of `strategies.MODELS`, or `model_fn(input_shape,
            num_classes)` returning a logits model (taking `head=` if
            `head` is set). Defaults to `"small_cnn"`.
        epochs: Epochs per run (all stages together). Defaults to `20`.
        batch_size: Defaults to the protocol's (32, or 128 for `"ldam"`).
        seeds: Training seeds. Defaults to `(0,)`.
        validation_split: Fraction of each training class held out for
            validation, in `(0, 0.5]`. Defaults to `0.1`.
        protocol: `"default"`, `"ldam"`, a `protocols.TrainingProtocol` or
            its config. Defaults to `"default"`.
        head: `"dense"` or `"cosine"` to give every strategy the same head,
            or `None` for each strategy's own. Defaults to `None`.
        imbalance_ratio: Passed to `datasets.load_dataset` for a named
            dataset. Defaults to `None`.
        data_seed: Seed of the dataset's random choices and of the
            validation split. Defaults to `0`.
        data_dir: Folder of the Fashion-MNIST files. Defaults to `None`.
        num_classes: The number of classes, for class sets with empty
            classes (every label must be below it). Defaults to `None`: the
            largest training label + 1.
        image_size: `(height, width)` for an image folder. Defaults to
            `None`: `(64, 64)`.
        color_mode: `"rgb"`, `"grayscale"` or `"rgba"` for an image folder.
            Defaults to `None`: `"rgb"`.
        target: The column to predict, for a `.csv` table (then a path of
            `datasets.load_dataset`). Defaults to `None`.
        class_names: One name per class, for arrays. Defaults to `None`.
        shot_thresholds: `"auto"` (`evaluation.auto_shot_thresholds` of the
            training counts) or `(many, few)`. Defaults to `"auto"`.
        threshold: Two-class data only: each run's decision threshold on
            the probability of class 1, tuned on its validation predictions
            (`evaluation.tune_threshold`) and used on both splits:
            `"f1"`, `{"recall": r}`, or `None` for the argmax. Recorded in
            `Run.tuned_params["threshold"]`. Defaults to `"auto"`: `"f1"`
            for two classes, `None` (required) for more.
        keep_models: Keep each strategy's best-validation model in
            `Comparison.models` (e.g. to export the best). Defaults to
            `False`.
        progress: A `Progress` receiving the events. Defaults to `None`.
        verbose: Verbosity of `model.fit`. Defaults to `0`.
        distribution: Train and evaluate every run data-parallel:
            `"data_parallel"` (`keras.distribution.DataParallel` over all
            devices) or a `keras.distribution.DataParallel` /
            `ModelParallel` on JAX, a
            `tf.distribute.Strategy` (e.g. `MirroredStrategy`) on
            TensorFlow; set for the runs and restored after, recorded in
            `setup["distribution"]`. `batch_size` stays the global batch
            (see docs/distributed.md). Defaults to `None`: one device.

    Returns:
        A `Comparison`.

    Example:

    >>> from keras_imbalance.comparison import compare, model_factory
    >>> result = compare("ce", "digits-lt", epochs=1,
    ...                  model=model_factory("small_cnn", width=4, depth=1))
    >>> result.strategies, result.seeds, result.best
    (['ce'], [0], 'ce')
    >>> result.setup["epochs"], len(result.runs)
    (1, 1)
    """
    names, recipes, automatic = _strategy_list(strategies)
    epochs = check_positive_int("epochs", epochs)
    protocol = protocols.get(protocol)
    batch_size = protocol.batch_size if batch_size is None else batch_size
    batch_size = check_positive_int("batch_size", batch_size)
    seeds = _seeds(seeds)
    validation_split = check_float(
        "validation_split", validation_split, low=0, high=0.5, low_open=True
    )
    if head is not None and head not in ("dense", "cosine"):
        raise invalid("head", "None, 'dense' or 'cosine'", head)
    call = {
        "data": os.fspath(data) if isinstance(data, (str, os.PathLike)) else None,
        "model": _recorded_model(model),
        "imbalance_ratio": imbalance_ratio,
        "data_dir": None if data_dir is None else os.fspath(data_dir),
        "num_classes": num_classes,
        "shot_thresholds": shot_thresholds,
        "image_size": None if image_size is None else list(image_size),
        "color_mode": color_mode,
        "target": target,
        "threshold": recorded_option(threshold),
    }
    model_name = model if isinstance(model, str) else getattr(model, "name", None)
    model_fn = model_factory(model) if isinstance(model, str) else model
    if not callable(model_fn):
        raise invalid("model", "a name of strategies.MODELS or a callable", model)
    data_seed = check_seed("data_seed", data_seed, allow_none=False)
    scope, recorded_distribution = distribution_scope(distribution)
    loaded = _load(
        data,
        imbalance_ratio=imbalance_ratio,
        data_seed=data_seed,
        data_dir=data_dir,
        num_classes=num_classes,
        source_options={
            "image_size": image_size,
            "color_mode": color_mode,
            "target": target,
        },
    )
    num_classes = loaded["num_classes"]
    names_of_classes = list(class_names or loaded["class_names"])
    if len(names_of_classes) != num_classes:
        raise invalid("class_names", f"{num_classes} names", class_names)
    x_all, y_all = loaded["train"]
    x_test, y_test = loaded["test"]
    names, recipes, skipped = _applicable(
        names, recipes, automatic, np.shape(x_all)[1:]
    )
    (x, y), (x_val, y_val) = datasets.stratified_split(
        x_all, y_all, validation_split, seed=data_seed, num_classes=num_classes
    )
    check_batches(
        recorded_distribution,
        batch_size,
        {"training": len(y), "validation": len(y_val), "test": len(y_test)},
    )
    counts = np.bincount(y, minlength=num_classes).tolist()
    thresholds, source = _shot_thresholds(shot_thresholds, counts)
    objective = threshold_objective(threshold, num_classes)
    setup = {
        "dataset": loaded["name"],
        "reference": loaded.get("reference"),
        "imbalance_ratio": loaded["imbalance_ratio"],
        "test_split": loaded.get("test_split"),
        "skipped_files": loaded.get("skipped"),
        "input_shape": list(np.shape(x_all)[1:]),
        "num_classes": num_classes,
        "class_names": names_of_classes,
        "class_counts": counts,
        "validation_counts": np.bincount(y_val, minlength=num_classes).tolist(),
        "test_counts": np.bincount(y_test, minlength=num_classes).tolist(),
        "model": model_name,
        "epochs": epochs,
        "batch_size": batch_size,
        "seeds": seeds,
        "data_seed": int(data_seed),
        "validation_split": validation_split,
        "protocol": protocol.get_config(),
        "head": head,
        "shot_thresholds": list(thresholds),
        "shot_threshold_source": source,
        "threshold_objective": objective,
        "descriptions": {n: r.describe() for n, r in zip(names, recipes)},
        "strategies": {n: _recorded_recipe(r) for n, r in zip(names, recipes)},
        "skipped_strategies": skipped,
        "call": call,
        "machine": machine(),
        "distribution": recorded_distribution,
    }
    progress = progress or Progress()
    progress.started(len(names) * len(seeds), epochs, setup)
    extra = [epoch_callback(progress)]

    def evaluate(model, inputs, labels, cut=None):
        return evaluation.evaluate_imbalanced(
            model,
            inputs,
            labels,
            class_counts=counts,
            class_names=names_of_classes,
            shot_thresholds=thresholds,
            threshold=cut,
        )

    runs, kept, kept_score = [], {}, {}
    plan = [
        (seed, name, template)
        for seed in seeds
        for name, template in zip(names, recipes)
    ]
    # A new model every run: retracing notices are expected.
    with without_retracing_notices(), scope:
        for index, (seed, name, template) in enumerate(plan):
            progress.run_started(index, name, seed)
            recipe = _fresh(template)
            start = time.perf_counter()
            trained, _ = recipe.fit(
                model_fn,
                x,
                y,
                epochs=epochs,
                batch_size=batch_size,
                validation_data=(x_val, y_val),
                seed=seed,
                num_classes=num_classes,
                callbacks=extra,
                verbose=verbose,
                protocol=protocol,
                head=head,
            )
            seconds = time.perf_counter() - start
            validation, test, cut = evaluate_run(
                evaluate, trained, (x_val, y_val), (x_test, y_test), objective
            )
            tuned = dict(recipe.tuned_params_)
            if cut is not None:
                tuned["threshold"] = cut
            run = Run(
                strategy=name,
                seed=seed,
                params=recipe.get_config(),
                tuned_params=tuned,
                validation=validation,
                test=test,
                train_seconds=seconds,
                warnings=chance_warnings(test),
            )
            runs.append(run)
            score = run.validation.balanced_accuracy
            if keep_models and score > kept_score.get(name, -1.0):
                kept[name], kept_score[name] = trained, score
            del trained
            progress.run_ended(run)
    return Comparison(runs, setup, models=kept)

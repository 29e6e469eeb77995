"""`rerun`: a comparison again from its results file."""

from keras_imbalance.comparison.results import Comparison
from keras_imbalance.comparison.runner import compare
from keras_imbalance.models.zoo import ModelFactory
from keras_imbalance.strategies.context import replayed_distribution

__all__ = ["rerun"]


def rerun(results, *, data=None, model=None, strategies=None, **overrides):
    """Run a comparison again from its results: the same recipes, data and setup.

    Every `results.json` records what `compare` was called with: each
    strategy as `strategies.serialize` data (its name and parameters), the
    dataset name or path, the model name or `ModelFactory` config, the
    protocol, budget, seeds and splits, and the distribution it trained
    under. `rerun` reads them back and calls `compare`, so the same seeds
    give the same runs on the same machine (a `DataParallel` or
    `MirroredStrategy` run is replayed over the same devices).

    Args:
        results: A `Comparison`, its JSON text, or the path of its
            `results.json`.
        data: The data, when the comparison ran on arrays (they are not
            recorded). Defaults to the recorded dataset name or path.
        model: The model, when the comparison ran a `model_fn` of your own.
            Defaults to the recorded name or factory.
        strategies: Replaces the recorded strategies (e.g. a subset of
            names). Defaults to the recorded ones.
        **overrides: Other `compare` arguments to change (e.g. `seeds=`,
            `epochs=`, `progress=`, `keep_models=`, or `distribution=`:
            required when the recorded distribution cannot be built again
            here, e.g. other devices or a `MultiWorkerMirroredStrategy`).

    Returns:
        A new `Comparison`.

    Example:

    >>> from keras_imbalance.comparison import model_factory
    >>> first = compare(["focal"], "digits-lt", epochs=1,
    ...                 model=model_factory("small_cnn", width=4, depth=1))
    >>> again = rerun(first.to_json())
    >>> again.values("focal") == first.values("focal")
    True
    """
    if not isinstance(results, Comparison):
        results = Comparison.from_json(results)
    setup = results.setup
    call = setup.get("call")
    if call is None:
        raise ValueError(
            "These results do not record the call of `compare` (they were "
            "written before keras-imbalance recorded it); pass its arguments "
            "to `compare` instead."
        )
    if strategies is None:
        recorded = setup.get("strategies", {})
        missing = [name for name, config in recorded.items() if config is None]
        if missing:
            raise ValueError(
                f"The strategies {missing} were not registered when they ran, "
                "so their parameters are not recorded; register them and pass "
                "`strategies=`."
            )
        strategies = list(recorded.values())
    data = call["data"] if data is None else data
    if data is None:
        raise ValueError(
            "This comparison ran on arrays, which results files do not hold: "
            "pass them as `data=((x_train, y_train), (x_test, y_test))`."
        )
    if model is None:
        model = call["model"]
        if isinstance(model, dict):
            model = ModelFactory.from_config(model["model_factory"])
    if model is None:
        raise ValueError(
            "This comparison ran a model_fn of your own, which results files "
            "do not hold: pass it as `model=`."
        )
    thresholds = call["shot_thresholds"]
    arguments = dict(
        model=model,
        epochs=setup["epochs"],
        batch_size=setup["batch_size"],
        seeds=setup["seeds"],
        validation_split=setup["validation_split"],
        protocol=setup["protocol"],
        head=setup["head"],
        imbalance_ratio=call["imbalance_ratio"],
        data_seed=setup["data_seed"],
        data_dir=call["data_dir"],
        num_classes=call["num_classes"],
        image_size=call.get("image_size"),
        color_mode=call.get("color_mode"),
        target=call.get("target"),
        # Files written before thresholds were tuned ran with the argmax.
        threshold=call.get("threshold"),
        shot_thresholds=thresholds
        if isinstance(thresholds, str)
        else tuple(thresholds),
    )
    if setup.get("dataset") == "arrays":
        arguments["class_names"] = setup["class_names"]
    if "distribution" not in overrides:
        arguments["distribution"] = replayed_distribution(setup.get("distribution"))
    return compare(strategies, data, **{**arguments, **overrides})

"""Which strategies `compare` trains: the caller's choice, checked on the data."""

from keras_imbalance import strategies as recipes_registry
from keras_imbalance._validation import invalid

__all__ = ["_applicable", "_strategy_list"]


def _strategy_list(chosen):
    """`(names, recipes, automatic)`; `automatic` when the caller named none.

    With an automatic choice (`None` or `"all"`), `compare` leaves out the
    recipes that cannot train on the data; a recipe the caller named raises.
    """
    automatic = chosen is None or (isinstance(chosen, str) and chosen == "all")
    if chosen is None:
        chosen = recipes_registry.DEFAULT_COMPARE
    elif isinstance(chosen, str):
        chosen = recipes_registry.available() if chosen == "all" else [chosen]
    if isinstance(chosen, recipes_registry.Strategy):
        chosen = [chosen]
    names, recipes = [], []
    for item in chosen:
        recipe = recipes_registry.get(item)  # validates names
        name = recipe.name or type(recipe).__name__
        if name in names:
            raise ValueError(f"Strategy {name!r} is listed twice.")
        names.append(name)
        recipes.append(recipe)
    if not recipes:
        raise invalid("strategies", "at least one strategy", chosen)
    return names, recipes, automatic


def _applicable(names, recipes, automatic, input_shape):
    """The recipes that can train on samples of `input_shape`, and the others.

    Returns `(names, recipes, skipped)` where `skipped` maps each recipe
    left out to the reason; only an automatic choice leaves recipes out.
    """
    kept_names, kept, skipped = [], [], {}
    for name, recipe in zip(names, recipes):
        try:
            recipe.check_inputs(tuple(input_shape))
        except ValueError as exc:
            if not automatic:
                raise ValueError(
                    f"Strategy {name!r} cannot train on this data: {exc}"
                ) from exc
            skipped[name] = str(exc)
            continue
        kept_names.append(name)
        kept.append(recipe)
    if not kept:
        raise ValueError(
            f"No strategy can train on this data (inputs of shape "
            f"{tuple(input_shape)}): {skipped}"
        )
    return kept_names, kept, skipped

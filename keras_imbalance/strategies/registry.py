"""The strategy registry: names, lookup, and recipes to and from plain data."""

from keras_imbalance import _catalog
from keras_imbalance._validation import invalid
from keras_imbalance.strategies.base import Strategy

__all__ = ["available", "deserialize", "get", "register", "serialize", "unregister"]

_REGISTRY = {}


def register(name, strategy=None, *, overwrite=False):
    """Register a `Strategy` subclass under `name` (usable as a decorator).

    A registered recipe joins `available()`, `compare(strategies="all")` and
    `get` / `deserialize`.

    Args:
        name: The name for `get` and `keras-imbalance compare --strategies`.
        strategy: A `Strategy` subclass. Omitted: returns a decorator.
        overwrite: Whether to replace a registered name. Defaults to `False`.

    Returns:
        The class (so the decorator leaves it usable).

    Example:

    >>> from keras_imbalance import strategies
    >>> @register("plain")
    ... class Plain(strategies.Strategy):
    ...     summary = "cross-entropy, nothing else"
    >>> available()[-1], get("plain").description
    ('plain', 'cross-entropy, nothing else')
    >>> unregister("plain")
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise invalid("name", "an identifier string such as 'my_recipe'", name)

    def decorator(cls):
        if not (isinstance(cls, type) and issubclass(cls, Strategy)):
            raise TypeError(
                "register() takes a subclass of keras_imbalance.strategies.Strategy. "
                f"Received: {cls!r}"
            )
        if name in _REGISTRY and not overwrite:
            raise ValueError(
                f"A strategy named {name!r} is already registered; pass "
                "overwrite=True to replace it."
            )
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorator if strategy is None else decorator(strategy)


def unregister(name):
    """Remove a registered strategy (`KeyError` if there is none).

    >>> unregister("no_such_recipe")
    Traceback (most recent call last):
    ...
    KeyError: 'no_such_recipe'
    """
    del _REGISTRY[name]


def available():
    """Registered names: the built-ins in their order, then the user's.

    >>> available()[:4]
    ['ce', 'weighted_ce', 'focal', 'cb_focal']
    """
    builtin = [name for name in _catalog.STRATEGIES if name in _REGISTRY]
    return builtin + [name for name in _REGISTRY if name not in builtin]


def get(identifier, **params):
    """A new recipe from a name (with parameters), a `serialize` dict or an instance.

    Args:
        identifier: A registered name, a dict `{"name": ..., "config": {...}}`
            (`serialize`'s form), or a `Strategy` instance (returned as is).
        **params: Arguments of that strategy (e.g. `gamma=1.0` for
            `"focal"`, `tau=0.5` for `"tau_norm"`), validated by it.

    Example:

    >>> get("focal", gamma=1).description
    'focal loss, gamma=1 (no class weights)'
    >>> get({"name": "tau_norm", "config": {"tau": 0.5}}).tau
    0.5
    """
    if isinstance(identifier, Strategy):
        if params:
            raise ValueError(
                "Parameters apply to a strategy name, not to an instance. "
                f"Received: {sorted(params)}"
            )
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier, **params)
    if not isinstance(identifier, str) or identifier not in _REGISTRY:
        raise ValueError(
            f"Unknown strategy {identifier!r}. Available strategies: "
            f"{', '.join(available())}."
        )
    return _REGISTRY[identifier](**params)


def serialize(strategy):
    """A registered recipe as plain data: `{"name": ..., "config": {...}}`.

    >>> serialize(get("focal", gamma=1.0))
    {'name': 'focal', 'config': {'gamma': 1.0}}
    """
    if not isinstance(strategy, Strategy):
        raise invalid("strategy", "a Strategy instance", strategy)
    if strategy.name is None or _REGISTRY.get(strategy.name) is not type(strategy):
        raise ValueError(
            f"{type(strategy).__name__} is not registered under its name "
            f"({strategy.name!r}): register it to serialize it."
        )
    return {"name": strategy.name, "config": strategy.get_config()}


def deserialize(config, **params):
    """The recipe `serialize` described (`params` override its config).

    >>> deserialize({"name": "focal", "config": {"gamma": 1.0}}).gamma
    1.0
    """
    if not isinstance(config, dict) or "name" not in config:
        raise invalid("config", "a dict {'name': ..., 'config': {...}}", config)
    unknown = set(config) - {"name", "config"}
    if unknown:
        raise invalid("config", "only the keys 'name' and 'config'", sorted(unknown))
    name = config["name"]
    if not isinstance(name, str) or name not in _REGISTRY:
        return get(name)  # raises, listing the names
    return _REGISTRY[name].from_config({**config.get("config", {}), **params})

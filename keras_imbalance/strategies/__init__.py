"""Named training recipes for long-tailed data.

A *strategy* bundles one remedy from the literature (a loss, a sampler, a
callback, a change of head or a second training stage) behind one name, so
that several remedies can be trained on the same data with the same model and
budget and compared side by side (`keras-imbalance compare` does exactly
that):

>>> from keras_imbalance import strategies
>>> strategies.available()[:5]
['ce', 'weighted_ce', 'focal', 'cb_focal', 'ldam_drw']
>>> print(strategies.get("ldam_drw").description)
LDAM margin loss (max_margin=0.5, scale=30) on a cosine head, deferred
re-weighting for the last 20% of epochs

A recipe is data: a registered name and the parameters of its `__init__`
(validated there), so `serialize` / `deserialize` (and `get_config` /
`from_config`) give the same recipe back, and results files record it:

>>> strategies.serialize(strategies.get("focal", gamma=1.0))
{'name': 'focal', 'config': {'gamma': 1.0}}
>>> strategies.get("remix_drw", kappa=-1)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: Invalid value for argument `kappa`. Expected a float in [1, inf]...

Its training is declared as a list of `Stage`s (model, loss, data, callbacks,
share of the epochs, learning-rate multiplier) and a `finish` step; one
runner, `Strategy.fit(model_fn, x, y, epochs=..., batch_size=...)`, runs
every recipe and returns the trained *inference* model (logits, one input)
and its `History`. `model_fn(input_shape, num_classes)` builds a fresh model
with logits outputs and a head layer named `"classifier"`, like every
`keras_imbalance.models` builder; the factories of `model_factory` also take
`head=` (LDAM asks for a cosine head) and build the matching bilateral-branch
network for `"bbn"`.

Every strategy uses the same protocol (optimizer, schedule, batch size,
unless `optimizer=` is given) and the same number of epochs; the two-stage
recipes split the epochs between their stages, so the budget stays the same.
Register your own with `register` (see `Strategy` for a two-stage example):

>>> import keras
>>> @strategies.register("label_smoothing")
... class LabelSmoothing(strategies.Strategy):
...     summary = "cross-entropy with label smoothing {smoothing:g}"
...     def __init__(self, smoothing=0.1):
...         self.smoothing = smoothing
...     def loss(self, context):
...         return keras.losses.CategoricalCrossentropy(
...             from_logits=True, label_smoothing=self.smoothing)
...     def training_data(self, context):
...         return context.balanced_dataset("instance", one_hot=True)
>>> strategies.get("label_smoothing", smoothing=0.2).description
'cross-entropy with label smoothing 0.2'
>>> strategies.unregister("label_smoothing")
"""

from keras_imbalance import _catalog
from keras_imbalance.models.zoo import MODELS, ModelFactory, model_factory
from keras_imbalance.strategies import decoupled, recipes
from keras_imbalance.strategies.base import Strategy
from keras_imbalance.strategies.context import FitContext
from keras_imbalance.strategies.decoupled import TAU_GRID
from keras_imbalance.strategies.registry import (
    available,
    deserialize,
    get,
    register,
    serialize,
    unregister,
)
from keras_imbalance.strategies.stages import Stage

__all__ = [
    "DEFAULT_COMPARE",
    "MODELS",
    "TAU_GRID",
    "FitContext",
    "ModelFactory",
    "Stage",
    "Strategy",
    "available",
    "decoupled",
    "deserialize",
    "get",
    "model_factory",
    "recipes",
    "register",
    "serialize",
    "unregister",
]

DEFAULT_COMPARE = list(_catalog.STRATEGIES)
"""The strategies `keras-imbalance compare` runs by default: all fifteen built-ins."""

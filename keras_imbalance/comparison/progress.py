"""`Progress`: the hooks `compare` calls as it trains and evaluates."""

__all__ = ["Progress"]


class Progress:
    """Hooks `compare` calls as it goes; subclass and override what you need.

    The `keras-imbalance` command draws its progress bar with one.

    Example:

    >>> from keras_imbalance.comparison import compare, model_factory
    >>> class Events(Progress):
    ...     def __init__(self):
    ...         self.seen = []
    ...     def run_started(self, index, strategy, seed):
    ...         self.seen.append(f"run {index}: {strategy}, seed {seed}")
    ...     def epoch_ended(self):
    ...         self.seen.append("epoch")
    ...     def run_ended(self, run):
    ...         self.seen.append(f"done: {run.strategy}")
    >>> events = Events()
    >>> _ = compare("ce", "digits-lt", epochs=1, progress=events,
    ...             model=model_factory("small_cnn", width=4, depth=1))
    >>> events.seen
    ['run 0: ce, seed 0', 'epoch', 'done: ce']
    """

    def started(self, runs, epochs, setup):
        """Before the first run: the number of runs, epochs per run and the
        `Comparison.setup` dict (data, splits, protocol ...)."""

    def run_started(self, index, strategy, seed):
        """Before run `index` (0-based) of `strategy` with `seed`."""

    def epoch_ended(self):
        """After every training epoch (two-stage recipes count each stage's)."""

    def run_ended(self, run):
        """After a run is trained and evaluated (a `Run`)."""


def epoch_callback(progress):
    """A Keras callback calling `progress.epoch_ended()` after every epoch."""
    import keras

    class _EpochProgress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            progress.epoch_ended()

    return _EpochProgress()

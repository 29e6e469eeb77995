"""TensorFlow's Python log notices that say nothing to a user of the library.

- `tensorflow_log_level(level)`: the `tensorflow` logger at `level` or above
  for a block (the SavedModel writer's "Assets written to: ..." notices).
- `without_retracing_notices()`: drops TensorFlow's "triggered tf.function
  retracing" warnings for a block in which every run builds a new model
  (`compare`), where the retracing is expected.

Both put the logger back as it was. Nothing here imports TensorFlow.
"""

import contextlib
import logging

__all__ = ["tensorflow_log_level", "without_retracing_notices"]

_LOGGER = "tensorflow"


@contextlib.contextmanager
def tensorflow_log_level(level):
    """The `tensorflow` logger at `level` or above for a block.

    >>> with tensorflow_log_level(logging.WARNING):
    ...     logging.getLogger("tensorflow").info("not shown")
    """
    logger = logging.getLogger(_LOGGER)
    previous = logger.level
    logger.setLevel(max(level, logger.getEffectiveLevel()))
    try:
        yield
    finally:
        logger.setLevel(previous)


class _DropRetracing(logging.Filter):
    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def without_retracing_notices():
    """No "triggered tf.function retracing" warnings for a block.

    >>> with without_retracing_notices():
    ...     logging.getLogger("tensorflow").warning(
    ...         "5 out of the last 5 calls to f triggered tf.function retracing.")
    """
    logger, dropped = logging.getLogger(_LOGGER), _DropRetracing()
    logger.addFilter(dropped)
    try:
        yield
    finally:
        logger.removeFilter(dropped)

"""The files `keras-imbalance compare` writes into `--output`, replaced as a set.

A run writes all its files (and, with `--export-best`, the model) into a
fresh folder inside the output folder, `.tmp-keras-imbalance-*`. Only when
every one is complete is the previous run's set swapped out, by renames
within one file system:

1. the previous run's files (the names in `compare_files()`, nothing else)
   are moved into the temporary folder, `results.json` first;
2. the new files are moved in, `results.json` last;
3. the temporary folder (now holding the previous files) is deleted.

So a `results.json` in the output folder always sits beside the files of
its own run, never beside an older model or plots. A run killed before
step 1 leaves the previous files as they were (and a temporary folder); one
killed during the swap leaves no `results.json` (and the temporary folder).
`clean_stale` at the start of the next run removes those temporary folders
and the `.<name>.tmp-*` siblings of interrupted atomic writes. A full disk
or another write error while the new files are written leaves the previous
set untouched and is reported by `WriteError`.
"""

import contextlib
import os
import re
import shutil
import tempfile

from keras_imbalance import _catalog
from keras_imbalance._files import describe_os_error, fsync_dir, stale_temporaries

# The command's implementation: no public API here (the entry point is
# `keras_imbalance.cli.main`); the names are imported by the other cli modules.
__all__ = []

RESULTS = "results.json"
MODEL = "best_model"
TEMPORARY_PREFIX = ".tmp-keras-imbalance-"


class WriteError(Exception):
    """A file of the output could not be written (the message says which)."""


def safe_filename(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def compare_files():
    """Every name `compare` writes into `--output`, and so may replace."""
    names = [RESULTS, "results.csv", "report.md", "per_class_recall.png"]
    names += [f"confusion_matrix_{safe_filename(s)}.png" for s in _catalog.STRATEGIES]
    return [*names, MODEL]


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.remove(path)


def clean_stale(output, names):
    """Remove what killed runs left in `output`: temporary folders of this
    command and temporary siblings of the files in `names`. Returns them."""
    try:
        entries = os.listdir(output)
    except OSError:
        return []
    stale = sorted(
        os.path.join(output, e) for e in entries if e.startswith(TEMPORARY_PREFIX)
    )
    stale += stale_temporaries(output, names)
    stale += [  # the aside copy of a killed export_saved_model overwrite
        os.path.join(output, e) for e in entries if e.startswith(f".{MODEL}.old-")
    ]
    for path in stale:
        _remove(path)
    return stale


def _write_error(name, output, error, *, unchanged):
    if unchanged:
        state = f"nothing in {output!r} was changed"
    else:
        state = (
            f"the files in {output!r} are incomplete (no results.json); run the "
            "command again"
        )
    return WriteError(
        f"Cannot write {name} into {output!r}: {describe_os_error(error)}; "
        f"{state}. The results above were not saved."
    )


class Staging:
    """A temporary folder inside `output` for a run's new files, then the swap.

    Use as a context manager: write each file with `write(name, fn)` (`fn`
    gets the path to write), then `commit()`. The temporary folder is
    removed on leaving the block, whatever happened.
    """

    def __init__(self, output):
        self.output = os.path.abspath(output)
        self.path = None
        self.names = []

    def __enter__(self):
        try:
            self.path = tempfile.mkdtemp(prefix=TEMPORARY_PREFIX, dir=self.output)
        except OSError as error:
            raise _write_error(
                "a temporary folder", self.output, error, unchanged=True
            ) from None
        return self

    def __exit__(self, *exc):
        if self.path is not None:
            _remove(self.path)
        return False

    def write(self, name, fn):
        """Run `fn(path)` to write the file `name`; `WriteError` on `OSError`."""
        try:
            fn(os.path.join(self.path, name))
        except OSError as error:
            raise _write_error(name, self.output, error, unchanged=True) from None
        self.names.append(name)
        return os.path.join(self.output, name)

    def commit(self):
        """Swap the previous run's files for the new ones (module docstring)."""
        previous = os.path.join(self.path, ".previous")
        step, moved = "the previous files", False
        try:
            os.mkdir(previous)
            old = [n for n in compare_files() if os.path.lexists(self._out(n))]
            old.sort(key=lambda n: n != RESULTS)  # results.json first
            for name in old:
                os.replace(self._out(name), os.path.join(previous, name))
                moved = True
            for name in sorted(self.names, key=lambda n: n == RESULTS):
                step = name  # results.json last
                os.replace(os.path.join(self.path, name), self._out(name))
                moved = True
        except OSError as error:
            raise _write_error(step, self.output, error, unchanged=not moved) from None
        fsync_dir(self.output)

    def _out(self, name):
        return os.path.join(self.output, name)

"""Writing files so that a crash or a full disk leaves the old file or the new one.

A file is written to a temporary sibling (`.<name>.tmp-*`, in the same
folder, so the final rename stays on one file system), flushed and synced to
disk, then renamed over the target with `os.replace`, which is atomic. On any
failure (a full disk: `OSError` with `errno.ENOSPC`) the temporary file is
removed and the target is left as it was: never a zero-byte or half-written
file. A process killed mid-write can leave a `.<name>.tmp-*` sibling behind;
`stale_temporaries` finds them. Folders (a SavedModel) are replaced the same
way with `replace_directory`, and `recover_directory` undoes a killed swap.
"""

import contextlib
import errno
import os
import shutil
import tempfile

__all__ = [
    "atomic_path",
    "describe_os_error",
    "fsync_dir",
    "recover_directory",
    "replace_directory",
    "stale_temporaries",
    "temporary_prefix",
    "write_text_atomic",
]

_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def temporary_prefix(name):
    """The prefix of the temporary siblings of a file or folder called `name`."""
    return f".{name}.tmp-"


def _ordinary_permissions(path):
    # mkstemp and mkdtemp make private (0o600 / 0o700) entries: give the result
    # the permissions of an ordinary new file or folder instead.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if os.path.isdir(path) else 0o666) & ~umask)


def _fsync_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path):
    """Make renames in folder `path` durable (best effort; not on Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path):
    """A temporary path to write; renamed to `path` once the block succeeds.

    The caller writes the complete file at the yielded path (e.g.
    `figure.savefig(tmp, format="png")`); it is then synced and renamed over
    `path`. If the block or the sync raises, the temporary file is removed
    and `path` is untouched.
    """
    path = os.path.abspath(os.fspath(path))
    parent, name = os.path.split(path)
    fd, temporary = tempfile.mkstemp(prefix=temporary_prefix(name), dir=parent)
    os.close(fd)
    try:
        yield temporary
        _ordinary_permissions(temporary)
        _fsync_file(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
    fsync_dir(parent)


def write_text_atomic(path, text):
    """Write `text` (UTF-8) to `path` atomically; see the module docstring."""
    data = text.encode("utf-8")
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as f:
            f.write(data)


def stale_temporaries(folder, names):
    """Temporary siblings (`.<name>.tmp-*`) left in `folder` by killed writes."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    prefixes = tuple(temporary_prefix(name) for name in names)
    return sorted(os.path.join(folder, e) for e in entries if e.startswith(prefixes))


def describe_os_error(error):
    """Plain words for an `OSError` met while writing (a full disk said so)."""
    if getattr(error, "errno", None) in _FULL:
        return "the disk is full (no space left on device)"
    reason = error.strerror or str(error)
    if error.filename:
        reason += f": {error.filename!r}"
    return reason


def replace_directory(tmp, path, *, overwrite):
    """Rename the complete folder `tmp` to `path`, replacing it if allowed.

    An existing `path` is first renamed aside (`.<name>.old-*/<name>`), so a
    kill between the two renames leaves a copy that `recover_directory`
    puts back.
    """
    if not os.path.lexists(path):
        os.rename(tmp, path)
        return
    if not overwrite:  # Appeared while exporting.
        raise FileExistsError(f"`{path}` already exists.")
    parent, name = os.path.split(path)
    old = tempfile.mkdtemp(prefix=f".{name}.old-", dir=parent)
    aside = os.path.join(old, name)
    os.rename(path, aside)  # 1. the old model aside
    try:
        os.rename(tmp, path)  # 2. the new one in
    except BaseException:
        os.rename(aside, path)  # (if this fails too, recover_directory puts it back)
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)  # 3. the old one gone


def recover_directory(path, *, clean=True):
    """Undo what a killed `replace_directory(..., path)` or export left behind.

    A missing `path` with an aside copy (`.<name>.old-*/<name>`, a kill
    between the two renames of an overwrite) gets the copy back. With
    `clean`, other `.<name>.old-*` folders (a kill before the delete) and
    `.<name>.tmp-*` folders (an export that never completed) are removed.
    """
    parent, name = os.path.split(path)
    try:
        entries = sorted(os.listdir(parent))
    except OSError:
        return
    for entry in entries:
        full = os.path.join(parent, entry)
        if entry.startswith(f".{name}.old-") and os.path.isdir(full):
            aside = os.path.join(full, name)
            if not os.path.lexists(path) and os.path.lexists(aside):
                os.rename(aside, path)
                with contextlib.suppress(OSError):
                    os.rmdir(full)  # now empty
            if clean:
                shutil.rmtree(full, ignore_errors=True)
    for entry in entries if clean else ():
        if entry.startswith(f".{name}.tmp-"):
            full = os.path.join(parent, entry)
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.remove(full)

"""Interrupted or failing `compare` runs into a used `--output` lose nothing.

A real `compare` (one strategy, one epoch, exported) makes the previous run.
The new runs are the real command with the training replaced by a finished
`Comparison` (of another strategy), so that each test can break one step of
the writing: a kill during the export or at any point of the swap (a kill
runs no cleanup, so the staging folder's removal is switched off too), a
full disk, a refused export.
"""

import dataclasses
import errno
import os
import shutil

import keras
import numpy as np
import pytest

import keras_imbalance.comparison
import keras_imbalance.export
from keras_imbalance.cli import outputs
from keras_imbalance.comparison import Comparison
from tests.test_cli import assert_one_line_error, run_main

PREVIOUS_FILES = {
    "results.json",
    "results.csv",
    "report.md",
    "per_class_recall.png",
    "confusion_matrix_ce.png",
    "best_model",
}
NEW_FILES = PREVIOUS_FILES - {"confusion_matrix_ce.png"} | {
    "confusion_matrix_focal.png"
}
USER_FILES = {"notes.txt", "confusion_matrix_mine.png", ".tmp-mine"}


class Killed(BaseException):
    """What the process would die of (nothing catches it)."""


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("previous")
    argv = ["compare", "--strategies", "ce", "--epochs", "1", "--quiet"]
    code, _, err = run_main(
        [*argv, "--export-best", "--force-export", "--output", str(output)]
    )
    assert code == 0, err
    assert set(os.listdir(output)) == PREVIOUS_FILES
    return output


@pytest.fixture
def output(previous_run, tmp_path):
    """A copy of the previous run's folder, with files of the user's own."""
    folder = tmp_path / "out"
    shutil.copytree(previous_run, folder)
    (folder / "notes.txt").write_text("mine")
    (folder / "confusion_matrix_mine.png").write_bytes(b"mine")
    (folder / ".tmp-mine").mkdir()
    (folder / ".tmp-mine" / "keep.txt").write_text("mine")
    return folder


def snapshot(folder):
    """`{relative path: bytes}` of every file, without staging folders."""
    files = {}
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(outputs.TEMPORARY_PREFIX)]
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, folder)] = f.read()
    return files


def staging_folders(folder):
    return [e for e in os.listdir(folder) if e.startswith(outputs.TEMPORARY_PREFIX)]


def tiny_model():
    return keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )


def new_result(previous_run, *, model=None, warnings=()):
    """A finished comparison of another strategy, `focal`."""
    old = Comparison.from_json(str(previous_run / "results.json"))
    runs = [
        dataclasses.replace(run, strategy="focal", warnings=list(warnings))
        for run in old.runs
    ]
    setup = dict(old.setup, descriptions={"focal": "focal loss"})
    return Comparison(runs, setup, models={"focal": model} if model else {})


def fake_export(model, path, **kwargs):
    os.makedirs(os.path.join(path, "variables"))
    with open(os.path.join(path, "saved_model.pb"), "wb") as f:
        f.write(b"new model")


def run_new(monkeypatch, output, result, *, export=True):
    monkeypatch.setattr(keras_imbalance.comparison, "compare", lambda *a, **k: result)
    argv = ["compare", "--strategies", "focal", "--epochs", "1", "--quiet"]
    argv += ["--export-best"] if export else []
    return run_main([*argv, "--output", str(output)])


def assert_complete_new_run(output, before):
    after = snapshot(output)
    assert set(os.listdir(output)) == NEW_FILES | USER_FILES
    assert Comparison.from_json(str(output / "results.json")).best == "focal"
    for name in ("notes.txt", "confusion_matrix_mine.png", ".tmp-mine/keep.txt"):
        assert after[name] == before[name]
    assert all(after.values()), "an empty file"
    assert staging_folders(output) == []


@pytest.mark.slow
def test_killed_export_leaves_the_previous_run_whole(previous_run, output, monkeypatch):
    before = snapshot(output)

    def killed_export(model, path, **kwargs):
        os.makedirs(path)
        with open(os.path.join(path, "saved_model.pb"), "wb") as f:
            f.write(b"half")
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(keras_imbalance.export, "export_saved_model", killed_export)
        m.setattr(outputs.Staging, "__exit__", lambda self, *exc: False)
        with pytest.raises(Killed):
            run_new(m, output, new_result(previous_run, model=tiny_model()))
    assert snapshot(output) == before  # old results beside the old model
    assert len(staging_folders(output)) == 1  # what the kill left

    model = tiny_model()
    code, _, err = run_new(monkeypatch, output, new_result(previous_run, model=model))
    assert code == 0, err
    assert_complete_new_run(output, before)  # and the staging folder removed
    x = np.random.default_rng(0).random((3, 8, 8, 1)).astype("float32")
    predict = keras_imbalance.export.load_exported(output / "best_model")
    expected = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(predict(x)["logits"], expected, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [0, 1, 5, 6, 7, 11])
def test_killed_swap_never_pairs_results_with_other_files(
    previous_run, output, monkeypatch, kill_after
):
    """6 previous files out (results.json first), 6 new in (results.json last)."""
    before = snapshot(output)
    real_replace, moves = os.replace, []

    def replace(src, dst):
        top = {os.path.dirname(os.fspath(p)) for p in (src, dst)}
        if str(output) in top:  # a move of the swap, not a write in the staging
            if len(moves) == kill_after:
                raise Killed
            moves.append(os.path.basename(os.fspath(src)))
        return real_replace(src, dst)

    result = new_result(previous_run, model=tiny_model())
    with monkeypatch.context() as m:
        m.setattr(keras_imbalance.export, "export_saved_model", fake_export)
        m.setattr(outputs.Staging, "__exit__", lambda self, *exc: False)
        m.setattr(os, "replace", replace)
        with pytest.raises(Killed):
            run_new(m, output, result)
    assert moves[:1] in ([], ["results.json"])
    now = snapshot(output)
    if kill_after == 0:
        assert now == before
    else:  # incomplete, and says so: no results.json
        assert not (output / "results.json").exists()
        assert len(staging_folders(output)) == 1

    monkeypatch.setattr(keras_imbalance.export, "export_saved_model", fake_export)
    code, _, err = run_new(monkeypatch, output, result)
    assert code == 0, err
    assert_complete_new_run(output, before)
    assert (output / "best_model" / "saved_model.pb").read_bytes() == b"new model"


@pytest.mark.parametrize(
    "failing", ["results.json", "per_class_recall.png", "best_model"]
)
def test_full_disk_keeps_the_previous_run(previous_run, output, monkeypatch, failing):
    before = snapshot(output)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if failing == "results.json":
        monkeypatch.setattr(os, "fsync", full)  # the first file written
    elif failing == "per_class_recall.png":
        from matplotlib.figure import Figure

        monkeypatch.setattr(Figure, "savefig", full)
    else:
        monkeypatch.setattr(keras_imbalance.export, "export_saved_model", full)
    result = new_result(previous_run, model=tiny_model())
    code, _, err = run_new(monkeypatch, output, result)
    assert code == 2
    lines = err.strip().splitlines()
    assert lines == [
        f"keras-imbalance: error: Cannot write {failing} into {str(output)!r}: "
        f"the disk is full (no space left on device); nothing in {str(output)!r} "
        "was changed. The results above were not saved."
    ]
    assert snapshot(output) == before
    assert staging_folders(output) == []


def test_full_disk_in_a_new_folder_leaves_no_empty_file(
    previous_run, tmp_path, monkeypatch, capsys
):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    output = tmp_path / "new"
    code, _, err = run_new(monkeypatch, output, new_result(previous_run), export=False)
    assert code == 2 and "the disk is full" in err
    assert os.listdir(output) == []


def test_killed_training_changes_nothing(previous_run, output, monkeypatch):
    before = snapshot(output)

    def killed(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(keras_imbalance.comparison, "compare", killed)
    with pytest.raises(Killed):
        run_main(["compare", "--strategies", "ce", "--output", str(output)])
    assert snapshot(output) == before
    assert staging_folders(output) == []


def test_stale_files_of_earlier_runs_are_removed(previous_run, output, monkeypatch):
    before = snapshot(output)
    stale = output / f"{outputs.TEMPORARY_PREFIX}killed"
    (stale / "best_model").mkdir(parents=True)
    (output / ".results.json.tmp-killed").write_text('{"half')
    (output / ".best_model.old-killed" / "best_model").mkdir(parents=True)
    code, _, err = run_new(monkeypatch, output, new_result(previous_run), export=False)
    assert code == 0, err
    # The previous model is stale beside the new results: gone too.
    assert set(os.listdir(output)) == NEW_FILES - {"best_model"} | USER_FILES
    after = snapshot(output)
    for name in ("notes.txt", "confusion_matrix_mine.png", ".tmp-mine/keep.txt"):
        assert after[name] == before[name]


def test_refused_export_removes_the_previous_model(previous_run, output, monkeypatch):
    result = new_result(previous_run, model=tiny_model(), warnings=["at chance"])
    code, out, err = run_new(monkeypatch, output, result)
    assert code == 1, err
    assert "not exported" in out
    assert set(os.listdir(output)) == NEW_FILES - {"best_model"} | USER_FILES
    assert Comparison.from_json(str(output / "results.json")).best == "focal"


def test_inspect_full_disk_keeps_the_previous_plot(tmp_path, monkeypatch, capsys):
    from matplotlib.figure import Figure

    (tmp_path / "class_counts.png").write_bytes(b"previous plot")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full)
    from keras_imbalance.cli import main

    line = assert_one_line_error(capsys, main(["inspect", "--output", str(tmp_path)]))
    assert line == (
        f"keras-imbalance: error: Cannot write class_counts.png into "
        f"{str(tmp_path)!r}: the disk is full (no space left on device); nothing "
        f"in {str(tmp_path)!r} was changed."
    )
    assert os.listdir(tmp_path) == ["class_counts.png"]
    assert (tmp_path / "class_counts.png").read_bytes() == b"previous plot"

"""The progress of `keras-imbalance compare`: ETA and the quiet display."""

from io import StringIO

import pytest

from keras_imbalance import comparison
from keras_imbalance.cli.display import Display, ProgressTracker


def test_progress_eta():
    now = [0.0]
    tracker = ProgressTracker(2, 4, clock=lambda: now[0])
    assert tracker.eta_seconds() is None
    tracker.start_run(0, "ce (seed 0)")
    for _ in range(2):
        now[0] += 10.0
        tracker.epoch_end()
    # 2 epochs in 20 s; 2 left in this run and 4 in the next: 60 s.
    assert tracker.eta_seconds() == pytest.approx(60.0)
    assert tracker.line() == "run 1/2 ce (seed 0): epoch 2/4, ETA 01:00"
    now[0] += 20.0
    tracker.epoch_end()
    tracker.epoch_end()
    tracker.end_run()
    tracker.start_run(1, "ce (seed 1)")
    assert tracker.remaining_epochs == 4
    assert tracker.eta_seconds() == pytest.approx(40.0)


def test_display_quiet_prints_one_line_per_run():
    from rich.console import Console

    out = StringIO()
    display = Display(Console(file=out, width=200), quiet=True)
    result = _tiny_comparison()
    display.started(1, 3, result.setup)
    display.run_started(0, "ce", 0)
    for _ in range(3):
        display.epoch_ended()
    display.run_ended(result.runs[0])
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("run 1/1 ce (seed 0): done in")


def _tiny_comparison():
    from keras_imbalance.evaluation import evaluate_imbalanced

    report = evaluate_imbalanced([0, 1, 1, 0], y=[0, 1, 1, 1], class_counts=[9, 3])
    run = comparison.Run("ce", 0, {}, {}, report, report, 1.5, [])
    return comparison.Comparison(
        [run], {"class_counts": [9, 3], "class_names": ["a", "b"]}
    )

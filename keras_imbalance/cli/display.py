"""Terminal output of `keras-imbalance`: progress with ETA, tables."""

import math
import time

from keras_imbalance._names import SHOT_GROUPS, shot_accuracy_name

# The command's implementation: no public API here (the entry point is
# `keras_imbalance.cli.main`); the names are imported by the other cli modules.
__all__ = []


def fmt(value, digits=4):
    if value is None or not math.isfinite(float(value)):
        return "-"
    return f"{float(value):.{digits}f}"


def fmt_seconds(seconds):
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


def console():
    from rich.console import Console

    out = Console(highlight=False)
    if not out.is_terminal:
        # Piped output (logs, CI, tests): wide enough for the results table.
        out = Console(highlight=False, width=max(out.width, 140))
    return out


class ProgressTracker:
    """Counts epochs over the runs (strategy x seed) and estimates the time left.

    ETA = mean seconds per completed epoch so far * epochs left, the epochs
    left being those of the current run (at least 0: a two-stage recipe may
    run more than `epochs`) plus `epochs` for each run still to come.
    """

    def __init__(self, runs, epochs, *, clock=time.perf_counter):
        self.runs = int(runs)
        self.epochs = int(epochs)
        self.clock = clock
        self.index = -1
        self.name = ""
        self.epoch = 0
        self.epochs_done = 0
        self._spent = 0.0
        self._start = None

    def start_run(self, index, name):
        self.index, self.name, self.epoch = index, name, 0
        self._start = self.clock()

    def end_run(self):
        if self._start is not None:
            self._spent += self.clock() - self._start
            self._start = None

    def epoch_end(self):
        self.epoch += 1
        self.epochs_done += 1

    @property
    def elapsed(self):
        running = 0.0 if self._start is None else self.clock() - self._start
        return self._spent + running

    @property
    def remaining_epochs(self):
        later = self.runs - self.index - 1
        return later * self.epochs + max(self.epochs - self.epoch, 0)

    def eta_seconds(self):
        """Estimated seconds left, `None` before the first epoch ends."""
        if self.epochs_done == 0:
            return None
        return self.elapsed / self.epochs_done * self.remaining_epochs

    def label(self):
        return f"run {self.index + 1}/{self.runs} {self.name}"

    def epoch_text(self):
        return f"epoch {self.epoch}/{max(self.epochs, self.epoch)}"

    def line(self):
        return (
            f"{self.label()}: {self.epoch_text()}, "
            f"ETA {fmt_seconds(self.eta_seconds())}"
        )


class Display:
    """The `compare` progress hooks: a rich bar on a terminal, else plain lines."""

    def __init__(self, out, *, quiet, header=None, clock=time.perf_counter):
        self.console = out
        self.header = header
        self.quiet = quiet
        self.clock = clock
        self.live = out.is_terminal and not quiet
        self.tracker = None
        self._progress = None
        self._task = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.__exit__(*exc)
            self._progress = None
        return False

    def print(self, text):
        from rich.markup import escape

        target = self._progress.console if self._progress else self.console
        target.print(escape(text), highlight=False)

    def _refresh(self):
        if self._progress is None:
            return
        t = self.tracker
        self._progress.update(
            self._task,
            description=t.label(),
            completed=t.epochs_done,
            total=max(t.runs * t.epochs, t.epochs_done + t.remaining_epochs),
            epoch=t.epoch_text(),
            eta=fmt_seconds(t.eta_seconds()),
        )

    # --- keras_imbalance.comparison.Progress hooks ---------------------------

    def started(self, runs, epochs, setup):
        if self.header is not None:
            self.header(setup)
        self.tracker = ProgressTracker(runs, epochs, clock=self.clock)
        if self.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[epoch]}"),
                TimeElapsedColumn(),
                TextColumn("ETA {task.fields[eta]}"),
                console=self.console,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task(
                "starting", total=runs * epochs, epoch="", eta="--:--"
            )

    def run_started(self, index, strategy, seed):
        self.tracker.start_run(index, f"{strategy} (seed {seed})")
        if self.live:
            self._refresh()
        elif not self.quiet:
            self.print(f"{self.tracker.label()}: training")

    def epoch_ended(self):
        self.tracker.epoch_end()
        if self.live:
            self._refresh()
        elif not self.quiet:
            self.print(self.tracker.line())

    def run_ended(self, run):
        self.tracker.end_run()
        warn = f" [{'; '.join(run.warnings)}]" if run.warnings else ""
        binary = ""
        if "threshold" in run.tuned_params:
            binary = (
                f", threshold {fmt(run.tuned_params['threshold'])}, PR-AUC "
                f"{fmt(run.test.pr_auc)} (test)"
            )
        self.print(
            f"{self.tracker.label()}: done in {run.train_seconds:.1f} s, balanced "
            f"accuracy {fmt(run.validation.balanced_accuracy)} (validation), "
            f"{fmt(run.test.balanced_accuracy)} (test){binary}{warn}"
        )
        self._refresh()


def results_table(comparison, split="test"):
    """A rich table of `Comparison.table(split)`: mean ± std in %."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from keras_imbalance.comparison.report import format_mean_std, table_columns

    seeds = len(comparison.seeds)
    table = Table(
        title=f"strategies compared ({split} split, "
        + (f"mean ± std over {seeds} seeds" if seeds > 1 else "one seed")
        + ", %)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        caption=(
            "* best mean balanced accuracy on the validation split; ≈ within one "
            "std of it; ! at chance level or one class for every input"
        ),
        caption_justify="left",
        collapse_padding=True,
    )
    table.add_column("strategy", overflow="fold", min_width=12)
    rows = comparison.table(split)
    columns = (
        ("validation_balanced_accuracy", "val.\nbal. acc."),
        ("balanced_accuracy", "bal.\nacc."),
        ("macro_f1", "macro\nF1"),
        ("g_mean", "G-mean"),
        *((shot_accuracy_name(group), f"{group}\nshot") for group in SHOT_GROUPS),
    )
    columns = tuple(
        (key, header.replace(" (", "\n("))
        for key, header in table_columns(rows, columns)
    )
    for _, header in columns:
        table.add_column(header, justify="right", no_wrap=True, min_width=6)
    table.add_column("train\n(s)", justify="right", no_wrap=True)
    for row in rows:
        mark = " *" if row["best"] else (" ≈" if row["close_to_best"] else "")
        if row["warnings"]:
            mark += " !"
        cells = [escape(row["strategy"]) + mark]
        cells += [
            format_mean_std(row[key], row[f"{key}_std"], seeds=row["seeds"])
            for key, _ in columns
        ]
        cells.append(f"{row['train_seconds']:.1f}")
        style = "bold green" if row["best"] else ("red" if row["warnings"] else None)
        table.add_row(*cells, style=style)
    return table

"""Markdown renderings of a `Comparison`: the table and `report.md`."""

import math

from keras_imbalance._names import SHOT_GROUPS, shot_accuracy_name

# Helpers of `Comparison` (no public API of their own).
__all__ = []

# `(summary metric, column header)` of the table.
_COLUMNS = (
    ("balanced_accuracy", "bal. acc."),
    ("macro_f1", "macro F1"),
    ("g_mean", "G-mean"),
    *((shot_accuracy_name(group), group) for group in SHOT_GROUPS),
)

# The columns two-class comparisons add: the scores of class 1.
BINARY_COLUMNS = (("pr_auc", "PR-AUC"), ("positive_f1", "F1 (class 1)"))


def table_columns(rows, columns):
    """`columns`, then `BINARY_COLUMNS` when the rows have binary scores."""
    binary = bool(rows) and "pr_auc" in rows[0]
    return (*columns, *BINARY_COLUMNS) if binary else tuple(columns)


def format_mean_std(mean, std, *, seeds):
    """`"85.2 ± 0.4"` (in %), `"85.2"` for one seed, `"-"` when undefined."""
    if mean is None or math.isnan(mean):
        return "-"
    if seeds < 2:
        return f"{100 * mean:.1f}"
    return f"{100 * mean:.1f} ± {100 * std:.1f}"


def _tuned_text(tuned):
    return ", ".join(
        f"{key}={'/'.join(f'{v:g}' for v in values)}" for key, values in tuned.items()
    )


def markdown_table(comparison, split="test"):
    """The summary table: one row per strategy, mean ± std over seeds, in %."""
    rows = comparison.table(split)
    columns = table_columns(rows, _COLUMNS)
    header = ["strategy", "val. bal. acc.", *(label for _, label in columns)]
    header += ["tuned on val.", "notes"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        name = f"`{row['strategy']}`"
        if row["best"]:
            name = f"**{name}** (best)"
        elif row["close_to_best"]:
            name += " ≈"
        cells = [
            name,
            format_mean_std(
                row["validation_balanced_accuracy"],
                row["validation_balanced_accuracy_std"],
                seeds=row["seeds"],
            ),
        ]
        cells += [
            format_mean_std(row[key], row[f"{key}_std"], seeds=row["seeds"])
            for key, _ in columns
        ]
        cells.append(_tuned_text(row["tuned"]) or "")
        cells.append("⚠ " + "; ".join(row["warnings"]) if row["warnings"] else "")
        lines.append("| " + " | ".join(cells) + " |")
    seeds = len(comparison.seeds)
    lines.append("")
    lines.append(
        f"{split.capitalize()} split, in %"
        + (f", mean ± std over {seeds} seeds" if seeds > 1 else ", one seed")
        + ". **best**: highest mean balanced accuracy on the validation split; "
        "≈: validation mean within one std of the best's (not told apart); "
        "⚠: a model at chance level or predicting one class."
    )
    return "\n".join(lines)


def markdown_report(comparison, *, command=None, figures=()):
    """The text of `report.md`: setup, tables, figures and the command."""
    setup = comparison.setup
    protocol = setup.get("protocol") or {}
    lines = [f"# keras-imbalance comparison: {setup.get('dataset', '')}", ""]
    if command:
        lines += ["Command:", "", "```bash", command, "```", ""]
    facts = [
        ("classes", setup.get("num_classes")),
        ("training counts", setup.get("class_counts")),
        ("validation counts", setup.get("validation_counts")),
        ("test counts", setup.get("test_counts")),
        ("imbalance ratio", setup.get("imbalance_ratio")),
        ("model", setup.get("model")),
        ("head", setup.get("head") or "each strategy's own"),
        ("epochs / batch size", f"{setup.get('epochs')} / {setup.get('batch_size')}"),
        ("protocol", _protocol_text(protocol)),
        ("seeds", setup.get("seeds")),
        ("shot thresholds", setup.get("shot_thresholds")),
        ("machine", _machine_text(setup.get("machine") or {})),
    ]
    if comparison.runs[0].test.is_binary:
        objective = setup.get("threshold_objective")
        facts.append(("decision threshold", _objective_text(objective)))
    lines += [f"- {key}: {value}" for key, value in facts]
    lines += ["", "## Test split", "", markdown_table(comparison, "test"), ""]
    lines += ["## Validation split", "", markdown_table(comparison, "validation"), ""]
    lines += [
        "The best strategy and every tuned parameter were chosen on the "
        "validation split (a stratified part of the training data); the test "
        "split was only evaluated.",
        "",
    ]
    for title, path in figures:
        lines += [f"![{title}]({path})", ""]
    return "\n".join(lines)


def _objective_text(objective):
    if objective is None:
        return "argmax"
    goal = "max F1" if objective == "f1" else f"recall >= {objective['recall']:g}"
    return f"on p(class 1), tuned per run on validation for {goal}"


def _protocol_text(protocol):
    if not protocol:
        return "-"
    text = (
        f"{protocol.get('name')}: {protocol.get('optimizer')} lr "
        f"{protocol.get('learning_rate'):g}, {protocol.get('schedule')} schedule"
    )
    if protocol.get("warmup_epochs"):
        text += f", {protocol['warmup_epochs']} warm-up epochs"
    if protocol.get("weight_decay"):
        text += f", weight decay {protocol['weight_decay']:g}"
    if protocol.get("precise_bn"):
        text += ", BatchNorm statistics re-estimated after training"
    return text


def _machine_text(machine):
    keys = ("platform", "python", "keras", "backend", "tensorflow", "cpu_count")
    return ", ".join(f"{k} {machine[k]}" for k in keys if machine.get(k) is not None)

"""The committed notebooks: outputs of a full run, no error, no TensorFlow noise.

`python notebooks/execute.py` writes them; the test suite also runs every
notebook in its quick setting (`--nbmake`), which does not touch the files.
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
NOISE = ("WARNING:tensorflow", "INFO:tensorflow", "absl::InitializeLog")


def code_cells(path):
    return [
        c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"
    ]


def text_of(output):
    if output["output_type"] == "stream":
        return "".join(output["text"])
    return "".join(
        "".join(v)
        for v in output.get("data", {}).values()
        if isinstance(v, (str, list))
    )


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_cell_ran_in_order_without_error(path):
    cells = code_cells(path)
    counts = [c["execution_count"] for c in cells]
    assert None not in counts, "a code cell was not executed: run notebooks/execute.py"
    assert counts == sorted(counts), "cells were run out of order"
    outputs = [o for c in cells for o in c["outputs"]]
    assert outputs, "no outputs: run notebooks/execute.py"
    assert not [o for o in outputs if o["output_type"] == "error"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_outputs_hold_no_tensorflow_log_noise(path):
    noisy = [
        text_of(o)[:120]
        for c in code_cells(path)
        for o in c["outputs"]
        if any(n in text_of(o) for n in NOISE)
    ]
    assert not noisy


def source_of(cell):
    return "".join(cell["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_outputs_come_from_the_full_setting(path):
    """The first code cell reads the smoke switch and prints which setting ran:
    the committed outputs must say "full setting" (from notebooks/execute.py),
    never "smoke setting" (a test run saved by mistake)."""
    first = code_cells(path)[0]
    assert "KERAS_IMBALANCE_NOTEBOOK_SMOKE" in source_of(first)
    printed = "".join(text_of(o) for o in first["outputs"])
    assert "full setting" in printed and "smoke setting" not in printed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_notebook_ends_by_asserting_its_lesson(path):
    """A section "The lesson, checked" near the end asserts the notebook's
    central claim in a form that also holds in the smoke setting, so a
    regression that breaks the lesson fails the test run."""
    cells = json.loads(path.read_text())["cells"]
    headings = [
        i
        for i, c in enumerate(cells)
        if c["cell_type"] == "markdown"
        and source_of(c).lstrip().startswith("## The lesson, checked")
    ]
    assert headings, 'no "## The lesson, checked" section'
    after = [c for c in cells[headings[-1] :] if c["cell_type"] == "code"]
    assert any("assert " in source_of(c) for c in after)

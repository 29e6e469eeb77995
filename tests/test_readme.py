"""The README's quick start runs as written."""

import os
import re

import pytest

pytestmark = pytest.mark.slow  # the whole file: see pyproject.toml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_quick_start_runs_as_written(tmp_path, monkeypatch):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    section = readme[readme.index("## Quick start") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(code, "README.md quick start", "exec"), namespace)
    model = namespace["model"]
    results = model.evaluate(
        namespace["x_test"], namespace["y_test"], return_dict=True, verbose=0
    )
    assert results["balanced_accuracy"] > 0.5
    assert (tmp_path / "model.keras").exists()

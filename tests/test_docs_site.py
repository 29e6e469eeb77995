"""The documentation site builds with `mkdocs build --strict`.

One build per module (about 10 s): strict mode turns every warning (a broken
link, a docstring whose parameters do not match the signature, a page in
the nav that does not exist) into a failure, and every public name of the
package must have an anchor on the API reference pages.
"""

import html
import importlib
import os
import pathlib
import re
import subprocess
import sys

import pytest

pytest.importorskip("mkdocs", reason="mkdocs is not installed: pip install '.[docs]'")
pytest.importorskip(
    "mkdocstrings_handlers.python",
    reason="mkdocstrings[python] is not installed: pip install '.[docs]'",
)
pytest.importorskip(
    "mkdocs_jupyter", reason="mkdocs-jupyter is not installed: pip install '.[docs]'"
)

pytestmark = pytest.mark.slow

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Public modules documented besides the root package and its `_SUBMODULES`.
EXTRA_MODULES = ("protocols", "cli")


def public_modules():
    """`{module name: its __all__}` of every documented public module."""
    import keras_imbalance

    names = ["keras_imbalance"]
    names += [
        f"keras_imbalance.{name}"
        for name in (*keras_imbalance._SUBMODULES, *EXTRA_MODULES)
    ]
    return {name: list(importlib.import_module(name).__all__) for name in names}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site_dir = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"]
        + ["--site-dir", str(site_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result, site_dir


def test_strict_build_passes(site):
    result, _ = site
    output = f"{result.stdout}\n{result.stderr}"
    problems = [
        line for line in output.splitlines() if line.startswith(("WARNING", "ERROR"))
    ]
    assert result.returncode == 0, (
        f"mkdocs build --strict failed (rc {result.returncode}) with "
        f"{len(problems)} warnings or errors:\n"
        + "\n".join(problems)
        + f"\n\nFull output:\n{output}"
    )


def test_every_public_name_has_an_anchor(site):
    result, site_dir = site
    api = site_dir / "api"
    if not api.is_dir():
        pytest.fail(f"no API pages were built:\n{result.stderr}")
    ids = set()
    for page in api.rglob("*.html"):
        ids.update(
            html.unescape(i) for i in re.findall(r'\bid="([^"]+)"', page.read_text())
        )
    missing = [
        f"{module}.{name}"
        for module, names in public_modules().items()
        for name in names
        if f"{module}.{name}" not in ids
    ]
    assert not missing, f"public names without an anchor in site/api/: {missing}"

"""Re-execute the tutorial notebooks in the full setting and save their outputs.

    python notebooks/execute.py                  # every notebooks/*.ipynb
    python notebooks/execute.py 01_long_tailed_digits.ipynb

Each notebook runs top to bottom in a fresh kernel, in the folder of the
notebooks, with the reader's full setting (`KERAS_IMBALANCE_NOTEBOOK_SMOKE`
unset: the notebooks' own epochs, data and seeds); the outputs are written back
into the file. TensorFlow's C++ start-up lines (oneDNN, CUDA stub, absl),
which say nothing about the notebook, are removed from the saved stderr
streams; everything else is kept, and a cell that raises stops the run with
the file left unchanged. Prints the time each notebook took.
"""

import argparse
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient

HERE = os.path.dirname(os.path.abspath(__file__))

# Lines TensorFlow's C++ runtime prints to stderr while it loads.
_STARTUP = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IWE]\d{4} [\d:.]+\s+\d+ \S+\.cc:\d+\]"
    r"|E0000 )"
)


def strip_startup_lines(notebook):
    """Drop TensorFlow's C++ start-up lines from the stderr outputs."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                lines = output["text"].splitlines(keepends=True)
                text = "".join(line for line in lines if not _STARTUP.match(line))
                if not text.strip():
                    continue
                output["text"] = text
            kept.append(output)
        cell["outputs"] = kept
    return notebook


def execute(path, timeout=1800):
    """Run `path` in full and write its outputs back; returns the seconds."""
    notebook = nbformat.read(path, as_version=4)
    environment = dict(os.environ)
    environment.pop("KERAS_IMBALANCE_NOTEBOOK_SMOKE", None)
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    start = time.perf_counter()
    old = dict(os.environ)
    os.environ.clear()
    os.environ.update(environment)  # the kernel inherits this environment
    try:
        NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": os.path.dirname(path)}},
        ).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    nbformat.write(strip_startup_lines(notebook), path)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="file names in notebooks/")
    args = parser.parse_args(argv)
    names = args.notebooks or sorted(
        n for n in os.listdir(HERE) if n.endswith(".ipynb")
    )
    total = 0.0
    for name in names:
        seconds = execute(os.path.join(HERE, name))
        total += seconds
        print(f"{name}: {seconds:.0f} s", flush=True)
    if len(names) > 1:
        print(f"all {len(names)} notebooks: {total:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

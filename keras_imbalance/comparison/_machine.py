"""`machine()`: the software and hardware a comparison ran on."""

import os
import platform

__all__ = ["machine"]


def machine():
    """The software and hardware a comparison ran on (JSON-plain)."""
    import sys

    import keras

    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": keras.config.backend(),
        "cpu_count": os.cpu_count(),
    }
    if "tensorflow" in sys.modules:
        info["tensorflow"] = sys.modules["tensorflow"].__version__
    return info

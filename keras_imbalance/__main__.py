"""`python -m keras_imbalance`: the `keras-imbalance` command."""

from keras_imbalance.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

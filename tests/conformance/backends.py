"""The current backend's steps, and eager against XLA.

`traced`, `traced_update` and `value_and_gradient` compile and differentiate
a function as the current Keras backend's train step does;
`check_jit_matches_eager` runs a model in each of `MODES` (`compile_mode`).
"""

import keras
import numpy as np
import tensorflow as tf

from tests.conformance.checks import check_finite

# The checks run on every Keras backend (`KERAS_BACKEND`). What differs is how
# a function is compiled and differentiated outside `fit`: these helpers do it
# the way the current backend's own train step does.

EAGER_STEPS = (
    "PyTorch runs Keras steps eagerly (nothing is traced), so a bad input "
    "raises the eager error there instead of giving NaN"
)


def backend():
    return keras.backend.backend()


def traced(fn, jit_compile=False):
    """`fn` compiled as the current backend compiles a step, or None.

    TensorFlow: a `tf.function` (XLA with `jit_compile`); JAX: `jax.jit`
    (always XLA); PyTorch: None, its Keras steps run eagerly (`EAGER_STEPS`).
    """
    if backend() == "tensorflow":
        return tf.function(fn, jit_compile=jit_compile)
    if backend() == "jax":
        import jax

        return jax.jit(fn)
    return None


def traced_update(metric):
    """`update(y_true, y_pred)`: `metric.update_state` in a compiled step, or
    None on PyTorch (see `traced`). On JAX the step is `jax.jit` of Keras'
    `stateless_update_state`, its new values assigned back, as `fit` does."""
    if backend() == "tensorflow":
        return tf.function(metric.update_state)
    if backend() != "jax":
        return None
    import jax

    step = jax.jit(metric.stateless_update_state)

    def update(y_true, y_pred):
        values = step([v.value for v in metric.variables], y_true, y_pred)
        for variable, value in zip(metric.variables, values):
            variable.assign(value)

    return update


def value_and_gradient(fn, x, dtype="float32", jit_compile=False):
    """`(fn(x), d fn(x) / dx)` as NumPy arrays, by the backend's autodiff.

    `fn` maps a tensor of `x`'s values (of `dtype`) to a scalar;
    `tf.GradientTape`, `jax.value_and_grad` or `torch.autograd.grad`
    differentiates it, compiled with `jit_compile` (XLA) on TensorFlow and
    JAX. The gradient comes back as float32 (NumPy has no bfloat16).
    """
    x = np.asarray(x)
    if backend() == "tensorflow":

        def run(t):
            with tf.GradientTape() as tape:
                tape.watch(t)
                value = fn(t)
            return value, tape.gradient(value, t)

        if jit_compile:
            run = tf.function(run, jit_compile=True)
        value, gradient = run(tf.constant(x, dtype))
    elif backend() == "jax":
        import jax
        import jax.numpy as jnp

        run = jax.value_and_grad(fn)
        if jit_compile:
            run = jax.jit(run)
        value, gradient = run(jnp.asarray(x, dtype))
    elif backend() == "torch":
        import torch

        t = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
        value = fn(t)
        (gradient,) = torch.autograd.grad(value, t)
    else:
        raise NotImplementedError(f"no gradient helper for {backend()}")
    gradient = keras.ops.cast(gradient, "float32")
    return keras.ops.convert_to_numpy(value), keras.ops.convert_to_numpy(gradient)


# Eager execution is the reference; XLA (`jit_compile=True`) must agree with
# it. (A plain `tf.function` graph adds nothing to that: XLA traces the same
# graph, and the graph's kernels are the eager ones.)
MODES = ("eager", "jit")


def check_jit_matches_eager(run, rtol=1e-4, atol=1e-6):
    """`run(mode)` for each of `MODES`: finite results, all equal.

    `run` builds, compiles with `compile_mode(mode)` (`run_eagerly=True`, or
    XLA: `jit_compile=True`) and steps a model, returning numbers or arrays.
    """
    results = {}
    for mode in MODES:
        keras.utils.set_random_seed(0)
        results[mode] = [np.asarray(r) for r in keras.tree.flatten(run(mode))]
        check_finite(results[mode])
    for mode in MODES[1:]:
        assert len(results[mode]) == len(results["eager"])
        for e, j in zip(results["eager"], results[mode]):
            np.testing.assert_allclose(j, e, rtol=rtol, atol=atol, err_msg=mode)


def compile_mode(mode):
    """`model.compile` keywords for a mode of `check_jit_matches_eager`."""
    return {
        "eager": dict(run_eagerly=True),
        "graph": dict(jit_compile=False),
        "jit": dict(jit_compile=True),
    }[mode]

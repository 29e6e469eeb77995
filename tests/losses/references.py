"""NumPy references written from the papers' formulas (float64, no Keras)."""

import numpy as np

EPS = 1e-7


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def one_hot(labels, num_classes):
    return np.eye(num_classes)[np.asarray(labels)]


def focal(y, p, gamma, alpha=None):
    """Lin et al. 2017, softmax form: -sum_c alpha_c (1 - p_c)^gamma y_c log p_c."""
    p = np.clip(p, EPS, 1 - EPS)
    alpha = 1.0 if alpha is None else np.asarray(alpha)
    return -(alpha * (1 - p) ** np.asarray(gamma) * y * np.log(p)).sum(-1)


def binary_focal(y, p, gamma, alpha=None):
    """Lin et al. 2017, sigmoid form, mean over labels."""
    pc = np.clip(p, EPS, 1 - EPS)
    bce = -(y * np.log(pc) + (1 - y) * np.log(1 - pc))
    p_t = y * p + (1 - y) * (1 - p)
    loss = (1 - p_t) ** gamma * bce
    if alpha is not None:
        a = np.asarray(alpha)
        loss = loss * (y * a + (1 - y) * (1 - a))
    return loss.mean(-1)


def effective_number_weights(counts, beta):
    """Cui et al. 2019, eq. (4): (1 - beta) / (1 - beta^n), normalised to sum C."""
    counts = np.asarray(counts, dtype="float64")
    w = (1 - beta) / (1 - beta**counts)
    return w / w.sum() * len(counts)


def class_balanced(y, z, counts, beta, loss_type, gamma):
    """Cui et al. 2019 on logits z."""
    w = effective_number_weights(counts, beta)
    wy = (y * w).sum(-1)
    if loss_type == "softmax":
        return -(w * y * log_softmax(z)).sum(-1)
    p = sigmoid(z)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    if loss_type == "focal":
        p_t = y * p + (1 - y) * (1 - p)
        bce = (1 - p_t) ** gamma * bce
    return wy * bce.sum(-1)


def ldam(y, z, counts, max_margin, scale, class_weight=None):
    """Cao et al. 2019: CE(s * (z - m_y onehot(y))), m_c ∝ n_c^(-1/4)."""
    m = 1.0 / np.sqrt(np.sqrt(np.asarray(counts, dtype="float64")))
    m = m * (max_margin / m.max())
    adjusted = scale * (z - m * y)
    w = 1.0 if class_weight is None else np.asarray(class_weight)
    return -(w * y * log_softmax(adjusted)).sum(-1)


def logit_adjusted(y, z, priors, tau):
    """Menon et al. 2021: CE(z + tau log pi)."""
    priors = np.asarray(priors, dtype="float64")
    priors = priors / priors.sum()
    return -(y * log_softmax(z + tau * np.log(priors))).sum(-1)


def asymmetric(y, p, gamma_neg, gamma_pos, clip):
    """Ridnik et al. 2021, as in the authors' AsymmetricLoss (summed over labels)."""
    xs_pos = p
    xs_neg = 1 - p
    if clip > 0:
        xs_neg = np.minimum(xs_neg + clip, 1)
    loss = y * np.log(np.maximum(xs_pos, EPS)) + (1 - y) * np.log(
        np.maximum(xs_neg, EPS)
    )
    pt = xs_pos * y + xs_neg * (1 - y)
    gamma = gamma_pos * y + gamma_neg * (1 - y)
    loss = loss * (1 - pt) ** gamma
    return -loss.sum(-1)


def overlap_terms(y, p):
    axes = tuple(range(1, y.ndim - 1))
    tp = (y * p).sum(axes)
    fp = ((1 - y) * p).sum(axes)
    fn = (y * (1 - p)).sum(axes)
    return tp, fp, fn


def dice(y, p, smooth):
    """Milletari et al. 2016, per class then averaged."""
    tp, fp, fn = overlap_terms(y, p)
    return 1 - ((2 * tp + smooth) / (2 * tp + fp + fn + smooth)).mean(-1)


def tversky(y, p, alpha, beta, gamma, smooth):
    """Salehi et al. 2017; focal form (1 - TI)^(1/gamma) of Abraham & Khan 2019."""
    tp, fp, fn = overlap_terms(y, p)
    ti = (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)
    return ((1 - ti) ** (1 / gamma)).mean(-1)

"""Cases: the ways each public class is built for the checks.

`table(kind)[class name]` lists the ways each class is built for the checks
(constructor arguments and the inputs a tiny model feeds it), from the
`_<kind>_cases()` functions below. Every public class needs an entry:
`missing_cases(kind)` names the classes without one (the completeness tests
fail on them, asking for the entry) and the entries whose class is gone.
`cases(kind)` gives the `pytest.param`s.
"""

import numpy as np

import keras_imbalance
from tests.conformance.names import classify, public_keras_classes
from tests.conformance.probes import LAYER_CLASSES, C

COUNTS = [400, 90, 20, 4]  # class counts for the objects that take them


class Case:
    """One way to build a public class for the checks.

    `args` is a dict of constructor keyword arguments, or a callable that
    builds the object: with no argument, or for callbacks with the probe's
    `Setup` (the model, its loss and data). `spec` holds what the kind's
    probe needs to feed the object (its input kind, label kind ...).
    """

    def __init__(self, id, args=None, **spec):
        self.id = id
        self.args = {} if args is None else args
        self.spec = spec
        self.cls_name = None  # set by `_table`
        self.kind = None

    @property
    def cls(self):
        classes = public_keras_classes(self.kind)
        assert self.cls_name in classes, (
            f"conformance case {self.id!r}: {self.cls_name} is no longer a public "
            f"{self.kind} class: remove its entry from CASES in "
            "tests/conformance/case_tables.py"
        )
        return classes[self.cls_name]

    def make(self, *context):
        if callable(self.args):
            obj = self.args(*context)
        else:
            obj = self.cls(**self.args)
        assert type(obj).__name__ == self.cls_name, (self.id, type(obj))
        return obj

    def __getattr__(self, name):
        try:
            return self.__dict__["spec"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self):
        return f"Case({self.id!r}, {self.cls_name})"


def _loss_cases():
    return {
        "FocalLoss": [
            Case("focal", dict(from_logits=True), labels="multiclass"),
            Case(
                "focal_probs",
                dict(gamma=[1, 2, 2, 3], alpha=[0.1, 0.3, 1.0, 2.0]),
                labels="multiclass",
            ),
        ],
        "BinaryFocalLoss": [
            Case(
                "binary_focal", dict(alpha=0.25, from_logits=True), labels="multilabel"
            )
        ],
        "SigmoidFocalCrossEntropy": [
            Case(
                "sigmoid_focal_tfa",
                dict(from_logits=True, reduction="sum_over_batch_size"),
                labels="multilabel",
            )
        ],
        "WeightedCrossEntropy": [
            Case(
                "weighted_ce",
                dict(class_weight=[0.5, 1.0, 2.0, 4.0], from_logits=True),
                labels="multiclass",
            ),
            Case(
                "weighted_ce_probs",
                dict(class_weight={3: 5.0}, label_smoothing=0.1),
                labels="multiclass",
                json_exact=False,  # integer keys: strings in JSON
            ),
        ],
        "ClassBalancedLoss": [
            Case(
                "cb_focal",
                dict(class_counts=COUNTS, beta=0.999, from_logits=True),
                labels="multiclass",
            ),
            Case(
                "cb_softmax",
                dict(class_counts=COUNTS, loss_type="softmax", from_logits=True),
                labels="multiclass",
            ),
            Case(
                "cb_sigmoid_probs",
                dict(class_counts=COUNTS, loss_type="sigmoid"),
                labels="multiclass",
            ),
        ],
        "LDAMLoss": [
            Case(
                "ldam",
                dict(class_counts=COUNTS, class_weight=[0.2, 0.6, 1.2, 2.0]),
                labels="multiclass",
            )
        ],
        "BalancedSoftmaxLoss": [
            Case("balanced_softmax", dict(class_counts=COUNTS), labels="multiclass"),
            Case(
                "balanced_softmax_probs",
                dict(class_counts=COUNTS, from_logits=False),
                labels="multiclass",
            ),
        ],
        "LogitAdjustedLoss": [
            Case(
                "logit_adjusted",
                dict(class_counts=COUNTS, tau=1.5),
                labels="multiclass",
            )
        ],
        "AsymmetricLoss": [
            Case("asymmetric", dict(from_logits=True), labels="multilabel"),
            Case("asymmetric_probs", dict(), labels="multilabel"),
        ],
        "DiceLoss": [Case("dice", dict(from_logits=True), labels="segmentation")],
        "TverskyLoss": [
            Case(
                "tversky",
                dict(gamma=4 / 3, from_logits=True),
                labels="segmentation",
            )
        ],
    }


def _layer_cases():
    ki_layers = keras_imbalance.layers
    return {
        "SqueezeExcitation": [
            Case("se", dict(reduction=4), inputs="image"),
            Case("se_1d", dict(reduction=2), inputs="sequence"),
            Case("se_3d", dict(reduction=4), inputs="volume"),
            Case(
                "se_channels_first",
                dict(reduction=4, gate="hard_sigmoid", data_format="channels_first"),
                inputs="image_cf",
            ),
        ],
        "ChannelAttention": [
            Case("channel_attention", dict(reduction=2), inputs="image")
        ],
        "SpatialAttention": [
            Case("spatial_attention", dict(kernel_size=3), inputs="image")
        ],
        "CBAM": [
            Case("cbam", dict(reduction=4, kernel_size=3), inputs="image"),
            Case(
                "cbam_channels_first",
                dict(reduction=4, kernel_size=3, data_format="channels_first"),
                inputs="image_cf",
            ),
            Case("cbam_1d", dict(reduction=2, kernel_size=3), inputs="sequence"),
        ],
        "EfficientChannelAttention": [
            Case("eca", dict(), inputs="image"),
            Case("eca_3d_k5", dict(kernel_size=5), inputs="volume"),
        ],
        "AttentionPooling": [
            Case(
                "attention_pooling_masked",
                dict(num_heads=2, return_attention_scores=True),
                inputs="tokens",
            ),
            Case("attention_pooling_image", dict(num_heads=4), inputs="image"),
        ],
        "FeatureAttention": [
            Case(
                "feature_attention",
                dict(hidden_units=6, return_attention=True),
                inputs="tabular",
            )
        ],
        "CosineClassifier": [
            Case(
                "cosine_classifier",
                lambda: ki_layers.CosineClassifier(LAYER_CLASSES, scale=10.0),
                inputs="tabular",
                head=True,
            ),
            Case(
                "cosine_classifier_learned_scale",
                lambda: ki_layers.CosineClassifier(LAYER_CLASSES, learn_scale=True),
                inputs="tabular",
                head=True,
            ),
        ],
        "BranchFusion": [
            Case(
                "fusion_concat",
                dict(mode="concat"),
                inputs="features",
                widths=(8, 5, 3),
            ),
            Case("fusion_sum", dict(mode="sum"), inputs="features", widths=(6, 6)),
            Case("fusion_mean", dict(mode="mean"), inputs="features", widths=(6, 6)),
            Case(
                "fusion_gated", dict(mode="gated"), inputs="features", widths=(6, 6, 6)
            ),
            Case(
                "fusion_attention",
                dict(mode="attention"),
                inputs="features",
                widths=(6, 6, 6),
            ),
        ],
        "LearnableWeightScaling": [
            Case("learnable_weight_scaling", dict(), inputs="tabular")
        ],
        "MeanImputation": [
            Case(
                "mean_imputation",
                dict(mean=np.linspace(-1.0, 1.0, 10).tolist()),
                inputs="tabular",
            )
        ],
        "LogitAdjustment": [
            Case(
                "logit_adjustment",
                lambda: ki_layers.LogitAdjustment(
                    np.linspace(10, 1, 10).tolist(), tau=0.5
                ),
                inputs="tabular",
            )
        ],
        "BilateralMixing": [
            Case(
                "bilateral_mixing",
                lambda: ki_layers.BilateralMixing(0.7),
                inputs="features",
                widths=(6, 6),
            )
        ],
        # `models.transfer` exports it: the "caffe" preprocessing (RGB -> BGR).
        "ReverseChannels": [Case("reverse_channels", dict(), inputs="image")],
    }


def _metric_cases():
    return {
        "BalancedAccuracy": [
            Case("balanced_accuracy", dict(num_classes=C)),
            Case(
                "balanced_accuracy_logits_ignore",
                dict(num_classes=C, from_logits=True, ignore_class=-1),
            ),
        ],
        "MacroF1": [Case("macro_f1", dict(num_classes=C))],
        "GeometricMeanRecall": [
            Case("g_mean_corrected", dict(num_classes=C, correction=0.001))
        ],
        "GroupAccuracy": [
            Case("few_shot_accuracy", dict(class_counts=COUNTS, group="few")),
            Case(
                "many_shot_accuracy",
                dict(class_counts=COUNTS, group="many", many_threshold=100),
            ),
        ],
    }


def _optimizer_cases():
    return {
        "CoupledWeightDecaySGD": [
            Case(
                "coupled_sgd_nesterov",
                dict(learning_rate=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
            ),
        ],
    }


def _callback_cases():
    cb = keras_imbalance.callbacks
    return {
        "CumulativeLearning": [
            # Needs the BilateralMixing layer of a bilateral-branch network.
            Case("cumulative_learning", lambda s: cb.CumulativeLearning(2), model="bbn")
        ],
        "DeferredReweighting": [
            Case(
                "drw_ldam",
                lambda s: cb.DeferredReweighting(
                    s.loss, class_counts=COUNTS, start_epoch=1
                ),
                loss=lambda: keras_imbalance.losses.LDAMLoss(COUNTS, scale=5.0),
            )
        ],
        "ImbalanceMonitor": [
            Case(
                "imbalance_monitor",
                lambda s: cb.ImbalanceMonitor(
                    (s.x, s.y), class_counts=COUNTS, batch_size=8
                ),
            )
        ],
        "ProgressiveSampling": [
            # `data.sampling`'s schedule of a progressive `balanced_dataset`.
            Case(
                "progressive_sampling",
                lambda s: keras_imbalance.data.ProgressiveSampling(s.dataset, 2),
                dataset="progressive",
            )
        ],
        "PreciseBatchNorm": [
            Case(
                "precise_batch_norm",
                lambda s: cb.PreciseBatchNorm(s.x, batch_size=8),
                model="batch_norm",
            )
        ],
    }


def _model_cases():
    return {
        # The training half of a bilateral-branch network: two inputs.
        "BilateralBranchTrainer": [
            Case(
                "bbn_train",
                lambda: keras_imbalance.models.build_bilateral_branch_network(
                    (6,), C, width=4, depth=2
                )[0],
                inputs=[(6,), (6,)],
                targets=2,
                json_exact=False,  # Keras' own build configs hold tuples
            )
        ],
    }


_TABLES = {
    "loss": _loss_cases,
    "metric": _metric_cases,
    "layer": _layer_cases,
    "model": _model_cases,
    "callback": _callback_cases,
    "optimizer": _optimizer_cases,
}
_CASES = {}


def table(kind):
    """`{class name: [Case, ...]}` of a kind (built once)."""
    if kind not in _CASES:
        entries = _TABLES[kind]() if kind in _TABLES else {}
        for cls_name, kind_cases in entries.items():
            for case in kind_cases:
                case.cls_name, case.kind = cls_name, kind
        _CASES[kind] = entries
    return _CASES[kind]


def cases(kind, where=None):
    """`pytest.param(case, id=case.id)` for every case of `kind`."""
    import pytest

    found = [c for kind_cases in table(kind).values() for c in kind_cases]
    if where is not None:
        found = [c for c in found if where(c)]
    ids = [c.id for c in found]
    assert len(set(ids)) == len(ids), f"duplicate case ids in {kind}: {ids}"
    return [pytest.param(c, id=c.id) for c in found]


def missing_cases(kind):
    """Problems of `CASES[kind]`: public classes without an entry, stale entries."""
    public = public_keras_classes(kind)
    entries = table(kind)
    problems = [
        f"{name} ({public[name].__module__}) is a public {kind} class without "
        f"a conformance case: add an entry `{name!r}: [Case(...)]` to "
        f"`_{kind}_cases()` in tests/conformance/case_tables.py"
        for name in sorted(set(public) - set(entries))
    ]
    problems += [
        f"{name} has conformance cases but is not a public {kind} class (any "
        f"more): remove it from `_{kind}_cases()` in tests/conformance/case_tables.py"
        for name in sorted(set(entries) - set(public))
    ]
    problems += [
        f"{name} has an empty list of cases in `_{kind}_cases()`"
        for name, kind_cases in entries.items()
        if not kind_cases
    ]
    return problems


def unknown_kinds():
    """Public Keras classes of a kind no probe knows (the checks cannot run)."""
    return sorted(
        f"{name} ({cls.__module__}): a {classify(cls)} class; give its kind a "
        "probe (tests/conformance/probes.py) and a table "
        "(tests/conformance/case_tables.py)"
        for name, cls in public_keras_classes().items()
        if classify(cls) not in _TABLES
    )

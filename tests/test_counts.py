"""specc's shapes and parameter counts equal what torch and Keras build, layer by layer and per backbone.

Each case is one layer on an input shape (channels last, as in a spec). torch: the real module on a
zero tensor (NHWC <-> NCHW permuted), counting `sum(p.numel())`. Keras: a Sequential with an Input,
counting trainable and non-trainable weights and reading `output_shape`.
"""

# ruff: noqa: E501 - the case table reads best one layer per line

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from specc import pipeline
from specc.backbones import INFO
from specc.ir import LayerNode
from specc.layers import LAYERS

Shape = tuple[int, ...]

# torchvision imports torch._dynamo, which imports triton, and importing triton after TensorFlow
# in one process is a segmentation fault (torch 2.14, TF 2.21). These CPU checks never need
# triton: make its import fail cleanly, whichever framework this session loaded first.
sys.modules.setdefault("triton", None)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Case:
    """One layer on one input: the spec text and how each framework builds it."""

    input: Shape
    layer: str
    torch: Callable[[Any, Shape], Any]  # (torch module namespace, input shape) -> nn.Module
    keras: Callable[[Any], Any]  # keras.layers -> a layer
    tokens: bool = False  # the input is integer token ids (Embedding)

    @property
    def id(self) -> str:
        return f"{self.layer}@{'x'.join(map(str, self.input))}"


def _same_pad(n: int, k: int, s: int) -> tuple[int, int]:
    """TF `same` padding: total, split with the extra on the right/bottom."""
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def _pad2d(nn: Any, shape: Shape, k: tuple[int, int], s: tuple[int, int], inner: Any) -> Any:
    (top, bottom), (left, right) = _same_pad(shape[0], k[0], s[0]), _same_pad(shape[1], k[1], s[1])
    return nn.Sequential(nn.ZeroPad2d((left, right, top, bottom)), inner)


def _pad1d(nn: Any, shape: Shape, k: int, s: int, inner: Any) -> Any:
    return nn.Sequential(nn.ConstantPad1d(_same_pad(shape[0], k, s), 0.0), inner)


class _Last:
    """The last step (return_sequences=false) or every step of a batch-first recurrent layer."""

    def __new__(cls, nn: Any, rnn: Any, sequences: bool) -> Any:
        class Wrap(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.rnn = rnn

            def forward(self, x: Any) -> Any:
                out = self.rnn(x)[0]
                return out if sequences else out[:, -1]

        return Wrap()


def _lambda(nn: Any, fn: Callable[[Any], Any]) -> Any:
    class Fn(nn.Module):
        def forward(self, x: Any) -> Any:
            return fn(x)

    return Fn()


CASES: list[Case] = [
    Case((20,), "Dense(7)", lambda nn, s: nn.Linear(20, 7), lambda L: L.Dense(7)),
    Case((20,), "Dense(7, use_bias=false)", lambda nn, s: nn.Linear(20, 7, bias=False), lambda L: L.Dense(7, use_bias=False)),
    Case((3, 4, 5), "Dense(6, activation=relu)", lambda nn, s: nn.Linear(5, 6), lambda L: L.Dense(6, activation="relu")),
    Case((20,), "Dropout(0.3)", lambda nn, s: nn.Dropout(0.3), lambda L: L.Dropout(0.3)),
    Case((4, 5, 3), "Flatten()", lambda nn, s: nn.Flatten(), lambda L: L.Flatten()),
    Case((8,), "Activation(gelu)", lambda nn, s: nn.GELU(), lambda L: L.Activation("gelu")),
    Case((8,), "ReLU()", lambda nn, s: nn.ReLU(), lambda L: L.ReLU()),
    Case((8,), "Sigmoid()", lambda nn, s: nn.Sigmoid(), lambda L: L.Activation("sigmoid")),
    Case((8,), "Tanh()", lambda nn, s: nn.Tanh(), lambda L: L.Activation("tanh")),
    Case((3, 8), "Softmax(axis=-1)", lambda nn, s: nn.Softmax(dim=-1), lambda L: L.Softmax(axis=-1)),
    Case((24,), "Reshape((2, -1, 3))", lambda nn, s: nn.Unflatten(1, (2, 4, 3)), lambda L: L.Reshape((2, -1, 3))),
    Case((10, 10, 3), "Conv2D(8, 3)", lambda nn, s: nn.Conv2d(3, 8, 3), lambda L: L.Conv2D(8, 3)),
    Case((11, 9, 2), "Conv2D(4, (3, 2), strides=(2, 3), use_bias=false)",
         lambda nn, s: nn.Conv2d(2, 4, (3, 2), stride=(2, 3), bias=False),
         lambda L: L.Conv2D(4, (3, 2), strides=(2, 3), use_bias=False)),
    Case((11, 9, 2), "Conv2D(5, 3, padding=same)", lambda nn, s: nn.Conv2d(2, 5, 3, padding="same"),
         lambda L: L.Conv2D(5, 3, padding="same")),
    Case((11, 8, 2), "Conv2D(5, (4, 3), strides=2, padding=same)",
         lambda nn, s: _pad2d(nn, s, (4, 3), (2, 2), nn.Conv2d(2, 5, (4, 3), stride=2)),
         lambda L: L.Conv2D(5, (4, 3), strides=2, padding="same")),
    Case((17, 3), "Conv1D(6, 4)", lambda nn, s: nn.Conv1d(3, 6, 4), lambda L: L.Conv1D(6, 4)),
    Case((17, 3), "Conv1D(6, 4, strides=3, padding=same, use_bias=false)",
         lambda nn, s: _pad1d(nn, s, 4, 3, nn.Conv1d(3, 6, 4, stride=3, bias=False)),
         lambda L: L.Conv1D(6, 4, strides=3, padding="same", use_bias=False)),
    Case((9, 7, 3), "MaxPooling2D(2)", lambda nn, s: nn.MaxPool2d(2), lambda L: L.MaxPooling2D(2)),
    Case((9, 7, 3), "MaxPooling2D(3, strides=2, padding=same)",
         lambda nn, s: _pad2d(nn, s, (3, 3), (2, 2), nn.MaxPool2d(3, 2)),
         lambda L: L.MaxPooling2D(3, strides=2, padding="same")),
    Case((9, 7, 3), "AveragePooling2D((2, 3), strides=1)", lambda nn, s: nn.AvgPool2d((2, 3), 1),
         lambda L: L.AveragePooling2D((2, 3), strides=1)),
    Case((13, 4), "MaxPooling1D(3)", lambda nn, s: nn.MaxPool1d(3), lambda L: L.MaxPooling1D(3)),
    Case((13, 4), "AveragePooling1D(2, padding=same)", lambda nn, s: _pad1d(nn, s, 2, 2, nn.AvgPool1d(2)),
         lambda L: L.AveragePooling1D(2, padding="same")),
    Case((13, 4), "GlobalAveragePooling1D()", lambda nn, s: _lambda(nn, lambda x: x.mean(-1)),
         lambda L: L.GlobalAveragePooling1D()),
    Case((13, 4), "GlobalMaxPooling1D()", lambda nn, s: _lambda(nn, lambda x: x.amax(-1)),
         lambda L: L.GlobalMaxPooling1D()),
    Case((6, 5, 4), "GlobalAveragePooling2D()", lambda nn, s: _lambda(nn, lambda x: x.mean((-2, -1))),
         lambda L: L.GlobalAveragePooling2D()),
    Case((6, 5, 4), "GlobalMaxPooling2D()", lambda nn, s: _lambda(nn, lambda x: x.amax((-2, -1))),
         lambda L: L.GlobalMaxPooling2D()),
    Case((12,), "BatchNormalization()", lambda nn, s: nn.BatchNorm1d(12), lambda L: L.BatchNormalization()),
    Case((6, 5, 4), "BatchNormalization(momentum=0.9)", lambda nn, s: nn.BatchNorm2d(4),
         lambda L: L.BatchNormalization(momentum=0.9)),
    Case((7, 3), "BatchNormalization()", lambda nn, s: nn.BatchNorm1d(3), lambda L: L.BatchNormalization()),
    Case((12,), "LayerNormalization()", lambda nn, s: nn.LayerNorm(12), lambda L: L.LayerNormalization()),
    Case((6, 5, 4), "LayerNormalization(epsilon=1e-5)", lambda nn, s: nn.LayerNorm(4, eps=1e-5),
         lambda L: L.LayerNormalization(epsilon=1e-5)),
    Case((9,), "Embedding(50, 6)", lambda nn, s: nn.Embedding(50, 6), lambda L: L.Embedding(50, 6), tokens=True),
    Case((5, 3), "SimpleRNN(4)", lambda nn, s: _Last(nn, nn.RNN(3, 4, batch_first=True), False),
         lambda L: L.SimpleRNN(4)),
    Case((5, 3), "SimpleRNN(4, return_sequences=true)",
         lambda nn, s: _Last(nn, nn.RNN(3, 4, batch_first=True), True),
         lambda L: L.SimpleRNN(4, return_sequences=True)),
    Case((5, 3), "LSTM(6)", lambda nn, s: _Last(nn, nn.LSTM(3, 6, batch_first=True), False), lambda L: L.LSTM(6)),
    Case((5, 3), "LSTM(6, return_sequences=true)",
         lambda nn, s: _Last(nn, nn.LSTM(3, 6, batch_first=True), True),
         lambda L: L.LSTM(6, return_sequences=True)),
    Case((5, 3), "GRU(7)", lambda nn, s: _Last(nn, nn.GRU(3, 7, batch_first=True), False), lambda L: L.GRU(7)),
    Case((5, 3), "GRU(7, return_sequences=true)",
         lambda nn, s: _Last(nn, nn.GRU(3, 7, batch_first=True), True),
         lambda L: L.GRU(7, return_sequences=True)),
]  # fmt: skip

# Layers whose torch form takes channels first (the spec, and Keras, are channels last).
_CHANNELS_FIRST = ("Conv", "Pool", "BatchNormalization")


def _node(case: Case) -> LayerNode:
    shape = "(" + ", ".join(map(str, case.input)) + ",)"
    program = pipeline.load_text(f"model m {{\n    input: {shape}\n    {case.layer}\n}}\n")
    (node,) = program.model.layers
    return node


def test_every_layer_type_has_a_case() -> None:
    covered = {case.layer.split("(")[0] for case in CASES}
    assert set(LAYERS.canonical.values()) - covered == set()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_torch_layer(case: Case) -> None:
    torch = pytest.importorskip("torch")
    node = _node(case)
    module = case.torch(torch.nn, case.input).eval()
    assert sum(p.numel() for p in module.parameters()) == node.counts["torch"].total
    assert node.counts["torch"].non_trainable == 0
    if case.tokens:
        x = torch.zeros((1, *case.input), dtype=torch.long)
    else:
        x = torch.zeros((1, *case.input))
    channels_first = any(word in case.layer for word in _CHANNELS_FIRST) and len(case.input) > 1
    if channels_first:
        x = x.movedim(-1, 1)
    with torch.no_grad():
        y = module(x)
    if channels_first and y.dim() > 2:
        y = y.movedim(1, -1)
    assert tuple(y.shape[1:]) == node.out_shape


@pytest.fixture(scope="module")
def keras() -> Any:
    return pytest.importorskip("keras")


def _keras_counts(model: Any) -> tuple[int, int]:
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    frozen = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    return trainable, frozen


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_keras_layer(case: Case, keras: Any) -> None:
    node = _node(case)
    dtype = "int32" if case.tokens else "float32"
    model = keras.Sequential([keras.Input(shape=case.input, dtype=dtype), case.keras(keras.layers)])
    assert model.count_params() == node.counts["keras"].total
    assert _keras_counts(model) == (node.counts["keras"].trainable, node.counts["keras"].non_trainable)
    assert tuple(model.output_shape[1:]) == node.out_shape


# -- backbones -----------------------------------------------------------------------------------

SIZES: list[Shape] = [(64, 64, 3), (75, 99, 3)]


def _specc_base(name: str, shape: Shape) -> Any:
    spec = f"model m {{\n    input: ({shape[0]}, {shape[1]}, 3)\n    base: {name}(weights=none)\n}}\n"
    base = pipeline.load_text(spec).model.base
    assert base is not None
    return base


def _torch_features(torchvision: Any, torch: Any, name: str) -> Any:
    """The torchvision network without its classifier (and without the pooling before it)."""
    net = getattr(torchvision.models, INFO[name].builds["torch"].constructor)(weights=None)
    if name.startswith("resnet"):
        return torch.nn.Sequential(*list(net.children())[:-2])
    return net.features


@pytest.mark.parametrize("name", sorted(INFO))
def test_torch_backbone(name: str) -> None:
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    features = _torch_features(torchvision, torch, name).eval()
    build = INFO[name].builds["torch"]
    assert sum(p.numel() for p in features.parameters()) == build.trainable
    weighted = [m for m in features.modules() if any(True for _ in m.parameters(recurse=False))]
    assert len(weighted) == build.weight_layers
    for shape in SIZES:
        base = _specc_base(name, shape)
        assert (base.counts["torch"].trainable, base.counts["torch"].non_trainable) == (build.trainable, 0)
        with torch.no_grad():
            y = features(torch.zeros((1, 3, shape[0], shape[1])))
        assert tuple(y.movedim(1, -1).shape[1:]) == base.out_shape, shape


@pytest.fixture(scope="module")
def keras_backbones(keras: Any) -> dict[tuple[str, Shape], Any]:
    """Each keras.applications network shipped for Keras, built once per input size.

    The size is given concretely, as the generated programs do: with `(None, None, 3)` MobileNetV2
    and EfficientNet pad for an even size and would floor odd sizes.
    """
    built = {}
    for name, info in sorted(INFO.items()):
        if "keras" in info.builds:
            constructor = getattr(keras.applications, info.builds["keras"].constructor)
            for shape in SIZES:
                built[name, shape] = constructor(include_top=False, weights=None, input_shape=shape)
    return built


@pytest.mark.parametrize("name", sorted(INFO))
def test_keras_backbone(name: str, keras_backbones: dict[tuple[str, Shape], Any]) -> None:
    if (name, SIZES[0]) not in keras_backbones:
        base = _specc_base(name, SIZES[0])
        assert not base.backbone.supports("keras") and base.counts["keras"].total == 0
        return
    build = INFO[name].builds["keras"]
    for shape in SIZES:
        model = keras_backbones[name, shape]
        assert _keras_counts(model) == (build.trainable, build.non_trainable)
        # base.last(N) counts the layers holding any weights, as the Keras target does.
        assert len([layer for layer in model.layers if layer.weights]) == build.weight_layers
        base = _specc_base(name, shape)
        assert (base.counts["keras"].trainable, base.counts["keras"].non_trainable) == (
            build.trainable,
            build.non_trainable,
        )
        assert tuple(model.output_shape[1:]) == base.out_shape, shape

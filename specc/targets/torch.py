"""The PyTorch target: a spec's IR -> one standalone, formatted PyTorch training program.

Spec shapes are channels-last; inside the program convolutions run channels-first (NCHW), the
layout torch is built for. The emitter tracks the layout layer by layer and inserts a permute only
where a layer needs the other one (before Flatten after convolutions, so weights stay portable).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from specc.data import ImageFolder
from specc.diagnostics import Collector, Diagnostic
from specc.ir import LayerNode, Phase, Program
from specc.losses import Loss
from specc.optimizers import Optimizer
from specc.targets import shared
from specc.targets.base import EmitOptions, common_checks
from specc.targets.literal import literal

LINE = shared.LINE
TARGET = "torch"

# torchvision constructor -> (weights enum, how to drop the classifier and keep the feature map).
BACKBONES: dict[str, tuple[str, str]] = {
    "resnet18": ("ResNet18_Weights", "children"),
    "resnet50": ("ResNet50_Weights", "children"),
    "vgg16": ("VGG16_Weights", "features"),
    "mobilenet_v2": ("MobileNet_V2_Weights", "features"),
    "efficientnet_b0": ("EfficientNet_B0_Weights", "features"),
}
# Backbones whose torchvision network holds BatchNorm layers (frozen ones must stay in eval mode).
BATCHNORM_BACKBONES = frozenset({"resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0"})

# Attributes of nn.Sequential: a layer with one of these names cannot be a named child module.
RESERVED = frozenset(
    "T_destination add_module append apply bfloat16 buffers call_super_init children compile cpu "
    "cuda double dump_patches eval extend extra_repr float forward get_buffer get_extra_state "
    "get_parameter get_submodule half insert ipu load_state_dict modules mtia named_buffers "
    "named_children named_modules named_parameters parameters pop register_backward_hook "
    "register_buffer register_forward_hook register_forward_pre_hook register_full_backward_hook "
    "register_full_backward_pre_hook register_load_state_dict_post_hook "
    "register_load_state_dict_pre_hook register_module register_parameter "
    "register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state "
    "set_submodule share_memory state_dict to to_empty train training type xpu zero_grad".split()
)

ACTIVATIONS: dict[str, str] = {
    "relu": "nn.ReLU()",
    "sigmoid": "nn.Sigmoid()",
    "tanh": "nn.Tanh()",
    "softmax": "nn.Softmax(dim=-1)",
    # Keras 3's leaky_relu slope is 0.2 (torch's default is 0.01).
    "leaky_relu": "nn.LeakyReLU(negative_slope=0.2)",
    "elu": "nn.ELU(alpha=1.0)",
    # Keras's gelu is the exact (erf) form, torch's approximate="none".
    "gelu": 'nn.GELU(approximate="none")',
    "silu": "nn.SiLU()",
    "softplus": "nn.Softplus()",
}

# Which layout a layer needs for inputs of rank >= 2: "first" (N, C, ...), "last" (N, ..., C).
FIRST = frozenset(
    {
        "Conv1D",
        "Conv2D",
        "MaxPooling1D",
        "MaxPooling2D",
        "AveragePooling1D",
        "AveragePooling2D",
        "GlobalAveragePooling1D",
        "GlobalAveragePooling2D",
        "GlobalMaxPooling1D",
        "GlobalMaxPooling2D",
        "BatchNormalization",
    }
)
LAST = frozenset(
    {"Dense", "Flatten", "Reshape", "LayerNormalization", "SimpleRNN", "LSTM", "GRU", "Embedding"}
)


# --------------------------------------------------------------------------------------------
# Formatting: emit code exactly as `ruff format` (88 columns) would write it.


def call(prefix: str, func: str, args: Iterable[str], indent: int, suffix: str = "") -> str:
    """`prefix func(args)suffix` on one line, else its arguments on one indented line, else one per line."""
    args = list(args)
    pad, inner = " " * indent, " " * (indent + 4)
    one = f"{pad}{prefix}{func}({', '.join(args)}){suffix}"
    if len(one) <= LINE or not args:
        return one + "\n"
    body = f"{inner}{', '.join(args)}"
    if len(body) <= LINE:
        return f"{pad}{prefix}{func}(\n{body}\n{pad}){suffix}\n"
    return f"{pad}{prefix}{func}(\n" + "".join(f"{inner}{a},\n" for a in args) + f"{pad}){suffix}\n"


def collection(prefix: str, items: list[str], indent: int, brackets: str = "[]") -> str:
    """`prefix[items]` on one line, or one item per line with a trailing comma."""
    pad, inner = " " * indent, " " * (indent + 4)
    one = f"{pad}{prefix}{brackets[0]}{', '.join(items)}{brackets[1]}"
    if len(one) <= LINE:
        return one + "\n"
    return (
        f"{pad}{prefix}{brackets[0]}\n" + "".join(f"{inner}{i},\n" for i in items) + f"{pad}{brackets[1]}\n"
    )


# --------------------------------------------------------------------------------------------
# The model: one nn.Sequential entry per spec layer, plus activations, pads and permutes.


@dataclass
class Entry:
    """One named child of the nn.Sequential: `layers[key] = expr`."""

    key: str
    func: str
    args: list[str]
    comment: str = ""


@dataclass
class Network:
    """The planned model: entries, helper classes used, and facts the rest of the program needs."""

    entries: list[Entry] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)
    input_channels_first: bool = False
    strip: LayerNode | None = None  # the head whose softmax/sigmoid the fused loss absorbs


class Keys:
    """Unique child names: the spec's layer names first, then Keras-style `base`, `base_1`, ..."""

    def __init__(self, taken: Iterable[str]) -> None:
        self.taken = set(taken)

    def fresh(self, base: str) -> str:
        n = 0
        while True:
            key = base if n == 0 else f"{base}_{n}"
            if key not in self.taken:
                self.taken.add(key)
                return key
            n += 1


def same_pads(
    dims: tuple[int, ...], kernel: tuple[int, ...], strides: tuple[int, ...]
) -> list[tuple[int, int]]:
    """TensorFlow's `same` padding per spatial axis: out = ceil(n / s), the odd pixel on the right."""
    pads = []
    for n, k, s in zip(dims, kernel, strides):
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def _size(values: tuple[int, ...]) -> str:
    """A window size as one int when every axis agrees, else a tuple."""
    return literal(values[0]) if len(set(values)) == 1 else literal(tuple(values))


def _pad_arg(pads: list[tuple[int, int]]) -> list[int]:
    """F.pad order: last axis first, (left, right) for each."""
    out: list[int] = []
    for left, right in reversed(pads):
        out += [left, right]
    return out


def wants(node: LayerNode) -> str | None:
    """The layout a layer needs, or None when it does not care (element-wise, rank 1)."""
    if len(node.in_shape) < 2:
        return None
    if node.type in FIRST:
        return "first"
    if node.type in LAST:
        return "last"
    if node.layer.activation_name == "softmax":
        return "last"
    return None


def fused_strip(program: Program) -> LayerNode | None:
    """The head whose final softmax/sigmoid moves into a fused loss (logits in training), if any."""
    assert program.train is not None
    model = program.model
    head = model.output_layer
    if head is None:
        return None
    after = model.layers[head.index + 1 :]
    if any(n.type == "Dropout" for n in after):
        return None
    activation = head.layer.activation_name
    for phase in program.train.phases:
        loss = phase.loss
        if getattr(loss, "from_logits", True):
            return None
        if not (
            (activation == "softmax" and loss.labels in ("sparse", "onehot"))
            or (activation == "sigmoid" and loss.labels == "binary")
        ):
            return None
    return head


def plan(program: Program) -> Network:
    """Lay out the nn.Sequential entries for the spec's layers."""
    model = program.model
    assert program.train is not None
    net = Network(strip=fused_strip(program))
    keys = Keys(n.name for n in model.layers)
    images = isinstance(program.train.data, ImageFolder) or model.base is not None
    layout = "last"
    if len(model.input_shape) >= 2:
        first_want = next((w for w in map(wants, model.layers) if w), None)
        if images or first_want == "first":
            layout = "first"
    net.input_channels_first = layout == "first"

    def permute(to: str) -> None:
        name = "ChannelsFirst" if to == "first" else "ChannelsLast"
        net.helpers.add(name)
        net.entries.append(Entry(keys.fresh(f"to_channels_{to}"), name, []))

    for node in model.layers:
        need = wants(node)
        if need and need != layout:
            permute(need)
            layout = need
        emitter = EMITTERS[node.type]
        emitter(node, net, keys, layout)
        if node.type in ("Embedding", "SimpleRNN", "LSTM", "GRU", "Reshape") or len(node.out_shape) < 2:
            layout = "last"
    return net


def _activation(node: LayerNode, net: Network, keys: Keys, key: str | None = None) -> None:
    """The layer's activation as its own entry (none for linear, none when the loss absorbs it)."""
    name = node.layer.activation_name or "linear"
    if name == "linear" or net.strip is node:
        return
    expr = ACTIVATIONS[name]
    func, args = expr[: expr.index("(")], expr[expr.index("(") + 1 : -1]
    net.entries.append(Entry(key or keys.fresh(f"{node.name}_{name}"), func, [args] if args else []))


def emit_dense(node: LayerNode, net: Network, keys: Keys, layout: str) -> None:
    layer = node.layer
    args = [literal(node.in_shape[-1]), literal(layer.units)]  # type: ignore[attr-defined]
    if not layer.use_bias:  # type: ignore[attr-defined]
        args.append("bias=False")
    net.entries.append(Entry(node.name, "nn.Linear", args))
    _activation(node, net, keys)


def emit_conv(node: LayerNode, net: Network, keys: Keys, layout: str) -> None:
    layer = node.layer
    rank = len(node.in_shape) - 1
    kernel, strides = layer.kernel, layer.stride  # type: ignore[attr-defined]
    args = [literal(node.in_shape[-1]), literal(layer.filters), f"kernel_size={_size(kernel)}"]  # type: ignore[attr-defined]
    if any(s != 1 for s in strides):
        args.append(f"stride={_size(strides)}")
    if layer.padding == "same":  # type: ignore[attr-defined]
        if all(s == 1 for s in strides):
            args.append('padding="same"')
        else:
            pads = same_pads(node.in_shape[:-1], kernel, strides)
            if all(a == b for a, b in pads):
                args.append(f"padding={_size(tuple(a for a, _ in pads))}")
            else:
                # TensorFlow puts the odd padding pixel on the right/bottom; torch pads both sides
                # equally, so pad explicitly first.
                pad = f"nn.ZeroPad{rank}d"
                net.entries.append(
                    Entry(keys.fresh(f"{node.name}_pad"), pad, [literal(tuple(_pad_arg(pads)))])
                )
    if not layer.use_bias:  # type: ignore[attr-defined]
        args.append("bias=False")
    net.entries.append(Entry(node.name, f"nn.Conv{rank}d", args))
    _activation(node, net, keys)


def emit_pool(node: LayerNode, net: Network, keys: Keys, layout: str) -> None:
    layer = node.layer
    rank = len(node.in_shape) - 1
    pool, strides = layer.pool, layer.stride  # type: ignore[attr-defined]
    average = node.type.startswith("Average")
    func = f"nn.AvgPool{rank}d" if average else f"nn.MaxPool{rank}d"
    args = [_size(pool)]
    if strides != pool:
        args.append(f"stride={_size(strides)}")
    pads = same_pads(node.in_shape[:-1], pool, strides) if layer.padding == "same" else []  # type: ignore[attr-defined]
    if pads:
        if all(a == b for a, b in pads):
            if any(a for a, _ in pads):
                args.append(f"padding={_size(tuple(a for a, _ in pads))}")
        elif average:
            # Keras leaves padding out of each mean; with an odd pad pixel torch's AvgPool
            # cannot, so the helper divides by a pooled mask of the real pixels.
            net.helpers.add("SamePaddedAvgPool")
            pad_expr = f"nn.ZeroPad{rank}d({literal(tuple(_pad_arg(pads)))})"
            pool_args = ", ".join(args)
            net.entries.append(
                Entry(node.name, "SamePaddedAvgPool", [pad_expr, f"nn.AvgPool{rank}d({pool_args})"])
            )
            return
        else:
            # TensorFlow's odd padding pixel goes right/bottom; -inf never wins the max.
            pad = f"nn.ConstantPad{rank}d"
            net.entries.append(
                Entry(keys.fresh(f"{node.name}_pad"), pad, [literal(tuple(_pad_arg(pads))), 'float("-inf")'])
            )
    if average and any(a for a, _ in pads):
        # Keras averages over the real pixels only, never the padding.
        args.append("count_include_pad=False")
    net.entries.append(Entry(node.name, func, args))


def emit_global(node: LayerNode, net: Network, keys: Keys, layout: str) -> None:
    name = "GlobalAvgPool" if "Average" in node.type else "GlobalMaxPool"
    net.helpers.add(name)
    net.entries.append(Entry(node.name, name, []))


def emit_dropout(node: LayerNode, net: Network, keys: Keys, layout: str) -> None:
    net.entries.append(Entry(node.name, "nn.Dropout", [f"p={literal(node.layer.rate)}"]))  # type: ignore[attr-defined]


def emit_flatten(node: LayerNode, net: Network, keys: Keys, layout: str) -> None:
    net.entries.append(Entry(node.name, "nn.Flatten", []))


def emit_reshape(node: LayerNode, net: Network, keys: Keys, layout: str) -> None:
    shape = literal(tuple(node.out_shape))
    if len(node.in_shape) == 1:
        net.entries.append(Entry(node.name, "nn.Unflatten", ["1", shape]))
    else:
        net.helpers.add("Reshape")
        net.entries.append(Entry(node.name, "Reshape", [shape]))


def emit_activation(node: LayerNode, net: Network, keys: Keys, layout: str) -> None:
    if (node.layer.activation_name or "linear") == "linear":
        net.entries.append(Entry(node.name, "nn.Identity", []))
        return
    _activation(node, net, keys, key=node.name)


def emit_batchnorm(node: LayerNode, net: Network, keys: Keys, layout: str) -> None:
    rank = max(len(node.in_shape) - 1, 1)
    layer = node.layer
    # torch's momentum weighs the new batch, Keras's the old average: torch = 1 - Keras.
    momentum = round(1 - layer.momentum, 12)  # type: ignore[attr-defined]
    args = [literal(node.in_shape[-1]), f"eps={literal(layer.epsilon)}", f"momentum={literal(momentum)}"]  # type: ignore[attr-defined]
    net.helpers.add(f"KerasBatchNorm{rank}d")
    net.entries.append(Entry(node.name, f"KerasBatchNorm{rank}d", args))


def emit_layernorm(node: LayerNode, net: Network, keys: Keys, layout: str) -> None:
    args = [literal(node.in_shape[-1]), f"eps={literal(node.layer.epsilon)}"]  # type: ignore[attr-defined]
    net.entries.append(Entry(node.name, "nn.LayerNorm", args))


def emit_embedding(node: LayerNode, net: Network, keys: Keys, layout: str) -> None:
    layer = node.layer
    args = [literal(layer.input_dim), literal(layer.output_dim)]  # type: ignore[attr-defined]
    net.entries.append(Entry(node.name, "nn.Embedding", args))


def emit_recurrent(node: LayerNode, net: Network, keys: Keys, layout: str) -> None:
    cls = {"SimpleRNN": "nn.RNN", "LSTM": "nn.LSTM", "GRU": "nn.GRU"}[node.type]
    layer = node.layer
    inner = f"{cls}({literal(node.in_shape[-1])}, {literal(layer.units)}, batch_first=True)"  # type: ignore[attr-defined]
    if node.type != "GRU":
        net.helpers.add("OneBias")
        inner = f"one_bias({inner})"
    net.helpers.add("Recurrent")
    args = [inner, f"return_sequences={literal(layer.return_sequences)}"]  # type: ignore[attr-defined]
    net.entries.append(Entry(node.name, "Recurrent", args))


Emitter = Callable[[LayerNode, Network, Keys, str], None]

EMITTERS: dict[str, Emitter] = {
    "Dense": emit_dense,
    "Dropout": emit_dropout,
    "Flatten": emit_flatten,
    "Activation": emit_activation,
    "ReLU": emit_activation,
    "Sigmoid": emit_activation,
    "Tanh": emit_activation,
    "Softmax": emit_activation,
    "Reshape": emit_reshape,
    "Conv1D": emit_conv,
    "Conv2D": emit_conv,
    "MaxPooling1D": emit_pool,
    "MaxPooling2D": emit_pool,
    "AveragePooling1D": emit_pool,
    "AveragePooling2D": emit_pool,
    "GlobalAveragePooling1D": emit_global,
    "GlobalAveragePooling2D": emit_global,
    "GlobalMaxPooling1D": emit_global,
    "GlobalMaxPooling2D": emit_global,
    "BatchNormalization": emit_batchnorm,
    "LayerNormalization": emit_layernorm,
    "Embedding": emit_embedding,
    "SimpleRNN": emit_recurrent,
    "LSTM": emit_recurrent,
    "GRU": emit_recurrent,
}

# Layer types this target cannot express at all (none today; node-level limits are in check()).
UNSUPPORTED: dict[str, str] = {}


def _keras_batchnorm(rank: int) -> str:
    """`KerasBatchNorm{rank}d`: nn.BatchNorm whose moving variance follows Keras's update."""
    return f'''\
class KerasBatchNorm{rank}d(nn.BatchNorm{rank}d):
    """nn.BatchNorm{rank}d whose moving variance averages the biased variance, as Keras."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        previous = self.running_var.clone()
        outputs = super().forward(x)
        count = x.numel() // x.shape[1]
        with torch.no_grad():
            # torch averaged in the unbiased var * n / (n - 1): scale that share back.
            # A new tensor, not an in-place edit: backward needs the one torch used.
            kept = (1 - self.momentum) * previous
            share = (self.running_var - kept) * (count - 1) / count
            self.running_var = kept + share
        return outputs
'''


HELPERS: dict[str, str] = {
    "ChannelsFirst": '''\
class ChannelsFirst(nn.Module):
    """(N, ..., C) -> (N, C, ...): channels where torch's conv and pooling want them."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.movedim(-1, 1)
''',
    "ChannelsLast": '''\
class ChannelsLast(nn.Module):
    """(N, C, ...) -> (N, ..., C): the spec's channels-last order, for Flatten."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.movedim(1, -1)
''',
    "GlobalAvgPool": '''\
class GlobalAvgPool(nn.Module):
    """The mean over every spatial axis of (N, C, ...): one value per channel."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).mean(dim=2)
''',
    "GlobalMaxPool": '''\
class GlobalMaxPool(nn.Module):
    """The maximum over every spatial axis of (N, C, ...): one value per channel."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).amax(dim=2)
''',
    "SamePaddedAvgPool": '''\
class SamePaddedAvgPool(nn.Module):
    """Average pooling after an uneven zero pad, leaving the pad out of each mean."""

    def __init__(self, pad: nn.Module, pool: nn.Module) -> None:
        super().__init__()
        self.pad, self.pool = pad, pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        real = torch.ones_like(x[:1, :1])  # 1 where a pixel is real, 0 in the padding
        return self.pool(self.pad(x)) / self.pool(self.pad(real))
''',
    **{f"KerasBatchNorm{rank}d": _keras_batchnorm(rank) for rank in (1, 2, 3)},
    "Reshape": '''\
class Reshape(nn.Module):
    """Reshapes each example (channels-last order), keeping the batch axis."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)
''',
    "OneBias": '''\
class Zeros(nn.Module):
    """A parametrization that makes a parameter read as zeros (and get no gradient)."""

    def forward(self, parameter: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(parameter)


def one_bias(rnn: nn.RNNBase) -> nn.RNNBase:
    """Pin torch's second RNN/LSTM bias at zero: the first is then Keras's one bias."""
    # Two biases that both train would move their sum at twice the rate of Keras's one.
    parametrize.register_parametrization(rnn, "bias_hh_l0", Zeros())
    return rnn
''',
    "Recurrent": '''\
class Recurrent(nn.Module):
    """A batch-first RNN/LSTM/GRU returning every step, or only the last (as Keras)."""

    def __init__(self, rnn: nn.RNNBase, return_sequences: bool) -> None:
        super().__init__()
        self.rnn = rnn
        self.return_sequences = return_sequences

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.rnn(x)
        return outputs if self.return_sequences else outputs[:, -1]
''',
}


# --------------------------------------------------------------------------------------------
# Checks


def check(program: Program) -> list[Diagnostic]:
    """Compile errors for the torch target: the common ones plus what torch cannot express."""
    problems = common_checks(program, TARGET, BACKBONES, UNSUPPORTED)
    if problems or program.train is None:
        return problems
    out = Collector(program.file)
    for node in program.model.layers:
        if node.name in RESERVED:
            out.add(
                "SPC302",
                f"the layer name `{node.name}` is an attribute of torch's nn.Sequential",
                node.span,
                help="rename the layer",
            )
        if node.type == "BatchNormalization" and len(node.in_shape) > 4:
            out.add(
                "SPC302",
                "BatchNormalization over more than 3 spatial axes cannot be compiled for torch",
                node.span,
            )
    return out.items


# --------------------------------------------------------------------------------------------
# The program text


@dataclass
class Facts:
    """What the pieces of the program need to agree on."""

    program: Program
    net: Network
    classes: int
    labels: str  # sparse / onehot / binary / real (the first phase's loss decides the data)
    images: bool  # image_folder data (a DataLoader) rather than in-memory tensors
    freezing: bool  # some phase trains only part of the model
    batchnorm: bool  # a BatchNorm that may be frozen exists
    penalties: list[tuple[str, str, float, float]]
    multi: bool  # more than one phase
    distinct_losses: list[tuple[Loss, list[Phase]]]
    distinct_optimizers: list[tuple[Optimizer, list[Phase]]]
    metrics: set[str]


def _group(items: Iterable[tuple[object, Phase]]) -> list:
    """Phases grouped by equal values, in first-seen order."""
    groups: list[tuple[object, list[Phase]]] = []
    for value, phase in items:
        for seen, phases in groups:
            if seen == value and type(seen) is type(value):
                phases.append(phase)
                break
        else:
            groups.append((value, [phase]))
    return groups


def facts(program: Program) -> Facts:
    """Gather the decisions the emitter makes once."""
    assert program.train is not None
    model, train = program.model, program.train
    net = plan(program)
    weighted = frozenset(n.name for n in model.layers if n.layer.has_weights)
    freezing = any(
        p.trainable != weighted or (model.base is not None and p.base is not None) for p in train.phases
    )
    batchnorm = any(n.type == "BatchNormalization" for n in model.layers) or (
        model.base is not None and model.base.name in BATCHNORM_BACKBONES
    )
    penalties = []
    for node in model.layers:
        for attr, tensor in (("kernel_regularizer", "weight"), ("bias_regularizer", "bias")):
            reg = getattr(node.layer, attr, None)
            if reg is not None:
                l1, l2 = reg.factors()
                if l1 or l2:
                    penalties.append((node.name, tensor, l1, l2))
    labels = train.phases[0].loss.labels
    classes = model.output_shape[-1] if labels in ("sparse", "onehot") else 2
    return Facts(
        program,
        net,
        classes,
        labels,
        isinstance(train.data, ImageFolder),
        freezing,
        batchnorm and freezing,
        penalties,
        len(train.phases) > 1,
        _group((p.loss, p) for p in train.phases),
        _group((p.optimizer, p) for p in train.phases),
        {m for p in train.phases for m in p.metrics},
    )


def _model_path(f: Facts) -> str:
    """How code reaches the spec's layers: `model` itself, or `model.head` behind a backbone."""
    return "model.head" if f.program.model.base else "model"


def emit_constants(f: Facts, data: shared.Snippet | None) -> str:
    """Module-level constants: data shape facts, then the phases of training."""
    train = f.program.train
    assert train is not None
    out = data.constants if data else ""
    if f.images:
        source = train.data
        size = tuple(source.image_size) if source.image_size else tuple(f.program.model.input_shape[:2])  # type: ignore[attr-defined]
        out += f"IMAGE_SIZE = {literal(size)}\n"
        out += f"VALIDATION_SPLIT = {literal(float(source.validation_split))}\n"
        out += f"CLASSES = {literal(f.classes)}\n"
        if f.program.model.base:
            out += "# The ImageNet statistics torchvision's pretrained backbones were trained with.\n"
            out += "IMAGENET_MEAN = (0.485, 0.456, 0.406)\nIMAGENET_STD = (0.229, 0.224, 0.225)\n"
    out += "\n\n" + emit_phase_class(f) + "\n\n"
    out += "# Training runs in phases: the train block (`main`), then each stage in order.\n"
    rows = []
    for phase in train.phases:
        args = [
            literal(phase.name),
            f"epochs={literal(phase.epochs)}",
            f"batch_size={literal(phase.batch_size)}",
            f"metrics={literal(tuple(phase.metrics))}",
        ]
        if f.freezing:
            order = [n.name for n in f.program.model.layers if n.name in phase.trainable]
            args.append(f"trainable={literal(tuple(order))}")
            if f.program.model.base is not None:
                args.append(f"base_layers={literal(phase.base)}")
        if f.multi:
            args.append(f"new_optimizer={literal(phase.rebuild)}")
        rows.append(args)
    one = "PHASES = [" + ", ".join(f"Phase({', '.join(args)})" for args in rows) + "]"
    if len(one) <= LINE:
        return out + one + "\n"
    return out + "PHASES = [\n" + "".join(call("", "Phase", args, 4, ",") for args in rows) + "]\n"


def _split_args(text: str) -> list[str]:
    """The top-level arguments of `Func(a, b=(1, 2), ...)`."""
    inner = text[text.index("(") + 1 : -1]
    parts, depth, start, quote = [], 0, 0, ""
    for i, ch in enumerate(inner):
        if quote:
            if ch == quote and inner[i - 1] != "\\":
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:i].strip())
            start = i + 1
    parts.append(inner[start:].strip())
    return [p for p in parts if p]


def emit_phase_class(f: Facts) -> str:
    """The Phase dataclass, with only the fields this program uses."""
    lines = [
        "@dataclass(frozen=True)",
        "class Phase:",
        '    """One phase of training: the train block or a stage, with its own settings."""',
        "",
        "    name: str",
        "    epochs: int",
        "    batch_size: int",
        "    metrics: tuple[str, ...]",
    ]
    if f.freezing:
        lines.append("    trainable: tuple[str, ...]  # the layers whose weights train")
        if f.program.model.base is not None:
            lines.append("    base_layers: int | None  # backbone layers that train: None = all, 0 = none")
    if f.multi:
        lines.append("    new_optimizer: bool  # build a fresh optimizer when the phase starts")
    return "\n".join(lines) + "\n"


def emit_backbone(f: Facts) -> str:
    """`build_backbone(...)`: a torchvision network without its classifier."""
    base = f.program.model.base
    assert base is not None
    name = base.name
    enum, cut = BACKBONES[name]
    constructor = base.backbone.info.builds[TARGET].constructor
    weights = base.backbone.weights
    keep = (
        "    # Drop the average pooling and the classifier, keeping the last feature map.\n"
        "    return nn.Sequential(*list(network.children())[:-2])\n"
        if cut == "children"
        else "    return network.features  # the convolutional part, without pooling and classifier\n"
    )
    doc = f'    """torchvision\'s {name} without its classifier: the last feature map."""\n'
    if weights is None:
        return (
            "def build_backbone() -> nn.Module:\n"
            + doc
            + f"    network = models.{constructor}(weights=None)  # the spec asks for random weights\n"
            + keep
        )
    if weights == "imagenet":
        return (
            "def build_backbone(pretrained: bool) -> nn.Module:\n"
            + doc
            + f"    weights = models.{enum}.DEFAULT if pretrained else None\n"
            + "    try:\n"
            + f"        network = models.{constructor}(weights=weights)\n"
            + "    except OSError as error:  # offline: torchvision could not download the weights\n"
            + "        raise SystemExit(\n"
            + f'            f"error: could not download the {name} weights ({{error}}); "\n'
            + '            "run with --no-pretrained to start from random weights"\n'
            + "        ) from error\n"
            + keep
        )
    return (
        "def build_backbone(pretrained: bool, data_dir: Path) -> nn.Module:\n"
        + doc
        + f"    network = models.{constructor}(weights=None)\n"
        + "    if pretrained:\n"
        + f"        path = data_dir / {literal(weights)}\n"
        + shared.inside_check("path", "        ")
        + "        network.load_state_dict(read_weights(path))\n"
        + keep
    )


READ_WEIGHTS = '''\
def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from .safetensors or a tensors-only torch file (never a pickle)."""
    if not path.is_file():
        raise SystemExit(f"error: weights file not found: {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(path, device="cpu")
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - a pickle with code in it, or not weights at all
        raise SystemExit(
            f"error: refused to load {path}: it is not a tensors-only weights file "
            f"({type(error).__name__}); save a state_dict or a .safetensors file"
        ) from None
'''


def _build_model_signature(f: Facts) -> tuple[str, str]:
    """(parameters, call arguments) of build_model, which depend on the backbone's weights."""
    base = f.program.model.base
    if base is None or base.backbone.weights is None:
        return "", ""
    if base.backbone.weights == "imagenet":
        return "pretrained: bool", "pretrained"
    return "pretrained: bool, data_dir: Path", "pretrained, data_dir"


def emit_init(f: Facts) -> str:
    """`init_weights(module)`: Keras's initialisers for the layer types present."""
    types = {n.type for n in f.program.model.layers}
    kernels = [
        t for t, c in (("Dense", "nn.Linear"), ("Conv1D", "nn.Conv1d"), ("Conv2D", "nn.Conv2d")) if t in types
    ]
    classes = {"Dense": "nn.Linear", "Conv1D": "nn.Conv1d", "Conv2D": "nn.Conv2d"}
    rnns = [c for t, c in (("SimpleRNN", "nn.RNN"), ("LSTM", "nn.LSTM"), ("GRU", "nn.GRU")) if t in types]
    branches: list[str] = []
    if kernels:
        names = [classes[t] for t in kernels]
        kinds = names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"
        branches.append(
            f"isinstance(module, {kinds}):\n"
            "        nn.init.xavier_uniform_(module.weight)\n"
            "        if module.bias is not None:\n"
            "            nn.init.zeros_(module.bias)\n"
        )
    if "Embedding" in types:
        branches.append(
            "isinstance(module, nn.Embedding):\n        nn.init.uniform_(module.weight, -0.05, 0.05)\n"
        )
    if rnns:
        kinds = rnns[0] if len(rnns) == 1 else "(" + ", ".join(rnns) + ")"
        body = (
            f"isinstance(module, {kinds}):\n"
            "        for name, parameter in module.named_parameters():\n"
            '            if name.startswith("weight_ih"):\n'
            "                nn.init.xavier_uniform_(parameter)\n"
            '            elif name.startswith("weight_hh"):\n'
            "                nn.init.orthogonal_(parameter)\n"
            "            else:\n"
            "                nn.init.zeros_(parameter)\n"
        )
        if "nn.LSTM" in rnns:
            body += (
                "        if isinstance(module, nn.LSTM):\n"
                "            # Keras's unit_forget_bias: forget gate (torch order i, f, g, o) at 1.\n"
                "            units = module.hidden_size\n"
                "            nn.init.ones_(module.bias_ih_l0[units : 2 * units])\n"
            )
        branches.append(body)
    if not branches:
        return ""
    text = (
        "def init_weights(module: nn.Module) -> None:\n"
        '    """Keras\'s initialisation, as the spec means: glorot_uniform kernels, zero bias."""\n'
    )
    for i, branch in enumerate(branches):
        text += ("    if " if i == 0 else "    elif ") + branch
    return text


def emit_build_model(f: Facts) -> str:
    """`build_model(...)`: the nn.Sequential of the spec's layers (behind the backbone, if any)."""
    model = f.program.model
    params, _ = _build_model_signature(f)
    has_init = bool(emit_init(f))
    lines = [f"def build_model({params}) -> nn.Sequential:"]
    doc = '    """The spec\'s network; each child module is named after its layer in the spec."""'
    lines.append(doc)
    lines.append("    layers = OrderedDict()")
    for entry in f.net.entries:
        if entry.comment:
            lines.append(f"    # {entry.comment}")
        lines.append(call(f"layers[{literal(entry.key)}] = ", entry.func, entry.args, 4).rstrip("\n"))
    if f.net.strip is not None:
        activation = f.net.strip.layer.activation_name
        lines.append(
            f"    # The loss takes logits and applies the final {activation} itself (fused, stable)."
        )
    target = "head" if model.base else "model"
    lines.append(f"    {target} = nn.Sequential(layers)")
    if has_init:
        lines.append(f"    {target}.apply(init_weights)")
    if model.base:
        _, call_args = _build_model_signature(f)
        ret = f"    return nn.Sequential(OrderedDict(base=build_backbone({call_args}), head=head))"
        if len(ret) > shared.LINE:  # as ruff format wraps it (a weights file adds data_dir)
            ret = (
                "    return nn.Sequential(\n"
                f"        OrderedDict(base=build_backbone({call_args}), head=head)\n"
                "    )"
            )
        lines.append(ret)
    else:
        lines.append("    return model")
    return "\n".join(lines) + "\n"


def emit_freezing(f: Facts) -> str:
    """`set_trainable(model, phase)` and, with BatchNorm, `keep_frozen_batchnorm_in_eval(model)`."""
    if not f.freezing:
        return ""
    path = _model_path(f)
    text = (
        "def set_trainable(model: nn.Sequential, phase: Phase) -> None:\n"
        '    """Freeze everything, then unfreeze what trains in this phase."""\n'
        "    model.requires_grad_(False)\n"
        "    for name in phase.trainable:\n"
        f"        {path}.get_submodule(name).requires_grad_(True)\n"
    )
    if f.program.model.base is not None:
        text += (
            "    if phase.base_layers is None:\n"
            "        model.base.requires_grad_(True)\n"
            "    else:\n"
            "        # base.last(N): the last N modules of the backbone that hold weights.\n"
            "        layers = [m for m in model.base.modules() if has_own_weights(m)]\n"
            "        for module in layers[len(layers) - phase.base_layers :]:\n"
            "            module.requires_grad_(True)\n"
            "\n\n"
            "def has_own_weights(module: nn.Module) -> bool:\n"
            '    """Whether a module is a leaf that holds parameters (a conv, a norm, a linear)."""\n'
            "    has_children = next(module.children(), None) is not None\n"
            "    return not has_children and next(module.parameters(), None) is not None\n"
        )
    if f.batchnorm:
        text += (
            "\n\n"
            "def keep_frozen_batchnorm_in_eval(model: nn.Module) -> None:\n"
            '    """Frozen BatchNorm layers use, and keep, their moving statistics (as Keras)."""\n'
            "    for module in model.modules():\n"
            "        batchnorm = isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d))\n"
            "        if batchnorm and not module.weight.requires_grad:\n"
            "            module.eval()\n"
        )
    return text


def _fused(f: Facts, loss: Loss) -> bool:
    """Whether a loss takes the model's raw outputs as logits (fused) rather than probabilities."""
    return bool(getattr(loss, "from_logits", False)) or f.net.strip is not None


def loss_expr(f: Facts, loss: Loss) -> tuple[str, set[str], str]:
    """(constructor expression, helper classes, a one-line description) for one loss."""
    name = type(loss).call_name
    smoothing = float(getattr(loss, "label_smoothing", 0.0))
    if name == "mse":
        return "nn.MSELoss()", set(), "mean squared error"
    if name == "mae":
        return "nn.L1Loss()", set(), "mean absolute error"
    if name == "huber":
        return f"nn.HuberLoss(delta={literal(loss.delta)})", set(), "Huber loss"  # type: ignore[attr-defined]
    fused = _fused(f, loss)
    if loss.labels in ("sparse", "onehot"):
        if fused:
            arg = f"label_smoothing={literal(smoothing)}" if smoothing else ""
            if loss.labels == "onehot":
                # Against class ids torch computes exactly the one-hot (and smoothed one-hot)
                # form, without building the one-hot tensor.
                what = "categorical cross-entropy on logits (class ids = one-hot)"
            else:
                what = "sparse categorical cross-entropy on logits"
            return f"nn.CrossEntropyLoss({arg})", set(), what
        arg = f"label_smoothing={literal(smoothing)}" if smoothing else ""
        return (
            f"ProbabilityCrossEntropy({arg})",
            {"ProbabilityCrossEntropy"},
            "cross-entropy on probabilities",
        )
    if fused:
        arg = f"label_smoothing={literal(smoothing)}" if smoothing else ""
        return f"BinaryCrossEntropy({arg})", {"BinaryCrossEntropy"}, "binary cross-entropy on logits"
    arg = f"label_smoothing={literal(smoothing)}" if smoothing else ""
    return (
        f"ProbabilityBinaryCrossEntropy({arg})",
        {"ProbabilityBinaryCrossEntropy"},
        "binary cross-entropy on probabilities",
    )


LOSS_HELPERS = {
    "BinaryCrossEntropy": '''\
class BinaryCrossEntropy(nn.BCEWithLogitsLoss):
    """Binary cross-entropy on logits (the sigmoid fused in) against 0/1 class ids."""

    def __init__(self, label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.label_smoothing = label_smoothing

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        targets = labels.to(logits.dtype).unsqueeze(-1)
        targets = targets * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        return super().forward(logits, targets)
''',
    "ProbabilityBinaryCrossEntropy": '''\
class ProbabilityBinaryCrossEntropy(nn.Module):
    """Keras's binary cross-entropy on probabilities: clip to [1e-7, 1 - 1e-7], then BCE."""

    def __init__(self, label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.label_smoothing = label_smoothing

    def forward(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        targets = labels.to(outputs.dtype).unsqueeze(-1)
        targets = targets * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        clipped = outputs.clamp(1e-7, 1 - 1e-7)
        return F.binary_cross_entropy(clipped, targets)
''',
    "ProbabilityCrossEntropy": '''\
class ProbabilityCrossEntropy(nn.Module):
    """Keras's cross-entropy on probabilities: normalise, clip, -sum(y log p)."""

    def __init__(self, label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.label_smoothing = label_smoothing

    def forward(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        probabilities = outputs / outputs.sum(dim=-1, keepdim=True)
        log_p = probabilities.clamp(1e-7, 1 - 1e-7).log()
        classes = probabilities.shape[-1]
        targets = F.one_hot(labels, classes).to(log_p.dtype)
        targets = targets * (1 - self.label_smoothing) + self.label_smoothing / classes
        return -(targets * log_p).sum(dim=-1).mean()
''',
}


def emit_build_loss(f: Facts) -> tuple[str, set[str]]:
    """`build_loss([phase])` and the helper loss classes it uses."""
    helpers: set[str] = set()
    groups = f.distinct_losses
    if len(groups) == 1:
        expr, used, what = loss_expr(f, groups[0][0])  # type: ignore[arg-type]
        helpers |= used
        text = f'def build_loss() -> nn.Module:\n    """The training loss: {what}."""\n    return {expr}\n'
        return text, helpers
    text = 'def build_loss(phase: Phase) -> nn.Module:\n    """The training loss of a phase."""\n'
    default = groups[0]
    for loss, phases in groups[1:]:
        expr, used, what = loss_expr(f, loss)  # type: ignore[arg-type]
        helpers |= used
        names = [literal(p.name) for p in phases]
        cond = f"phase.name == {names[0]}" if len(names) == 1 else f"phase.name in ({', '.join(names)},)"
        text += f"    if {cond}:  # {what}\n" + call("return ", expr[: expr.index("(")], _split_args(expr), 8)
    expr, used, what = loss_expr(f, default[0])  # type: ignore[arg-type]
    helpers |= used
    text += f"    return {expr}  # {what}\n"
    return text, helpers


def optimizer_args(optimizer: Optimizer) -> tuple[str, list[str]]:
    """(torch.optim class, arguments): every hyperparameter written out in torch's names."""
    name = type(optimizer).call_name
    o = optimizer
    args = ["parameters", f"lr={literal(o.learning_rate)}"]
    if name == "SGD":
        args += [f"momentum={literal(o.momentum)}", f"nesterov={literal(o.nesterov)}"]  # type: ignore[attr-defined]
    elif name in ("Adam", "AdamW"):
        args += [f"betas=({literal(o.beta_1)}, {literal(o.beta_2)})", f"eps={literal(o.epsilon)}"]  # type: ignore[attr-defined]
    elif name == "RMSprop":
        # Keras's rho is torch's alpha; Keras adds eps inside the square root, torch outside.
        args += [f"alpha={literal(o.rho)}", f"eps={literal(o.epsilon)}", f"momentum={literal(o.momentum)}"]  # type: ignore[attr-defined]
    args.append(f"weight_decay={literal(o.weight_decay)}")
    return f"torch.optim.{name}", args


def emit_build_optimizer(f: Facts) -> str:
    """`build_optimizer([phase, ]parameters)`: torch.optim with the spec's hyperparameters."""
    groups = f.distinct_optimizers
    note = (
        "    # weight_decay: coupled L2 (grad += wd * w) for SGD/Adam/RMSprop; AdamW decouples.\n"
        if any(o.weight_decay for o, _ in groups)  # type: ignore[attr-defined]
        else ""
    )
    if len(groups) == 1:
        cls, args = optimizer_args(groups[0][0])  # type: ignore[arg-type]
        return (
            "def build_optimizer(parameters: list[nn.Parameter]) -> torch.optim.Optimizer:\n"
            '    """The optimizer over the parameters that train, every hyperparameter explicit."""\n'
            + note
            + call("return ", cls, args, 4)
        )
    text = (
        "def build_optimizer(\n"
        "    phase: Phase, parameters: list[nn.Parameter]\n"
        ") -> torch.optim.Optimizer:\n"
        '    """The optimizer of a phase over the parameters that train in it."""\n' + note
    )
    for optimizer, phases in groups[1:]:
        cls, args = optimizer_args(optimizer)  # type: ignore[arg-type]
        names = [literal(p.name) for p in phases]
        cond = f"phase.name == {names[0]}" if len(names) == 1 else f"phase.name in ({', '.join(names)},)"
        text += f"    if {cond}:\n" + call("return ", cls, args, 8)
    cls, args = optimizer_args(groups[0][0])  # type: ignore[arg-type]
    text += call("return ", cls, args, 4)
    return text


def _coupled_decay(f: Facts) -> bool:
    """Whether some phase has the spec's coupled weight_decay (SGD/Adam/RMSprop, not AdamW)."""
    return any(o.weight_decay and not o.decoupled for o, _ in f.distinct_optimizers)  # type: ignore[attr-defined]


def emit_weight_decay_term(f: Facts) -> str:
    """`weight_decay_term(optimizer)`: the L2 term whose gradient coupled weight decay adds."""
    if not _coupled_decay(f):
        return ""
    adamw = any(o.decoupled for o, _ in f.distinct_optimizers)  # type: ignore[attr-defined]
    return (
        "@torch.no_grad()\n"
        "def weight_decay_term(optimizer: torch.optim.Optimizer) -> torch.Tensor | float:\n"
        '    """(weight_decay / 2) * sum(w ** 2): torch adds its gradient, weight_decay * w."""\n'
        + (
            "    if isinstance(optimizer, torch.optim.AdamW):\n"
            "        return 0.0  # decoupled: not part of any loss\n"
            if adamw
            else ""
        )
        + "    total = 0.0\n"
        "    for group in optimizer.param_groups:\n"
        '        for parameter in group["params"]:\n'
        '            total = total + group["weight_decay"] / 2 * parameter.square().sum()\n'
        "    return total\n"
    )


def emit_regularization(f: Facts) -> str:
    """`regularization(model)`: the spec's L1/L2 penalties on the weights that train."""
    if not f.penalties:
        return ""
    items = [
        f"({literal(a)}, {literal(b)}, {literal(float(c))}, {literal(float(d))})"
        for a, b, c, d in f.penalties
    ]
    text = "# Keras-style weight penalties (layer, weight, l1, l2), added to the training loss.\n"
    text += collection("PENALTIES = ", items, 0)
    path = _model_path(f)
    text += (
        "\n\n"
        "def regularization(model: nn.Module) -> torch.Tensor:\n"
        '    """l1 * sum(|w|) + l2 * sum(w ** 2) over the penalised weights that train."""\n'
        "    total = torch.zeros((), device=next(model.parameters()).device)\n"
        "    for layer, weight, l1, l2 in PENALTIES:\n"
        f"        tensor = {path}.get_submodule(layer).get_parameter(weight)\n"
        "        if tensor.requires_grad:\n"
        "            total = total + l1 * tensor.abs().sum() + l2 * tensor.square().sum()\n"
        "    return total\n"
    )
    return text


def emit_metrics(f: Facts) -> str:
    """`metric_sums(outputs, labels, metrics)`: per-batch sums of the metrics the phases ask for."""
    if not f.metrics:
        return ""
    stripped = f.net.strip is not None
    lines = [
        "def metric_sums(",
        "    outputs: torch.Tensor, labels: torch.Tensor, metrics: tuple[str, ...]",
        ") -> dict[str, torch.Tensor]:",
        '    """Sums over the batch of each metric (divided by the example count at the end)."""',
        "    outputs = outputs.float()",
        "    sums = {}",
    ]
    labels = f.labels
    fused_any = any(_fused(f, p.loss) for p in f.program.train.phases)  # type: ignore[union-attr]
    if labels in ("sparse", "onehot"):
        if "accuracy" in f.metrics:
            lines += [
                '    if "accuracy" in metrics:',
                '        sums["accuracy"] = (outputs.argmax(dim=-1) == labels).sum()',
            ]
        if {"mae", "mse"} & f.metrics:
            if stripped:
                lines.append("    probabilities = torch.softmax(outputs, dim=-1)  # the model returns logits")
            else:
                lines.append("    probabilities = outputs")
            lines.append("    targets = F.one_hot(labels, probabilities.shape[-1]).float()")
            lines.append("    errors = probabilities - targets")
    elif labels == "binary":
        threshold = "0.0" if fused_any else "0.5"
        if "accuracy" in f.metrics:
            comment = "  # logits: 0 is probability 0.5" if fused_any else ""
            lines += [
                '    if "accuracy" in metrics:',
                f"        predicted = outputs.squeeze(-1) > {threshold}{comment}",
                '        sums["accuracy"] = (predicted == labels.bool()).sum()',
            ]
        if {"mae", "mse"} & f.metrics:
            if stripped:
                lines.append("    probabilities = torch.sigmoid(outputs)  # the model returns logits")
            else:
                lines.append("    probabilities = outputs")
            lines.append("    errors = probabilities - labels.float().unsqueeze(-1)")
    else:
        if "accuracy" in f.metrics:
            lines += [
                '    if "accuracy" in metrics:',
                "        exact = (outputs == labels).float().flatten(1).mean(dim=1)",
                '        sums["accuracy"] = exact.sum()',
            ]
        if {"mae", "mse"} & f.metrics:
            lines.append("    errors = outputs - labels")
    if "mae" in f.metrics:
        lines += [
            '    if "mae" in metrics:',
            '        sums["mae"] = errors.abs().flatten(1).mean(dim=1).sum()',
        ]
    if "mse" in f.metrics:
        lines += [
            '    if "mse" in metrics:',
            '        sums["mse"] = errors.square().flatten(1).mean(dim=1).sum()',
        ]
    lines.append("    return sums")
    return "\n".join(lines) + "\n"


def emit_data(f: Facts) -> tuple[str, shared.Snippet | None, set[str]]:
    """The data part: shared numpy loading plus tensors on the device, or an ImageFolder."""
    program = f.program
    imports: set[str] = set()
    if not f.images:
        snippet = shared.data(program)
        imports |= snippet.imports
        move = (
            "    # Images run channels-first (N, C, H, W) in torch: permute once, here.\n"
            "    inputs = torch.from_numpy(features).movedim(-1, 1).contiguous()\n"
            if f.net.input_channels_first
            else "    inputs = torch.from_numpy(features)\n"
        )
        text = snippet.code + (
            "\n\n"
            "def as_tensors(\n"
            "    features: np.ndarray, labels: np.ndarray, device: torch.device\n"
            ") -> tuple[torch.Tensor, torch.Tensor]:\n"
            '    """A split as tensors on the device, so batches are taken by indexing."""\n'
            + move
            + "    return inputs.to(device), torch.from_numpy(labels).to(device)\n"
            "\n\n"
            "class Batches:\n"
            '    """Mini-batches of tensors already on the device (no per-example Python work)."""\n'
            "\n"
            "    def __init__(\n"
            "        self,\n"
            "        split: tuple[torch.Tensor, torch.Tensor],\n"
            "        batch_size: int,\n"
            "        generator: torch.Generator | None = None,\n"
            "    ) -> None:\n"
            "        self.inputs, self.labels = split\n"
            "        self.batch_size = batch_size\n"
            "        self.generator = generator  # shuffle every epoch when given\n"
            "\n"
            "    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:\n"
            "        count = len(self.inputs)\n"
            "        if self.generator is None:\n"
            "            for start in range(0, count, self.batch_size):\n"
            "                end = start + self.batch_size\n"
            "                yield self.inputs[start:end], self.labels[start:end]\n"
            "            return\n"
            "        order = torch.randperm(count, generator=self.generator)\n"
            "        order = order.to(self.inputs.device)\n"
            "        for start in range(0, count, self.batch_size):\n"
            "            index = order[start : start + self.batch_size]\n"
            "            yield self.inputs[index], self.labels[index]\n"
        )
        imports |= {"from collections.abc import Iterator", "import numpy as np"}
        return text, snippet, imports
    source = program.train.data  # type: ignore[union-attr]
    steps = ["transforms.Resize(IMAGE_SIZE)"]
    if program.model.input_shape[-1] == 1:
        steps.insert(0, "transforms.Grayscale(num_output_channels=1)")
    steps.append("transforms.ToTensor()")
    if program.model.base:
        steps.append("transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)")
    compose = call("transform = ", "transforms.Compose", ["[" + ", ".join(steps) + "]"], 4)
    if len(compose.splitlines()[0]) > LINE or len(compose.splitlines()) > 1:
        compose = "    transform = transforms.Compose(\n        [\n" + "".join(
            f"            {s},\n" for s in steps
        )
        compose += "        ]\n    )\n"
    text = (
        "def load_images(data_dir: Path, seed: int) -> tuple[Subset, Subset]:\n"
        '    """(training, validation) subsets: the last images of a seeded shuffle validate."""\n'
        f"    root = data_dir / {literal(source.path)}\n"  # type: ignore[attr-defined]
        + shared.inside_check("root")
        + "    if not root.is_dir():\n"
        '        raise SystemExit(f"error: image folder not found: {root}")\n'
        + compose
        + "    dataset = datasets.ImageFolder(root, transform=transform)\n"
        "    if len(dataset.classes) != CLASSES:\n"
        "        raise SystemExit(\n"
        '            f"error: {root} has {len(dataset.classes)} classes, the model {CLASSES}"\n'
        "        )\n"
        "    order = np.random.default_rng(seed).permutation(len(dataset)).tolist()\n"
        "    n_val = round(len(order) * VALIDATION_SPLIT)\n"
        "    train, val = order[: len(order) - n_val], order[len(order) - n_val :]\n"
        "    return Subset(dataset, train), Subset(dataset, val)\n"
        "\n\n"
        "def image_batches(\n"
        "    split: Subset, batch_size: int, generator: torch.Generator | None = None\n"
        ") -> DataLoader:\n"
        '    """Batches of decoded images; worker processes decode while the model trains."""\n'
        "    return DataLoader(\n"
        "        split,\n"
        "        batch_size=batch_size,\n"
        "        shuffle=generator is not None,\n"
        "        generator=generator,\n"
        "        num_workers=2,\n"
        "        pin_memory=torch.cuda.is_available(),\n"
        "    )\n"
    )
    imports |= {
        "import numpy as np",
        "from pathlib import Path",
        "from torch.utils.data import DataLoader, Subset",
        "from torchvision import datasets, transforms",
    }
    return text, None, imports


def emit_training(f: Facts) -> str:
    """train_one_epoch, evaluate, and the loop over phases."""
    program = f.program
    metrics = bool(f.metrics)
    move = (
        "        inputs = inputs.to(device, non_blocking=True)\n"
        "        labels = labels.to(device, non_blocking=True)\n"
        if f.images
        else ""
    )
    device_param = "    device: torch.device,\n" if f.images else ""
    step = (
        "def train_one_epoch(\n"
        "    model: nn.Module,\n"
        "    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],\n"
        "    loss_fn: nn.Module,\n"
        "    optimizer: torch.optim.Optimizer,\n"
        "    scaler: torch.amp.GradScaler,\n"
        + device_param
        + "    dtype: torch.dtype,\n"
        + ("    metrics: tuple[str, ...],\n" if metrics else "")
        + "    max_steps: int | None,\n"
        ") -> dict[str, float]:\n"
        '    """One pass over the training batches: mean loss and metrics over the examples."""\n'
        "    model.train()\n"
        + ("    keep_frozen_batchnorm_in_eval(model)\n" if f.batchnorm else "")
        + "    sums: dict[str, torch.Tensor] = {}\n"
        "    seen = 0\n"
        "    for step, (inputs, labels) in enumerate(batches):\n"
        "        if step == max_steps:\n"
        "            break\n"
        + move
        + "        with torch.autocast(inputs.device.type, dtype, enabled=dtype != torch.float32):\n"
        "            outputs = model(inputs)\n"
        "            loss = loss_fn(outputs, labels)\n"
        + ("        loss = loss + regularization(model)\n" if f.penalties else "")
        + (
            "        # Report the loss coupled weight decay minimises, as Keras does.\n"
            "        reported = loss.detach() + weight_decay_term(optimizer)\n"
            if _coupled_decay(f)
            else ""
        )
        + "        optimizer.zero_grad(set_to_none=True)\n"
        "        scaler.scale(loss).backward()\n"
        "        scaler.step(optimizer)\n"
        "        scaler.update()\n"
        "        # Sums stay on the device: no synchronisation until the epoch ends.\n"
        + (
            '        sums["loss"] = sums.get("loss", 0) + reported * len(labels)\n'
            if _coupled_decay(f)
            else '        sums["loss"] = sums.get("loss", 0) + loss.detach() * len(labels)\n'
        )
        + (
            "        for name, value in metric_sums(outputs.detach(), labels, metrics).items():\n"
            "            sums[name] = sums.get(name, 0) + value\n"
            if metrics
            else ""
        )
        + "        seen += len(labels)\n"
        "    return {name: (total / seen).item() for name, total in sums.items()}\n"
    )
    evaluate = (
        "@torch.no_grad()\n"
        "def evaluate(\n"
        "    model: nn.Module,\n"
        "    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],\n"
        "    loss_fn: nn.Module,\n"
        + device_param
        + "    dtype: torch.dtype,\n"
        + ("    metrics: tuple[str, ...],\n" if metrics else "")
        + "    max_steps: int | None,\n"
        ") -> dict[str, float]:\n"
        '    """Mean loss and metrics over the validation batches, in inference mode."""\n'
        "    model.eval()\n"
        "    sums: dict[str, torch.Tensor] = {}\n"
        "    seen = 0\n"
        "    for step, (inputs, labels) in enumerate(batches):\n"
        "        if step == max_steps:  # a smoke run (--max-steps) validates on a few batches\n"
        "            break\n"
        + move
        + "        with torch.autocast(inputs.device.type, dtype, enabled=dtype != torch.float32):\n"
        "            outputs = model(inputs)\n"
        "            loss = loss_fn(outputs, labels)\n"
        + ("        loss = loss + regularization(model)\n" if f.penalties else "")
        + '        sums["loss"] = sums.get("loss", 0) + loss * len(labels)\n'
        + (
            "        for name, value in metric_sums(outputs, labels, metrics).items():\n"
            "            sums[name] = sums.get(name, 0) + value\n"
            if metrics
            else ""
        )
        + "        seen += len(labels)\n"
        "    return {name: (total / seen).item() for name, total in sums.items()}\n"
    )
    del program
    return step + "\n\n" + evaluate


RUNTIME = '''\
def resolve_device(name: str) -> torch.device:
    """--device: auto picks cuda, then mps, then cpu; an absent device is an error."""
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise SystemExit(f"error: --device {name} is not available on this machine")
    return torch.device(name)


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The dtype autocast computes in: fp16 only on CUDA (with a GradScaler)."""
    if precision == "fp16" and device.type != "cuda":
        print("note: fp16 needs CUDA; using fp32")
        return torch.float32
    cuda = device.type == "cuda"
    if precision == "bf16" and cuda and not torch.cuda.is_bf16_supported():
        print("note: this GPU has no bf16; using fp32")
        return torch.float32
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    return dtypes[precision]


def seed_everything(seed: int) -> None:
    """Seed every random number generator the program may use: same seed, same run."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def parameter_counts(model: nn.Module) -> dict[str, int]:
    """Parameters as torch counts them: model.parameters(), split by requires_grad."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {
        "total_params": total,
        "trainable_params": trainable,
        "non_trainable_params": total - trainable,
    }


def save_checkpoint(path: Path, state: dict[str, object]) -> None:
    """Write to a temporary file, then rename: a kill never leaves half a checkpoint."""
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def rng_states(generator: torch.Generator) -> dict[str, object]:
    """The random number generator states a resumed run needs to continue exactly."""
    states: dict[str, object] = {
        "torch": torch.get_rng_state(),
        "shuffle": generator.get_state(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, object], generator: torch.Generator) -> None:
    """Put the generators back where the checkpoint left them."""
    torch.set_rng_state(states["torch"])
    generator.set_state(states["shuffle"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_weights(model: nn.Module, out: Path) -> Path:
    """Save the final weights: model.safetensors, or model.pt without safetensors."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    try:
        from safetensors.torch import save_file
    except ImportError:
        path = out / "model.pt"
        torch.save(state, path)
        return path
    path = out / "model.safetensors"
    save_file(state, str(path))
    return path
'''


def emit_fit(f: Facts) -> str:
    """`fit(...)`: the phases in order, a checkpoint and metrics.json after every epoch."""
    metrics = bool(f.metrics)
    loss_call = "build_loss(phase)" if len(f.distinct_losses) > 1 else "build_loss()"
    opt_call = (
        "build_optimizer(phase, parameters)"
        if len(f.distinct_optimizers) > 1
        else "build_optimizer(parameters)"
    )
    rebuild = "optimizer is None or phase.new_optimizer" if f.multi else "optimizer is None"
    evaluate_args = ["model", "val_batches", "loss_fn", *(["device"] if f.images else []), "dtype"]
    evaluate_args += [*(["phase.metrics"] if metrics else []), "args.max_steps"]
    split = "Subset" if f.images else "tuple[torch.Tensor, torch.Tensor]"
    batches = "image_batches" if f.images else "Batches"
    text = (
        "def fit(\n"
        "    model: nn.Module,\n"
        f"    train_split: {split},\n"
        f"    val_split: {split},\n"
        "    args: argparse.Namespace,\n"
        "    dtype: torch.dtype,\n"
        ") -> list[dict[str, float | int | str]]:\n"
        '    """Train phase by phase; after every epoch write a checkpoint and metrics.json."""\n'
        "    device = next(model.parameters()).device\n"
        '    checkpoint_path = args.out / "checkpoint.pt"\n'
        "    generator = torch.Generator().manual_seed(args.seed)\n"
        "    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)\n"
        "    history: list[dict[str, float | int | str]] = []\n"
        "    resume_phase, resume_epoch, checkpoint = 0, 0, None\n"
        "    if args.resume:\n"
        "        if not checkpoint_path.is_file():\n"
        '            raise SystemExit(f"error: no checkpoint to resume from in {args.out}")\n'
        '        checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True)\n'
        '        model.load_state_dict(checkpoint["model"])\n'
        '        scaler.load_state_dict(checkpoint["scaler"])\n'
        '        restore_rng_states(checkpoint["rng"], generator)\n'
        '        history = checkpoint["history"]\n'
        '        resume_phase, resume_epoch = checkpoint["phase"], checkpoint["phase_epoch"]\n'
        '        print(f"resuming after epoch {len(history)}")\n'
        "    optimizer = None\n"
        "    for index, phase in enumerate(PHASES):\n"
        "        if index < resume_phase:\n"
        "            continue\n"
        + ("        set_trainable(model, phase)\n" if f.freezing else "")
        + f"        if {rebuild}:\n"
        "            parameters = [p for p in model.parameters() if p.requires_grad]\n"
        f"            optimizer = {opt_call}\n"
        "            if checkpoint is not None and index == resume_phase:\n"
        '                optimizer.load_state_dict(checkpoint["optimizer"])\n'
        f"        loss_fn = {loss_call}\n"
        "        epochs = args.epochs or phase.epochs\n"
        "        batch_size = args.batch_size or phase.batch_size\n"
        f"        train_batches = {batches}(train_split, batch_size, generator)\n"
        f"        val_batches = {batches}(val_split, batch_size)\n"
        "        first = resume_epoch if index == resume_phase else 0\n"
        "        for epoch in range(first, epochs):\n"
        "            start = time.perf_counter()\n"
        '            record: dict[str, float | int | str] = {"epoch": len(history) + 1}\n'
        '            record["stage"] = phase.name\n'
        "            record |= train_one_epoch(\n"
        "                model,\n"
        "                train_batches,\n"
        "                loss_fn,\n"
        "                optimizer,\n"
        "                scaler,\n"
        + ("                device,\n" if f.images else "")
        + "                dtype,\n"
        + ("                phase.metrics,\n" if metrics else "")
        + "                args.max_steps,\n"
        "            )\n"
        + call("scores = ", "evaluate", evaluate_args, 12)
        + '            record |= {f"val_{name}": value for name, value in scores.items()}\n'
        '            record["seconds"] = round(time.perf_counter() - start, 3)\n'
        "            history.append(record)\n"
        "            print(\n"
        "                f\"epoch {record['epoch']} ({phase.name} {epoch + 1}/{epochs}): \"\n"
        "                f\"{format_record(record)} ({record['seconds']:.1f}s)\"\n"
        "            )\n"
        "            state = {\n"
        '                "model": model.state_dict(),\n'
        '                "optimizer": optimizer.state_dict(),\n'
        '                "scaler": scaler.state_dict(),\n'
        '                "phase": index,\n'
        '                "phase_epoch": epoch + 1,\n'
        '                "history": history,\n'
        '                "rng": rng_states(generator),\n'
        "            }\n"
        "            save_checkpoint(checkpoint_path, state)\n"
        '            write_json(args.out / "metrics.json", {"history": history})\n'
        "    return history\n"
    )
    return text


# --------------------------------------------------------------------------------------------
# Portable weights: specc's own .npz layout, `<layer>/<role>` in Keras's shapes and gate order,
# so a model trained by one target loads into the other (docs/semantics.md).


def _portable_types(f: Facts) -> set[str]:
    """The spec's weighted layer types (BatchNormalization as nn.BatchNorm1d/2d/3d)."""
    types = set()
    for node in f.program.model.layers:
        if node.type == "BatchNormalization":
            types.add(f"nn.BatchNorm{max(len(node.in_shape) - 1, 1)}d")
        else:
            types.add(node.type)
    return types


def _kinds(names: list[str]) -> str:
    """One class, or a tuple of classes, for isinstance."""
    return names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"


def emit_portable(f: Facts) -> str:
    """export_weights / import_weights in the portable layout, and predict."""
    types = _portable_types(f)
    classes = (("Dense", "nn.Linear"), ("Conv1D", "nn.Conv1d"), ("Conv2D", "nn.Conv2d"))
    kernels = [c for t, c in classes if t in types]
    norms = sorted(t for t in types if t.startswith("nn.BatchNorm"))
    rnns = [t for t in ("SimpleRNN", "LSTM", "GRU") if t in types]
    get: list[str] = []
    put: list[str] = []
    if "nn.Linear" in kernels:
        get.append(
            "isinstance(module, nn.Linear):\n"
            '        arrays = {"kernel": module.weight.T}  # (out, in) -> (in, out)\n'
        )
        put.append('isinstance(module, nn.Linear):\n        module.weight.copy_(arrays["kernel"].T)\n')
    convs = [c for c in kernels if c != "nn.Linear"]
    if convs:
        get.append(
            f"isinstance(module, {_kinds(convs)}):\n"
            "        # (out, in, *window) -> (*window, in, out)\n"
            "        window = range(2, module.weight.dim())\n"
            '        arrays = {"kernel": module.weight.permute(*window, 1, 0)}\n'
        )
        put.append(
            f"isinstance(module, {_kinds(convs)}):\n"
            "        # (*window, in, out) -> (out, in, *window)\n"
            '        window = range(arrays["kernel"].dim() - 2)\n'
            '        module.weight.copy_(arrays["kernel"].permute(-1, -2, *window))\n'
        )
    if norms:
        get.append(
            f"isinstance(module, {_kinds(norms)}):\n"
            "        return {\n"
            '            "gamma": module.weight,\n'
            '            "beta": module.bias,\n'
            '            "moving_mean": module.running_mean,\n'
            '            "moving_variance": module.running_var,\n'
            "        }\n"
        )
        put.append(
            f"isinstance(module, {_kinds(norms)}):\n"
            '        module.weight.copy_(arrays["gamma"])\n'
            '        module.bias.copy_(arrays["beta"])\n'
            '        module.running_mean.copy_(arrays["moving_mean"])\n'
            '        module.running_var.copy_(arrays["moving_variance"])\n'
        )
    if "LayerNormalization" in types:
        get.append(
            "isinstance(module, nn.LayerNorm):\n"
            '        return {"gamma": module.weight, "beta": module.bias}\n'
        )
        put.append(
            "isinstance(module, nn.LayerNorm):\n"
            '        module.weight.copy_(arrays["gamma"])\n'
            '        module.bias.copy_(arrays["beta"])\n'
        )
    if "Embedding" in types:
        get.append('isinstance(module, nn.Embedding):\n        return {"embeddings": module.weight}\n')
        put.append('isinstance(module, nn.Embedding):\n        module.weight.copy_(arrays["embeddings"])\n')
    if rnns:
        get.append("isinstance(module, Recurrent):\n        return recurrent_arrays(module.rnn)\n")
        put.append("isinstance(module, Recurrent):\n        set_recurrent_arrays(module.rnn, arrays)\n")
    text = ""
    if rnns:
        text += _emit_recurrent_portable(rnns) + "\n\n"
    text += (
        "def portable_arrays(module: nn.Module) -> dict[str, torch.Tensor]:\n"
        '    """One layer\'s weights by role, in Keras\'s shapes (specc\'s portable layout)."""\n'
    )
    for i, branch in enumerate(get):
        text += ("    if " if i == 0 else "    elif ") + branch
    if kernels:
        text += (
            "    else:\n"
            "        return {}  # no weights: an activation, pooling, dropout, ...\n"
            "    if module.bias is not None:\n"
            '        arrays["bias"] = module.bias\n'
            "    return arrays\n"
        )
    else:
        text += "    return {}  # no weights: an activation, pooling, dropout, ...\n"
    text += (
        "\n\n"
        "def set_portable_arrays(module: nn.Module, arrays: dict[str, torch.Tensor]) -> None:\n"
        '    """Copy one layer\'s portable arrays into it: the inverse of portable_arrays."""\n'
    )
    for i, branch in enumerate(put):
        text += ("    if " if i == 0 else "    elif ") + branch
    if kernels:
        text += (
            f"    if isinstance(module, {_kinds(kernels)}) and module.bias is not None:\n"
            '        module.bias.copy_(arrays["bias"])\n'
        )
    text += "\n\n" + _emit_weights_io(f) + "\n\n" + _emit_predict(f)
    return text


def _emit_recurrent_portable(rnns: list[str]) -> str:
    """recurrent_arrays / set_recurrent_arrays: torch's RNN weights <-> Keras's."""
    gru = "GRU" in rnns
    plain = [t for t in rnns if t != "GRU"]
    text = ""
    if gru:
        text += (
            "def swap_gates(tensor: torch.Tensor) -> torch.Tensor:\n"
            '    """GRU gate blocks (r, z, n) <-> (z, r, h): torch\'s order <-> Keras\'s."""\n'
            "    reset, update, new = tensor.chunk(3)\n"
            "    return torch.cat([update, reset, new])\n"
            "\n\n"
        )
    text += (
        "def recurrent_arrays(rnn: nn.RNNBase) -> dict[str, torch.Tensor]:\n"
        '    """kernel (in, gates * units), recurrent_kernel and bias, as Keras stores them."""\n'
    )

    def gru_get(pad: str) -> str:
        return (
            f"{pad}# Keras's GRU (reset_after=True) keeps torch's two biases apart.\n"
            f"{pad}return {{\n"
            f'{pad}    "kernel": swap_gates(rnn.weight_ih_l0).T,\n'
            f'{pad}    "recurrent_kernel": swap_gates(rnn.weight_hh_l0).T,\n'
            f'{pad}    "bias": swap_gates(rnn.bias_ih_l0),\n'
            f'{pad}    "recurrent_bias": swap_gates(rnn.bias_hh_l0),\n'
            f"{pad}}}\n"
        )

    plain_get = (
        "    # LSTM gates are (i, f, g, o) in torch and (i, f, c, o) in Keras: the same order.\n"
        if "LSTM" in plain
        else ""
    ) + (
        "    # Keras has one bias; one_bias pins torch's second at zero, so the first is Keras's.\n"
        "    return {\n"
        '        "kernel": rnn.weight_ih_l0.T,\n'
        '        "recurrent_kernel": rnn.weight_hh_l0.T,\n'
        '        "bias": rnn.bias_ih_l0,\n'
        "    }\n"
    )
    if gru and plain:
        text += "    if isinstance(rnn, nn.GRU):\n" + gru_get(" " * 8) + plain_get
    else:
        text += gru_get(" " * 4) if gru else plain_get
    text += (
        "\n\n"
        "def set_recurrent_arrays(rnn: nn.RNNBase, arrays: dict[str, torch.Tensor]) -> None:\n"
        '    """Copy Keras-layout RNN arrays into torch\'s: the inverse of recurrent_arrays."""\n'
    )

    def gru_put(pad: str) -> str:
        return (
            f'{pad}rnn.weight_ih_l0.copy_(swap_gates(arrays["kernel"].T))\n'
            f'{pad}rnn.weight_hh_l0.copy_(swap_gates(arrays["recurrent_kernel"].T))\n'
            f'{pad}rnn.bias_ih_l0.copy_(swap_gates(arrays["bias"]))\n'
            f'{pad}rnn.bias_hh_l0.copy_(swap_gates(arrays["recurrent_bias"]))\n'
        )

    plain_put = (
        '    rnn.weight_ih_l0.copy_(arrays["kernel"].T)\n'
        '    rnn.weight_hh_l0.copy_(arrays["recurrent_kernel"].T)\n'
        '    rnn.bias_ih_l0.copy_(arrays["bias"])  # torch\'s second bias is pinned at zero\n'
    )
    if gru and plain:
        text += "    if isinstance(rnn, nn.GRU):\n" + gru_put(" " * 8) + "        return\n" + plain_put
    else:
        text += gru_put(" " * 4) if gru else plain_put
    return text


def _emit_weights_io(f: Facts) -> str:
    """portable_weights, export_weights and import_weights for the whole model."""
    base = f.program.model.base
    layers = "model.head" if base else "model"
    text = (
        "def portable_weights(model: nn.Module) -> dict[str, torch.Tensor]:\n"
        '    """Every weight as `<layer>/<role>`: the portable layout both targets read."""\n'
        "    weights = {}\n"
        f"    for name, module in {layers}.named_children():\n"
        "        for role, tensor in portable_arrays(module).items():\n"
        '            weights[f"{name}/{role}"] = tensor\n'
    )
    if base:
        text += (
            "    # The backbone keeps torchvision's own names and layout (Keras's differs).\n"
            "    for key, tensor in model.base.state_dict().items():\n"
            '        weights[f"base/torch/{key}"] = tensor\n'
        )
    text += (
        "    return weights\n"
        "\n\n"
        "def export_weights(model: nn.Module, path: Path) -> None:\n"
        '    """Write the weights to an .npz in the portable layout (written atomically)."""\n'
        "    weights = portable_weights(model)\n"
        "    arrays = {key: tensor.detach().cpu().numpy() for key, tensor in weights.items()}\n"
        '    tmp = path.with_name(path.name + ".tmp")\n'
        '    with tmp.open("wb") as file:\n'
        "        np.savez(file, **arrays)\n"
        "    os.replace(tmp, path)\n"
        "\n\n"
        "@torch.no_grad()\n"
        "def import_weights(model: nn.Module, path: Path) -> None:\n"
        '    """Load a portable .npz written by either target; every weight must fit."""\n'
        "    if not path.is_file():\n"
        '        raise SystemExit(f"error: weights file not found: {path}")\n'
        "    with np.load(path) as archive:\n"
        "        arrays = {key: torch.from_numpy(archive[key]) for key in archive.files}\n"
    )
    if base:
        text += (
            '    if any(key.startswith("base/keras/") for key in arrays):\n'
            "        raise SystemExit(\n"
            f'            f"error: {{path}} holds keras.applications\' {base.name} backbone; "\n'
            '            "torchvision\'s has other layers and shapes, so only weights "\n'
            '            "exported by the PyTorch program load into its backbone"\n'
            "        )\n"
        )
    text += shared.weights_fit_check("tensor", "tuple({})") + (
        f"    for name, module in {layers}.named_children():\n"
        '        roles = {role: arrays[f"{name}/{role}"] for role in portable_arrays(module)}\n'
        "        if roles:\n"
        "            set_portable_arrays(module, roles)\n"
    )
    if base:
        text += (
            '    prefix = "base/torch/"\n'
            "    state = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}\n"
            "    model.base.load_state_dict(state)\n"
        )
    return text


def _emit_predict(f: Facts) -> str:
    """predict(model, args): --predict IN.npy --predictions OUT.npy."""
    model = f.program.model
    lines = [
        "@torch.no_grad()",
        "def predict(model: nn.Module, args: argparse.Namespace) -> None:",
        '    """Run the model on --predict (channels-last inputs) and save --predictions."""',
        "    if args.predictions is None:",
        '        raise SystemExit("error: --predict needs --predictions OUT.npy")',
        "    if not args.predict.is_file():",
        '        raise SystemExit(f"error: input file not found: {args.predict}")',
        '    weights = args.init_weights or args.out / "weights.npz"',
        "    if args.init_weights is None:",
        "        import_weights(model, weights)",
        "    model.eval()",
        "    device = next(model.parameters()).device",
    ]
    if f.images:
        lines += [
            f"    size = (*IMAGE_SIZE, {literal(model.input_shape[-1])})",
            "    # 0-255 pixels, prepared as load_images prepares the images it reads.",
            "    inputs = torch.from_numpy(np.load(args.predict).astype(np.float32))",
            "    inputs = inputs.reshape(-1, *size).movedim(-1, 1) / 255",
        ]
        if model.base:
            lines += [
                "    mean = torch.tensor(IMAGENET_MEAN).reshape(1, -1, 1, 1)",
                "    std = torch.tensor(IMAGENET_STD).reshape(1, -1, 1, 1)",
                "    inputs = (inputs - mean) / std",
            ]
    else:
        dtype = "np.int64" if model.token_input else "np.float32"
        lines.append(f"    array = np.load(args.predict).astype({dtype}).reshape(-1, *INPUT_SHAPE)")
        if f.net.input_channels_first:
            lines.append("    inputs = torch.from_numpy(array).movedim(-1, 1)  # channels first")
        else:
            lines.append("    inputs = torch.from_numpy(array)")
    lines += [
        "    batch_size = args.batch_size or PHASES[0].batch_size",
        "    outputs = []",
        "    for start in range(0, len(inputs), batch_size):",
        "        batch = model(inputs[start : start + batch_size].to(device)).float()",
    ]
    strip = f.net.strip
    if strip is not None:
        activation = strip.layer.activation_name
        function = "torch.softmax(batch, dim=-1)" if activation == "softmax" else "torch.sigmoid(batch)"
        lines.append(f"        # The model returns logits (the loss fuses the {activation}).")
        lines.append(f"        outputs.append({function}.cpu().numpy())")
    else:
        lines.append("        outputs.append(batch.cpu().numpy())")
    lines += [
        "    np.save(args.predictions, np.concatenate(outputs))",
        '    print(f"predictions of the weights in {weights} -> {args.predictions}")',
    ]
    return "\n".join(lines) + "\n"


def emit_main(f: Facts) -> str:
    """`main(argv)`: parse the command line, build, load the data, fit, save."""
    program = f.program
    _, build_args = _build_model_signature(f)
    build_call = {
        "": "build_model()",
        "pretrained": "build_model(pretrained=not args.no_pretrained)",
        "pretrained, data_dir": "build_model(not args.no_pretrained, args.data_dir)",
    }[build_args]
    text = (
        "def main(argv: list[str] | None = None) -> None:\n"
        '    """Build the model, train it phase by phase, and save its weights and metrics."""\n'
        "    args = parse_args(argv)\n"
        "    device = resolve_device(args.device)\n"
        "    seed_everything(args.seed)\n"
        "    prepare_out(args.out)\n"
        f"    model = {build_call}.to(device)\n"
        + ("    set_trainable(model, PHASES[0])\n" if f.freezing else "")
        + "    if args.init_weights:\n"
        "        import_weights(model, args.init_weights)\n"
        "    if args.predict:\n"
        "        predict(model, args)\n"
        "        return\n"
        "    if args.build_only:\n"
        '        write_json(args.out / "summary.json", parameter_counts(model))\n'
        "        print(f\"wrote {args.out / 'summary.json'}\")\n"
        "        if args.export_weights:\n"
        "            export_weights(model, args.export_weights)\n"
        "        return\n"
        '    if device.type == "cuda":\n'
        "        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick kernels\n"
        "    dtype = autocast_dtype(args.precision, device)\n"
        "    print(f\"device: {device}, precision: {str(dtype).removeprefix('torch.')}\")\n"
    )
    if program.train.compile:  # type: ignore[union-attr]
        text += "    model.compile()  # the spec's `compile: true`: torch.compile, in place\n"
    if f.images:
        text += "    train_split, val_split = load_images(args.data_dir, args.seed)\n"
    else:
        text += (
            f"    x_train, y_train, x_val, y_val = {shared.load_data_call(program)}\n"
            "    train_split = as_tensors(x_train, y_train, device)\n"
            "    val_split = as_tensors(x_val, y_val, device)\n"
        )
    text += (
        "    history = fit(model, train_split, val_split, args, dtype)\n"
        "    weights = save_weights(model, args.out)\n"
        "    # The portable copy that --init-weights and --predict read, in either target.\n"
        '    export_weights(model, args.out / "weights.npz")\n'
        "    if args.export_weights:\n"
        "        export_weights(model, args.export_weights)\n"
        '    plot_history(history, args.out / "history.png")\n'
        "    final = history[-1]\n"
        '    scores = {k: v for k, v in final.items() if k.startswith("val_")} or final\n'
        '    print(f"final: {format_record(scores)} - weights in {weights}")\n'
    )
    return text


EPILOG = "`compile: true` in the spec turns on torch.compile. --max-steps also caps validation."


def _imports_in(code: str) -> set[str]:
    """Import lines the body of the program needs, found from the names it uses."""
    found = {"import torch", "from torch import nn"}
    checks = {
        r"\bF\.": "import torch.nn.functional as F",
        r"\bOrderedDict\b": "from collections import OrderedDict",
        r"@dataclass": "from dataclasses import dataclass",
        r"\bIterable\b": "from collections.abc import Iterable",
        r"\bIterator\b": "from collections.abc import Iterator",
        r"\btime\.": "import time",
        r"\brandom\.seed": "import random",
        r"\bnp\.": "import numpy as np",
        r"\bos\.": "import os",
        r"\bargparse\.": "import argparse",
        r"\bPath\b": "from pathlib import Path",
        r"\bmodels\.": "from torchvision import models",
        r"\bparametrize\.": "from torch.nn.utils import parametrize",
    }
    for pattern, line in checks.items():
        if re.search(pattern, code):
            found.add(line)
    return found


def emit(program: Program, options: EmitOptions) -> str:
    """The whole generated program for a checked spec."""
    assert program.train is not None
    f = facts(program)
    data_text, data_snippet, data_imports = emit_data(f)
    loss_text, loss_helpers = emit_build_loss(f)
    helpers = [HELPERS[name] for name in sorted(f.net.helpers)]
    helpers += [LOSS_HELPERS[name] for name in sorted(loss_helpers)]
    parts = [
        emit_constants(f, data_snippet),
        *helpers,
        emit_init(f),
        emit_backbone(f) if program.model.base else "",
        READ_WEIGHTS if program.model.base and program.model.base.backbone.weights_file else "",
        emit_build_model(f),
        emit_freezing(f),
        emit_portable(f),
        loss_text,
        emit_build_optimizer(f),
        emit_regularization(f),
        emit_weight_decay_term(f),
        emit_metrics(f),
        data_text,
        emit_training(f),
        emit_fit(f),
        RUNTIME,
    ]
    args = shared.parse_args(program, EPILOG)
    outputs = shared.outputs()
    parts += [args.code, outputs.code, emit_main(f), 'if __name__ == "__main__":\n    main()\n']
    # Two blank lines between top-level definitions, as ruff formats.
    body = "\n\n\n".join(p.strip("\n") for p in parts if p) + "\n"
    imports = _imports_in(body) | data_imports | args.imports | outputs.imports
    return shared.header(program, "PyTorch") + "\n" + shared.import_block(imports) + "\n" + body

"""The Keras 3 target: a standalone program that builds the spec's model functionally and trains it with fit.

Layout of the generated program: header, imports, constants, the shared command line and data loading
(specc.targets.shared), then the Keras parts written here: device and precision, the model (one emitter
per layer type in EMITTERS), the phases (loss, optimizer, metrics per phase), an exact per-epoch
checkpoint, the training loop and main().

Why not keras.callbacks.BackupAndRestore: it restores weights and optimizer but neither the dropout
seed generators nor the data order, so a resumed run would differ from an uninterrupted one; and it
follows one `fit` call, while stages are several. The program instead fits one epoch per call with a
data order drawn from (seed, epoch) and checkpoints every variable after each epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from specc.backbones import INFO
from specc.data import Csv, ImageFolder, Npz
from specc.diagnostics import Diagnostic
from specc.ir import LayerNode, Phase, Program
from specc.layers.base import Layer
from specc.losses import Loss
from specc.optimizers import Optimizer
from specc.regularizers import Regularizer
from specc.targets import shared
from specc.targets.base import EmitOptions, common_checks
from specc.targets.literal import literal

TARGET = "keras"
LINE = shared.LINE

# Backbones keras.applications ships, by spec name: (constructor, module with preprocess_input).
BACKBONES: dict[str, tuple[str, str]] = {
    name: (info.builds[TARGET].constructor, module)
    for name, info in INFO.items()
    if TARGET in info.builds
    for module in [
        {
            "resnet50": "resnet50",
            "vgg16": "vgg16",
            "mobilenet_v2": "mobilenet_v2",
            "efficientnet_b0": "efficientnet",
        }[name]
    ]
}

# Layer types the Keras target cannot express, with the reason (none today: Keras is the reference).
UNSUPPORTED: dict[str, str] = {}


# ---------------------------------------------------------------------------------------------
# Formatting: calls laid out the way `ruff format` lays them out, so programs are stable.


@dataclass(frozen=True)
class Call:
    """A bracketed expression `head(items)` whose items may be calls themselves."""

    head: str
    items: tuple[str | Call, ...]
    brackets: str = "()"

    def flat(self) -> str:
        inner = ", ".join(i if isinstance(i, str) else i.flat() for i in self.items)
        return f"{self.head}{self.brackets[0]}{inner}{self.brackets[1]}"


def layout(expr: str | Call, indent: int, tail: str = "") -> str:
    """Lines for `expr` at `indent`, split as `ruff format` splits them (88 columns).

    One line if it fits; else the items on one line inside the brackets; else one item per line
    with a trailing comma, each laid out the same way.
    """
    pad = " " * indent
    if isinstance(expr, str):
        return f"{pad}{expr}{tail}\n"
    one = f"{pad}{expr.flat()}{tail}"
    if len(one) <= LINE or not expr.items:
        return one + "\n"
    opening, closing = expr.brackets
    inner = " " * (indent + 4) + ", ".join(i if isinstance(i, str) else i.flat() for i in expr.items)
    if len(inner) <= LINE:
        return f"{pad}{expr.head}{opening}\n{inner}\n{pad}{closing}{tail}\n"
    body = "".join(layout(item, indent + 4, ",") for item in expr.items)
    return f"{pad}{expr.head}{opening}\n{body}{pad}{closing}{tail}\n"


def call(head: str, args: list[str | Call], indent: int, tail: str = "") -> str:
    """`head(args)tail` laid out at `indent`."""
    return layout(Call(head, tuple(args)), indent, tail)


def kw(name: str, value: object) -> str:
    """A keyword argument with a spec-derived value."""
    return f"{name}={literal(value)}"


# ---------------------------------------------------------------------------------------------
# Layers: one emitter per layer type, returning the constructor call's head and arguments.


@dataclass(frozen=True)
class Ctx:
    """What an emitter needs besides the layer: its name and whether it is the logits layer."""

    name: str
    activation: str | None  # the activation to write (None: the layer's own)
    output_dtype: bool  # keep this layer in float32 under mixed precision


Emitted = tuple[str, list[str]]


def _regularizer(reg: Regularizer | None) -> str | None:
    """keras.regularizers.L1/L2/L1L2 with the spec's factors."""
    if reg is None:
        return None
    l1, l2 = reg.factors()
    kind = type(reg).call_name
    if kind == "l1":
        return f"keras.regularizers.L1({literal(float(l1))})"
    if kind == "l2":
        return f"keras.regularizers.L2({literal(float(l2))})"
    return f"keras.regularizers.L1L2(l1={literal(float(l1))}, l2={literal(float(l2))})"


def _weighted(layer: Layer, ctx: Ctx, args: list[str]) -> list[str]:
    """Activation, bias, explicit initialisers and regularizers shared by Dense and the convolutions."""
    activation = ctx.activation if ctx.activation is not None else layer.activation  # type: ignore[attr-defined]
    args = [*args, kw("activation", activation), kw("use_bias", layer.use_bias)]  # type: ignore[attr-defined]
    args.append('kernel_initializer="glorot_uniform"')
    if layer.use_bias:  # type: ignore[attr-defined]
        args.append('bias_initializer="zeros"')
    for key in ("kernel_regularizer", "bias_regularizer"):
        text = _regularizer(getattr(layer, key))
        if text:
            args.append(f"{key}={text}")
    return args


def _dense(layer: Layer, ctx: Ctx) -> Emitted:
    return "keras.layers.Dense", _weighted(layer, ctx, [literal(layer.units)])  # type: ignore[attr-defined]


def _conv(layer: Layer, ctx: Ctx) -> Emitted:
    args = [
        literal(layer.filters),  # type: ignore[attr-defined]
        literal(layer.kernel_size),  # type: ignore[attr-defined]
        kw("strides", layer.strides),  # type: ignore[attr-defined]
        kw("padding", layer.padding),  # type: ignore[attr-defined]
    ]
    return f"keras.layers.{type(layer).call_name}", _weighted(layer, ctx, args)


def _pool(layer: Layer, ctx: Ctx) -> Emitted:
    args = [
        literal(layer.pool_size),  # type: ignore[attr-defined]
        kw("strides", layer.strides),  # type: ignore[attr-defined]
        kw("padding", layer.padding),  # type: ignore[attr-defined]
    ]
    return f"keras.layers.{type(layer).call_name}", args


def _plain(layer: Layer, ctx: Ctx) -> Emitted:
    return f"keras.layers.{type(layer).call_name}", []


def _dropout(layer: Layer, ctx: Ctx) -> Emitted:
    return "keras.layers.Dropout", [literal(float(layer.rate))]  # type: ignore[attr-defined]


def _activation(layer: Layer, ctx: Ctx) -> Emitted:
    return "keras.layers.Activation", [literal(ctx.activation or layer.activation_name)]


def _relu(layer: Layer, ctx: Ctx) -> Emitted:
    return "keras.layers.ReLU", []


def _softmax(layer: Layer, ctx: Ctx) -> Emitted:
    return "keras.layers.Softmax", [kw("axis", layer.axis)]  # type: ignore[attr-defined]


def _reshape(layer: Layer, ctx: Ctx) -> Emitted:
    return "keras.layers.Reshape", [literal(tuple(layer.target_shape))]  # type: ignore[attr-defined]


def _batch_norm(layer: Layer, ctx: Ctx) -> Emitted:
    return "keras.layers.BatchNormalization", [
        kw("momentum", float(layer.momentum)),  # type: ignore[attr-defined]
        kw("epsilon", float(layer.epsilon)),  # type: ignore[attr-defined]
    ]


def _layer_norm(layer: Layer, ctx: Ctx) -> Emitted:
    return "keras.layers.LayerNormalization", [kw("epsilon", float(layer.epsilon))]  # type: ignore[attr-defined]


def _embedding(layer: Layer, ctx: Ctx) -> Emitted:
    return "keras.layers.Embedding", [
        literal(layer.input_dim),  # type: ignore[attr-defined]
        literal(layer.output_dim),  # type: ignore[attr-defined]
        'embeddings_initializer="uniform"',
    ]


def _recurrent(layer: Layer, ctx: Ctx) -> Emitted:
    args = [
        literal(layer.units),  # type: ignore[attr-defined]
        kw("return_sequences", layer.return_sequences),  # type: ignore[attr-defined]
        'kernel_initializer="glorot_uniform"',
        'recurrent_initializer="orthogonal"',
        'bias_initializer="zeros"',
    ]
    if type(layer).call_name == "GRU":
        args.append("reset_after=True")
    return f"keras.layers.{type(layer).call_name}", args


def _fixed(function: str) -> Callable[[Layer, Ctx], Emitted]:
    def emit(layer: Layer, ctx: Ctx) -> Emitted:
        return "keras.layers.Activation", [literal(ctx.activation or function)]

    return emit


EMITTERS: dict[str, Callable[[Layer, Ctx], Emitted]] = {
    "Dense": _dense,
    "Dropout": _dropout,
    "Flatten": _plain,
    "Activation": _activation,
    "ReLU": _relu,
    "Sigmoid": _fixed("sigmoid"),
    "Tanh": _fixed("tanh"),
    "Softmax": _softmax,
    "Reshape": _reshape,
    "Conv1D": _conv,
    "Conv2D": _conv,
    "MaxPooling1D": _pool,
    "AveragePooling1D": _pool,
    "MaxPooling2D": _pool,
    "AveragePooling2D": _pool,
    "GlobalAveragePooling1D": _plain,
    "GlobalMaxPooling1D": _plain,
    "GlobalAveragePooling2D": _plain,
    "GlobalMaxPooling2D": _plain,
    "BatchNormalization": _batch_norm,
    "LayerNormalization": _layer_norm,
    "Embedding": _embedding,
    "SimpleRNN": _recurrent,
    "LSTM": _recurrent,
    "GRU": _recurrent,
}


# ---------------------------------------------------------------------------------------------
# What the program must do, decided once from the IR.


def _matches(activation: str, loss: Loss) -> bool:
    """Whether `loss` on `activation`'s output equals the fused from-logits loss."""
    if getattr(loss, "from_logits", True):
        return False
    if activation == "softmax":
        return loss.labels in ("sparse", "onehot")
    return activation == "sigmoid" and loss.labels == "binary"


def logits_activation(program: Program) -> str | None:
    """softmax/sigmoid when the model is trained on logits and the activation moves into the losses.

    Only when the activation is the very last layer's, acts on the last axis, and every phase's loss
    is the matching cross-entropy on probabilities (the numerically stable fused form gives the same value).
    """
    assert program.train is not None
    model = program.model
    head = model.output_layer
    if head is None or head is not model.layers[-1]:
        return None
    activation = model.output_activation
    if type(head.layer).call_name == "Softmax" and head.layer.axis not in (-1, len(head.in_shape)):  # type: ignore[attr-defined]
        return None
    if all(_matches(activation, phase.loss) for phase in program.train.phases):
        return activation
    return None


def _fresh(name: str, taken: set[str]) -> str:
    """`name`, or `name_1`, `name_2`, ... : a Keras layer name no spec layer uses."""
    candidate, n = name, 0
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate)
    return candidate


@dataclass(frozen=True)
class Plan:
    """Decisions the emitters share."""

    logits: str | None  # softmax/sigmoid applied outside the trained model
    input_name: str
    base_name: str
    output_name: str  # the name of the probabilities layer of predictor()
    stages: bool  # more than one phase: trainable flags are set per phase
    weight_decay: bool  # some phase has coupled weight decay: the loss adds (wd/2)*sum(w**2)
    one_hot: bool  # some phase uses categorical cross-entropy: one-hot labels
    images: bool  # an image folder (TensorFlow's tf.data behind keras.utils)


def plan_of(program: Program) -> Plan:
    """The program-wide decisions."""
    assert program.train is not None
    taken = {n.name for n in program.model.layers}
    phases = program.train.phases
    return Plan(
        logits=logits_activation(program),
        input_name=_fresh("inputs", taken),
        base_name=_fresh("base", taken),
        output_name=_fresh("probabilities", taken),
        stages=len(phases) > 1,
        weight_decay=any(p.optimizer.weight_decay > 0 and not p.optimizer.decoupled for p in phases),
        one_hot=any(p.loss.labels == "onehot" for p in phases),
        images=isinstance(program.train.data, ImageFolder),
    )


# ---------------------------------------------------------------------------------------------
# Checks.


def check(program: Program) -> list[Diagnostic]:
    """Compile errors for Keras: no train block, a backbone keras.applications lacks, unsupported layers."""
    return common_checks(program, TARGET, BACKBONES, UNSUPPORTED)


# ---------------------------------------------------------------------------------------------
# Program pieces.

DEVICE = '''\
def pick_device(requested: str) -> str:
    """The device to train on. Keras places work on a GPU by itself when it sees one."""
    found = str(keras.ops.zeros(()).device).split("device:")[-1].lower()
    on_gpu = any(kind in found for kind in ("gpu", "cuda", "mps"))
    if requested == "cpu":
        return "cpu"
    if requested != "auto" and not on_gpu:
        raise SystemExit(
            f"error: --device {requested} asked for a GPU, but Keras "
            f"({keras.config.backend()} backend) found none; use --device cpu"
        )
    return found


def set_precision(precision: str) -> str:
    """Set the global mixed-precision policy; the output layer keeps float32 itself."""
    policy = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}
    keras.config.set_dtype_policy(policy[precision])
    return policy[precision]
'''

WEIGHT_DECAY = '''\
class SpecModel(keras.Model):
    """A functional model whose training loss adds the spec's coupled weight decay."""

    weight_decay = 0.0  # set per phase, before compiling

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """The compiled loss plus (weight_decay / 2) * sum(w**2) over trainable weights.

        The spec's weight_decay is the coupled L2 of torch's SGD/Adam/RMSprop
        (grad += weight_decay * w); Keras's optimizer weight_decay is decoupled.
        """
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        if not training or not self.weight_decay:
            return loss
        squares = [keras.ops.sum(keras.ops.square(w)) for w in self.trainable_weights]
        return loss + self.weight_decay / 2 * keras.ops.sum(keras.ops.stack(squares))
'''

PROGBAR = '''\
class RunProgbar(keras.callbacks.ProgbarLogger):
    """Keras's progress bar, counting epochs over the whole run, not one fit call."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.run_epochs = epochs

    def set_params(self, params: dict) -> None:
        super().set_params({**params, "epochs": self.run_epochs})
'''

CHECKPOINT = '''\
def save_checkpoint(path: Path, model: keras.Model, state: dict) -> None:
    """Every variable of the model and optimizer plus the run state, written atomically.

    model.variables holds the weights, BatchNorm statistics and dropout seed states,
    so a resumed run continues exactly where this one stopped.
    """
    arrays = {f"model_{i}": np.asarray(v) for i, v in enumerate(model.variables)}
    for i, v in enumerate(model.optimizer.variables):
        arrays[f"optimizer_{i}"] = np.asarray(v)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as file:
        np.savez(file, state=np.array(json.dumps(state)), **arrays)
    os.replace(tmp, path)


def load_checkpoint(path: Path, model: keras.Model) -> dict:
    """Restore the model's variables from a checkpoint and return the run state."""
    with np.load(path) as archive:
        for i, v in enumerate(model.variables):
            v.assign(archive[f"model_{i}"])
        return json.loads(str(archive["state"]))


def load_optimizer(path: Path, model: keras.Model) -> None:
    """Restore the optimizer's variables (moments, step count) from a checkpoint."""
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    with np.load(path) as archive:
        for i, v in enumerate(model.optimizer.variables):
            v.assign(archive[f"optimizer_{i}"])
'''

SUMMARY = '''\
def write_summary(model: keras.Model, path: Path) -> None:
    """Parameter counts as Keras counts them (model.count_params())."""
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    total = model.count_params()
    counts = {
        "total_params": total,
        "trainable_params": trainable,
        "non_trainable_params": total - trainable,
    }
    write_json(path, counts)
    print(f"{model.name}: {total:,} parameters ({trainable:,} trainable) -> {path}")
'''


def _loss_code(loss: Loss, logits: str | None) -> Call:
    """A keras.losses object for the spec's loss; from_logits when the model outputs logits."""
    kind = type(loss).call_name
    from_logits = kw("from_logits", bool(logits) or bool(getattr(loss, "from_logits", False)))
    if kind == "sparse_categorical_crossentropy":
        return Call("loss=keras.losses.SparseCategoricalCrossentropy", (from_logits,))
    if kind in ("categorical_crossentropy", "binary_crossentropy"):
        name = "CategoricalCrossentropy" if kind.startswith("categorical") else "BinaryCrossentropy"
        smoothing = kw("label_smoothing", float(loss.label_smoothing))  # type: ignore[attr-defined]
        return Call(f"loss=keras.losses.{name}", (from_logits, smoothing))
    if kind == "mse":
        return Call("loss=keras.losses.MeanSquaredError", ())
    if kind == "mae":
        return Call("loss=keras.losses.MeanAbsoluteError", ())
    if kind == "huber":
        return Call("loss=keras.losses.Huber", (kw("delta", float(loss.delta)),))  # type: ignore[attr-defined]
    raise ValueError(f"no Keras loss for {kind}")


def _optimizer_code(opt: Optimizer) -> Call:
    """A keras.optimizers object with every hyperparameter written out (specc's defaults)."""
    kind = type(opt).call_name
    f = float
    if kind == "SGD":
        args = [
            kw("learning_rate", f(opt.learning_rate)),
            kw("momentum", f(opt.momentum)),  # type: ignore[attr-defined]
            kw("nesterov", opt.nesterov),  # type: ignore[attr-defined]
        ]
    elif kind in ("Adam", "AdamW"):
        args = [
            kw("learning_rate", f(opt.learning_rate)),
            kw("beta_1", f(opt.beta_1)),  # type: ignore[attr-defined]
            kw("beta_2", f(opt.beta_2)),  # type: ignore[attr-defined]
            kw("epsilon", f(opt.epsilon)),  # type: ignore[attr-defined]
        ]
        if kind == "AdamW":
            args.append(kw("weight_decay", f(opt.weight_decay)))
    elif kind == "RMSprop":
        args = [
            kw("learning_rate", f(opt.learning_rate)),
            kw("rho", f(opt.rho)),  # type: ignore[attr-defined]
            kw("momentum", f(opt.momentum)),  # type: ignore[attr-defined]
            kw("epsilon", f(opt.epsilon)),  # type: ignore[attr-defined]
        ]
    else:
        raise ValueError(f"no Keras optimizer for {kind}")
    return Call(f"optimizer=keras.optimizers.{kind}", tuple(args))


def _metric_fn_name(metric: str) -> str:
    return f"{metric}_of_probabilities"


def _metric_code(metric: str, loss: Loss, logits: str | None) -> str | Call:
    """A named keras.metrics object, so history keys are the spec's metric names."""
    name = kw("name", metric)
    if metric == "accuracy":
        if loss.labels == "sparse":
            return f"keras.metrics.SparseCategoricalAccuracy({name})"
        if loss.labels == "onehot":
            return f"keras.metrics.CategoricalAccuracy({name})"
        if loss.labels == "binary":
            # On logits, 0 is the decision boundary that probability 0.5 is.
            on_logits = bool(logits) or bool(getattr(loss, "from_logits", False))
            threshold = 0.0 if on_logits else 0.5
            return Call("keras.metrics.BinaryAccuracy", (name, kw("threshold", threshold)))
        return f"keras.metrics.Accuracy({name})"
    if loss.classification:
        return Call("keras.metrics.MeanMetricWrapper", (_metric_fn_name(metric), name))
    cls = {"mae": "MeanAbsoluteError", "mse": "MeanSquaredError"}[metric]
    return f"keras.metrics.{cls}({name})"


def _metric_functions(program: Program, plan: Plan) -> str:
    """mae/mse of a classifier: between its probabilities and the (one-hot) labels."""
    assert program.train is not None
    needed: dict[str, Loss] = {}
    for phase in program.train.phases:
        for metric in phase.metrics:
            if metric != "accuracy" and phase.loss.classification:
                needed.setdefault(metric, phase.loss)
    if not needed:
        return ""
    labels_kinds = {p.loss.labels for p in program.train.phases if p.loss.classification}
    if len(labels_kinds) > 1:
        raise ValueError("mae/mse metrics with phases of different label kinds")
    sparse = "sparse" in labels_kinds
    out = []
    for metric in sorted(needed):
        op = "keras.ops.abs" if metric == "mae" else "keras.ops.square"
        what = "absolute" if metric == "mae" else "squared"
        lines = [
            f"def {_metric_fn_name(metric)}(y_true, y_pred):",
            f'    """Mean {what} error between the class probabilities and the one-hot labels."""',
        ]
        if sparse:
            lines.append('    ids = keras.ops.reshape(keras.ops.cast(y_true, "int32"), (-1,))')
            lines.append("    y_true = keras.ops.one_hot(ids, CLASSES)")
        if plan.logits:
            lines.append(f"    y_pred = keras.ops.{plan.logits}(y_pred)")
        lines.append('    y_true = keras.ops.cast(y_true, "float32")')
        lines.append(f"    return keras.ops.mean({op}(y_true - y_pred), axis=-1)")
        out.append("\n".join(lines) + "\n")
    return "\n\n".join(out)


def _layer_lines(node: LayerNode, plan: Plan, program: Program, source: str) -> str:
    """`x = keras.layers.X(...)(source)` for one layer."""
    layer = node.layer
    last = node is program.model.layers[-1]
    activation = None
    if plan.logits and last:
        activation = "linear"
    head = program.model.output_layer
    output_dtype = head is not None and node.index >= head.index
    ctx = Ctx(node.name, activation, output_dtype)
    if plan.logits and last and type(layer).call_name in ("Activation", "Sigmoid", "Softmax"):
        return ""  # the activation layer itself: it moves into the loss and predictor()
    ctor, args = EMITTERS[type(layer).call_name](layer, ctx)
    args = list(args)  # type: ignore[assignment]
    if not layer.trainable:
        args.append("trainable=False")
    if output_dtype:
        args.append('dtype="float32"')
    args.append(kw("name", node.name))
    return call(f"x = {ctor}", args, 4, f"({source})")


def _base_args(program: Program) -> str:
    """The arguments build_base takes: the data folder only when a weights file is read from it."""
    base = program.model.base
    return "pretrained, data_dir" if base and base.backbone.weights_file else "pretrained"


def _base_params(program: Program) -> str:
    return "pretrained: bool, data_dir: Path" if "data_dir" in _base_args(program) else "pretrained: bool"


def _build_base(program: Program, plan: Plan) -> str:
    """build_base(): the backbone from keras.applications, without its classifier."""
    base = program.model.base
    assert base is not None
    ctor, _ = BACKBONES[base.name]
    backbone = base.backbone
    file = backbone.weights_file
    lines = [
        f"def build_base({_base_params(program)}) -> keras.Model:",
        f'    """{ctor} without its classifier: it outputs the last feature map."""',
    ]
    if backbone.weights == "imagenet":
        lines.append('    weights = "imagenet" if pretrained else None')
    else:
        lines.append("    weights = None")
    lines.append(
        call(
            "base = keras.applications." + ctor,
            ["include_top=False", "weights=weights", "input_shape=INPUT_SHAPE", kw("name", plan.base_name)],
            4,
        ).rstrip("\n")
    )
    if file is not None:
        lines += [
            "    if pretrained:",
            "        # Weights only (.weights.h5): no objects are deserialized from the file.",
            f"        path = data_dir / {literal(file)}",
            shared.inside_check("path", "        ").rstrip("\n"),
            "        if not path.is_file():",
            '            raise SystemExit(f"error: weights file not found: {path}")',
            "        try:",
            "            base.load_weights(path)",
            "        except ValueError as error:  # arrays that do not fit this backbone",
            '            message = f"error: cannot load the weights in {path}: {error}"',
            "            raise SystemExit(message.splitlines()[0]) from None",
        ]
    if not backbone.trainable:
        lines.append("    base.trainable = False")
    lines.append("    return base")
    return "\n".join(lines) + "\n"


def _build_model(program: Program, plan: Plan) -> str:
    """build_model(): the functional model, as the spec lists its layers."""
    model = program.model
    base = model.base
    signature = _base_params(program) if base else ""
    if plan.logits:
        doc = f"The spec's network, outputting logits: {plan.logits} is in the loss and predictor()."
    else:
        doc = "The spec's network as a functional Keras model."
    lines = [f"def build_model({signature}) -> keras.Model:", f'    """{doc}"""']
    notes = {n.layer.activation_name for n in model.layers}
    if "leaky_relu" in notes:
        lines.append("    # Keras's leaky_relu has negative_slope 0.2, the spec's meaning.")
    if "gelu" in notes:
        lines.append("    # Keras's gelu is the exact (erf) form, the spec's meaning.")
    dtype = ', dtype="int32"' if model.token_input else ""
    lines.append(f"    inputs = keras.Input(shape=INPUT_SHAPE{dtype}, name={literal(plan.input_name)})")
    text = "\n".join(lines) + "\n"
    source = "inputs"
    if plan.images and base is None:
        text += "    # Image folders deliver 0-255 pixels.\n"
        text += "    x = keras.layers.Rescaling(1.0 / 255)(inputs)\n"
        source = "x"
    if base is not None:
        _, module = BACKBONES[base.name]
        text += (
            f"    # The backbone's own input scaling, from 0-255 pixels.\n"
            f"    x = keras.applications.{module}.preprocess_input({source})\n"
            f"    base = build_base({_base_args(program)})\n"
            "    # training=False keeps the backbone's BatchNorm in inference mode, frozen or not.\n"
            "    x = base(x, training=False)\n"
        )
        source = "x"
    for node in model.layers:
        piece = _layer_lines(node, plan, program, source)
        if piece:
            text += piece
            source = "x"
    model_class = "SpecModel" if plan.weight_decay else "keras.Model"
    text += f"    return {model_class}(inputs, {source}, name={literal(model.name)})\n"
    return text


def _predictor(plan: Plan) -> str:
    """predictor(model): the trained logits model with its output activation applied."""
    assert plan.logits
    return (
        "def predictor(model: keras.Model) -> keras.Model:\n"
        f'    """The model with {plan.logits} applied: class probabilities for predictions."""\n'
        f"    probabilities = keras.layers.Activation({literal(plan.logits)}, "
        f"name={literal(plan.output_name)})\n"
        "    return keras.Model(model.inputs, probabilities(model.outputs[0]))\n"
    )


def _phase_class(plan: Plan) -> str:
    fields = [
        "    name: str",
        "    epochs: int",
        "    batch_size: int",
        "    optimizer: keras.optimizers.Optimizer",
        "    keep_optimizer: bool  # a stage changing neither optimizer nor trainable set",
        "    loss: keras.losses.Loss",
        "    metrics: list[keras.metrics.Metric]",
    ]
    if plan.weight_decay:
        fields.append("    weight_decay: float  # coupled L2, added to the loss by SpecModel")
    if plan.one_hot:
        fields.append("    one_hot: bool  # categorical cross-entropy takes one-hot labels")
    if plan.stages:
        fields.append("    trainable: tuple[str, ...]  # the layers that train")
        fields.append("    base: int | None  # backbone: None all trains, 0 frozen, N the last N")
    return (
        "class Phase(NamedTuple):\n"
        '    """One phase of training: the train block (`main`) or a stage."""\n\n' + "\n".join(fields) + "\n"
    )


def _phase_entry(phase: Phase, index: int, program: Program, plan: Plan) -> str:
    metrics = tuple(_metric_code(m, phase.loss, plan.logits) for m in phase.metrics)
    args: list[str | Call] = [
        kw("name", phase.name),
        kw("epochs", phase.epochs),
        kw("batch_size", phase.batch_size),
        _optimizer_code(phase.optimizer),
        kw("keep_optimizer", index > 0 and not phase.rebuild),
        _loss_code(phase.loss, plan.logits),
        Call("metrics=", metrics, "[]"),
    ]
    if plan.weight_decay:
        coupled = 0.0 if phase.optimizer.decoupled else float(phase.optimizer.weight_decay)
        args.append(kw("weight_decay", coupled))
    if plan.one_hot:
        args.append(kw("one_hot", phase.loss.labels == "onehot"))
    if plan.stages:
        args.append(kw("trainable", tuple(sorted(phase.trainable))))
        args.append(kw("base", phase.base))
    return call("Phase", args, 8, ",").rstrip("\n") + "\n"


def _phases(program: Program, plan: Plan) -> str:
    assert program.train is not None
    body = "".join(_phase_entry(p, i, program, plan) for i, p in enumerate(program.train.phases))
    return (
        "def make_phases() -> list[Phase]:\n"
        '    """The phases in order, the spec\'s losses and optimizers written out in full."""\n'
        "    return [\n" + body + "    ]\n"
    )


SET_TRAINABLE = '''\
def set_trainable(model: keras.Model, phase: Phase) -> None:
    """Set the phase's trainable flags (base.last(N): the last N weighted layers)."""
    for layer in model.layers:
        if layer.name != BASE_NAME and layer.weights:
            layer.trainable = layer.name in phase.trainable
'''

SET_TRAINABLE_BASE = """\
    if BASE_NAME in [layer.name for layer in model.layers]:
        base = model.get_layer(BASE_NAME)
        base.trainable = phase.base != 0
        if phase.base:
            weighted = [layer for layer in base.layers if layer.weights]
            for layer in weighted[: -phase.base]:
                layer.trainable = False
"""


BATCHES = '''\
def epoch_order(seed: int, epoch: int, size: int) -> np.ndarray:
    """The order of the training examples in an epoch, drawn from (seed, epoch) alone.

    A resumed run therefore sees exactly the batches an uninterrupted run would.
    """
    return np.random.default_rng([seed, epoch]).permutation(size)


class ShuffledBatches(keras.utils.PyDataset):
    """Training batches in epoch_order, for the backends other than TensorFlow."""

    def __init__(
        self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, steps: int
    ) -> None:
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size
        self.seed, self.steps = seed, steps
        self.order = np.arange(len(x))

    def __len__(self) -> int:
        return self.steps

    def set_epoch(self, epoch: int) -> None:
        self.order = epoch_order(self.seed, epoch, len(self.x))

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.x[rows], self.y[rows]


class EpochOrder(keras.callbacks.Callback):
    """Before each epoch, puts the ShuffledBatches in that epoch's order.

    The epoch number comes from fit: counting the dataset's own epochs would run one
    ahead, since Keras also iterates it once to build the model before training.
    """

    def __init__(self, batches: ShuffledBatches) -> None:
        super().__init__()
        self.batches = batches

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.batches.set_epoch(epoch)


def tf_batches(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    seed: int,
    epochs: range,
    steps: int,
):
    """The batches ShuffledBatches gives, for all `epochs`, as one tf.data.Dataset.

    On TensorFlow Keras reads a PyDataset through one Python call per batch. Here Python
    only draws each epoch's order and TensorFlow gathers the rows, as Keras does for
    arrays; one pipeline spans the epochs, so fit builds no iterator per epoch.
    """
    import tensorflow as tf  # imported here: the other backends run without it

    def epoch_rows(epoch: tf.Tensor) -> tf.data.Dataset:
        order = tf.numpy_function(
            lambda number: epoch_order(seed, number, len(x)), [epoch], tf.int64
        )
        order = tf.ensure_shape(order, [len(x)])
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size).take(steps)

    def gather(
        rows: tf.Tensor, arrays: tuple[tf.Tensor, tf.Tensor]
    ) -> tuple[tf.Tensor, tf.Tensor]:
        features, labels = arrays
        return tf.gather(features, rows), tf.gather(labels, rows)

    row_batches = tf.data.Dataset.range(epochs.start, epochs.stop).flat_map(epoch_rows)
    arrays = tf.data.Dataset.from_tensors((x, y)).repeat()
    batches = tf.data.Dataset.zip(row_batches, arrays)
    batches = batches.map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    return batches.prefetch(tf.data.AUTOTUNE)
'''

RECORDER = '''\
class EpochRecorder(keras.callbacks.Callback):
    """After each epoch: a history record, metrics.json and a checkpoint."""

    def __init__(self, phase: Phase, history: list[dict], out: Path) -> None:
        super().__init__()
        self.phase, self.history, self.out = phase, history, out

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.began = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        record = {"epoch": epoch + 1, "stage": self.phase.name}
        for name in ["loss", *[metric.name for metric in self.phase.metrics]]:
            for key in (name, "val_" + name):
                if key in logs:
                    record[key] = float(logs[key])
        record["seconds"] = round(time.perf_counter() - self.began, 3)
        self.history.append(record)
        state = {"epoch": epoch + 1, "history": self.history}
        save_checkpoint(self.out / "checkpoint.npz", self.model, state)
        write_json(self.out / "metrics.json", {"history": self.history})
'''


def _train(program: Program, plan: Plan) -> str:
    """train(): the phases in order, one fit call each, a checkpoint after every epoch."""
    lines = [
        "def train(",
        "    model: keras.Model,",
        "    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],",
        "    args: argparse.Namespace,",
        ") -> list[dict]:",
        '    """Run the phases in order; return the history (one record per epoch)."""',
        "    x_train, y_train, x_val, y_val = data",
        "    phases = make_phases()",
        "    total = sum(args.epochs or phase.epochs for phase in phases)",
        '    checkpoint = args.out / "checkpoint.npz"',
        "    history: list[dict] = []",
        "    done = 0  # epochs finished, counted over all phases",
        "    if args.resume and checkpoint.is_file():",
        "        state = load_checkpoint(checkpoint, model)",
        '        history, done = state["history"], state["epoch"]',
        '        print(f"resuming after epoch {done} from {checkpoint}")',
        "    elif args.resume:",
        '        print(f"note: no checkpoint in {args.out}; starting from the beginning")',
        "    optimizer = None",
        "    end = 0",
        "    for phase in phases:",
        "        start, end = end, end + (args.epochs or phase.epochs)",
        "        if end <= done:",
        "            continue  # finished before the run was interrupted",
    ]
    if plan.stages:
        lines.append("        set_trainable(model, phase)")
    if plan.weight_decay:
        lines.append("        model.weight_decay = phase.weight_decay")
    lines += [
        "        if optimizer is None or not phase.keep_optimizer:",
        "            optimizer = phase.optimizer",
        "        model.compile(",
        "            optimizer=optimizer,",
        "            loss=phase.loss,",
        "            metrics=phase.metrics,",
        "            jit_compile=JIT_COMPILE,",
        "        )",
        "        if done > start or (done == start > 0 and phase.keep_optimizer):",
        "            # Continue the optimizer of the phase the run stopped in.",
        "            load_optimizer(checkpoint, model)",
        "        batch_size = args.batch_size or phase.batch_size",
        "        steps = math.ceil(len(x_train) / batch_size)",
        "        val_steps = None",
        "        if args.max_steps:",
        "            steps = min(steps, args.max_steps)",
        "            val_steps = min(math.ceil(len(x_val) / batch_size), args.max_steps)",
    ]
    y_train, y_val = "y_train", "y_val"
    if plan.one_hot:
        lines += [
            "        targets, val_targets = y_train, y_val",
            "        if phase.one_hot:",
            "            targets = keras.utils.to_categorical(y_train, CLASSES)",
            "            val_targets = keras.utils.to_categorical(y_val, CLASSES)",
        ]
        y_train, y_val = "targets", "val_targets"
    lines += [
        "        first = max(start, done)",
        "        callbacks = [RunProgbar(total), EpochRecorder(phase, history, args.out)]",
        '        if keras.config.backend() == "tensorflow":',
        "            # One dataset for all the phase's epochs, which steps_per_epoch cuts apart.",
        "            batches = tf_batches(",
        f"                x_train, {y_train}, batch_size, args.seed, range(first, end), steps",
        "            )",
        "            steps_per_epoch = steps",
        "        else:",
        f"            batches = ShuffledBatches(x_train, {y_train}, batch_size, args.seed, steps)",
        "            callbacks.append(EpochOrder(batches))",
        "            steps_per_epoch = None  # an epoch is len(batches)",
        "        model.fit(",
        "            batches,",
        "            epochs=end,",
        "            initial_epoch=first,",
        "            steps_per_epoch=steps_per_epoch,",
        "            shuffle=False,  # the batches come in epoch_order",
        f"            validation_data=(x_val, {y_val}) if len(x_val) else None,",
        "            validation_batch_size=batch_size,",
        "            validation_steps=val_steps,",
        "            callbacks=callbacks,",
        "        )",
        "    return history",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Portable weights: specc's own .npz layout, `<layer>/<role>` in Keras's shapes and gate order,
# which the PyTorch target reads and writes too (docs/semantics.md).


def _portable(program: Program, plan: Plan) -> str:
    """model_weights, portable_weights, export_weights, import_weights and predict."""
    model = program.model
    base = model.base
    gru = any(n.type == "GRU" for n in model.layers)
    text = (
        "def model_weights(model: keras.Model) -> dict[str, keras.Variable]:\n"
        '    """Every weight by its portable key: `<layer>/<Keras variable name>`."""\n'
        "    weights = {}\n"
        "    for layer in model.layers:\n"
    )
    if base:
        text += (
            f"        if layer.name == {literal(plan.base_name)}:\n"
            "            # The backbone keeps keras.applications' names and layout (torch's differs).\n"
            "            for inner in layer.layers:\n"
            "                for weight in inner.weights:\n"
            '                    weights[f"base/keras/{inner.name}/{weight.name}"] = weight\n'
            "            continue\n"
        )
    text += (
        "        for weight in layer.weights:\n"
        '            weights[f"{layer.name}/{weight.name}"] = weight\n'
        "    return weights\n"
    )
    if gru:
        text += (
            "\n\n"
            "def gru_names(model: keras.Model) -> list[str]:\n"
            '    """The GRU layers: Keras keeps their two biases in one (2, 3 * units) array."""\n'
            "    return [layer.name for layer in model.layers if isinstance(layer, keras.layers.GRU)]\n"
        )
    text += (
        "\n\n"
        "def portable_weights(model: keras.Model) -> dict[str, np.ndarray]:\n"
        '    """The weights as arrays in the portable layout both targets read."""\n'
        "    weights = model_weights(model)\n"
    )
    if gru:
        text += (
            "    arrays = {key: keras.ops.convert_to_numpy(w) for key, w in weights.items()}\n"
            "    for name in gru_names(model):\n"
            '        bias, recurrent_bias = arrays[f"{name}/bias"]\n'
            '        arrays[f"{name}/bias"], arrays[f"{name}/recurrent_bias"] = bias, recurrent_bias\n'
            "    return arrays\n"
        )
    else:
        text += "    return {key: keras.ops.convert_to_numpy(w) for key, w in weights.items()}\n"
    text += (
        "\n\n"
        "def export_weights(model: keras.Model, path: Path) -> None:\n"
        '    """Write the weights to an .npz in the portable layout (written atomically)."""\n'
        "    arrays = portable_weights(model)\n"
        '    tmp = path.with_name(path.name + ".tmp")\n'
        '    with tmp.open("wb") as file:\n'
        "        np.savez(file, **arrays)\n"
        "    os.replace(tmp, path)\n"
        "\n\n"
        "def import_weights(model: keras.Model, path: Path) -> None:\n"
        '    """Load a portable .npz written by either target; every weight must fit."""\n'
        "    if not path.is_file():\n"
        '        raise SystemExit(f"error: weights file not found: {path}")\n'
        "    with np.load(path) as archive:\n"
        "        arrays = {key: archive[key] for key in archive.files}\n"
    )
    if base:
        text += (
            '    if any(key.startswith("base/torch/") for key in arrays):\n'
            "        raise SystemExit(\n"
            f'            f"error: {{path}} holds torchvision\'s {base.name} backbone; "\n'
            '            "keras.applications\' has other layers and shapes, so only weights "\n'
            '            "exported by the Keras program load into its backbone"\n'
            "        )\n"
        )
    text += shared.weights_fit_check("array", "{}")
    if gru:
        text += (
            "    for name in gru_names(model):\n"
            '        biases = [arrays[f"{name}/bias"], arrays.pop(f"{name}/recurrent_bias")]\n'
            '        arrays[f"{name}/bias"] = np.stack(biases)\n'
        )
    text += (
        "    for key, weight in model_weights(model).items():\n"
        "        weight.assign(arrays[key])\n"
        "\n\n" + _predict(program, plan)
    )
    return text


def _predict(program: Program, plan: Plan) -> str:
    """predict(model, args): --predict IN.npy --predictions OUT.npy."""
    dtype = "np.int32" if program.model.token_input else "np.float32"
    lines = [
        "def predict(model: keras.Model, args: argparse.Namespace) -> None:",
        '    """Run the model on --predict (channels-last inputs) and save --predictions."""',
        "    if args.predictions is None:",
        '        raise SystemExit("error: --predict needs --predictions OUT.npy")',
        "    if not args.predict.is_file():",
        '        raise SystemExit(f"error: input file not found: {args.predict}")',
        '    weights = args.init_weights or args.out / "weights.npz"',
        "    if args.init_weights is None:",
        "        import_weights(model, weights)",
        f"    inputs = np.load(args.predict).astype({dtype}).reshape(-1, *INPUT_SHAPE)",
        "    batch_size = args.batch_size or make_phases()[0].batch_size",
    ]
    if plan.logits:
        lines.append(f"    # The model returns logits (the loss fuses the {plan.logits}).")
        lines.append("    outputs = predictor(model).predict(inputs, batch_size=batch_size, verbose=0)")
    else:
        lines.append("    outputs = model.predict(inputs, batch_size=batch_size, verbose=0)")
    lines += [
        "    np.save(args.predictions, outputs)",
        '    print(f"predictions of the weights in {weights} -> {args.predictions}")',
    ]
    return "\n".join(lines) + "\n"


def _main(program: Program, plan: Plan) -> str:
    base = program.model.base is not None
    if base and _base_args(program) == "pretrained":
        build = "build_model(not args.no_pretrained)"
    elif base:
        build = "build_model(not args.no_pretrained, args.data_dir)"
    else:
        build = "build_model()"
    assert program.train is not None
    from_files = isinstance(program.train.data, (Csv, Npz, ImageFolder))
    load = "load_data(args.data_dir, args.seed)" if from_files else "load_data(args.seed)"
    return f'''\
def main(argv: list[str] | None = None) -> None:
    """Build the model, train it phase by phase, write weights, metrics and plots."""
    args = parse_args(argv)
    device = pick_device(args.device)
    precision = set_precision(args.precision)
    backend = keras.config.backend()
    print(f"device: {{device}} ({{backend}} backend), precision: {{precision}}")
    keras.utils.set_random_seed(args.seed)
    prepare_out(args.out)
    # Keras places work itself; only --device cpu needs pinning.
    place = keras.device("cpu") if device == "cpu" else contextlib.nullcontext()
    with place:
        model = {build}
        if args.init_weights:
            import_weights(model, args.init_weights)
        if args.predict:
            predict(model, args)
            return
        if args.build_only:
            write_summary(model, args.out / "summary.json")
            if args.export_weights:
                export_weights(model, args.export_weights)
            return
        history = train(model, {load}, args)
    model.save_weights(args.out / "model.weights.h5")
    # The portable copy that --init-weights and --predict read, in either target.
    export_weights(model, args.out / "weights.npz")
    if args.export_weights:
        export_weights(model, args.export_weights)
    plot_history(history, args.out / "history.png")
    if history:
        print("final:", format_record(history[-1]))
    print(f"weights, metrics.json and history.png are in {{args.out}}")
'''


def _image_data(program: Program) -> shared.Snippet:
    """load_data for an image folder: keras.utils reads and resizes, numpy splits like every other source."""
    assert program.train is not None
    source = program.train.data
    assert isinstance(source, ImageFolder)
    shape = program.model.input_shape
    color = "grayscale" if shape[2] == 1 else "rgb"
    code = f'''\
def load_data(
    data_dir: Path, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_val, y_val): 0-255 images from one sub-folder per class.

    The last rows of a seeded shuffle validate, as for every other data source.
    """
    path = data_dir / {literal(source.path)}
{shared.inside_check("path")}    if not path.is_dir():
        raise SystemExit(f"error: image folder not found: {{path}}")
    images = keras.utils.image_dataset_from_directory(
        path,
        label_mode="int",
        color_mode={literal(color)},
        image_size=INPUT_SHAPE[:2],
        batch_size=None,
        shuffle=False,
    )
    print(f"classes: {{images.class_names}}")
    pairs = list(images.as_numpy_iterator())
    features = np.stack([np.rint(image).astype(np.uint8) for image, _ in pairs])
    labels = np.array([label for _, label in pairs], dtype=np.int64)
    order = np.random.default_rng(seed).permutation(len(features))
    n_val = round(len(order) * VALIDATION_SPLIT)
    train, val = order[: len(order) - n_val], order[len(order) - n_val :]
    return features[train], labels[train], features[val], labels[val]
'''
    split = literal(float(source.validation_split))
    constants = f"INPUT_SHAPE = {literal(tuple(shape))}\nVALIDATION_SPLIT = {split}\n"
    return shared.Snippet(code, frozenset({"import numpy as np", "from pathlib import Path"}), constants)


def emit(program: Program, options: EmitOptions) -> str:
    """The whole Keras 3 program for a checked spec."""
    problems = check(program)
    if problems:
        raise ValueError("emit() needs a program that check() accepts")
    assert program.train is not None
    plan = plan_of(program)
    args = shared.parse_args(
        program,
        epilog="The Keras backend comes from KERAS_BACKEND (default: tensorflow).",
    )
    data = shared.data(program) if shared.has_arrays(program.train.data) else _image_data(program)
    outputs = shared.outputs()
    imports = set(args.imports | data.imports | outputs.imports)
    imports |= {
        "import contextlib",
        "import math",
        "import time",
        "import json",
        "import os",
        "import keras",
        "import numpy as np",
        "from typing import NamedTuple",
        "from pathlib import Path",
        "import argparse",
    }
    constants = data.constants
    metric_functions = _metric_functions(program, plan)
    if plan.one_hot or "CLASSES" in metric_functions:
        constants += f"CLASSES = {literal(program.model.output_shape[-1])}\n"
    constants += f"JIT_COMPILE = {literal(bool(program.train.compile))}  # the spec's `compile:`\n"
    if plan.stages:
        constants += f"BASE_NAME = {literal(plan.base_name)}\n"
    pieces = [args.code, data.code, outputs.code, DEVICE]
    if plan.weight_decay:
        pieces.append(WEIGHT_DECAY)
    if metric_functions:
        pieces.append(metric_functions)
    if program.model.base is not None:
        pieces.append(_build_base(program, plan))
    pieces.append(_build_model(program, plan))
    if plan.logits:
        pieces.append(_predictor(plan))
    pieces.append(_phase_class(plan))
    pieces.append(_phases(program, plan))
    pieces.append(_portable(program, plan))
    if plan.stages:
        trainable = SET_TRAINABLE + (SET_TRAINABLE_BASE if program.model.base is not None else "")
        pieces.append(trainable)
    pieces += [PROGBAR, BATCHES, RECORDER, CHECKPOINT, SUMMARY, _train(program, plan), _main(program, plan)]
    text = shared.header(program, "Keras 3")
    text += "\n" + shared.import_block(imports)
    text += "\n" + constants
    text += "\n\n" + "\n\n".join(pieces)
    text += '\n\nif __name__ == "__main__":\n    main()\n'
    return text

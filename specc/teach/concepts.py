"""Which concepts a spec uses, where, and the PyTorch and Keras code for each, from the spec's values.

The lesson, the notebook and the graph legend read this one list. Every spec value reaches the code
through `literal()`; layer and phase names (validated identifiers) appear only in comments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from specc.ir import LayerNode, Phase, Program
from specc.losses import Loss
from specc.optimizers import Optimizer
from specc.regularizers import Regularizer
from specc.targets.literal import literal
from specc.teach.texts import check_lang, note

# Activation -> (torch module expression, Keras activation name); specc's meaning in both.
TORCH_ACTIVATIONS: dict[str, str] = {
    "relu": "nn.ReLU()",
    "sigmoid": "nn.Sigmoid()",
    "tanh": "nn.Tanh()",
    "softmax": "nn.Softmax(dim=-1)",
    "leaky_relu": "nn.LeakyReLU(negative_slope=0.2)",
    "elu": "nn.ELU(alpha=1.0)",
    "gelu": "nn.GELU()",
    "silu": "nn.SiLU()",
    "softplus": "nn.Softplus()",
    "linear": "nn.Identity()",
}

# Layer type -> the concept it teaches (activation layers are handled through their function).
LAYER_CONCEPTS: dict[str, str] = {
    "Dense": "dense",
    "Dropout": "dropout",
    "Flatten": "flatten",
    "Reshape": "reshape",
    "BatchNormalization": "batch_normalization",
    "LayerNormalization": "layer_normalization",
    "Conv1D": "convolution",
    "Conv2D": "convolution",
    "MaxPooling1D": "pooling",
    "MaxPooling2D": "pooling",
    "AveragePooling1D": "pooling",
    "AveragePooling2D": "pooling",
    "GlobalAveragePooling1D": "global_pooling",
    "GlobalMaxPooling1D": "global_pooling",
    "GlobalAveragePooling2D": "global_pooling",
    "GlobalMaxPooling2D": "global_pooling",
    "SimpleRNN": "recurrent",
    "LSTM": "recurrent",
    "GRU": "recurrent",
    "Embedding": "embedding",
}

KERAS_BACKBONES: dict[str, str] = {
    "resnet50": "ResNet50",
    "vgg16": "VGG16",
    "mobilenet_v2": "MobileNetV2",
    "efficientnet_b0": "EfficientNetB0",
}


@dataclass
class Use:
    """One concept the spec uses: where (layer and phase names) and the code in each framework."""

    key: str
    where: list[str] = field(default_factory=list)
    torch: list[str] = field(default_factory=list)
    keras: list[str] = field(default_factory=list)

    def add(self, where: str | None, torch: str | None, keras: str | None) -> None:
        """Record one more place, keeping each place and each snippet once."""
        for items, item in ((self.where, where), (self.torch, torch), (self.keras, keras)):
            if item is not None and item not in items:
                items.append(item)

    @property
    def torch_code(self) -> str:
        """Every PyTorch snippet, one after the other."""
        return "\n\n".join(self.torch)

    @property
    def keras_code(self) -> str:
        """Every Keras snippet, one after the other."""
        return "\n\n".join(self.keras)


class _Uses:
    """An ordered collection of Use, one per concept key."""

    def __init__(self, lang: str) -> None:
        self.items: dict[str, Use] = {}
        self.lang = check_lang(lang)

    def note(self, key: str, **values: object) -> str:
        """A snippet comment in the lesson's language."""
        return note(key, self.lang, **values)

    def add(
        self, key: str, where: str | None = None, torch: str | None = None, keras: str | None = None
    ) -> None:
        """Record a use of concept `key` (the first use fixes its place in the order)."""
        self.items.setdefault(key, Use(key)).add(where, torch, keras)


WIDTH = 88  # ruff format's default line length, so that the snippets read like formatted code


def wrap_call(head: str, args: str, indent: str = "") -> str:
    """`head(args)` on one line when it fits, else one argument per line as ruff format writes it."""
    line = f"{indent}{head}({args})"
    if len(line) <= WIDTH or not args:
        return line
    hugged = f"{indent}    {args}"
    if len(hugged) <= WIDTH:
        return f"{indent}{head}(\n{hugged}\n{indent})"
    parts, depth, current = [], 0, ""
    for char in args:
        # Split only at top-level commas, never inside a nested call or tuple.
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += char in "([{"
        depth -= char in ")]}"
        current += char
    parts.append(current.strip())
    inner = "".join(f"{indent}    {part},\n" for part in parts if part)
    return f"{indent}{head}(\n{inner}{indent})"


def _args(*positional: object, **keywords: object) -> str:
    """A call's argument list, every value written with literal()."""
    parts = [literal(v) for v in positional]
    parts += [f"{k}={literal(v)}" for k, v in keywords.items()]
    return ", ".join(parts)


def _where(node: LayerNode) -> str:
    """How a layer is named in the lesson: its (validated) name and type."""
    return f"{node.name} ({node.type})"


def _activation(uses: _Uses, node: LayerNode, name: str, output: bool) -> None:
    """The activation concept of one layer (linear only where it is the model's output)."""
    if name == "linear" and not output:
        return
    uses.add("activation")
    torch = TORCH_ACTIVATIONS[name]
    if node.type == "Softmax":
        torch = f"nn.Softmax(dim={literal(node.layer.axis)})"
        keras = f"layers.Softmax(axis={literal(node.layer.axis)})"
    elif node.type == "ReLU":
        keras = "layers.ReLU()"
    elif node.type in ("Activation", "Sigmoid", "Tanh"):
        keras = f"layers.Activation({literal(name)})"
    else:
        keras = f"layers.{node.type}(..., activation={literal(name)})"
    where = _where(node)
    uses.add(name, where, f"# {where}\n{torch}", f"# {where}\n{keras}")


def _regularizer_code(
    uses: _Uses, node: LayerNode, param: str, reg: Regularizer
) -> tuple[str, str, list[str]]:
    """(torch, keras, concept keys) for one kernel/bias regularizer of a layer."""
    l1, l2 = reg.factors()
    tensor = "weight" if param == "kernel_regularizer" else "bias"
    terms = []
    if l1:
        terms.append(f"{literal(l1)} * layer.{tensor}.abs().sum()")
    if l2:
        terms.append(f"{literal(l2)} * layer.{tensor}.pow(2).sum()")
    penalty = " + ".join(terms) or "0.0"
    torch = f"# {node.name}: {uses.note('by_hand', param=param)}\nloss = loss + {penalty}"
    name = type(reg).call_name
    keras = f"# {node.name}\nlayers.{node.type}(..., {param}=regularizers.{name}({_args(**reg.options())}))"
    keys = ["regularization", name]
    return torch, keras, keys


def _layer(uses: _Uses, node: LayerNode, output: bool) -> None:
    """The concepts one layer uses, with its code."""
    layer, where, shape = node.layer, _where(node), node.in_shape
    kind = node.type
    torch = keras = None
    if kind == "Dense":
        bias = "" if layer.use_bias else ", bias=False"
        torch = f"nn.Linear({_args(shape[-1], layer.units)}{bias})"
        extra = "" if layer.use_bias else ", use_bias=False"
        keras = f"layers.Dense({_args(layer.units)}, activation={literal(layer.activation)}{extra})"
    elif kind == "Dropout":
        torch = f"nn.Dropout(p={literal(layer.rate)})"
        keras = f"layers.Dropout({literal(layer.rate)})"
    elif kind == "Flatten":
        if len(shape) > 1:
            torch = f"x = x.permute(0, 2, 3, 1).flatten(1)  # {uses.note('flatten_channels_last')}"
            if len(shape) == 2:
                torch = f"x = x.flatten(1)  # {uses.note('flatten_sequence')}"
        else:
            torch = "nn.Flatten()"
        keras = "layers.Flatten()"
    elif kind == "Reshape":
        dims = ", ".join(literal(d) for d in layer.target_shape)
        torch = f"x = x.reshape(-1, {dims})  # {uses.note('reshape_channels_last')}"
        keras = f"layers.Reshape({literal(tuple(layer.target_shape))})"
    elif kind == "BatchNormalization":
        dims = {1: "1d", 2: "1d", 3: "2d"}.get(len(shape), "2d")
        momentum = round(1 - layer.momentum, 12)  # 1 - 0.99 is 0.010000000000000009 in floats
        torch = (
            f"nn.BatchNorm{dims}({_args(shape[-1], eps=layer.epsilon, momentum=momentum)})"
            f"  # {uses.note('bn_momentum')}"
        )
        keras = f"layers.BatchNormalization({_args(momentum=layer.momentum, epsilon=layer.epsilon)})"
    elif kind == "LayerNormalization":
        torch = f"nn.LayerNorm({_args(shape[-1], eps=layer.epsilon)})"
        keras = f"layers.LayerNormalization({_args(epsilon=layer.epsilon)})"
    elif kind in ("Conv1D", "Conv2D"):
        rank = 1 if kind == "Conv1D" else 2
        same = layer.padding == "same"
        strided = any(s > 1 for s in layer.stride)
        padding = '"same"' if same and not strided else "0"
        bias = "" if layer.use_bias else ", bias=False"
        torch = (
            f"nn.Conv{rank}d({_args(shape[-1], layer.filters)}, kernel_size={literal(layer.kernel)}, "
            f"stride={literal(layer.stride)}, padding={padding}{bias})"
        )
        if same and strided:
            torch = f"# {uses.note('pad_conv')}\n" + torch
        extra = "" if layer.use_bias else ", use_bias=False"
        keras = (
            f"layers.{kind}({_args(layer.filters, layer.kernel_size)}, "
            f"strides={literal(layer.strides)}, padding={literal(layer.padding)}, "
            f"activation={literal(layer.activation)}{extra})"
        )
    elif kind in ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D"):
        rank = kind[-2]
        op = "MaxPool" if kind.startswith("Max") else "AvgPool"
        torch = f"nn.{op}{rank}d(kernel_size={literal(layer.pool)}, stride={literal(layer.stride)})"
        if layer.padding == "same":
            torch = f"# {uses.note('pad_pool')}\n" + torch
        keras = (
            f"layers.{kind}(pool_size={literal(layer.pool)}, "
            f"strides={literal(layer.stride)}, padding={literal(layer.padding)})"
        )
    elif kind.startswith("Global"):
        reduce = "mean" if "Average" in kind else "amax"
        axes = "(1, 2)" if kind.endswith("2D") else "1"
        torch = f"x = x.{reduce}(dim={axes})  # {uses.note('global_pool')}"
        keras = f"layers.{kind}()"
    elif kind in ("SimpleRNN", "LSTM", "GRU"):
        module = {"SimpleRNN": "RNN", "LSTM": "LSTM", "GRU": "GRU"}[kind]
        last = "output" if layer.return_sequences else f"output[:, -1]  # {uses.note('last_step')}"
        torch = (
            f"rnn = nn.{module}(input_size={literal(shape[-1])}, hidden_size={literal(layer.units)}, "
            f"batch_first=True)\noutput, _ = rnn(x)\nx = {last}"
        )
        keras = f"layers.{kind}({_args(layer.units)}, return_sequences={literal(layer.return_sequences)})"
    elif kind == "Embedding":
        torch = f"nn.Embedding({_args(layer.input_dim, layer.output_dim)})"
        keras = f"layers.Embedding({_args(layer.input_dim, layer.output_dim)})"
    if kind in LAYER_CONCEPTS and torch is not None:
        uses.add(LAYER_CONCEPTS[kind], where, f"# {where}\n{torch}", f"# {where}\n{keras}")
    activation = layer.activation_name
    if activation is not None:
        _activation(uses, node, activation, output)
    for param in ("kernel_regularizer", "bias_regularizer"):
        reg = getattr(layer, param, None)
        if reg is not None:
            t, k, keys = _regularizer_code(uses, node, param, reg)
            uses.add(keys[0])
            uses.add(keys[1], node.name, t, k)
    if not layer.trainable:
        uses.add(
            "freezing",
            where,
            f"# {where}: {uses.note('frozen_layer')}\nlayer.requires_grad_(False)",
            f"# {where}: {uses.note('frozen_layer')}\nlayer.trainable = False",
        )


def _backbone(uses: _Uses, program: Program) -> None:
    """Transfer learning and feature extraction: the pretrained backbone and its freezing."""
    base = program.model.base
    if base is None:
        return
    name = base.name
    weights = base.backbone.weights
    torch_weights = '"DEFAULT"' if weights == "imagenet" else "None"
    load_file = ""
    if base.backbone.weights_file:
        load_file = f"\nbase.load_state_dict(torch.load({literal(base.backbone.weights_file)}))"
    if name.startswith("resnet"):
        strip = "base = nn.Sequential(*list(base.children())[:-2])  # {uses.note('strip_resnet')}"
    else:
        strip = f"base = base.features  # {uses.note('strip_features')}"
    torch = f"base = models.{name}(weights={torch_weights}){load_file}\n{strip}"
    if name in KERAS_BACKBONES:
        keras_weights = literal(weights)
        keras = (
            f"base_model = keras.applications.{KERAS_BACKBONES[name]}(\n"
            f"    weights={keras_weights},\n"
            "    include_top=False,\n"
            f"    input_shape={literal(program.model.input_shape)},\n)"
        )
    else:
        keras = f"# {uses.note('no_keras_backbone', name=name)}"
    uses.add("transfer_learning", f"base ({name})", torch, keras)
    if not base.backbone.trainable:
        uses.add(
            "feature_extraction",
            f"base ({name})",
            f"for param in base.parameters():\n    param.requires_grad = False  # {uses.note('freeze')}",
            "base_model.trainable = False\n"
            f"x = base_model(inputs, training=False)  # {uses.note('bn_inference')}",
        )


def _trainable_params(program: Program, phase: Phase) -> str:
    """The torch expression for the parameters an optimizer gets in a phase."""
    everything = phase.base is None and len(phase.trainable) == sum(
        1 for n in program.model.layers if type(n.layer).has_weights
    )
    if everything and all(n.trainable for n in program.model.layers):
        return "model.parameters()"
    return "[p for p in model.parameters() if p.requires_grad]"


def torch_optimizer(opt: Optimizer, params: str, prefix: str = "optimizer = ") -> str:
    """`torch.optim.X(params, ...)` with every setting written out in torch's names."""
    name = type(opt).call_name
    kw: dict[str, object] = {"lr": opt.learning_rate}
    if name == "SGD":
        kw |= {"momentum": opt.momentum, "nesterov": opt.nesterov}
    elif name in ("Adam", "AdamW"):
        kw |= {"betas": (opt.beta_1, opt.beta_2), "eps": opt.epsilon}
    elif name == "RMSprop":
        kw |= {"alpha": opt.rho, "eps": opt.epsilon, "momentum": opt.momentum}
    kw["weight_decay"] = opt.weight_decay
    return wrap_call(f"{prefix}torch.optim.{name}", f"{params}, {_args(**kw)}")


def keras_optimizer(opt: Optimizer, prefix: str = "optimizer = ") -> str:
    """`keras.optimizers.X(...)`; coupled weight decay is not passed (it becomes a loss penalty)."""
    options = {k: v for k, v in opt.options().items() if k != "weight_decay"}
    if opt.decoupled:
        options["weight_decay"] = opt.weight_decay
    return wrap_call(f"{prefix}keras.optimizers.{type(opt).call_name}", _args(**options))


def _optimizer(uses: _Uses, program: Program, phase: Phase) -> None:
    """The optimizer of one phase, its learning rate and weight decay."""
    opt = phase.optimizer
    key = type(opt).call_name.lower()
    params = _trainable_params(program, phase)
    torch = torch_optimizer(opt, params)
    keras = keras_optimizer(opt)
    where = f"{phase.name}"
    uses.add("optimizer")
    if opt.weight_decay and not opt.decoupled:
        half = literal(opt.weight_decay / 2)
        keras += (
            f"\n# {uses.note('coupled', wd=literal(opt.weight_decay))}\n"
            f"penalty = {half} * sum(keras.ops.sum(w**2) for w in model.trainable_weights)"
        )
        uses.add("regularization")
        uses.add("weight_decay", where, torch, keras)
    uses.add(key, where, torch, keras)


def torch_loss(loss: Loss, uses: _Uses) -> str:
    """The torch loss module: cross-entropies take the scores before softmax/sigmoid (stable)."""
    name = type(loss).call_name
    if name in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
        smoothing = getattr(loss, "label_smoothing", 0.0)
        args = f"label_smoothing={literal(smoothing)}" if smoothing else ""
        return f"nn.CrossEntropyLoss({args})  # {uses.note('ce_logits')}"
    if name == "binary_crossentropy":
        return f"nn.BCEWithLogitsLoss()  # {uses.note('bce_logits')}"
    if name == "huber":
        return f"nn.HuberLoss(delta={literal(loss.delta)})"
    return {"mse": "nn.MSELoss()", "mae": "nn.L1Loss()"}[name]


def keras_loss(loss: Loss) -> str:
    """The Keras loss: a string as in the notes, or the class when it has options."""
    name = type(loss).call_name
    options = loss.options()
    if not any(options.values()) and name != "huber":
        full = {"mse": "mean_squared_error", "mae": "mean_absolute_error"}.get(name, name)
        return literal(full)
    cls = {
        "huber": "Huber",
        "binary_crossentropy": "BinaryCrossentropy",
        "categorical_crossentropy": "CategoricalCrossentropy",
        "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    }[name]
    return f"keras.losses.{cls}({_args(**options)})"


def _keras_logits(loss: Loss, uses: _Uses) -> str:
    """The Keras loss on raw scores, and the activation applied only for predictions."""
    options = {**loss.options(), "from_logits": True}
    name = type(loss).call_name
    cls = {
        "binary_crossentropy": "BinaryCrossentropy",
        "categorical_crossentropy": "CategoricalCrossentropy",
        "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    }[name]
    squash = "sigmoid" if name == "binary_crossentropy" else "softmax"
    return (
        f"loss = keras.losses.{cls}({_args(**options)})  # {uses.note('keras_logits')}\n"
        f"probabilities = keras.ops.{squash}(logits)  # {uses.note('predictions_only')}"
    )


def _loss(uses: _Uses, program: Program, phase: Phase) -> None:
    """The loss of one phase, and from_logits / label smoothing where they apply."""
    loss = phase.loss
    name = type(loss).call_name
    uses.add("loss")
    torch = f"loss_fn = {torch_loss(loss, uses)}"
    if name == "categorical_crossentropy":
        classes = program.model.output_shape[-1]
        torch += (
            f"\nloss = loss_fn(logits, F.one_hot(y, {literal(classes)}).float())  # {uses.note('one_hot')}"
        )
    keras = f"model.compile(loss={keras_loss(loss)}, optimizer=optimizer)"
    uses.add(name, phase.name, torch, keras)
    if loss.classification:
        out = program.model.output_activation
        if getattr(loss, "from_logits", False) or out in ("softmax", "sigmoid"):
            squash = "torch.sigmoid" if name == "binary_crossentropy" else "torch.softmax"
            arg = "logits" if squash == "torch.sigmoid" else "logits, dim=-1"
            uses.add(
                "from_logits",
                phase.name,
                f"probabilities = {squash}({arg})  # {uses.note('predictions_only')}",
                _keras_logits(loss, uses),
            )
    if getattr(loss, "label_smoothing", 0.0):
        uses.add("label_smoothing", phase.name)


def _stage(uses: _Uses, program: Program, before: Phase, phase: Phase) -> None:
    """A stage that changes what trains: fine-tuning (backbone) or freezing/unfreezing layers."""
    if not phase.rebuild:
        return
    trainable = "[p for p in model.parameters() if p.requires_grad]"
    torch_opt = torch_optimizer(phase.optimizer, trainable)
    keras_opt = (
        keras_optimizer(phase.optimizer) + "\nmodel.compile(optimizer=optimizer, loss=..., metrics=...)"
    )
    base = program.model.base
    if base is not None and phase.base != before.base:
        if phase.base is None:
            torch = "base.requires_grad_(True)"
            keras = "base_model.trainable = True"
        else:
            n = literal(phase.base)
            torch = (
                "weighted = [m for m in base.modules() if list(m.parameters(recurse=False))]\n"
                f"for module in weighted[-{n}:]:  # {uses.note('last_n', n=n)}\n"
                "    module.requires_grad_(True)"
            )
            keras = (
                "base_model.trainable = True\n"
                "weighted = [layer for layer in base_model.layers if layer.weights]\n"
                f"for layer in weighted[:-{n}]:  # {uses.note('all_but_last_n', n=n)}\n"
                "    layer.trainable = False"
            )
        uses.add("fine_tuning", phase.name, f"{torch}\n{torch_opt}", f"{keras}\n{keras_opt}")
        uses.add("learning_rate", phase.name)
    changed = sorted(before.trainable ^ phase.trainable)
    if changed:
        lines_t = [f"# {uses.note('trainable_change', phase=phase.name)}"]
        lines_k = list(lines_t)
        for name in changed:
            on = name in phase.trainable
            lines_t.append(f"layer.requires_grad_({literal(on)})  # {name}")
            lines_k.append(f"layer.trainable = {literal(on)}  # {name}")
        uses.add("freezing", phase.name, "\n".join([*lines_t, torch_opt]), "\n".join([*lines_k, keras_opt]))


def _training(uses: _Uses, program: Program) -> None:
    """The loop, metrics, seed, device and precision."""
    train = program.train
    assert train is not None
    main = train.phases[0]
    torch = (
        f"for epoch in range({literal(main.epochs)}):\n"
        "    model.train()\n"
        f"    for x, y in train_loader:  # {uses.note('batches', n=literal(main.batch_size))}\n"
        "        optimizer.zero_grad()\n"
        "        loss = loss_fn(model(x), y)\n"
        "        loss.backward()\n"
        "        optimizer.step()"
    )
    keras = (
        f"model.fit(x_train, y_train, epochs={literal(main.epochs)}, batch_size={literal(main.batch_size)}, "
        "validation_data=(x_val, y_val))"
    )
    uses.add("training", main.name, torch, keras)
    for phase in train.phases:
        if phase.metrics:
            accuracy = "accuracy = (logits.argmax(dim=-1) == y).float().mean()"
            torch_m = accuracy if "accuracy" in phase.metrics else None
            keras_m = f"model.compile(..., metrics={literal(list(phase.metrics))})"
            uses.add("metrics", phase.name, torch_m, keras_m)
    uses.add(
        "seed",
        None,
        f"random.seed({literal(train.seed)})\nnp.random.seed({literal(train.seed)})\n"
        f"torch.manual_seed({literal(train.seed)})",
        f"keras.utils.set_random_seed({literal(train.seed)})",
    )
    uses.add(
        "device",
        None,
        'device = torch.device("cuda" if torch.cuda.is_available() else "cpu")\nmodel.to(device)',
        f'# {uses.note("tf_gpu")}\nprint(tf.config.list_physical_devices("GPU"))',
    )
    if train.precision != "fp32":
        dtype = "torch.float16" if train.precision == "fp16" else "torch.bfloat16"
        policy = "mixed_float16" if train.precision == "fp16" else "mixed_bfloat16"
        uses.add(
            "mixed_precision",
            None,
            f'with torch.autocast(device_type="cuda", dtype={dtype}):\n    logits = model(x)',
            f"keras.mixed_precision.set_global_policy({literal(policy)})",
        )


def concepts(program: Program, lang: str = "en") -> list[Use]:
    """The concepts a spec uses, in the order a reader meets them: model, then training."""
    uses = _Uses(lang)
    model = program.model
    uses.add(
        "input",
        None,
        f"x = torch.zeros(32, *{literal(model.input_shape)})  # {uses.note('input_batch')}",
        f"inputs = keras.Input(shape={literal(model.input_shape)})",
    )
    _backbone(uses, program)
    output = model.output_layer
    for node in model.layers:
        _layer(uses, node, output is not None and node.index == output.index)
    if program.train is not None:
        phases = program.train.phases
        for phase in phases:
            _loss(uses, program, phase)
        for phase in phases:
            _optimizer(uses, program, phase)
        for before, phase in zip(phases, phases[1:]):
            _stage(uses, program, before, phase)
        _training(uses, program)
    return list(uses.items.values())


def keys_used(program: Program) -> list[str]:
    """Only the concept keys, in order."""
    return [use.key for use in concepts(program)]


def all_code(uses: Iterable[Use]) -> Iterable[str]:
    """Every snippet of every use (for tests: each must parse as Python)."""
    for use in uses:
        yield from use.torch
        yield from use.keras

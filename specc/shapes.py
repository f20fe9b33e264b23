"""Shape inference, parameter counting, data/loss fit and phase resolution: Spec -> Program IR."""

from __future__ import annotations

import math

from specc.callable import TARGETS
from specc.data import ImageFolder, Synthetic
from specc.diagnostics import Collector, choices_hint
from specc.ir import BaseNode, Count, LayerNode, ModelIR, Phase, Program, TrainPlan, snake
from specc.layers.base import Shape, ShapeProblem, fmt
from specc.limits import DEFAULT_MAX_LAYERS, DEFAULT_MAX_PARAMS
from specc.losses import Loss
from specc.optimizers import OPTIMIZERS
from specc.spec import LayerDecl, Located, ModelSpec, Spec, TrainSpec


def _counts(raw: dict[str, tuple[int, int]], trainable: bool) -> dict[str, Count]:
    """Per-target counts; a frozen part counts every parameter as non-trainable."""
    return {t: Count(a, b) if trainable else Count(0, a + b) for t, (a, b) in raw.items()}


def _auto_names(decls: tuple[LayerDecl, ...]) -> list[str]:
    """Spec names where given, else Keras-style names: dense, dense_1, conv2d, ..."""
    taken = {d.name for d in decls if d.name}
    seen: dict[str, int] = {}
    names = []
    for decl in decls:
        if decl.name:
            names.append(decl.name)
            continue
        base = snake(type(decl.layer.value).call_name)
        while True:
            n = seen.get(base, 0)
            seen[base] = n + 1
            candidate = base if n == 0 else f"{base}_{n}"
            if candidate not in taken:
                break
        taken.add(candidate)
        names.append(candidate)
    return names


def build_model(
    model: ModelSpec,
    out: Collector,
    max_layers: int = DEFAULT_MAX_LAYERS,
    max_params: int = DEFAULT_MAX_PARAMS,
) -> ModelIR | None:
    """Infer every output shape and parameter count, reporting each layer that cannot fit."""
    if len(model.layers) > max_layers:
        out.add(
            "SPC013",
            f"the model has {len(model.layers):,} layers; the limit is {max_layers:,}",
            model.name_span,
            help="raise it with --max-layers",
        )
        return None
    shape: Shape = model.input
    base = None
    if model.base is not None:
        backbone = model.base.value
        try:
            out_shape = backbone.infer(shape)
        except ShapeProblem as p:
            out.add(p.code, p.message, model.input_span, help=p.help)
            return None
        raw = {t: backbone.count(t) for t in TARGETS}
        base = BaseNode(backbone, model.base, shape, out_shape, _counts(raw, backbone.trainable))
        shape = out_shape
    nodes: list[LayerNode] = []
    names = _auto_names(model.layers)
    total = 0
    for index, (decl, name) in enumerate(zip(model.layers, names)):
        layer = decl.layer.value
        if type(layer).first_only and (index > 0 or base is not None):
            out.add(
                "SPC203",
                f"{type(layer).call_name} must be the first layer",
                decl.span,
                help="it maps integer token ids; put it right after `input:`",
            )
            return None
        try:
            out_shape = layer.infer(shape)
        except ShapeProblem as p:
            out.add(p.code, p.message, decl.layer.at(p.param), help=p.help)
            return None
        if math.prod(out_shape) > 2**40:
            out.add(
                "SPC014",
                f"{type(layer).call_name} outputs {fmt(out_shape)}, too large to hold in memory",
                decl.span,
                help="downsample earlier",
            )
            return None
        raw = {t: layer.count(shape, t) for t in TARGETS}
        total += sum(raw["torch"])
        if total > max_params:
            out.add(
                "SPC014",
                f"the model has more than {max_params:,} parameters by layer {index + 1}",
                decl.span,
                help="raise the limit with --max-params",
            )
            return None
        nodes.append(
            LayerNode(
                index,
                name,
                decl.name is not None,
                layer,
                decl.layer,
                shape,
                out_shape,
                _counts(raw, layer.trainable),
                layer.trainable,
            )
        )
        shape = out_shape
    if not nodes and base is None:
        out.add(
            "SPC208",
            f"the model `{model.name}` has no layers",
            model.name_span,
            help="add layers after `input:`, e.g. Dense(10, activation=softmax)",
        )
        return None
    return ModelIR(model.name, model.input, base, tuple(nodes))


def _check_data(model: ModelIR, train: TrainSpec, out: Collector) -> None:
    """The input must hold the data's features; image folders must match the input size."""
    data = train.calls.get("data")
    if data is None:
        return
    source, size = data.value, math.prod(model.input_shape)
    info = source.info
    if info is not None and size != info.features:
        name = type(source).call_name
        out.add(
            "SPC205",
            f"`{name}` has {info.features} features per example but the input "
            f"{fmt(model.input_shape)} holds {size}",
            train.spans.get("data", train.span),
            help=f"use input: ({info.features},) or a shape of the same size",
        )
    if isinstance(source, ImageFolder):
        shape = model.input_shape
        if len(shape) != 3 or shape[2] not in (1, 3):
            out.add(
                "SPC205",
                f"image_folder needs an image input (height, width, 1 or 3), got {fmt(shape)}",
                data.span,
                help="e.g. input: (224, 224, 3)",
            )
        elif source.image_size is not None and tuple(source.image_size) != shape[:2]:
            out.add(
                "SPC205",
                f"image_size {fmt(source.image_size)} differs from the input {fmt(shape)}",
                data.at("image_size"),
                help=f"use image_size=({shape[0]}, {shape[1]}) or leave it out",
            )


def classes_of(train: TrainSpec) -> int | None:
    """The number of classes the data delivers, when known statically."""
    data = train.calls.get("data")
    if data is None:
        return None
    if isinstance(data.value, Synthetic):
        return data.value.classes
    info = data.value.info
    return info.classes if info else None


def _check_output(model: ModelIR, train: TrainSpec, loss: Located[Loss], out: Collector) -> None:
    """The output layer must fit the loss and the labels the data delivers."""
    value, shape = loss.value, model.output_shape
    head = model.output_layer
    where = head.located.at("units") if head else loss.span
    data = train.calls.get("data")
    info = data.value.info if data else None
    name = type(value).call_name
    if value.classification:
        if info is not None and info.classes is None:
            out.add(
                "SPC206",
                f"`{name}` is a classification loss but "
                f"`{type(data.value).call_name}` has real-valued targets",
                loss.span,
                help="use a regression loss such as mse or mae",
            )
            return
        if len(shape) != 1:
            out.add(
                "SPC206",
                f"`{name}` needs a flat output (classes,), but the model outputs {fmt(shape)}",
                where,
                help="end with Flatten() or a pooling layer, then Dense",
            )
            return
        classes = classes_of(train)
        if value.labels == "binary":
            if shape[0] != 1:
                out.add(
                    "SPC206",
                    f"binary_crossentropy needs one output unit, but the model outputs {shape[0]}",
                    where,
                    help="end with Dense(1, activation=sigmoid), "
                    "or use sparse_categorical_crossentropy for several classes",
                )
            elif classes is not None and classes != 2:
                out.add(
                    "SPC206",
                    f"binary_crossentropy needs 2 classes, but the data has {classes}",
                    loss.span,
                    help=f"use sparse_categorical_crossentropy with Dense({classes}, activation=softmax)",
                )
        elif classes is not None and shape[0] != classes:
            out.add(
                "SPC206",
                f"the data has {classes} classes but the model outputs {shape[0]} values",
                where,
                help=f"end with Dense({classes}, ...)",
            )
    elif classes_of(train) is not None and shape != (1,):
        out.add(
            "SPC206",
            f"`{name}` compares the output with each example's class id, one number, but the model "
            f"outputs {fmt(shape)}",
            where,
            help="for classes use sparse_categorical_crossentropy (or categorical_crossentropy) "
            "with a softmax output",
        )
    elif info is not None and info.classes is None and shape != (1,):
        out.add(
            "SPC206",
            f"`{type(data.value).call_name}` has one target per example but the model outputs {fmt(shape)}",
            where,
            help="end with Dense(1)",
        )


def build_plan(model: ModelIR, train: TrainSpec, out: Collector) -> TrainPlan | None:
    """Resolve the phases: inherited settings and the trainable set of each."""
    settings = train.settings
    ok = True
    for key in ("data", "loss"):
        if getattr(settings, key) is None:
            out.add(
                "SPC105",
                f"the train block has no `{key}:`",
                train.span,
                help="add `data: digits()`"
                if key == "data"
                else "add e.g. `loss: sparse_categorical_crossentropy`",
            )
            ok = False
    _check_data(model, train, out)
    if not ok:
        return None
    default_optimizer = OPTIMIZERS.get("Adam").model_validate({})  # type: ignore[union-attr]
    optimizer = settings.optimizer or default_optimizer
    trainable = frozenset(n.name for n in model.layers if n.trainable and n.layer.has_weights)
    base = None if (model.base and model.base.backbone.trainable) else 0
    if model.base is None:
        base = None
    loss_at = train.calls["loss"]
    _check_output(model, train, loss_at, out)
    phases = [
        Phase(
            "main",
            settings.loss,
            optimizer,
            settings.epochs,
            settings.batch_size,
            tuple(settings.metrics),
            trainable,
            base,
            False,
            train.span,
            train.spans,
            train.calls,
        )
    ]
    weighted = {n.name for n in model.layers if n.layer.has_weights}
    for stage in train.stages:
        prev = phases[-1]
        layers, base_state = set(prev.trainable), prev.base
        for action, selectors in (("freeze", stage.freeze), ("unfreeze", stage.unfreeze)):
            on = action == "unfreeze"
            for sel in selectors:
                if sel.kind == "layer" and model.node(sel.layer or "") is None:
                    out.add(
                        "SPC118",
                        f"no layer is named `{sel.layer}`",
                        sel.span,
                        help=choices_hint(
                            sel.layer or "",
                            [n.name for n in model.layers] + ["all", "base"],
                            "selectors",
                        ),
                    )
                if sel.kind in ("all", "layer"):
                    chosen = weighted if sel.kind == "all" else {sel.layer} & weighted
                    layers = layers | chosen if on else layers - chosen
                if sel.kind in ("all", "base") and model.base is not None:
                    base_state = None if on else 0
                elif sel.kind == "base_last":
                    if model.base is None:
                        out.add(
                            "SPC118",
                            f"`{sel}` selects backbone layers, but the model has no `base:`",
                            sel.span,
                            help="add a base, or select layers by name",
                        )
                    elif not on:
                        out.add(
                            "SPC118",
                            "`freeze: base.last(N)` is not supported",
                            sel.span,
                            help="freeze: base, then unfreeze: base.last(M) for the part that should train",
                        )
                    elif base_state is not None:
                        base_state = max(base_state, sel.count or 0)
                elif sel.kind == "base" and model.base is None:
                    out.add(
                        "SPC118",
                        "`base` selects the backbone, but the model has no `base:`",
                        sel.span,
                        help="add a base, or select layers by name",
                    )
        s = stage.settings
        new_optimizer = s.optimizer or prev.optimizer
        changed = (frozenset(layers), base_state) != (prev.trainable, prev.base)
        loss = s.loss or prev.loss
        if "loss" in stage.calls:
            _check_output(model, train, stage.calls["loss"], out)
        phases.append(
            Phase(
                stage.name,
                loss,
                new_optimizer,
                s.epochs or prev.epochs,
                s.batch_size or prev.batch_size,
                tuple(s.metrics) if s.metrics is not None else prev.metrics,
                frozenset(layers),
                base_state,
                changed or s.optimizer is not None,
                stage.span,
                stage.spans,
                stage.calls,
            )
        )
    data = train.calls["data"]
    return TrainPlan(
        data.value,
        data,
        settings.seed,
        settings.compile,
        settings.precision,
        tuple(phases),
        train.span,
    )


def build(spec: Spec, max_layers: int = DEFAULT_MAX_LAYERS, max_params: int = DEFAULT_MAX_PARAMS) -> Program:
    """Spec -> Program, or SpeccError with every shape and fit problem found."""
    out = Collector(spec.source.name)
    model = build_model(spec.model, out, max_layers, max_params)
    plan = build_plan(model, spec.train, out) if model and spec.train else None
    out.raise_if_errors()
    assert model is not None
    return Program(spec, model, plan)

"""Located blocks -> validated Spec: names resolved, arguments mapped, pydantic errors as diagnostics."""

from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import BaseModel, ValidationError

from specc.backbones import BACKBONES
from specc.callable import Callable_, Registry
from specc.data import DATA
from specc.diagnostics import Collector, choices_hint
from specc.layers import LAYERS
from specc.losses import LOSSES
from specc.lower import Block, Call, LayerStatement, Name, Setting, Value, describe, plain
from specc.optimizers import OPTIMIZERS
from specc.regularizers import REGULARIZERS
from specc.source import Source, Span
from specc.spec import (
    CALL_SETTINGS,
    SELECTOR_SETTINGS,
    LayerDecl,
    Located,
    ModelSpec,
    Selector,
    Spec,
    StageSettings,
    StageSpec,
    TrainSettings,
    TrainSpec,
)

REGISTRIES: dict[str, Registry] = {
    "layer": LAYERS,
    "regularizer": REGULARIZERS,
    "loss": LOSSES,
    "optimizer": OPTIMIZERS,
    "data source": DATA,
    "backbone": BACKBONES,
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TYPE_WORDS = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "tuple_type": "a tuple",
    "list_type": "a list",
    "none_required": "none",
    "is_instance_of": "a call",
    "model_type": "a call",
    "dataclass_type": "a call",
}
_RANGE_WORDS = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}
_MODEL_SETTINGS = ("input", "base")
_TRAIN_ONLY = ("data", "seed", "compile", "precision")


class Resolver:
    """Resolves calls against registries and validates them, collecting every problem."""

    def __init__(self, out: Collector) -> None:
        self.out = out

    # -- calls ---------------------------------------------------------------------------

    def call(self, value: Value, kind: str) -> Located[Any] | None:
        """Resolve a call (or a bare name meaning a call with no arguments) of `kind`."""
        registry = REGISTRIES[kind]
        data = value.data
        if isinstance(data, (Name, str)):
            # `loss: "mse"` and `loss: mse` mean the same (LANGUAGE.md section 2).
            data = Call(str(data), value.span, (), (), value.span)
        if not isinstance(data, Call):
            self.out.add(
                "SPC112",
                f"expected a {kind} such as `{registry.primary()[0]}(...)`, got {describe(value)}",
                value.span,
                help=f"valid {_plural(kind)}: {', '.join(registry.primary())}",
            )
            return None
        cls = registry.get(data.name)
        if cls is None:
            code = "SPC107" if kind == "layer" else "SPC117"
            self.out.add(
                code,
                f"unknown {kind} `{data.name}`",
                data.name_span,
                help=choices_hint(data.name, registry.names(), _plural(kind)),
            )
            return None
        raw, spans, ok = self.arguments(data, cls)
        instance = self.fields(cls, raw, spans, data.span, f"{data.name}", strict_missing=ok)
        return Located(instance, data.span, spans) if instance is not None and ok else None

    def arguments(self, call: Call, cls: type[Callable_]) -> tuple[dict[str, Value], dict[str, Span], bool]:
        """Map positional and keyword arguments to parameter names, reporting misuse."""
        raw: dict[str, Value] = {}
        spans: dict[str, Span] = {}
        ok = True
        fields = [f for f in cls.model_fields]
        if call.kwargs and call.args:
            first_keyword = call.kwargs[0].key_span
            late = [
                v
                for v in call.args
                if (v.span.line, v.span.column) > (first_keyword.line, first_keyword.column)
            ]
            if late:
                self.out.add(
                    "SPC110",
                    f"a positional argument follows a keyword argument in `{call.name}`",
                    late[0].span,
                    help="write positional arguments first, then key=value arguments",
                )
                ok = False
        if len(call.args) > len(cls.positional):
            extra = call.args[len(cls.positional)]
            takes = (
                f"takes {len(cls.positional)} positional argument{'s' if len(cls.positional) != 1 else ''}"
            )
            names = ", ".join(f"`{p}`" for p in cls.positional) or "none"
            self.out.add(
                "SPC110",
                f"`{call.name}` {takes} ({names}), got {len(call.args)}",
                extra.span,
                help="name the argument: key=value",
            )
            ok = False
        for param, value in zip(cls.positional, call.args):
            raw[param] = value
            spans[param] = value.span
        for kw in call.kwargs:
            key = cls.aliases.get(kw.key, kw.key)
            if key not in cls.model_fields:
                self.out.add(
                    "SPC108",
                    f"`{call.name}` has no parameter `{kw.key}`",
                    kw.key_span,
                    help=choices_hint(kw.key, fields + list(cls.aliases), f"parameters of {call.name}"),
                )
                ok = False
                continue
            if key in raw:
                self.out.add(
                    "SPC109",
                    f"`{key}` is given twice in `{call.name}`",
                    kw.key_span.cover(kw.value.span),
                    help="give each argument once",
                )
                ok = False
                continue
            raw[key] = kw.value
            spans[key] = kw.value.span
        return raw, spans, ok

    def fields(
        self,
        cls: type[BaseModel],
        raw: dict[str, Value],
        spans: dict[str, Span],
        span: Span,
        owner: str,
        strict_missing: bool = True,
    ) -> Any:
        """Convert argument values (resolving nested calls) and validate them with pydantic."""
        nested: dict[str, str] = getattr(cls, "nested", {})
        data: dict[str, Any] = {}
        ok = True
        for key, value in raw.items():
            if key in nested and value.data is not None:
                located = self.call(value, nested[key])
                ok &= located is not None
                data[key] = located.value if located else None
            elif self._has_call(value):
                self.out.add(
                    "SPC112",
                    f"{_what(key, owner)} takes a plain value, not a call",
                    value.span,
                    help="write a number, string, name, tuple or list",
                )
                ok = False
            else:
                data[key] = plain(value)
        try:
            instance = cls.model_validate(data)
        except ValidationError as err:
            self.pydantic_errors(err, raw, span, owner, strict_missing and ok)
            return None
        return instance if ok else None

    @staticmethod
    def _has_call(value: Value) -> bool:
        data = value.data
        if isinstance(data, Call):
            return True
        if isinstance(data, (tuple, list)):
            return any(Resolver._has_call(v) for v in data)
        return False

    def pydantic_errors(
        self,
        err: ValidationError,
        raw: dict[str, Value],
        span: Span,
        owner: str,
        report_missing: bool = True,
    ) -> None:
        """One diagnostic per invalid parameter, pointing at the value in the source."""
        by_field: dict[str, list[dict[str, Any]]] = {}
        for e in err.errors(include_url=False):
            key = str(e["loc"][0]) if e["loc"] else ""
            by_field.setdefault(key, []).append(e)
        for key, errors in by_field.items():
            # A union reports one error per member; a range or choice error says the most.
            errors.sort(key=lambda e: e["type"] in _TYPE_WORDS)
            e = errors[0]
            if e["type"] == "missing" and not report_missing:
                continue  # a misspelled argument was already reported; its twin is "missing"
            where = self._locate(raw, e["loc"], span)
            self._report(key, e, errors, where, owner, raw.get(key))

    @staticmethod
    def _locate(raw: dict[str, Value], loc: tuple[Any, ...], span: Span) -> Span:
        if not loc or loc[0] not in raw:
            return span
        value = raw[loc[0]]
        for part in loc[1:]:
            if isinstance(part, int) and isinstance(value.data, (tuple, list)) and part < len(value.data):
                value = value.data[part]
        return value.span

    def _report(
        self,
        key: str,
        e: dict[str, Any],
        errors: list[dict[str, Any]],
        where: Span,
        owner: str,
        value: Value | None,
    ) -> None:
        kind, ctx = e["type"], e.get("ctx", {})
        got = describe(value) if value is not None else repr(e.get("input"))
        if kind == "missing":
            self.out.add("SPC111", f"`{owner}` needs `{key}`", where, help=f"add {key}=... to the call")
        elif kind == "literal_error":
            choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
            word = str(e.get("input"))
            self.out.add(
                "SPC114",
                f"`{word}` is not a valid `{key}` for `{owner}`",
                where,
                help=choices_hint(word, choices, f"values of {key}"),
            )
        elif kind in _RANGE_WORDS:
            bound = next(v for k, v in ctx.items())
            self.out.add(
                "SPC113",
                f"{_what(key, owner)} must be {_RANGE_WORDS[kind]} {bound}, got {got}",
                where,
            )
        elif kind in ("too_short", "too_long"):
            wanted = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
            self.out.add(
                "SPC112",
                f"{_what(key, owner)} has the wrong length: {got}",
                where,
                help=f"give {wanted} value{'s' if wanted != 1 else ''}"
                if ctx.get("min_length") == ctx.get("max_length")
                else None,
            )
        elif kind == "value_error":
            message = str(ctx.get("error", e["msg"]))
            self.out.add("SPC113", f"{'`' + key + '` of ' if key else ''}`{owner}`: {message}", where)
        elif kind in _TYPE_WORDS or kind.endswith("_type"):
            wanted = " or ".join(dict.fromkeys(_TYPE_WORDS.get(x["type"], x["type"]) for x in errors))
            self.out.add("SPC112", f"{_what(key, owner)} must be {wanted}, got {got}", where)
        else:
            self.out.add("SPC113", f"{_what(key, owner)}: {e['msg']}", where)

    # -- blocks --------------------------------------------------------------------------

    def settings(self, block: Block, allowed: tuple[str, ...], where: str) -> dict[str, Setting]:
        """The settings of a block by key, reporting duplicates and unknown keys."""
        found: dict[str, Setting] = {}
        for stmt in block.statements:
            if not isinstance(stmt, Setting):
                continue
            if stmt.key not in allowed:
                if where == "stage" and stmt.key in _TRAIN_ONLY:
                    self.out.add(
                        "SPC119",
                        f"a stage cannot override `{stmt.key}`",
                        stmt.key_span,
                        help="set it once in the train block",
                    )
                else:
                    self.out.add(
                        "SPC104",
                        f"unknown setting `{stmt.key}` in the {where} block",
                        stmt.key_span,
                        help=choices_hint(stmt.key, allowed, "settings"),
                    )
                continue
            if stmt.key in found:
                self.out.add(
                    "SPC106",
                    f"`{stmt.key}` is set twice in the {where} block",
                    stmt.key_span,
                    help=f"first set on line {found[stmt.key].span.line}",
                )
                continue
            found[stmt.key] = stmt
        return found

    def model(self, block: Block) -> ModelSpec | None:
        """Validate the model block."""
        if block.name is None:
            self.out.add(
                "SPC105",
                "the model block needs a name",
                block.kind_span,
                help="write `model my_model { ... }`",
            )
        settings = self.settings(block, _MODEL_SETTINGS, "model")
        layers: list[LayerDecl] = []
        names: dict[str, Span] = {}
        seen_layer = False
        for index, stmt in enumerate(block.statements):
            if isinstance(stmt, Block):
                self.out.add(
                    "SPC116",
                    f"a `{stmt.kind}` block cannot be inside the model block",
                    stmt.kind_span,
                    help="stages belong in the train block",
                )
            elif isinstance(stmt, Setting):
                if stmt.key == "input" and index != 0 and settings.get("input") is stmt:
                    self.out.add(
                        "SPC116",
                        "`input:` must be the first statement of the model",
                        stmt.key_span,
                        help="move it to the top of the block",
                    )
                if stmt.key == "base" and seen_layer:
                    self.out.add(
                        "SPC116",
                        "`base:` must come before the layers",
                        stmt.key_span,
                        help="the backbone runs first; move `base:` above the layers",
                    )
            else:
                seen_layer = True
                layers.extend(self._layer(stmt, names))
        if "input" not in settings:
            self.out.add(
                "SPC105",
                "the model block has no `input:`",
                block.kind_span,
                help="add e.g. `input: (28, 28, 1)` as the first statement",
            )
            return None
        shape = self.shape(settings["input"].value)
        base = None
        if "base" in settings:
            base = self.call(settings["base"].value, "backbone")
            if base is not None:
                self.weights(settings["base"].value, base)
        if shape is None or block.name is None:
            return None
        return ModelSpec(
            block.name,
            block.name_span or block.kind_span,
            shape,
            settings["input"].value.span,
            base,
            tuple(layers),
            block.span,
        )

    def _layer(self, stmt: LayerStatement, names: dict[str, Span]) -> list[LayerDecl]:
        if stmt.name is not None and stmt.name_span is not None:
            if stmt.name in ("base", "all"):
                self.out.add(
                    "SPC115",
                    f"`{stmt.name}` is reserved and cannot name a layer",
                    stmt.name_span,
                    help="it is used by freeze/unfreeze selectors",
                )
            elif stmt.name in names:
                self.out.add(
                    "SPC115",
                    f"a layer named `{stmt.name}` already exists",
                    stmt.name_span,
                    help=f"first defined on line {names[stmt.name].line}",
                )
            names[stmt.name] = stmt.name_span
        located = self.call(Value(stmt.call, stmt.call.span), "layer")
        return [LayerDecl(located, stmt.name, stmt.name_span)] if located else []

    def weights(self, value: Value, base: Located[Any]) -> None:
        """`weights=` takes imagenet, none or a quoted path inside the spec's folder.

        A bare name is an enum choice, never a path: `weights=None` or `weights=imagnet` would
        otherwise name a weights file called "None" or "imagnet".
        """
        call = value.data
        given = (
            next((kw.value for kw in call.kwargs if kw.key == "weights"), None)
            if isinstance(call, Call)
            else None
        )
        if (
            given is not None
            and isinstance(given.data, Name)
            and given.data.text.lower() != "imagenet"
            and given.data.text != "none"
        ):
            self.out.add(
                "SPC114",
                f"`{given.data.text}` is not a valid `weights` for `{call.name}`",
                given.span,
                help=choices_hint(given.data.text, ["imagenet", "none"], "values of weights")
                + ' (a weights file is a quoted path: weights="weights/model.pt")',
            )
        elif base.value.weights_file is not None:
            check_path(base.value.weights_file, base.at("weights"), self.out)

    def shape(self, value: Value) -> tuple[int, ...] | None:
        """An input shape: a positive int or a tuple of them."""
        data = value.data
        items = [value] if isinstance(data, int) and not isinstance(data, bool) else None
        if isinstance(data, tuple) and data:
            items = list(data)
        if items is None:
            self.out.add(
                "SPC112",
                f"`input` must be a shape such as (28, 28, 1) or 64, got {describe(value)}",
                value.span,
            )
            return None
        dims = []
        for item in items:
            d = item.data
            if not isinstance(d, int) or isinstance(d, bool):
                self.out.add(
                    "SPC112",
                    f"input dimensions must be integers, got {describe(item)}",
                    item.span,
                    help="e.g. input: (28, 28, 1)",
                )
                return None
            if not 1 <= d <= 1_000_000:
                self.out.add(
                    "SPC113",
                    f"input dimensions must be integers from 1 to 1,000,000, got {describe(item)}",
                    item.span,
                )
                return None
            dims.append(d)
        if len(dims) > 4:
            self.out.add(
                "SPC113",
                f"input has {len(dims)} dimensions; at most 4 are supported",
                value.span,
                help="images are (height, width, channels)",
            )
            return None
        return tuple(dims)

    def selectors(self, value: Value) -> tuple[Selector, ...] | None:
        """Parse `all`, `base`, `base.last(N)`, a layer name, or a list of these."""
        items = value.data if isinstance(value.data, list) else [value]
        result = []
        for item in items:
            data = item.data
            if isinstance(data, (Name, str)):
                text = str(data)  # `freeze: "head"` means `freeze: head`
                kind = text if text in ("all", "base") else "layer"
                result.append(Selector(kind, item.span, layer=text if kind == "layer" else None))
            elif isinstance(data, Call) and data.name == "base.last":
                count = data.args[0].data if len(data.args) == 1 and not data.kwargs else None
                if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                    self.out.add(
                        "SPC113",
                        "base.last(N) takes one integer N >= 1",
                        data.span,
                        help="e.g. base.last(10): the last 10 weight-bearing layers",
                    )
                    continue
                result.append(Selector("base_last", item.span, count=count))
            else:
                self.out.add(
                    "SPC118",
                    f"`{describe(item)}` is not a freeze/unfreeze selector",
                    item.span,
                    help="use all, base, base.last(N), a layer name, or a list",
                )
        return tuple(result) if len(result) == len(items) else None

    def block_settings(
        self, cls: type[BaseModel], found: dict[str, Setting], span: Span, owner: str
    ) -> tuple[Any, dict[str, Span], dict[str, Located[Any]]]:
        """Validate the plain and call-valued settings of a train or stage block."""
        raw: dict[str, Value] = {}
        spans: dict[str, Span] = {}
        calls: dict[str, Located[Any]] = {}
        data: dict[str, Any] = {}
        ok = True
        for key, setting in found.items():
            spans[key] = setting.value.span
            if key in SELECTOR_SETTINGS:
                continue
            if key in CALL_SETTINGS:
                located = self.call(setting.value, CALL_SETTINGS[key])
                ok &= located is not None
                if located:
                    calls[key] = located
                    data[key] = located.value
            elif key == "metrics" and not isinstance(setting.value.data, list):
                raw[key] = Value([setting.value], setting.value.span)
            else:
                raw[key] = setting.value
        converted = self.fields(cls, raw, spans, span, owner)
        if converted is None or not ok:
            return None, spans, calls
        return converted.model_copy(update=data), spans, calls

    def train(self, block: Block) -> TrainSpec | None:
        """Validate the train block and its stages."""
        if block.name is not None and block.name_span is not None:
            self.out.add(
                "SPC116",
                "the train block takes no name",
                block.name_span,
                help="write `train { ... }`",
            )
        allowed = tuple(TrainSettings.model_fields)
        found = self.settings(block, allowed, "train")
        stages: list[StageSpec] = []
        stage_names: dict[str, Span] = {}
        for stmt in block.statements:
            if isinstance(stmt, LayerStatement):
                self.out.add(
                    "SPC116",
                    "layers belong in the model block",
                    stmt.span,
                    help="move this layer into `model`",
                )
            elif isinstance(stmt, Block):
                stage = self.stage(stmt, stage_names)
                if stage:
                    stages.append(stage)
        settings, spans, calls = self.block_settings(TrainSettings, found, block.span, "train")
        if settings is None:
            return None
        return TrainSpec(settings, spans, calls, tuple(stages), block.span)

    def stage(self, block: Block, seen: dict[str, Span]) -> StageSpec | None:
        """Validate one stage block."""
        if block.kind != "stage":
            self.out.add(
                "SPC101",
                f"unknown block `{block.kind}` in the train block",
                block.kind_span,
                help=choices_hint(block.kind, ["stage"], "blocks"),
            )
            return None
        if block.name is None or block.name_span is None:
            self.out.add(
                "SPC105",
                "a stage needs a name",
                block.kind_span,
                help="write `stage fine_tune { ... }`",
            )
            return None
        if block.name in seen or block.name == "main":
            self.out.add(
                "SPC121",
                f"a stage named `{block.name}` already exists"
                if block.name != "main"
                else "`main` is the train block's own phase",
                block.name_span,
                help="give each stage its own name",
            )
        seen[block.name] = block.name_span
        for stmt in block.statements:
            if not isinstance(stmt, Setting):
                what = "a layer" if isinstance(stmt, LayerStatement) else f"a `{stmt.kind}` block"
                self.out.add(
                    "SPC116",
                    f"{what} cannot be inside a stage",
                    stmt.span,
                    help="a stage holds train settings, unfreeze: and freeze:",
                )
        allowed = (*StageSettings.model_fields, *SELECTOR_SETTINGS)
        found = self.settings(block, allowed, "stage")
        selectors: dict[str, tuple[Selector, ...]] = {}
        for key in SELECTOR_SETTINGS:
            if key in found:
                selectors[key] = self.selectors(found[key].value) or ()
        settings, spans, calls = self.block_settings(StageSettings, found, block.span, f"stage {block.name}")
        if settings is None:
            return None
        return StageSpec(
            block.name,
            block.name_span,
            settings,
            spans,
            calls,
            selectors.get("unfreeze", ()),
            selectors.get("freeze", ()),
            block.span,
        )

    def paths(self, train: TrainSpec) -> None:
        """Data paths stay inside the spec's folder (see docs/language.md, Paths)."""
        data = train.calls.get("data")
        if data is None:
            return
        for key in type(data.value).paths:
            check_path(getattr(data.value, key), data.at(key), self.out)


def _plural(kind: str) -> str:
    """layer -> layers, loss -> losses, data source -> data sources."""
    return kind + ("es" if kind.endswith("s") else "s")


def _what(key: str, owner: str) -> str:
    """How to name a parameter in a message: `rate` of `Dropout`, or `l2` alone."""
    return f"`{owner}`" if key == owner else f"`{key}` of `{owner}`"


def check_path(text: str, span: Span, out: Collector) -> None:
    """Reject absolute paths and paths that climb out of the spec's folder."""
    posix, windows = PurePosixPath(text), PureWindowsPath(text)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or text.startswith("~"):
        out.add(
            "SPC120",
            f"`{text}` is an absolute path",
            span,
            help="write paths relative to the spec file, inside its folder",
        )
    elif ".." in posix.parts or ".." in windows.parts:
        out.add(
            "SPC120",
            f"`{text}` leaves the spec's folder",
            span,
            help="keep data next to the spec (or in a sub-folder), or move the spec",
        )


def validate(blocks: list[Block], source: Source) -> Spec:
    """Validate all blocks; every problem of the stage is reported, then SpeccError stops the pipeline."""
    out = Collector(source.name)
    resolver = Resolver(out)
    models = [b for b in blocks if b.kind == "model"]
    trains = [b for b in blocks if b.kind == "train"]
    for b in blocks:
        if b.kind not in ("model", "train"):
            out.add(
                "SPC101",
                f"unknown block `{b.kind}`",
                b.kind_span,
                help=choices_hint(b.kind, ["model", "train"], "blocks"),
            )
    for extra in models[1:] + trains[1:]:
        out.add(
            "SPC102",
            f"a second `{extra.kind}` block",
            extra.kind_span,
            help=f"a spec holds one {extra.kind} block",
        )
    if not blocks:
        out.add(
            "SPC011",
            "the file holds no model block",
            Span(1, 1, 1, 2),
            help="start with `model my_model { input: (64,) ... }`",
        )
        out.raise_if_errors()
    if not models:
        out.add(
            "SPC103",
            "the file has no `model` block",
            blocks[0].kind_span,
            help="add `model my_model { input: (...) ... }`",
        )
    model = resolver.model(models[0]) if models else None
    train = resolver.train(trains[0]) if trains else None
    if train is not None:
        resolver.paths(train)
    out.raise_if_errors()
    assert model is not None
    return Spec(source, model, train)


def is_identifier(name: str) -> bool:
    """Whether a name matches [A-Za-z_][A-Za-z0-9_]*."""
    return bool(_NAME.match(name))

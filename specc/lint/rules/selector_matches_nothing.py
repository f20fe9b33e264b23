"""SPC432 selector-matches-nothing: a freeze/unfreeze selector that changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule
from specc.spec import Selector

RULE = rule(
    "SPC432",
    "selector-matches-nothing",
    W,
    "a freeze/unfreeze selector that changes nothing",
    finds="A selector in a stage that selects nothing new: `unfreeze` of layers or a backbone that "
    "already train, `freeze` of ones already frozen, a layer without weights (Dropout, pooling, "
    "activations), or `base.last(N)` with N above the backbone's number of weight-bearing "
    "layers.",
    why="The stage then does not do what it says: typically the fine-tuning stage trains exactly "
    "what the previous phase trained, or a typo'd intent (unfreezing the head instead of the "
    "backbone) goes unnoticed until the results disappoint.",
    bad="""
model m {
    input: (64,)
    hidden = Dense(64, activation=relu)
    drop = Dropout(0.2)
    Dense(10, activation=softmax)
}
train {
    data: digits()
    loss: sparse_categorical_crossentropy
    stage more {
        unfreeze: [hidden, drop]
    }
}
""",
    fix="Select what is actually frozen (or trainable) at that point; write `unfreeze: base` to "
    "unfreeze a whole backbone.",
    good="""
model m {
    input: (64,)
    hidden = Dense(64, activation=relu, trainable=false)
    Dropout(0.2)
    Dense(10, activation=softmax)
}
train {
    ...
    stage more {
        unfreeze: hidden
    }
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Replay each stage's selectors against the trainable set they start from."""
    if program.train is None or program.spec.train is None:
        return
    model = program.model
    weighted = {n.name for n in model.layers if n.layer.has_weights}
    base = model.base
    # Phase i is the state stage i starts from: phases and stages line up one to one.
    for prev, stage in zip(program.train.phases, program.spec.train.stages):
        layers, base_state = set(prev.trainable), prev.base
        for action, selectors in (("freeze", stage.freeze), ("unfreeze", stage.unfreeze)):
            on = action == "unfreeze"
            for sel in selectors:
                problem = _problem(sel, on, layers, base_state, weighted, model)
                if problem:
                    yield Finding(
                        f"`{action}: {sel}` in stage `{stage.name}` {problem}", sel.span, _help(sel, on)
                    )
                if sel.kind in ("all", "layer"):
                    chosen = weighted if sel.kind == "all" else {sel.layer} & weighted
                    layers = layers | chosen if on else layers - chosen
                if sel.kind in ("all", "base") and base is not None:
                    base_state = None if on else 0
                elif sel.kind == "base_last" and on and base_state is not None:
                    base_state = max(base_state, sel.count or 0)


def _problem(
    sel: Selector,
    on: bool,
    layers: set[str],
    base_state: int | None,
    weighted: set[str],
    model: object,
) -> str | None:
    """Why the selector selects nothing new, or None when it does something."""
    from specc.ir import ModelIR

    assert isinstance(model, ModelIR)
    state = "trainable" if on else "frozen"
    if sel.kind == "layer":
        node = model.node(sel.layer or "")
        if node is None:
            return None  # the front end reports unknown names (SPC118)
        if not node.layer.has_weights:
            return f"selects {node.type} `{node.name}`, which has no weights"
        if (node.name in layers) == on:
            return f"selects `{node.name}`, which is already {state}"
        return None
    base_done = model.base is None or (base_state is None if on else base_state == 0)
    if sel.kind == "all":
        layers_done = layers >= weighted if on else not layers
        return f"changes nothing: everything is already {state}" if layers_done and base_done else None
    if sel.kind == "base":
        return f"changes nothing: the backbone is already {state}" if model.base and base_done else None
    if sel.kind == "base_last" and on and model.base is not None:
        builds = model.base.backbone.info.builds.values()
        most = max(b.weight_layers for b in builds)
        if base_state is None:
            return "changes nothing: the whole backbone already trains"
        if (sel.count or 0) > most:
            return (
                f"asks for {sel.count} layers but {model.base.name} has {most} weight-bearing layers: "
                "it means the whole backbone"
            )
        if base_state >= (sel.count or 0):
            return f"changes nothing: the last {base_state} backbone layers already train"
    return None


def _help(sel: Selector, on: bool) -> str:
    if sel.kind == "base_last":
        return "write `unfreeze: base` for the whole backbone, or a smaller N"
    return "remove the selector, or select something that is not already " + ("trainable" if on else "frozen")

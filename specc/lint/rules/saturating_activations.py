"""SPC446 saturating-activations: a deep stack of sigmoid/tanh hidden layers."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import LayerNode, Program
from specc.lint.base import Finding, I, rule
from specc.lint.facts import TRANSPARENT, head

DEPTH = 4
SATURATING = ("sigmoid", "tanh")

RULE = rule(
    "SPC446",
    "saturating-activations",
    I,
    f"{DEPTH} or more hidden layers with sigmoid or tanh",
    finds=f"A model whose hidden Dense/Conv layers apply sigmoid or tanh {DEPTH} or more times "
    "(recurrent layers, which use tanh internally by design, do not count).",
    why="Sigmoid's derivative is at most 0.25 and both functions flatten out for large inputs, so "
    "the gradient shrinks at every such layer on its way back: the first layers of a deep "
    "sigmoid/tanh stack barely learn (the vanishing gradient problem). ReLU-family activations "
    "do not shrink it.",
    bad="""
model m {
    input: (64,)
    Dense(64, activation=sigmoid)
    Dense(64, activation=sigmoid)
    Dense(64, activation=sigmoid)
    Dense(64, activation=sigmoid)
    Dense(10, activation=softmax)
}
""",
    fix="Use relu (or gelu/silu) in the hidden layers; keep sigmoid for a binary output.",
    good="""
    Dense(64, activation=relu)
""",
)


def _saturating(node: LayerNode, nxt: LayerNode | None) -> bool:
    """Whether a weight layer's output goes through sigmoid/tanh (in the layer or right after it)."""
    if node.layer.activation_name in SATURATING:
        return True
    return nxt is not None and not nxt.layer.has_weights and nxt.layer.activation_name in SATURATING


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Count the hidden weight layers that saturate."""
    layers = program.model.layers
    output = head(program)
    stack = []
    for node in layers:
        if node is output or not node.layer.has_weights or node.type not in ("Dense", "Conv1D", "Conv2D"):
            continue
        nxt = next((n for n in layers[node.index + 1 :] if n.type not in TRANSPARENT), None)
        if nxt is output and not (output and output.layer.has_weights):
            continue  # the activation after it is the model's output activation
        if _saturating(node, nxt):
            stack.append(node)
    if len(stack) >= DEPTH:
        first = stack[0]
        yield Finding(
            f"{len(stack)} hidden layers apply sigmoid or tanh, from `{first.name}` on: "
            "gradients vanish on the way back",
            first.span,
            "use activation=relu in hidden layers",
        )

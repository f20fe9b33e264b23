"""SPC410 softmax-in-hidden-layer: softmax used as the activation of a hidden layer."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule
from specc.lint.facts import TRANSPARENT, head

RULE = rule(
    "SPC410",
    "softmax-in-hidden-layer",
    W,
    "softmax as the activation of a hidden layer",
    finds="A layer before the output layer that applies softmax.",
    why="Softmax turns a layer's outputs into a probability distribution: they sum to 1, so with "
    "128 units each is about 1/128 and the next layer sees tiny, strongly coupled inputs. It is an "
    "output activation; copied into a hidden layer it cripples training.",
    bad="""
model m {
    input: (64,)
    Dense(128, activation=softmax)
    Dense(10, activation=softmax)
}
""",
    fix="Use relu (or gelu, tanh, ...) in hidden layers and keep softmax for the output.",
    good="""
model m {
    input: (64,)
    Dense(128, activation=relu)
    Dense(10, activation=softmax)
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report softmax in any layer before the classifier head."""
    output = head(program)
    if output is None:
        return
    for node in program.model.layers[: output.index]:
        if node.layer.activation_name != "softmax":
            continue
        between = program.model.layers[node.index + 1 : output.index]
        if not output.layer.has_weights and all(n.type in TRANSPARENT for n in between):
            continue  # softmax twice at the output: SPC447 repeated-activation reports it
        yield Finding(
            f"{node.type} `{node.name}` applies softmax, but it is a hidden layer",
            node.located.at("activation"),
            "use activation=relu in hidden layers; softmax belongs on the output",
        )

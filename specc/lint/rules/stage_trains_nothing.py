"""SPC433 stage-trains-nothing: a stage after which no parameter is trainable."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import E, Finding, rule

RULE = rule(
    "SPC433",
    "stage-trains-nothing",
    E,
    "a stage that leaves nothing trainable",
    finds="A stage whose freeze/unfreeze selectors leave no layer and no part of the backbone "
    "trainable. (A model with no trainable parameters at all is SPC440.)",
    why="The stage runs its epochs without changing a single weight: time spent for nothing, and "
    "PyTorch refuses to build an optimizer over an empty parameter list, so the generated program "
    "fails when the stage starts.",
    bad="""
    stage fine_tune {
        freeze: all
        epochs: 3
    }
""",
    fix="Unfreeze what the stage should train (`unfreeze: base.last(10)`), or remove the stage.",
    good="""
    stage fine_tune {
        unfreeze: base.last(10)
        epochs: 3
    }
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report stages with an empty trainable set."""
    if program.train is None or program.spec.train is None:
        return
    if program.model.counts("torch").total == 0:
        return  # nothing could ever train: SPC440
    for phase, stage in zip(program.train.phases[1:], program.spec.train.stages):
        backbone = program.model.base is not None and phase.base != 0
        if not phase.trainable and not backbone:
            yield Finding(
                f"stage `{phase.name}` leaves nothing trainable: its {phase.epochs} epochs change no weight",
                stage.name_span,
                "unfreeze what this stage should train, or remove it",
            )

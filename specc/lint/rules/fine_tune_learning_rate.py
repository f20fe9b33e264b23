"""SPC430 fine-tune-learning-rate: a stage that unfreezes pretrained weights without lowering the rate."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Phase, Program
from specc.lint.base import Finding, W, rule
from specc.lint.facts import number

RATIO = 3.0

RULE = rule(
    "SPC430",
    "fine-tune-learning-rate",
    W,
    "a fine-tuning stage whose learning rate is not well below the one that trained the head",
    finds=f"A stage that unfreezes (more of) a pretrained backbone while its learning rate is at "
    f"least 1/{RATIO:g} of the rate of the phase that trained the new head on the frozen "
    "backbone (the last earlier phase in which the backbone was frozen, usually the previous "
    "one). This includes a stage that does not set `optimizer:` and so inherits that rate. "
    "Unfreezing further layers at an already small fine-tuning rate is not reported.",
    why="The pretrained weights are already good; the rate that trained the new head from scratch "
    "moves them far enough to destroy what they learned (catastrophic forgetting): accuracy drops "
    "at the start of fine-tuning and may never recover. Fine-tuning rates are typically 10 to "
    "100 times smaller.",
    bad="""
    optimizer: Adam(learning_rate=1e-3)
    stage fine_tune {
        unfreeze: base.last(10)
        epochs: 3
    }
""",
    fix="Give the fine-tuning stage its own, much smaller learning rate.",
    good="""
    stage fine_tune {
        unfreeze: base.last(10)
        optimizer: Adam(learning_rate=1e-5)
        epochs: 3
    }
""",
)


def _backbone_grows(prev: Phase, phase: Phase) -> bool:
    """Whether more of the backbone trains in `phase` than in `prev` (None means all of it)."""
    if phase.base == prev.base or phase.base == 0:
        return False
    return prev.base is not None and (phase.base is None or phase.base > prev.base)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report stages that unfreeze pretrained weights at an undiminished learning rate."""
    base = program.model.base
    if program.train is None or base is None or base.backbone.weights is None:
        return
    stages = program.spec.train.stages if program.spec.train else ()
    phases = program.train.phases
    for i, (prev, phase, stage) in enumerate(zip(phases, phases[1:], stages)):
        if not _backbone_grows(prev, phase):
            continue
        head = next((p for p in reversed(phases[: i + 1]) if p.base == 0), None)
        if head is None:
            continue  # the backbone trained from the start: SPC431 backbone-trains-with-new-head
        lr, before = phase.optimizer.learning_rate, head.optimizer.learning_rate
        if lr * RATIO <= before:
            continue
        located = phase.calls.get("optimizer")
        where = located.at("learning_rate") if located is not None else stage.name_span
        if lr == before:
            message = (
                f"stage `{phase.name}` unfreezes pretrained weights but keeps the learning rate "
                f"{number(lr)} that trained the new head in `{head.name}`"
            )
        else:
            message = (
                f"stage `{phase.name}` unfreezes pretrained weights at learning_rate={number(lr)}, "
                f"not well below the {number(before)} that trained the new head in `{head.name}`"
            )
        yield Finding(
            message,
            where,
            f"use a rate 10-100x smaller for fine-tuning, e.g. "
            f"optimizer: {type(phase.optimizer).call_name}(learning_rate={number(before / 100)})",
        )

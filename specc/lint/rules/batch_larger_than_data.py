"""SPC415 batch-larger-than-data: a batch size larger than the training split."""

from __future__ import annotations

import math
from collections.abc import Iterator

from specc.data import Synthetic
from specc.ir import Program
from specc.lint.base import Finding, W, rule
from specc.lint.facts import phases

RULE = rule(
    "SPC415",
    "batch-larger-than-data",
    W,
    "a batch size larger than the number of training examples",
    finds="A phase whose batch_size exceeds the training split of a data set whose size is known "
    "statically (the bundled sets and synthetic(samples=N)), after validation_split is taken off.",
    why="Every epoch is then a single, partial batch: one optimizer step per epoch, so the epochs "
    "count means far less training than it seems, and batch-size-dependent settings (learning "
    "rate, BatchNorm statistics) are tuned for batches that never happen.",
    bad="""
train {
    data: iris()               # 150 examples, 120 after validation_split=0.2
    loss: sparse_categorical_crossentropy
    batch_size: 256
}
""",
    fix="Use a batch size well below the training split (16 or 32 for small data sets).",
    good="""
    batch_size: 16
""",
)


def training_examples(program: Program) -> int | None:
    """How many examples the training split holds, when known statically."""
    data = program.train.data if program.train else None
    if data is None:
        return None
    if isinstance(data, Synthetic):
        samples = data.samples
    elif data.info is not None:
        samples = data.info.samples
    else:
        return None
    return samples - math.ceil(samples * data.validation_split)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report phases whose batch size exceeds the training split."""
    available = training_examples(program)
    if available is None:
        return
    for phase in phases(program):
        if phase.batch_size > available and ("batch_size" in phase.spans or phase.name == "main"):
            where = phase.spans.get("batch_size", phase.span)
            yield Finding(
                f"batch_size {phase.batch_size} is larger than the {available} training examples: "
                "one partial batch per epoch",
                where,
                f"use a batch size well below {available}, e.g. 32",
            )

"""SPC416 accuracy-on-regression: the accuracy metric on a regression loss."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule
from specc.lint.facts import phases

RULE = rule(
    "SPC416",
    "accuracy-on-regression",
    W,
    "accuracy reported for a regression model",
    finds="`metrics: [accuracy]` in a phase whose loss is mse, mae or huber.",
    why="Accuracy counts exact matches of a predicted class. For real-valued predictions it is "
    "almost always 0 (or a meaningless thresholded number), so it looks as if training failed when "
    "it did not.",
    bad="""
train {
    data: diabetes()
    loss: mse
    metrics: [accuracy]
}
""",
    fix="Report mae or mse for regression.",
    good="""
    metrics: [mae]
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report accuracy on phases trained with a regression loss."""
    seen: set[tuple[int, int]] = set()
    for phase in phases(program):
        if phase.loss.classification or "accuracy" not in phase.metrics:
            continue
        where = phase.spans.get("metrics") or program.train.phases[0].spans.get("metrics")  # type: ignore[union-attr]
        if where is None or (where.line, where.column) in seen:
            continue
        seen.add((where.line, where.column))
        yield Finding(
            f"accuracy is meaningless for the regression loss `{type(phase.loss).call_name}`",
            where,
            "use metrics: [mae] or [mse]",
        )

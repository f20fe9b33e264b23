"""SPC400 unused-suppression: a `# specc: ignore[...]` comment that suppresses nothing."""

from __future__ import annotations

from specc.lint.base import W, rule

# The runner applies suppressions (specc.lint.suppress); this rule has no check of its own.
RULE = rule(
    "SPC400",
    "unused-suppression",
    W,
    "a suppression comment that suppresses nothing",
    finds="A `# specc: ignore[CODE]` comment where nothing on its line triggers CODE, a code that "
    "does not exist, a front-end code (those errors cannot be suppressed), or `specc: ignore` "
    "without any code.",
    why="A suppression outlives the problem it hid: once the spec is fixed it silently hides the next, "
    "unrelated problem of that kind on the line. Reporting stale suppressions keeps them honest.",
    bad="""
model m {
    input: (64,)
    Dense(10, activation=softmax)  # specc: ignore[SPC401]
}
""",
    fix="Remove the code from the comment (or the whole comment). To keep a deliberate suppression "
    "that is currently unused, add SPC400 to the same comment.",
    good="""
model m {
    input: (64,)
    Dense(10, activation=softmax)
}
""",
)

"""docs/rules.md is generated from the rules and must be up to date; the CI files are well-formed."""

from __future__ import annotations

import re
from pathlib import Path

from specc.lint import all_rules
from specc.lint.docs import markdown

ROOT = Path(__file__).resolve().parent.parent


def test_rules_md_is_up_to_date() -> None:
    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == markdown(), "docs/rules.md is stale: run `python -m specc.lint.docs --write`"


def test_rules_md_documents_every_rule() -> None:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule in all_rules():
        assert f"\n## {rule.id} {rule.name}\n" in text
        assert f"](#{rule.id.lower()}-{rule.name})" in text


def test_pre_commit_hooks() -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    hooks = re.findall(r"^- id: (\S+)$", text, flags=re.MULTILINE)
    assert hooks == ["specc-check", "specc-check-strict"]
    for key in ("entry: specc check", "language: python", r"files: \.spec$"):
        assert key in text


def test_ci_doc_has_actions_snippet_and_formats() -> None:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    assert "--format github" in text and "--format sarif" in text and "upload-sarif" in text
    assert "[tool.specc]" in text and "# specc: ignore[" in text

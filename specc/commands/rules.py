"""`specc rules [--format text|json]`: list every lint rule with its code, name and severity."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `specc rules`."""
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    parser.add_argument(
        "--all", action="store_true", help="also list the front-end codes (SPC0xx-SPC3xx, SPC9xx)"
    )


def listing(include_front_end: bool = False) -> list[dict[str, object]]:
    """Every lint rule (and optionally front-end code) as plain data, ordered by code."""
    from specc.codes import CODES
    from specc.lint import all_rules

    rows: list[dict[str, object]] = []
    rules = {r.id: r for r in all_rules()}
    for code in sorted(CODES):
        entry = CODES[code]
        rule = rules.get(code)
        if rule is None and not include_front_end:
            continue
        row: dict[str, object] = {
            "code": code,
            "name": entry.name,
            "severity": entry.severity.value,
            "kind": "lint" if rule else "front-end",
            "summary": entry.summary,
        }
        if rule:
            row.update(
                finds=rule.finds, why=rule.why, example=rule.bad, fix=rule.fix, fixed_example=rule.good
            )
        else:
            row["explanation"] = entry.explanation
        rows.append(row)
    return rows


def render_text(rows: list[dict[str, object]]) -> str:
    """An aligned table: code, severity, name, summary."""
    width = max((len(str(r["name"])) for r in rows), default=0)
    lines = [f"{r['code']}  {str(r['severity']):<7}  {str(r['name']):<{width}}  {r['summary']}" for r in rows]
    lines.append(f"{len(rows)} rules. `specc explain CODE` prints a rule's documentation.")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Print the rules."""
    rows = listing(args.all)
    if args.format == "json":
        sys.stdout.write(json.dumps({"rules": rows}, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_text(rows))
    return 0

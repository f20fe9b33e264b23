"""`specc explain CODE|SPEC`: document a diagnostic code, or write a lesson (Markdown) for a spec."""

from __future__ import annotations

import argparse
import re
import sys

from specc.commands.common import EXIT_OK, UsageError

_CODE = re.compile(r"SPC\d+\Z", re.IGNORECASE)
_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*\Z")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `specc explain`."""
    parser.add_argument(
        "target",
        metavar="CODE|SPEC",
        help="a diagnostic code (SPC401) or rule name (double-softmax), or a spec file for a lesson",
    )
    # Lesson options (a spec file): see specc.teach.lesson.
    parser.add_argument("--lang", choices=("en", "ko"), default="en", help="lesson language (default: en)")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the lesson here, and its diagram as FILE.svg (default: stdout)",
    )
    parser.add_argument(
        "--layout",
        choices=("blocks", "columns"),
        default="blocks",
        help="PyTorch and Keras code one after the other (blocks) or side by side (columns)",
    )


def looks_like_code(text: str) -> bool:
    """Whether the argument names a code or rule (else it is taken for a spec path)."""
    from specc.codes import BY_NAME

    return bool(_CODE.match(text)) or text.lower() in BY_NAME or bool(_NAME.match(text))


def document(code_or_name: str) -> str:
    """The documentation of one code as text for the terminal."""
    from specc.codes import CODES, lookup
    from specc.diagnostics import did_you_mean
    from specc.lint import all_rules

    rules = {r.id: r for r in all_rules()}  # importing the rules registers their codes
    try:
        code = lookup(code_or_name)
    except KeyError:
        hint = did_you_mean(code_or_name, [*CODES, *(c.name for c in CODES.values())])
        raise UsageError(
            f"unknown code `{code_or_name}`" + (f"; {hint}" if hint else "; `specc rules --all` lists them")
        ) from None
    head = f"{code.code} {code.name} ({code.severity.value}): {code.summary}"
    rule = rules.get(code.code)
    if rule is None:
        kind = "A front-end check: its errors stop the spec before linting and cannot be suppressed."
        return "\n\n".join([head, code.explanation or code.summary, kind]) + "\n"
    sections = [
        head,
        f"What it finds\n{_indent(rule.finds)}",
        f"Why it matters\n{_indent(rule.why)}",
        f"Example\n{_indent(rule.bad, wrap=False)}",
        f"Fix\n{_indent(rule.fix)}",
    ]
    if rule.good:
        sections.append(_indent(rule.good, wrap=False))
    sections.append(
        f"Suppress one occurrence with `# specc: ignore[{code.code}]` on its line, or all with "
        f'`ignore = ["{code.code}"]` under [tool.specc] in pyproject.toml.'
    )
    return "\n\n".join(sections) + "\n"


def _indent(text: str, wrap: bool = True) -> str:
    import textwrap

    if not wrap:
        return textwrap.indent(textwrap.dedent(text).strip("\n"), "    ")
    return textwrap.fill(text, width=92, initial_indent="    ", subsequent_indent="    ")


def run(args: argparse.Namespace) -> int:
    """Print the documentation of a code, or write the lesson for a spec file."""
    from pathlib import Path

    target = args.target.strip()
    if Path(args.target).is_file() or target.endswith(".spec"):
        from specc.teach.lesson import write_lesson

        return write_lesson(args.target, args.lang, args.output, args.layout)
    if not looks_like_code(target):
        raise UsageError(
            f"`{target}` is neither a code, a rule name nor a spec file "
            "(give a code such as SPC401, a .spec file, or see `specc rules`)"
        )
    sys.stdout.write(document(target))
    return EXIT_OK

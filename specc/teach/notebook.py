"""`specc notebook SPEC`: the generated program as a Jupyter notebook, explanations between the code.

The code cells are the compiled program split at its top-level statements, so the notebook runs
exactly the code `specc compile` writes; each concept's explanation goes in a Markdown cell just
before the cell where it first appears. The last cell calls `main()` with short-run arguments.
"""

from __future__ import annotations

import ast
import base64
import json
from dataclasses import dataclass
from typing import Any

from specc.ir import Program
from specc.teach.comments import GROUPS, anchors
from specc.teach.concepts import concepts
from specc.teach.graph import svg
from specc.teach.lesson import phase_table, section, summary_table
from specc.teach.texts import check_lang, ui

SHORT_RUN = ("--epochs", "1", "--max-steps", "2")
FRAMEWORK = {"torch": "PyTorch", "keras": "Keras"}


@dataclass(frozen=True)
class Chunk:
    """A run of whole top-level statements (with their leading comments): one code cell."""

    start: int  # 0-based first line
    end: int  # 0-based line after the last
    text: str


def chunks(code: str) -> list[Chunk]:
    """The program as cells: the preamble (imports, constants), then one per def/class; no main guard."""
    lines = code.splitlines()
    tree = ast.parse(code)
    starts: list[int] = []
    for node in tree.body:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
        # Comment lines directly above a statement belong to it.
        while first > 0 and lines[first - 1].lstrip().startswith("#"):
            first -= 1
        starts.append(first)
    kinds = [isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) for n in tree.body]
    cells: list[Chunk] = []
    begin = 0
    for index, node in enumerate(tree.body):
        if _is_main_guard(node):
            break
        nxt = starts[index + 1] if index + 1 < len(tree.body) else len(lines)
        # The preamble stays one cell until the first definition.
        if index + 1 < len(tree.body) and not kinds[index] and not kinds[index + 1]:
            continue
        text = "\n".join(lines[begin:nxt]).strip("\n")
        if text:
            cells.append(Chunk(begin, nxt, text))
        begin = nxt
    return cells


def _is_main_guard(node: ast.stmt) -> bool:
    """`if __name__ == "__main__":`."""
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
    )


def _markdown(text: str) -> dict[str, Any]:
    """A Markdown cell."""
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(text: str) -> dict[str, Any]:
    """A code cell that has not run yet."""
    return {"cell_type": "code", "metadata": {}, "source": text, "outputs": [], "execution_count": None}


def run_cell(code: str, args: list[str]) -> str:
    """The last cell: call main() with short-run arguments (a notebook has no __file__ of its own)."""
    from specc.targets.literal import literal

    lines = []
    if "__file__" in code:
        lines.append("# A notebook has no __file__; the program's --data-dir default needs one.")
        lines.append('__file__ = "notebook.py"')
    lines.append(f"main({literal(list(args))})")
    return "\n".join(lines)


def notebook(
    program: Program, code: str, target: str, lang: str = "en", args: list[str] | None = None
) -> dict[str, Any]:
    """The notebook (nbformat 4 JSON data) for a program compiled for `target`."""
    check_lang(lang)
    uses = {use.key: use for use in concepts(program, lang)}
    found = anchors(code, program)
    cells = [
        _markdown(
            "\n\n".join(
                part
                for part in (
                    f"# {program.model.name} ({FRAMEWORK.get(target, target)})",
                    ui("notebook_intro", lang),
                    f"## {ui('summary', lang)}",
                    summary_table(program, lang),
                    phase_table(program, lang),
                )
                if part
            )
        )
    ]
    # The diagram travels inside the notebook as a cell attachment: no side file to lose.
    drawing = base64.b64encode(
        svg(program, "keras" if target == "keras" else "torch", lang).encode()
    ).decode()
    cells.append(
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": f"## {ui('graph', lang)}\n\n![model](attachment:model.svg)",
            "attachments": {"model.svg": {"image/svg+xml": drawing}},
        }
    )
    placed: set[str] = set()
    for chunk in chunks(code):
        keys = [k for line, ks in sorted(found.items()) if chunk.start <= line < chunk.end for k in ks]
        for group, members in GROUPS.items():
            # A family's introduction goes with its first member.
            if group in uses and group not in placed and any(k in members for k in keys):
                keys.insert(0, group)
        keys = [k for k in dict.fromkeys(keys) if k in uses and k not in placed]
        if keys:
            placed.update(keys)
            cells.append(_markdown("\n\n".join(section(uses[k], lang, layout="none", level=3) for k in keys)))
        cells.append(_code(chunk.text))
    rest = [k for k in uses if k not in placed]
    if rest:
        cells.append(_markdown("\n\n".join(section(uses[k], lang, layout="none", level=3) for k in rest)))
    cells.append(_markdown(f"## {ui('notebook_run', lang)}"))
    cells.append(_code(run_cell(code, list(SHORT_RUN if args is None else args))))
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def dumps(data: dict[str, Any]) -> str:
    """The notebook as .ipynb text, with stable cell ids so that re-generating is byte-identical."""
    for index, cell in enumerate(data["cells"]):
        cell.setdefault("id", f"cell-{index}")
        source = cell["source"]
        # nbformat stores sources as a list of lines, each ending in a newline except the last.
        cell["source"] = source.splitlines(keepends=True) if isinstance(source, str) else source
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"

"""`specc explain SPEC`: a Markdown lesson in the notes' format: concepts, formulas, PyTorch and Keras."""

from __future__ import annotations

import html
import re
import shlex

from specc.ir import Program
from specc.layers.base import fmt
from specc.summary import as_dict
from specc.teach.concepts import Use, concepts
from specc.teach.texts import check_lang, concept, ui

# Concepts that introduce a family (no code of their own): shown as a short paragraph.
GROUPS = ("activation", "loss", "optimizer", "regularization")

LAYOUTS = ("blocks", "columns")


def fence(code: str, info: str = "python") -> str:
    """A fenced code block whose fence is longer than any backtick run inside (spec strings!)."""
    longest = max((len(m) for m in re.findall(r"`+", code)), default=0)
    bar = "`" * max(3, longest + 1)
    return f"{bar}{info}\n{code}\n{bar}"


def code_span(text: str) -> str:
    """Inline code that survives backticks in the text."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    bar = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{bar}{pad}{text}{pad}{bar}"


def summary_table(program: Program, lang: str) -> str:
    """The summary as a Markdown table with both frameworks' parameter counts."""
    torch, keras = as_dict(program, "torch"), as_dict(program, "keras")
    head = {
        "en": ("Layer (type)", "Output shape", "Params (PyTorch)", "Params (Keras)", "Trainable"),
        "ko": ("층 (종류)", "출력 형태", "파라미터 (PyTorch)", "파라미터 (Keras)", "학습"),
    }[lang]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for t_row, k_row in zip(torch["layers"], keras["layers"]):
        counts = []
        for row in (t_row, k_row):
            counts.append(f"{row['params']:,}" if row.get("supported", True) else "n/a")
        weighted = t_row["params"] or k_row["params"]
        frozen = weighted and not t_row["trainable"]
        state = ui("frozen", lang) if frozen else ("-" if not weighted else ui("trainable", lang))
        name = code_span(str(t_row["name"]))
        shape = fmt(tuple(t_row["output_shape"]))
        lines.append(f"| {name} ({t_row['type']}) | {shape} | {counts[0]} | {counts[1]} | {state} |")
    totals = {
        "en": "Total params: {t:,} (PyTorch), {k:,} (Keras); trainable at the start: {tt:,} / {kt:,}.",
        "ko": "전체 파라미터: {t:,} (PyTorch), {k:,} (Keras); 처음 학습되는 파라미터: {tt:,} / {kt:,}.",
    }[lang]
    lines += [
        "",
        totals.format(
            t=torch["total_params"],
            k=keras["total_params"],
            tt=torch["trainable_params"],
            kt=keras["trainable_params"],
        ),
    ]
    return "\n".join(lines)


def phase_table(program: Program, lang: str) -> str:
    """The training phases: epochs, optimizer, learning rate and what trains."""
    if program.train is None:
        return ""
    head = {
        "en": ("Phase", "Epochs", "Optimizer", "Learning rate", "Trains"),
        "ko": ("단계", "에포크", "옵티마이저", "학습률", "학습하는 층"),
    }[lang]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for phase in program.train.phases:
        trains = ", ".join(code_span(n) for n in sorted(phase.trainable)) or "-"
        if program.model.base is not None:
            if phase.base is None:
                base = ui("base_all", lang)
            elif phase.base == 0:
                base = ui("base_frozen", lang)
            else:
                base = ui("base_last", lang).format(n=phase.base)
            trains = f"{trains}; {base}"
        opt = type(phase.optimizer).call_name
        lr = f"{phase.optimizer.learning_rate:g}"
        lines.append(f"| {code_span(phase.name)} | {phase.epochs} | {opt} | {lr} | {trains} |")
    return "\n".join(lines)


def _cell(code: str) -> str:
    """One table cell holding escaped code."""
    return f'<td valign="top"><pre><code class="language-python">{html.escape(code)}</code></pre></td>'


def _code_blocks(use: Use, lang: str, layout: str) -> str:
    """The PyTorch and the Keras code of one concept, consecutive or in two columns."""
    if layout == "none" or (not use.torch and not use.keras):
        return ""
    torch_code, keras_code = use.torch_code or "# -", use.keras_code or "# -"
    if layout == "columns":
        # Plain HTML, escaped: Markdown inside HTML table cells renders differently across viewers.
        return (
            "<table>\n<tr>"
            f"<th>{ui('pytorch', lang)}</th><th>{ui('keras', lang)}</th></tr>\n<tr>\n"
            f"{_cell(torch_code)}\n{_cell(keras_code)}\n"
            "</tr>\n</table>"
        )
    return (
        f"**{ui('pytorch', lang)}**\n\n{fence(torch_code)}\n\n**{ui('keras', lang)}**\n\n{fence(keras_code)}"
    )


def section(use: Use, lang: str, layout: str = "blocks", level: int = 3) -> str:
    """One concept: title, explanation, formula, where the spec uses it, and the code."""
    text = concept(use.key, lang)
    parts = [f"{'#' * level} {text.title}", text.text]
    if use.key not in GROUPS:
        parts.append(f"**{ui('formula', lang)}:** {code_span(text.formula)}")
    if use.where:
        parts.append(f"*{ui('used_by', lang)}:* " + ", ".join(code_span(w) for w in use.where))
    blocks = _code_blocks(use, lang, layout)
    if blocks:
        parts.append(blocks)
    return "\n\n".join(parts)


def lesson(program: Program, lang: str = "en", layout: str = "blocks", image: str | None = None) -> str:
    """The whole lesson as Markdown; `image` is a relative link to the network's SVG diagram."""
    check_lang(lang)
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; use one of: {', '.join(LAYOUTS)}")
    model = program.model
    parts = [
        f"# {ui('lesson', lang)}: {code_span(model.name)}",
        ui("intro", lang),
        f"## {ui('summary', lang)}",
        f"{ui('input', lang)}: {code_span(fmt(model.input_shape))}",
        summary_table(program, lang),
    ]
    if image:
        parts.append(f"![{ui('graph', lang)}](<{image}>)")
    phases = phase_table(program, lang)
    if phases:
        parts += [f"## {ui('phases', lang)}", phases]
    parts.append(f"## {ui('concepts', lang)}")
    parts += [section(use, lang, layout) for use in concepts(program, lang)]
    parts += [f"## {ui('next', lang)}", _next_steps(program, lang)]
    return "\n\n".join(parts) + "\n"


def _next_steps(program: Program, lang: str) -> str:
    """The commands that produce the rest of the teaching material for this spec."""
    from pathlib import PurePath

    name = PurePath(program.file).name
    spec, stem = shlex.quote(name), shlex.quote(PurePath(name).stem)
    flag = " --lang ko" if lang == "ko" else ""
    base = program.model.base
    # Show the other framework in the notebook, unless Keras lacks the backbone.
    other = "keras" if base is None or base.backbone.supports("keras") else "torch"
    steps = [
        (f"specc compile {spec} --target torch --teach{flag}", ui("next_compile", lang)),
        (f"specc notebook {spec} --target {other}{flag} -o {stem}.ipynb", ui("next_notebook", lang)),
        (f"specc graph {spec}{flag} -o {stem}.svg", ui("next_graph", lang)),
    ]
    return "\n".join(f"- {code_span(command)}: {text}" for command, text in steps)


def write_lesson(spec: str, lang: str = "en", output: str | None = None, layout: str = "blocks") -> int:
    """`specc explain SPEC`: write the lesson (or print the spec's diagnostics); the exit code."""
    import sys
    from pathlib import Path

    from specc import pipeline
    from specc.commands.common import EXIT_ERRORS, EXIT_OK, print_diagnostics, source_of
    from specc.diagnostics import SpeccError

    path = Path(spec)
    try:
        program = pipeline.load(path)
    except SpeccError as err:
        print_diagnostics(err.diagnostics, source_of(err, path), "text", sys.stderr)
        return EXIT_ERRORS
    if output:
        from specc.commands.graph import write_file
        from specc.teach.graph import svg

        # A lesson written to a file gets the network diagram beside it: lesson.md -> lesson.svg.
        target = Path(output)
        picture = target.with_suffix(".svg")
        write_file(picture, svg(program, "torch", lang))
        write_file(target, lesson(program, lang, layout, picture.name))
    else:
        sys.stdout.write(lesson(program, lang, layout))
    return EXIT_OK

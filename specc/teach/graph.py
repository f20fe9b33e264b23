"""`specc graph SPEC`: a hand-written SVG of the network: the layer flow, frozen parts, training phases.

No graphviz: the picture is a vertical stack, which needs no layout engine, and the file stays a
standalone, dependency-free artefact. Every text goes through `escape()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape as _escape

from specc.callable import Target
from specc.ir import Phase, Program
from specc.layers.base import fmt
from specc.teach.texts import check_lang, ui

BOX_W, BOX_H, GAP = 340, 50, 22
LEFT, TOP = 24, 64
COL_W_MIN = 64
FRAMEWORKS = {"torch": "PyTorch", "keras": "Keras"}
# Korean labels need a CJK font; viewers pick the first one installed.
FONT = "DejaVu Sans, Noto Sans CJK KR, NanumGothic, Malgun Gothic, Apple SD Gothic Neo, Arial, sans-serif"
COLORS = {
    "train_fill": "#e6f0fb",
    "train_stroke": "#2f6db5",
    "frozen_fill": "#ececec",
    "frozen_stroke": "#7a7a7a",
    "plain_fill": "#fafafa",
    "plain_stroke": "#b4b4b4",
    "base_fill": "#fff4e0",
    "base_stroke": "#c27a00",
    "text": "#1d1d1d",
    "muted": "#5f5f5f",
    "arrow": "#8a8a8a",
    "dot": "#2f6db5",
}


def escape(text: object) -> str:
    """Text or an attribute value, XML-escaped (quotes included)."""
    return _escape(str(text), {'"': "&quot;", "'": "&apos;"})


def text_width(text: str, size: float) -> float:
    """A generous estimate of rendered text width (wide CJK characters count double)."""
    return sum(size * (1.0 if ord(ch) > 0x2E80 else 0.6) for ch in text)


@dataclass(frozen=True)
class Part:
    """One box of the flow: the input, the backbone or a layer."""

    key: str  # "input", "base" or the layer name (matched against phase trainable sets)
    title: str
    name: str  # shown after the title in a lighter style
    detail: str
    weighted: bool
    frozen: bool  # frozen at the start of training
    is_base: bool = False


def _parts(program: Program, target: Target, lang: str) -> list[Part]:
    """The boxes, top to bottom."""
    model = program.model
    params = ui("params", lang)
    parts = [Part("input", ui("input", lang), "", fmt(model.input_shape), False, False)]
    if model.base is not None:
        base = model.base
        supported = base.backbone.supports(target)
        count = base.counts[target].total
        shown = f"{count:,} {params}" if supported else f"n/a ({target})"
        weights = base.backbone.weights or "random"
        parts.append(
            Part(
                "base",
                base.name,
                f"pretrained: {weights}" if base.backbone.weights else "random init",
                f"{fmt(base.out_shape)}  ·  {shown}",
                True,
                not base.backbone.trainable,
                True,
            )
        )
    for node in model.layers:
        count = node.counts[target].total
        weighted = count > 0
        detail = fmt(node.out_shape) + (f"  ·  {count:,} {params}" if weighted else "")
        parts.append(Part(node.name, node.type, node.name, detail, weighted, weighted and not node.trainable))
    return parts


def _phase_state(part: Part, phase: Phase) -> str:
    """How a part trains in a phase: 'on', 'off', 'partial' (base.last(N)) or '' (nothing to train)."""
    if not part.weighted:
        return ""
    if part.is_base:
        if phase.base is None:
            return "on"
        return "off" if phase.base == 0 else "partial"
    return "on" if part.key in phase.trainable else "off"


def _lock(x: float, y: float, color: str) -> str:
    """A small padlock icon with its top-left corner at (x, y)."""
    return (
        f'<g fill="none" stroke="{color}" stroke-width="1.6">'
        f'<path d="M{x + 3:.1f},{y + 7:.1f} v-2.5 a4,4 0 0 1 8,0 v2.5"/></g>'
        f'<rect x="{x + 1:.1f}" y="{y + 7:.1f}" width="12" height="9" rx="1.5" fill="{color}"/>'
    )


def _dot(cx: float, cy: float, state: str) -> str:
    """The phase-matrix marker: filled (trains), empty (frozen), half (last N layers train)."""
    color = COLORS["dot"]
    if state == "on":
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="7" fill="{color}"/>'
    if state == "off":
        return (
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="7" fill="white" '
            f'stroke="{COLORS["frozen_stroke"]}" stroke-width="1.6"/>'
        )
    if state == "partial":
        return (
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="7" fill="white" stroke="{color}" stroke-width="1.6"/>'
            f'<path d="M{cx:.1f},{cy - 7:.1f} a7,7 0 0 1 0,14 z" fill="{color}"/>'
        )
    # No weights: nothing to train or freeze.
    return (
        f'<line x1="{cx - 4:.1f}" y1="{cy:.1f}" x2="{cx + 4:.1f}" y2="{cy:.1f}" '
        'stroke="#c8c8c8" stroke-width="1.5"/>'
    )


def _text(x: float, y: float, content: str, size: float = 13, **attrs: str) -> str:
    """A text element with escaped content and attributes."""
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}"{extra}>{escape(content)}</text>'


def _box_width(parts: list[Part], lang: str) -> float:
    """Wide enough for the longest title (plus the frozen label) and detail line."""
    label = text_width(ui("frozen", lang), 11) + 48
    need = [
        text_width(p.title, 13.5) + text_width(p.name, 12.5) + 40 + (label if p.frozen else 0) for p in parts
    ]
    need += [text_width(p.detail, 11.5) + 28 for p in parts]
    return max([BOX_W, *need])


def svg(program: Program, target: Target = "torch", lang: str = "en") -> str:
    """The diagram as an SVG document."""
    check_lang(lang)
    parts = _parts(program, target, lang)
    box_w = _box_width(parts, lang)
    phases = list(program.train.phases) if program.train else []
    widths = [max(COL_W_MIN, text_width(p.name, 11) + 16) for p in phases]
    matrix_x = LEFT + box_w + 28
    legend_lines = _legend_lines(program, phases, lang)
    # Explain only the phase markers the drawing shows.
    marks = tuple(sorted({_phase_state(part, phase) for part in parts for phase in phases} - {""}))
    legend_w = max((text_width(line, 11.5) for line in legend_lines), default=0)
    width = max(
        matrix_x + sum(widths) + 24, LEFT + legend_w + 24, LEFT + _swatch_width(lang, marks) + 24, 460
    )
    flow_h = len(parts) * BOX_H + (len(parts) - 1) * GAP
    legend_top = TOP + flow_h + 36
    height = legend_top + 40 + 18 * len(legend_lines) + 16
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}" role="img">',
        f"<title>{escape(program.model.name)}</title>",
        "<defs>",
        '<pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        f'<rect width="8" height="8" fill="{COLORS["frozen_fill"]}"/>'
        '<line x1="0" y1="0" x2="0" y2="8" stroke="#c9c9c9" stroke-width="3"/></pattern>',
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{COLORS["arrow"]}"/></marker>',
        "</defs>",
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>',
        _text(LEFT, 30, program.model.name, 18, font_weight="bold", fill=COLORS["text"]),
        _text(LEFT, 48, ui("counts_as", lang).format(framework=FRAMEWORKS[target]), 11, fill=COLORS["muted"]),
    ]
    # Phase columns: one header per phase, one marker per box.
    x = matrix_x
    centers = []
    for phase, w in zip(phases, widths):
        centers.append(x + w / 2)
        out.append(
            _text(
                x + w / 2,
                TOP - 10,
                phase.name,
                11,
                text_anchor="middle",
                font_weight="bold",
                fill=COLORS["muted"],
            )
        )
        x += w
    for i, part in enumerate(parts):
        y = TOP + i * (BOX_H + GAP)
        out.append(_box(part, LEFT, y, box_w, lang))
        if i:
            mid = LEFT + box_w / 2
            out.append(
                f'<line x1="{mid:.1f}" y1="{y - GAP + 1:.1f}" x2="{mid:.1f}" '
                f'y2="{y - 2:.1f}" stroke="{COLORS["arrow"]}" stroke-width="1.6" marker-end="url(#arrow)"/>'
            )
        for cx, phase in zip(centers, phases):
            out.append(_dot(cx, y + BOX_H / 2, _phase_state(part, phase)))
    out += _legend(legend_lines, legend_top, lang, marks)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _box(part: Part, x: float, y: float, box_w: float, lang: str) -> str:
    """One box: frozen boxes are hatched grey with a padlock, parameter-free ones are light."""
    if part.frozen:
        fill, stroke, dash = "url(#hatch)", COLORS["frozen_stroke"], ' stroke-dasharray="5,3"'
    elif part.is_base:
        fill, stroke, dash = COLORS["base_fill"], COLORS["base_stroke"], ""
    elif part.weighted:
        fill, stroke, dash = COLORS["train_fill"], COLORS["train_stroke"], ""
    else:
        fill, stroke, dash = COLORS["plain_fill"], COLORS["plain_stroke"], ""
    out = [
        f'<g class="{"frozen" if part.frozen else "trainable" if part.weighted else "plain"}">',
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{box_w:.1f}" height="{BOX_H}" rx="8" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="1.6"{dash}/>',
        f'<text x="{x + 14:.1f}" y="{y + 21:.1f}" font-size="13.5" fill="{COLORS["text"]}">'
        f'<tspan font-weight="bold">{escape(part.title)}</tspan>'
        f'<tspan dx="8" font-size="12.5" fill="{COLORS["muted"]}">{escape(part.name)}</tspan></text>',
        _text(x + 14, y + 39, part.detail, 11.5, fill=COLORS["muted"]),
    ]
    if part.frozen:
        label = ui("frozen", lang)
        lx = x + box_w - 14 - text_width(label, 11)
        out.append(_lock(lx - 20, y + 8, COLORS["frozen_stroke"]))
        out.append(_text(lx, y + 21, label, 11, fill=COLORS["frozen_stroke"], font_weight="bold"))
    out.append("</g>")
    return "".join(out)


def _legend_lines(program: Program, phases: list[Phase], lang: str) -> list[str]:
    """One line per phase: epochs, optimizer and learning rate, and what it unfreezes."""
    lines = []
    for phase in phases:
        opt = type(phase.optimizer).call_name
        what = ", ".join(sorted(phase.trainable)) or "-"
        if program.model.base is not None:
            if phase.base is None:
                what += "; " + ui("base_all", lang)
            elif phase.base == 0:
                what += "; " + ui("base_frozen", lang)
            else:
                what += "; " + ui("base_last", lang).format(n=phase.base)
        lines.append(
            f"{phase.name}: {opt}(lr={phase.optimizer.learning_rate:g}), {ui('epochs', lang)} {phase.epochs}"
            f"; {ui('trainable', lang)}: {what}"
        )
    return lines


def _swatches(lang: str, marks: tuple[str, ...]) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """The legend's box styles (fill, stroke, label) and the phase markers the drawing uses."""
    boxes = [
        (COLORS["train_fill"], COLORS["train_stroke"], ui("legend_trainable", lang)),
        ("url(#hatch)", COLORS["frozen_stroke"], ui("legend_frozen", lang)),
    ]
    labels = {"on": ui("trainable", lang), "off": ui("frozen", lang), "partial": ui("legend_partial", lang)}
    return boxes, [(state, labels[state]) for state in ("on", "off", "partial") if state in marks]


def _swatch_width(lang: str, marks: tuple[str, ...]) -> float:
    """How wide the legend's swatch row is."""
    boxes, dots = _swatches(lang, marks)
    return sum(46 + text_width(label, 11.5) for *_, label in boxes) + sum(
        34 + text_width(label, 11.5) for _, label in dots
    )


def _legend(lines: list[str], top: float, lang: str, marks: tuple[str, ...]) -> list[str]:
    """Swatches for the box styles and markers, then the phase lines."""
    out = [_text(LEFT, top, ui("legend", lang), 12.5, font_weight="bold", fill=COLORS["text"])]
    y = top + 12
    x = LEFT
    boxes, dots = _swatches(lang, marks)
    for fill, stroke, label in boxes:
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="22" height="14" rx="3" fill="{fill}" stroke="{stroke}"/>'
        )
        out.append(_text(x + 28, y + 11.5, label, 11.5, fill=COLORS["muted"]))
        x += 46 + text_width(label, 11.5)
    for state, label in dots:
        out.append(_dot(x + 7, y + 7, state))
        out.append(_text(x + 20, y + 11.5, label, 11.5, fill=COLORS["muted"]))
        x += 34 + text_width(label, 11.5)
    y += 34
    for line in lines:
        out.append(_text(LEFT, y, line, 11.5, fill=COLORS["text"]))
        y += 18
    return out

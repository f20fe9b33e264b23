"""`specc summary`: a Keras-style table of layers, output shapes and parameter counts."""

from __future__ import annotations

import json
from typing import Any

from specc.callable import Target
from specc.ir import Count, Program
from specc.layers.base import fmt


def rows(program: Program, target: Target) -> list[dict[str, Any]]:
    """One row per backbone/layer as `target` counts it (unsupported backbones have no count)."""
    model = program.model
    result: list[dict[str, Any]] = [
        {
            "name": "input",
            "type": "Input",
            "output_shape": list(model.input_shape),
            "params": 0,
            "trainable_params": 0,
            "trainable": True,
        }
    ]
    if model.base:
        count = model.base.counts[target]
        result.append(
            {
                "name": "base",
                "type": model.base.name,
                "output_shape": list(model.base.out_shape),
                "params": count.total,
                "trainable_params": count.trainable,
                "trainable": model.base.backbone.trainable,
                "supported": model.base.backbone.supports(target),
            }
        )
    for node in model.layers:
        count = node.counts[target]
        result.append(
            {
                "name": node.name,
                "type": node.type,
                "output_shape": list(node.out_shape),
                "params": count.total,
                "trainable_params": count.trainable,
                "trainable": node.trainable,
            }
        )
    return result


def as_dict(program: Program, target: Target) -> dict[str, Any]:
    """The summary as JSON-ready data."""
    total: Count = program.model.counts(target)
    data: dict[str, Any] = {
        "model": program.model.name,
        "target": target,
        "total_params": total.total,
        "trainable_params": total.trainable,
        "non_trainable_params": total.non_trainable,
        "layers": rows(program, target),
    }
    if program.train:
        data["phases"] = [
            {
                "name": p.name,
                "epochs": p.epochs,
                "optimizer": type(p.optimizer).call_name,
                "learning_rate": p.optimizer.learning_rate,
                "trainable": sorted(p.trainable),
                "base": "all" if p.base is None else p.base,
            }
            for p in program.train.phases
        ]
    return data


def render_json(program: Program, target: Target) -> str:
    """The summary as a JSON document."""
    return json.dumps(as_dict(program, target), indent=2) + "\n"


def render_text(program: Program, target: Target) -> str:
    """The summary as a text table."""
    data = as_dict(program, target)
    table = [("Layer (type)", "Output Shape", "Param #", "Trainable")]
    for row in data["layers"]:
        shape = fmt(tuple(row["output_shape"]))
        params = f"{row['params']:,}" if row.get("supported", True) else "n/a"
        # A weightless layer has nothing to freeze; a backbone shows its flag even when uncounted.
        weighted = row["params"] or row["name"] == "base"
        trainable = "yes" if row["trainable"] or not weighted else "no (frozen)"
        table.append((f"{row['name']} ({row['type']})", shape, params, trainable))
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    rule = "-" * (sum(widths) + 6)

    def line(r: tuple[str, ...]) -> str:
        return (f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}").rstrip()

    out = [
        f'Model: "{data["model"]}" (parameters as {target} counts them)',
        rule.replace("-", "="),
        line(table[0]),
        rule.replace("-", "="),
    ]
    out += [line(r) for r in table[1:]]
    out += [
        rule.replace("-", "="),
        f"Total params: {data['total_params']:,}",
        f"Trainable params: {data['trainable_params']:,}",
        f"Non-trainable params: {data['non_trainable_params']:,}",
    ]
    if program.model.base and not program.model.base.backbone.supports(target):
        out.append(
            f"note: {program.model.base.name} is not available for {target}; its parameters are not counted"
        )
    for phase in data.get("phases", []):
        base = "" if program.model.base is None else f", base: {phase['base']}"
        out.append(
            f"phase {phase['name']}: {phase['epochs']} epochs, {phase['optimizer']}"
            f"(learning_rate={phase['learning_rate']:g}){base}"
        )
    return "\n".join(out) + "\n"

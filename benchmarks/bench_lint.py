"""Lint throughput: `specc check` over a folder of 1,000 generated specs, in specs per second.

    python benchmarks/bench_lint.py [--specs 1000] [--repeat 3]

The specs vary in depth, layer types, losses, optimizers, stages and backbones, and about a
third carry lint findings and suppression comments, so every rule does real work. Reported:
the start-up of a `specc check` process (one tiny spec), the in-process throughput after
start-up (front end + lint, and the lint alone), and a whole `specc check DIR` run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ACTIVATIONS = ("relu", "tanh", "gelu", "sigmoid", "linear", "elu")
OPTIMIZERS = (
    "Adam(learning_rate=1e-3)",
    "SGD(learning_rate=0.05, momentum=0.9)",
    "AdamW(learning_rate=1e-3, weight_decay=0.01)",
    "RMSprop(learning_rate=0.5)",
    "Adam(learning_rate=1e-3, weight_decay=1e-4)",
)


def mlp(rng: random.Random, i: int) -> str:
    """A dense classifier on digits, sometimes with mistakes."""
    layers = []
    for _ in range(rng.randint(1, 6)):
        act = rng.choice(ACTIVATIONS)
        reg = rng.choice(["", ", kernel_regularizer=l2(1e-4)", ", kernel_regularizer=l1(0.5)"])
        layers.append(f"Dense({rng.choice([16, 32, 64, 128])}, activation={act}{reg})")
        if rng.random() < 0.4:
            layers.append(f"Dropout({rng.choice([0.0, 0.2, 0.5, 0.85])})")
        if rng.random() < 0.2:
            layers.append("BatchNormalization()")
    logits = rng.random() < 0.3
    out = "Dense(10)" if logits else "Dense(10, activation=softmax)  # specc: ignore[SPC401]"
    loss = "sparse_categorical_crossentropy" + ("(from_logits=true)" if logits or rng.random() < 0.2 else "")
    body = "\n    ".join(layers)
    return f"""# generated spec {i}
model mlp_{i} {{
    input: (64,)
    {body}
    {out}
}}
train {{
    data: digits(validation_split=0.2)
    loss: {loss}
    optimizer: {rng.choice(OPTIMIZERS)}
    epochs: {rng.randint(1, 50)}
    batch_size: {rng.choice([16, 32, 64, 2048])}
    metrics: [accuracy]
}}
"""


def cnn(rng: random.Random, i: int) -> str:
    """A small convolutional network on 8x8 digit images."""
    head = rng.choice(["Flatten()", "GlobalAveragePooling2D()", ""])
    return f"""model cnn_{i} {{
    input: (8, 8, 1)
    Conv2D({rng.choice([8, 16])}, 3, padding=same, activation=relu)
    MaxPooling2D(2)
    Conv2D(32, 3, padding=same, activation={rng.choice(ACTIVATIONS)})
    {head}
    Dense(32, activation=relu)
    {"" if head else "Flatten()"}
    Dense(10, activation=softmax)
}}
train {{
    data: digits()
    loss: {rng.choice(["sparse_categorical_crossentropy", "categorical_crossentropy", "mse"])}
    optimizer: {rng.choice(OPTIMIZERS)}
}}
"""


def transfer(rng: random.Random, i: int) -> str:
    """A pretrained backbone with a new head and fine-tuning stages."""
    backbone = rng.choice(["resnet50", "mobilenet_v2", "efficientnet_b0", "vgg16", "resnet18"])
    size = rng.choice([64, 96, 160, 224])
    frozen = rng.choice(["false", "false", "true"])
    stages = []
    for s in range(rng.randint(0, 3)):
        lr = rng.choice(["1e-5", "1e-4", "1e-3"])
        stages.append(
            f"""    stage s{s} {{
        unfreeze: base.last({rng.choice([5, 10, 50, 200])})
        optimizer: Adam(learning_rate={lr})
        epochs: 2
    }}"""
        )
    joined = "\n".join(stages)
    return f"""model tl_{i} {{
    input: ({size}, {size}, 3)
    base: {backbone}(weights=imagenet, trainable={frozen})
    GlobalAveragePooling2D()
    Dropout(0.2)
    Dense(5, activation=softmax)
}}
train {{
    data: synthetic(samples=128, classes=5)
    loss: sparse_categorical_crossentropy
    optimizer: Adam(learning_rate=1e-3)
    epochs: 3
{joined}
}}
"""


def generate(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """Write `count` specs into `folder` (sub-folders of 100) and return their paths."""
    rng = random.Random(seed)
    makers = (mlp, mlp, cnn, transfer)
    paths = []
    for i in range(count):
        sub = folder / f"batch{i // 100:02d}"
        sub.mkdir(exist_ok=True)
        path = sub / f"spec_{i:04d}.spec"
        path.write_text(makers[i % len(makers)](rng, i), encoding="utf-8")
        paths.append(path)
    return paths


def cpu_profile(count: int) -> int:
    """CPU time per spec in each front-end stage and in the linter (immune to a busy machine).

    A spec that a stage rejects (the generator makes some mistakes the front end catches) counts
    the time up to that stage, as `specc check` spends it.
    """
    from specc import lint, parse, shapes, validate
    from specc.diagnostics import SpeccError

    with tempfile.TemporaryDirectory(prefix="specc-bench-lint-") as tmp:
        paths = generate(Path(tmp), count)
        sources = [parse.read(p) for p in paths]
    parse.parser()
    lint.all_rules()
    stages = {
        "parse": lambda source, _: parse.parse(source),
        "validate": lambda source, blocks: validate.validate(blocks, source),
        "shapes": lambda source, spec: shapes.build(spec),
        "lint": lambda source, program: lint.lint(program),
    }
    spent = dict.fromkeys(stages, 0.0)
    rejected = 0
    for source in sources:
        value = None
        for name, stage in stages.items():
            start = time.process_time()
            try:
                value = stage(source, value)
            except SpeccError:
                rejected += 1
                break
            finally:
                spent[name] += time.process_time() - start
    total = sum(spent.values())
    print(f"{count} specs, {rejected} rejected by the front end")
    print("| stage | CPU ms per spec | share |")
    print("|---|---|---|")
    for name, took in spent.items():
        print(f"| {name} | {took / count * 1000:.2f} | {took / total:.0%} |")
    print(f"| all | {total / count * 1000:.2f} | {count / total:,.0f} specs per CPU-second |")
    return 0


def main() -> int:
    """Run the benchmark and print a Markdown table of the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cpu-time", action="store_true", help="report CPU time per spec by stage")
    args = parser.parse_args()

    from specc import lint, pipeline

    if args.cpu_time:
        return cpu_profile(args.specs)
    from specc.commands.check import check_files

    with tempfile.TemporaryDirectory(prefix="specc-bench-lint-") as tmp:
        folder = Path(tmp)
        paths = generate(folder, args.specs)
        # Start-up: parser built, rule modules imported (not part of the per-spec figure).
        check_files([str(paths[0])])
        programs = []
        failed = 0
        for path in paths:
            try:
                programs.append(pipeline.load(path))
            except Exception:  # noqa: BLE001 - a generated spec with a front-end error is not linted
                failed += 1
        totals, parallel, lint_only = [], [], []
        findings = 0
        for _ in range(args.repeat):
            start = time.perf_counter()
            diagnostics, _ = check_files([str(folder)], jobs=1)
            totals.append(time.perf_counter() - start)
            findings = len(diagnostics)
            start = time.perf_counter()
            again, _ = check_files([str(folder)], jobs=2)
            parallel.append(time.perf_counter() - start)
            assert again == diagnostics, "the parallel check must give the same diagnostics"
            start = time.perf_counter()
            for program in programs:
                lint.lint(program)
            lint_only.append(time.perf_counter() - start)
        tiny = paths[0]
        starts = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "specc", "check", "--no-cache", str(tiny)],
                capture_output=True,
                check=False,
            )
            starts.append(time.perf_counter() - start)
        # Whole processes over the folder: every file analysed (the result cache off), then
        # twice with a cache of the benchmark's own: filled by the first run, hit by the second.
        env = os.environ | {"XDG_CACHE_HOME": str(folder / ".cache")}
        whole = []
        for flags in (["--no-cache"], [], []):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "specc", "check", "--format", "json", *flags, str(folder)],
                capture_output=True,
                check=False,
                env=env,
            )
            whole.append(time.perf_counter() - start)

    best, best_lint, startup = min(totals), min(lint_only), statistics.median(starts)
    n = args.specs
    print(f"| specs | {n} ({n - failed} pass the front end, {findings} diagnostics) |")
    print("|---|---|")
    print(f"| `specc check` start-up (1 tiny spec, median) | {startup * 1000:.0f} ms |")
    print(
        f"| front end + lint, one process, after start-up (best of {args.repeat}) | {n / best:,.0f} specs/s |"
    )
    print(
        f"| front end + lint, 2 worker processes (`--jobs 2`, best of {args.repeat}) "
        f"| {n / min(parallel):,.0f} specs/s |"
    )
    print(f"| lint alone, on built IR (best of {args.repeat}) | {len(programs) / best_lint:,.0f} specs/s |")
    labels = (
        "every file analysed (`--no-cache`)",
        "filling the result cache",
        "all files unchanged (cache hits)",
    )
    for label, took in zip(labels, whole, strict=True):
        print(
            f"| whole `specc check DIR --format json` process (default `--jobs 0`), {label} "
            f"| {took:.2f} s ({n / took:,.0f} specs/s) |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Checker start-up and scaling: cold-start time of `specc check` against `python -c pass`, and the
front end's time on generated specs of 10 to 10,000 layers.

    python benchmarks/bench_check.py [--runs 11] [--sizes 10,100,1000,10000]

Cold starts are fresh processes, measured twice: with the result cache empty for the file
(`--no-cache`: parse, validate, lint, as on the first check of a file or after an edit) and with
the file unchanged since its last check (a cache hit). The benchmark uses a cache folder of its
own. Wall-clock and CPU times are both printed: on a shared machine the wall clock includes waiting
for a core, the CPU time does not. Goals: cold start under 0.15 s, 10,000 layers under 1 s, linear.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "digits_mlp.spec"
# Measure with compiled bytecode, as an installed package has it (pip compiles on install): a
# development shell may set PYTHONDONTWRITEBYTECODE, and compiling ~80 modules on every start
# would add about 0.1 s that no installed user pays.
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "SPECC_NO_CACHE")}
ENV |= {"NO_COLOR": "1", "XDG_CACHE_HOME": tempfile.mkdtemp(prefix="specc-bench-cache-")}
# A repeating block of layers that keeps the shape (16,) and exercises several layer types.
BLOCK = (
    "    Dense(16, activation=relu)",
    "    Dropout(0.1)",
    "    BatchNormalization()",
    "    Dense(16, kernel_regularizer=l2(1e-4))",
    "    Activation(gelu)",
)


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cold_start(command: list[str], runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of a fresh process running `command`."""
    walls, cpus = [], []
    for _ in range(runs):
        cpu0, start = _child_cpu(), time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV)
        walls.append(time.perf_counter() - start)
        cpus.append(_child_cpu() - cpu0)
    return statistics.median(walls), statistics.median(cpus)


def generated(layers: int) -> str:
    """A valid spec with `layers` layers."""
    body = "\n".join(BLOCK[i % len(BLOCK)] for i in range(layers))
    return f"model deep {{\n    input: (16,)\n{body}\n}}\n"


def check_time(layers: int, runs: int) -> tuple[float, float]:
    """Best wall and CPU seconds of the whole front end (parse to IR) on a generated spec."""
    from specc import pipeline

    text = generated(layers).encode()
    walls, cpus = [], []
    for _ in range(runs):
        gc.collect()
        cpu0, start = time.process_time(), time.perf_counter()
        program = pipeline.load_text(text, max_layers=layers)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu0)
        assert len(program.model.layers) == layers
    return min(walls), min(cpus)


def main() -> None:
    """Print the cold-start ratio and the scaling table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="cold starts per command (median)")
    parser.add_argument("--sizes", default="10,100,1000,10000", help="layer counts, comma-separated")
    args = parser.parse_args()

    python = [sys.executable]
    specc = [sys.executable, "-m", "specc"]
    for command in ("check", "summary"):  # write bytecode, the parser cache and the file's result
        subprocess.run([*specc, command, str(EXAMPLE)], capture_output=True, check=True, env=ENV)
    base_wall, base_cpu = cold_start([*python, "-c", "pass"], args.runs)
    print(f"cold start, median of {args.runs} (wall / CPU seconds):")
    print(f"  {'python -c pass':<34} {base_wall:6.3f} / {base_cpu:6.3f}")
    cases = (
        ("specc check, file not cached", ["check", "--no-cache"]),
        ("specc check --no-lint, not cached", ["check", "--no-cache", "--no-lint"]),
        ("specc check, file unchanged (hit)", ["check"]),
        ("specc summary", ["summary"]),
    )
    for label, command in cases:
        wall, cpu = cold_start([*specc, *command, str(EXAMPLE)], args.runs)
        print(
            f"  {label:<34} {wall:6.3f} / {cpu:6.3f}"
            f"   ratio {wall / base_wall:5.1f}x wall, {cpu / max(base_cpu, 1e-9):5.1f}x CPU"
        )

    print("\nfront end (parse, validate, shapes) on generated specs, best of 3:")
    print(f"  {'layers':>6}  {'wall s':>8}  {'CPU s':>8}  {'CPU us/layer':>12}")
    check_time(10, 1)  # build the parser and validators outside the timings
    for size in (int(s) for s in args.sizes.split(",")):
        wall, cpu = check_time(size, 3)
        print(f"  {size:>6}  {wall:8.3f}  {cpu:8.3f}  {cpu / size * 1e6:12.1f}")


if __name__ == "__main__":
    main()

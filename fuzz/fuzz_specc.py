"""Coverage-guided fuzzing of the front end (and, for valid specs, both targets) with atheris.

Any exception other than SpeccError is a crash; atheris then writes the input to crash-<hash>.
Run outside CI (see docs/reliability.md):

    pip install atheris
    python fuzz/fuzz_specc.py fuzz/corpus -max_total_time=600 -timeout=5 -rss_limit_mb=2048

`fuzz/corpus` starts from examples/*.spec and tests/corpus (copied there by `--seed`):

    python fuzz/fuzz_specc.py --seed fuzz/corpus
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["specc"]):
    from specc import pipeline
    from specc.diagnostics import SpeccError
    from specc.targets import TARGETS, target
    from specc.targets.base import EmitOptions

ROOT = Path(__file__).resolve().parent.parent


def compile_everywhere(program: object) -> None:
    """Emit a valid program for each target that accepts it; the result must be valid Python."""
    for name in TARGETS:
        try:
            module = target(name)
        except ImportError:
            continue  # a target not written yet in this checkout
        if module.check(program):
            continue
        ast.parse(module.emit(program, EmitOptions()))


def test_one_input(data: bytes) -> None:
    """One fuzz input: only SpeccError may leave the front end; valid specs must compile."""
    try:
        program = pipeline.load_text(data, "fuzz.spec")
    except SpeccError as err:
        assert err.diagnostics
        return
    if program.train is not None:
        compile_everywhere(program)


def seed(folder: Path) -> None:
    """Copy the example and corpus specs into a starting corpus folder."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = sorted(ROOT.glob("examples/**/*.spec")) + sorted(ROOT.glob("tests/corpus/**/*.spec"))
    for index, path in enumerate(sources):
        if path.stat().st_size < 64 * 1024:  # the giant-limit corpus files only slow the fuzzer
            shutil.copy(path, folder / f"{index:04d}-{path.name}")
    print(f"seeded {folder} with {len(list(folder.iterdir()))} specs")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--seed"]:
        seed(Path(sys.argv[2]))
    else:
        atheris.Setup(sys.argv, test_one_input)
        atheris.Fuzz()

"""`specc run SPEC --target torch|keras [-- ARGS...]`: compile to a temporary file and run it."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from specc.commands.common import EXIT_ERRORS, EXIT_USAGE, print_diagnostics, source_of
from specc.diagnostics import SpeccError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `specc run`."""
    from specc.targets import TARGETS

    parser.add_argument("spec", metavar="SPEC", help="the spec file")
    parser.add_argument(
        "--target",
        "-t",
        choices=sorted(TARGETS),
        default="torch",
        help="the framework to run with (default: torch)",
    )
    parser.add_argument(
        "program_args",
        nargs=argparse.REMAINDER,
        metavar="-- ARGS",
        help="arguments for the generated program, after --",
    )


def run(args: argparse.Namespace) -> int:
    """Compile the spec and run the program with the spec's folder as its data folder."""
    from specc.commands.compile import generate
    from specc.targets import TARGETS

    spec = Path(args.spec)
    extra = list(args.program_args)
    # REMAINDER also swallows a `--target X` written after SPEC: take it back before `--`.
    while extra and extra[0] != "--":
        option = extra.pop(0)
        if option in ("--target", "-t") and extra:
            args.target = extra.pop(0)
        elif option.startswith("--target="):
            args.target = option.split("=", 1)[1]
        else:
            extra.insert(0, option)
            break
    if args.target not in TARGETS:
        choices = ", ".join(sorted(TARGETS))
        print(f"specc run: unknown target {args.target!r} (choose from {choices})", file=sys.stderr)
        return EXIT_USAGE
    if extra[:1] == ["--"]:
        extra = extra[1:]
    try:
        code = generate(spec, args.target)
    except SpeccError as err:
        print_diagnostics(err.diagnostics, source_of(err, spec), "text", sys.stderr)
        return EXIT_ERRORS
    with tempfile.TemporaryDirectory(prefix="specc-run-") as tmp:
        program = Path(tmp) / f"{spec.stem}_{args.target}.py"
        program.write_text(code, encoding="utf-8")
        data_dir = str(spec.resolve().parent)
        command = [sys.executable, str(program), "--data-dir", data_dir, *extra]
        return subprocess.call(command)

"""`specc notebook SPEC --target torch|keras [-o FILE.ipynb]`: the program as a notebook with lessons."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from specc.commands.common import EXIT_ERRORS, EXIT_OK, print_diagnostics, source_of
from specc.diagnostics import SpeccError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `specc notebook`."""
    from specc.targets import TARGETS

    parser.add_argument("spec", metavar="SPEC", help="the spec file")
    parser.add_argument(
        "--target", "-t", choices=sorted(TARGETS), default="torch", help="the framework (default: torch)"
    )
    parser.add_argument(
        "--lang", choices=("en", "ko"), default="en", help="explanation language (default: en)"
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the notebook here (default: standard output)"
    )
    parser.add_argument(
        "--run-args",
        default=SHORT_RUN,
        metavar="ARGS",
        help="arguments of the last cell's main() call (default: a short run, '--epochs 1 --max-steps 2')",
    )


SHORT_RUN = "--epochs 1 --max-steps 2"


def notebook_text(spec: Path, code: str, target: str, lang: str, run_args: str, output: str | None) -> str:
    """The .ipynb text for a compiled spec (shared by `specc notebook` and `specc compile --notebook`)."""
    from specc import pipeline
    from specc.teach.notebook import dumps, notebook

    program = pipeline.load(spec)
    arguments = shlex.split(run_args)
    if "--data-dir" not in arguments:
        # Relative data paths in the spec start from the spec's folder, seen from the notebook's.
        where = Path(output).resolve().parent if output else Path.cwd()
        arguments += ["--data-dir", os.path.relpath(spec.resolve().parent, where)]
    return dumps(notebook(program, code, target, lang, arguments))


def run(args: argparse.Namespace) -> int:
    """Compile the spec and write the notebook, or print the diagnostics."""
    from specc.commands.compile import generate
    from specc.commands.graph import write_file

    spec = Path(args.spec)
    try:
        code = generate(spec, args.target)
    except SpeccError as err:
        print_diagnostics(err.diagnostics, source_of(err, spec), "text", sys.stderr)
        return EXIT_ERRORS
    text = notebook_text(spec, code, args.target, args.lang, args.run_args, args.output)
    if args.output:
        write_file(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK

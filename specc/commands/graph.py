"""`specc graph SPEC [-o model.svg]`: draw the network as SVG: layers, shapes, frozen parts, stages."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from specc.commands.common import EXIT_ERRORS, EXIT_OK, UsageError, print_diagnostics, source_of
from specc.diagnostics import SpeccError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `specc graph`."""
    parser.add_argument("spec", metavar="SPEC", help="the spec file")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the SVG here (default: standard output)"
    )
    parser.add_argument(
        "--target",
        choices=("torch", "keras"),
        default="torch",
        help="show parameter counts as this framework counts them (default: torch)",
    )
    parser.add_argument("--lang", choices=("en", "ko"), default="en", help="label language (default: en)")


def run(args: argparse.Namespace) -> int:
    """Write the diagram, or print the spec's diagnostics."""
    from specc import pipeline
    from specc.teach.graph import svg

    path = Path(args.spec)
    try:
        program = pipeline.load(path)
    except SpeccError as err:
        print_diagnostics(err.diagnostics, source_of(err, path), "text", sys.stderr)
        return EXIT_ERRORS
    drawing = svg(program, args.target, args.lang)
    if args.output:
        write_file(args.output, drawing)
    else:
        sys.stdout.write(drawing)
    return EXIT_OK


def write_file(path: str | Path, text: str) -> None:
    """Write an output file atomically; a place that cannot be written is a usage error, not a bug."""
    from specc.commands.compile import write_atomic

    try:
        write_atomic(Path(path), text)
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None

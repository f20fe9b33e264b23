"""`specc summary SPEC`: layers, output shapes and parameter counts as a target counts them."""

from __future__ import annotations

import argparse
import sys

from specc.commands.common import EXIT_ERRORS, EXIT_OK, print_diagnostics, source_of
from specc.diagnostics import SpeccError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `specc summary`."""
    parser.add_argument("spec", metavar="SPEC", help="the spec file")
    parser.add_argument(
        "--target",
        choices=("torch", "keras"),
        default="torch",
        help="count parameters as this framework does (default: torch)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    """Print the summary table, or the spec's diagnostics."""
    from pathlib import Path

    from specc import pipeline
    from specc.summary import render_json, render_text

    path = Path(args.spec)
    try:
        program = pipeline.load(path)
    except SpeccError as err:
        print_diagnostics(err.diagnostics, source_of(err, path), "text", sys.stderr)
        return EXIT_ERRORS
    render = render_json if args.format == "json" else render_text
    sys.stdout.write(render(program, args.target))
    return EXIT_OK

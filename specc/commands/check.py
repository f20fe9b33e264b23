"""`specc check PATH...`: parse, validate and analyse specs; exit 1 when any has an error."""

from __future__ import annotations

import argparse

from specc.commands.common import EXIT_ERRORS, EXIT_OK, print_diagnostics, spec_files
from specc.diagnostics import Diagnostic, SpeccError
from specc.source import Source


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `specc check`."""
    from specc.render import FORMATS

    parser.add_argument("paths", nargs="+", metavar="PATH", help="spec files or directories")
    parser.add_argument(
        "--format", choices=sorted(FORMATS), default="text", help="output format (default: text)"
    )
    parser.add_argument("--strict", action="store_true", help="warnings also fail the check")


def check_files(paths: list[str]) -> tuple[list[Diagnostic], dict[str, Source]]:
    """Diagnostics of every spec under `paths`, and their sources for snippets."""
    from specc import pipeline
    from specc.commands.common import source_of

    diagnostics: list[Diagnostic] = []
    sources: dict[str, Source] = {}
    for path in spec_files(paths):
        try:
            program = pipeline.load(path)
        except SpeccError as err:
            diagnostics.extend(err.diagnostics)
            sources.update(source_of(err, path))
            sources.setdefault(str(path), Source(str(path), ""))
            continue
        sources[str(path)] = program.spec.source
    return diagnostics, sources


def run(args: argparse.Namespace) -> int:
    """Check the files and print the diagnostics."""
    diagnostics, sources = check_files(args.paths)
    print_diagnostics(diagnostics, sources, args.format)
    failing = {"error", "warning"} if args.strict else {"error"}
    return EXIT_ERRORS if any(d.level.value in failing for d in diagnostics) else EXIT_OK

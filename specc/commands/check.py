"""`specc check PATH...`: parse, validate, analyse and lint specs; exit 1 when any has an error."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from specc.commands.common import EXIT_ERRORS, EXIT_OK, UsageError, print_diagnostics, spec_files
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
    parser.add_argument(
        "--select",
        action="append",
        metavar="RULES",
        help="run only these lint rules: codes, prefixes (SPC43), names or ALL, comma-separated; "
        "replaces `select` of [tool.specc]",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        metavar="RULES",
        help="skip these lint rules (added to `ignore` of [tool.specc])",
    )
    parser.add_argument(
        "--no-lint", action="store_true", help="run only the front end (parse, validate, shapes)"
    )


def check_files(
    paths: Sequence[str],
    select: Sequence[str] | None = None,
    ignore: Sequence[str] = (),
    lint: bool = True,
) -> tuple[list[Diagnostic], dict[str, Source]]:
    """Diagnostics of every spec under `paths`, and their sources for snippets.

    Lint rules run only on files that passed the front end: their IR is complete.
    """
    from specc import pipeline
    from specc.commands.common import source_of

    diagnostics: list[Diagnostic] = []
    sources: dict[str, Source] = {}
    selections: dict[object, object] = {}
    for path in spec_files(paths):
        try:
            program = pipeline.load(path)
        except SpeccError as err:
            diagnostics.extend(err.diagnostics)
            sources.update(source_of(err, path))
            sources.setdefault(str(path), Source(str(path), ""))
            continue
        sources[str(path)] = program.spec.source
        if lint:
            diagnostics.extend(_lint(program, path, select, ignore, selections))
    return diagnostics, sources


def _lint(
    program: object,
    path: Path,
    select: Sequence[str] | None,
    ignore: Sequence[str],
    cache: dict[object, object],
) -> list[Diagnostic]:
    """Lint one program with the selection of its nearest [tool.specc] and the command line."""
    from specc import config, lint

    try:
        settings = config.find(path)
        if settings.path not in cache:  # one selection per configuration file, not per spec
            cache[settings.path] = config.resolve(settings, select, ignore)
    except config.ConfigError as err:
        raise UsageError(str(err)) from None
    return lint.lint(program, cache[settings.path])  # type: ignore[arg-type]


def run(args: argparse.Namespace) -> int:
    """Check the files and print the diagnostics."""
    from specc.config import Config, ConfigError, resolve, split

    select, ignore = split(args.select), split(args.ignore) or ()
    try:
        resolve(Config(), select, ignore)  # report a bad --select/--ignore before any work
    except ConfigError as err:
        raise UsageError(str(err)) from None
    diagnostics, sources = check_files(args.paths, select, ignore, lint=not args.no_lint)
    print_diagnostics(diagnostics, sources, args.format)
    failing = {"error", "warning"} if args.strict else {"error"}
    return EXIT_ERRORS if any(d.level.value in failing for d in diagnostics) else EXIT_OK

"""`specc check PATH...`: parse, validate, analyse and lint specs; exit 1 when any has an error."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from specc.codes import CODES
from specc.commands.common import EXIT_ERRORS, EXIT_OK, UsageError, print_diagnostics, spec_files
from specc.diagnostics import Diagnostic, SpeccError
from specc.source import Source

if TYPE_CHECKING:
    from specc.check_cache import ResultCache
    from specc.config import Config, Selection
    from specc.ir import Program

# Folders with at least this many specs per CPU are checked in parallel by default.
PARALLEL_MIN_FILES = 100


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
        "--jobs",
        "-j",
        type=int,
        default=0,
        metavar="N",
        help="worker processes (default 0: one per CPU for folders of 100+ specs per CPU; 1: none)",
    )
    parser.add_argument(
        "--no-lint", action="store_true", help="run only the front end (parse, validate, shapes)"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="check every file afresh, neither reading nor writing the result cache (also: SPECC_NO_CACHE=1)",
    )


def check_files(
    paths: Sequence[str],
    select: Sequence[str] | None = None,
    ignore: Sequence[str] = (),
    lint: bool = True,
    jobs: int = 1,
    cache: bool = False,
) -> tuple[list[Diagnostic], dict[str, Source]]:
    """Diagnostics of every spec under `paths`, and their sources for snippets.

    Lint rules run only on files that passed the front end: their IR is complete. With
    `jobs` > 1 the files are split over that many worker processes (0: one per CPU for large
    folders); the result is the same, in the same order. With `cache`, results of files
    checked before with the same code and settings are reused (see specc.check_cache).
    """
    files = spec_files(paths)
    run = _Run(select, ignore, lint, _open_cache(select, ignore, lint) if cache else None)
    workers = _workers(jobs, len(files))
    if workers > 1:
        return _parallel(files, run, workers)
    return _check_chunk((files, run))


@dataclass(frozen=True)
class _Run:
    """What every file of one run is checked with."""

    select: Sequence[str] | None
    ignore: Sequence[str]
    lint: bool
    cache: ResultCache | None


def _open_cache(select: Sequence[str] | None, ignore: Sequence[str], lint: bool) -> ResultCache | None:
    """The result cache for these settings and the limits in force."""
    from specc.check_cache import open_cache
    from specc.limits import current

    return open_cache(lint, select, ignore, repr(current()))


def _workers(jobs: int, files: int) -> int:
    """How many processes to use: `jobs`, or for 0 one per CPU once there are enough files."""
    import os
    import sys

    if sys.platform != "linux":  # fork keeps start-up free; elsewhere stay in one process
        return 1
    if jobs == 0:
        return max(1, min(os.cpu_count() or 1, files // PARALLEL_MIN_FILES))
    return max(1, min(jobs, files))


def _check_one(
    path: Path, run: _Run, selections: dict[Path | None, Selection]
) -> tuple[list[Diagnostic], dict[str, Source]]:
    """The diagnostics and source of one spec file, from the cache when it holds them."""
    if run.cache is None:
        return _analyse(path, None, run, selections)
    from specc.check_cache import read_bytes
    from specc.limits import current

    data = read_bytes(path, current().max_bytes)
    if data is None:  # a device, a pipe, an oversized or unreadable file: the front end says why
        return _analyse(path, None, run, selections)
    key = run.cache.key(path, data, repr(_config(path)) if run.lint else "")
    hit = run.cache.get(path, key)
    if hit is not None:
        if any(d.code not in CODES for d in hit.diagnostics):
            from specc.lint import all_rules

            all_rules()  # lint codes enter the code table (names, severities) with their rules
        # The text is stored only where there are snippets to show; the file counts either way.
        return hit.diagnostics, {str(path): Source(str(path), hit.text or "", path)}
    found, sources = _analyse(path, data, run, selections)
    source = sources.get(str(path))
    run.cache.put(path, key, found, source.text if source is not None and found else None)
    return found, sources


def _analyse(
    path: Path, data: bytes | None, run: _Run, selections: dict[Path | None, Selection]
) -> tuple[list[Diagnostic], dict[str, Source]]:
    """Run the front end (and lint) on a file, or on the bytes already read from it."""
    from specc import pipeline
    from specc.commands.common import source_of

    try:
        program = pipeline.load(path) if data is None else pipeline.load_text(data, str(path), path)
    except SpeccError as err:
        sources = source_of(err, path, data)
        sources.setdefault(str(path), Source(str(path), ""))
        return list(err.diagnostics), sources
    found = _lint(program, path, run.select, run.ignore, selections) if run.lint else []
    return found, {str(path): program.spec.source}


def _check_chunk(args: tuple[list[Path], _Run]) -> tuple[list[Diagnostic], dict[str, Source]]:
    """Check files in order in this process: all of them, or a worker's share."""
    files, run = args
    diagnostics: list[Diagnostic] = []
    sources: dict[str, Source] = {}
    selections: dict[Path | None, Selection] = {}
    for path in files:
        found, source = _check_one(path, run, selections)
        diagnostics.extend(found)
        sources.update(source)
    return diagnostics, sources


def _parallel(files: list[Path], run: _Run, workers: int) -> tuple[list[Diagnostic], dict[str, Source]]:
    """Check contiguous chunks of the files in forked workers and join the results in order."""
    import multiprocessing

    from specc import parse
    from specc.lint import all_rules

    parse.parser()  # built once here, inherited by every forked worker
    all_rules()
    size = max(1, -(-len(files) // (workers * 4)))
    chunks = [(files[i : i + size], run) for i in range(0, len(files), size)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.map(_check_chunk, chunks, chunksize=1)
    diagnostics: list[Diagnostic] = []
    sources: dict[str, Source] = {}
    for found, source in results:
        diagnostics.extend(found)
        sources.update(source)
    return diagnostics, sources


def _config(path: Path) -> Config:
    """The [tool.specc] settings that apply to a spec (a mistake in them is a usage error)."""
    from specc import config

    try:
        return config.find(path)
    except config.ConfigError as err:
        raise UsageError(str(err)) from None


def _lint(
    program: Program,
    path: Path,
    select: Sequence[str] | None,
    ignore: Sequence[str],
    selections: dict[Path | None, Selection],
) -> list[Diagnostic]:
    """Lint one program with the selection of its nearest [tool.specc] and the command line."""
    from specc import config, lint

    settings = _config(path)
    if settings.path not in selections:  # one selection per configuration file, not per spec
        try:
            selections[settings.path] = config.resolve(settings, select, ignore)
        except config.ConfigError as err:
            raise UsageError(str(err)) from None
    return lint.lint(program, selections[settings.path])


def run(args: argparse.Namespace) -> int:
    """Check the files and print the diagnostics."""
    from specc.config import Config, ConfigError, resolve, split

    select, ignore = split(args.select), split(args.ignore) or ()
    if select is not None or ignore:
        try:
            resolve(Config(), select, ignore)  # report a bad --select/--ignore before any work
        except ConfigError as err:
            raise UsageError(str(err)) from None
    diagnostics, sources = check_files(
        args.paths, select, ignore, lint=not args.no_lint, jobs=args.jobs, cache=not args.no_cache
    )
    print_diagnostics(diagnostics, sources, args.format)
    failing = {"error", "warning"} if args.strict else {"error"}
    return EXIT_ERRORS if any(d.level.value in failing for d in diagnostics) else EXIT_OK

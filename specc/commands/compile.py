"""`specc compile SPEC --target torch|keras [-o FILE]`: write a standalone training program."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from specc.commands.common import EXIT_ERRORS, EXIT_OK, UsageError, print_diagnostics, source_of
from specc.diagnostics import SpeccError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `specc compile`."""
    from specc.targets import TARGETS

    parser.add_argument("spec", metavar="SPEC", help="the spec file")
    parser.add_argument(
        "--target",
        "-t",
        choices=sorted(TARGETS),
        default="torch",
        help="the framework to generate code for (default: torch)",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the program here (default: standard output)"
    )
    parser.add_argument(
        "--teach",
        action="store_true",
        help="explain each concept in a short comment where it first appears (see docs/teaching.md)",
    )
    parser.add_argument(
        "--lang",
        choices=("en", "ko"),
        default="en",
        help="language of the --teach comments and --notebook explanations (default: en)",
    )
    parser.add_argument(
        "--notebook",
        action="store_true",
        help="write a Jupyter notebook: the program with explanation cells (as `specc notebook`)",
    )


def generate(spec: Path, target_name: str, **options: object) -> str:
    """The program text for a spec, or SpeccError with the front end's or the target's errors."""
    from specc import pipeline
    from specc.targets import target
    from specc.targets.base import EmitOptions

    program = pipeline.load(spec)
    module = target(target_name)
    problems = module.check(program)
    if problems:
        raise SpeccError(problems)
    emit_options = EmitOptions(**options)  # type: ignore[arg-type]
    code = module.emit(program, emit_options)
    if emit_options.teach:
        from specc.teach.comments import annotate

        code = annotate(code, program, target_name, emit_options.lang)
    return code


def write_atomic(path: Path, text: str) -> None:
    """Write a file through a temporary sibling and a rename, so no half-written file remains."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)  # never leave the temporary file behind on failure
        raise


def run(args: argparse.Namespace) -> int:
    """Compile, writing nothing when the spec has errors."""
    spec = Path(args.spec)
    try:
        code = generate(spec, args.target, teach=args.teach, lang=args.lang)
    except SpeccError as err:
        print_diagnostics(err.diagnostics, source_of(err, spec), "text", sys.stderr)
        return EXIT_ERRORS
    if args.notebook:
        from specc.commands.notebook import SHORT_RUN, notebook_text

        code = notebook_text(spec, code, args.target, args.lang, SHORT_RUN, args.output)
    if args.output:
        try:
            write_atomic(Path(args.output), code)
        except OSError as err:
            # A missing folder or a read-only place is the user's to fix, not a bug in specc.
            raise UsageError(f"cannot write {args.output}: {err.strerror or err}") from None
    else:
        sys.stdout.write(code)
    return EXIT_OK

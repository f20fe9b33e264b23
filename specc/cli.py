"""The `specc` command: argument parsing, dispatch and exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module

# The command line validates its own models only: skip pydantic's plugin discovery, which scans
# every installed distribution's metadata (about 0.05 s of each start). The library, imported
# by other programs, leaves the setting alone.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from specc import __version__, limits  # noqa: E402
from specc.commands import COMMANDS
from specc.commands.common import EXIT_USAGE, UsageError


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser with one sub-parser per command module.

    Only the command named in `argv` has its module imported: the others stay stubs, since
    importing every command's module would cost each start of `specc check` about 15 ms.
    Without a recognisable command (or with --help before it) every module is imported, so
    the overview lists each command's one-line description.
    """
    parser = argparse.ArgumentParser(
        prog="specc",
        description="Describe a neural network once, check it, compile it to PyTorch or Keras.",
    )
    parser.add_argument("--version", action="version", version=f"specc {__version__}")
    parser.add_argument("--debug", action="store_true", help="print the full traceback of an internal error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = _command_in(sys.argv[1:] if argv is None else argv)
    for name, module_name in COMMANDS.items():
        if chosen is not None and name != chosen:
            sub.add_parser(name)  # listed as a valid choice, never parsed in this run
            continue
        module = import_module(f"specc.commands.{module_name}")
        doc = (module.__doc__ or "").strip().splitlines()[0]
        command = sub.add_parser(name, help=doc.split(": ", 1)[-1], description=doc)
        module.add_arguments(command)
        if name in limits.LIMITED_COMMANDS:
            limits.add_arguments(command)
        command.set_defaults(module=module)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The sub-command argv runs, when it is clear before parsing (the first non-option word)."""
    for word in argv:
        if word in ("-h", "--help"):
            return None
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def _internal_error(debug: bool) -> int:
    """Report a bug in specc in one line; the traceback goes to a file (or stderr with --debug)."""
    import tempfile
    import traceback

    details = traceback.format_exc()
    if debug:
        sys.stderr.write(details)
        return EXIT_USAGE
    try:
        with tempfile.NamedTemporaryFile(
            "w", prefix="specc-crash-", suffix=".txt", delete=False, encoding="utf-8"
        ) as fh:
            fh.write(details)
        where = f"details in {fh.name}"
    except OSError:
        where = "run again with --debug for details"
    sys.stderr.write(f"specc: internal error: this is a bug in specc, please report it ({where})\n")
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit 0 clean, 1 errors found, 2 usage or internal error."""
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        with limits.using(limits.from_args(args)):
            return int(args.module.run(args))
    except UsageError as err:
        sys.stderr.write(f"specc: error: {err}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception:  # noqa: BLE001 - the one place a bug becomes a message, not a traceback
        return _internal_error(args.debug)


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()

"""Limits: hostile specs (huge files, devices, pipes, a million layers, 1e12 parameters, deep nesting)
give clear diagnostics fast and in bounded memory; the caps are configurable from the command line."""

from __future__ import annotations

import argparse
import os
import signal
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from specc import limits, pipeline
from specc.cli import main
from specc.diagnostics import SpeccError

SMALL = "model m {\n    input: (64,)\n    Dense(10)\n    Dense(10)\n}\n"


@contextmanager
def bounded(seconds: float, megabytes: float) -> Iterator[None]:
    """Fail unless the block ends within `seconds` (a hang is interrupted) and allocates < `megabytes`."""

    def hang(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.setitimer(signal.ITIMER_REAL, seconds * 3)  # a hard stop well past the asserted bound
    tracemalloc.start()
    start = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    assert peak < megabytes, f"allocated {peak:.0f} MiB"


def codes(path: Path | None = None, text: str | bytes | None = None, **kw: int) -> list[str]:
    """The diagnostic codes of loading a file or text (empty when it loads)."""
    try:
        if path is not None:
            pipeline.load(path, **kw)
        else:
            assert text is not None
            pipeline.load_text(text, **kw)
    except SpeccError as err:
        return [d.code for d in err.diagnostics]
    return []


def test_100_megabyte_file_is_refused_unread(tmp_path: Path) -> None:
    """A sparse 100 MB file: SPC012 with its real size, without reading it."""
    path = tmp_path / "huge.spec"
    with path.open("wb") as fh:
        fh.truncate(100 * 2**20)
    with bounded(2, 16):
        with pytest.raises(SpeccError) as err:
            pipeline.load(path)
    (diagnostic,) = err.value.diagnostics
    assert diagnostic.code == "SPC012" and "104,857,600 bytes" in diagnostic.message


def test_a_million_layers_is_refused_by_size() -> None:
    """1e6 layers cannot fit under the default byte cap: SPC012 before any parsing."""
    text = "model m {\n input: (4,)\n" + "Dense(4)\n" * 1_000_000 + "}\n"
    with bounded(2, 64):
        assert codes(text=text) == ["SPC012"]


def test_layer_cap() -> None:
    """More layers than --max-layers: SPC013 naming the count and the cap."""
    text = "model m {\n input: (4,)\n" + "ReLU()\n" * 50 + "}\n"
    assert codes(text=text, max_layers=10) == ["SPC013"]
    assert codes(text=text, max_layers=50) == []


def test_trillion_parameters_are_refused_fast() -> None:
    """1e12 parameters: SPC014 at the layer that crosses the cap, without allocating anything."""
    text = "model m {\n input: (1000000,)\n Dense(1000000)\n Dense(1000000)\n}\n"
    with bounded(1, 8):
        assert codes(text=text) == ["SPC014"]
    assert codes(text=SMALL, max_params=100) == ["SPC014"]


@pytest.mark.parametrize("opening", ["(", "[", "{"])
def test_deep_nesting_of_every_bracket(opening: str) -> None:
    """100,000 nested brackets of any kind: SPC010, no RecursionError, bounded."""
    closing = {"(": ")", "[": "]", "{": "}"}[opening]
    text = "model m {\n input: (4,)\n Dense(units=" + opening * 100_000 + "1" + closing * 100_000 + ")\n}\n"
    with bounded(2, 64):
        assert codes(text=text) == ["SPC010"]


def test_devices_and_pipes_are_refused_unread(tmp_path: Path) -> None:
    """/dev/zero never ends and a FIFO blocks on open: both are SPC015 at once."""
    fifo = tmp_path / "pipe.spec"
    os.mkfifo(fifo)
    with bounded(2, 8):
        assert codes(path=fifo) == ["SPC015"]
        if Path("/dev/zero").exists():
            assert codes(path=Path("/dev/zero")) == ["SPC015"]


def test_cli_on_devices_and_huge_files_is_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command also reads the file for caret snippets: that read is bounded too."""
    huge = tmp_path / "huge.spec"
    with huge.open("wb") as fh:
        fh.truncate(100 * 2**20)
    fifo = tmp_path / "pipe.spec"
    os.mkfifo(fifo)
    with bounded(3, 32):
        assert main(["check", "--no-lint", str(huge), str(fifo)]) == 1
    out = capsys.readouterr()
    text = out.out + out.err
    assert "SPC012" in text and "SPC015" in text and "not a regular file" in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("option", "value", "code"),
    [("--max-bytes", "10", "SPC012"), ("--max-layers", "1", "SPC013"), ("--max-params", "100", "SPC014")],
)
@pytest.mark.parametrize("command", ["check", "summary", "compile"])
def test_cli_limit_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, option: str, value: str, code: str
) -> None:
    """Every command that loads a spec takes the three limit options."""
    path = tmp_path / "small.spec"
    path.write_text(SMALL, encoding="utf-8")
    extra = ["--no-lint"] if command == "check" else []
    assert main([command, *extra, option, value, str(path)]) == 1
    out = capsys.readouterr()
    assert code in out.out + out.err
    assert limits.current() == limits.Limits(), "the command's limits leaked out of it"


def test_raising_a_limit_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A spec over a default cap passes once the cap is raised."""
    path = tmp_path / "wide.spec"
    path.write_text("model m {\n input: (100000,)\n Dense(100000)\n}\n", encoding="utf-8")
    assert main(["summary", "--max-params", "5", str(path)]) == 1
    assert main(["summary", "--max-params", "1e12", str(path)]) == 0
    capsys.readouterr()


def test_limits_in_force_and_explicit_arguments() -> None:
    """`limits.using` sets the caps for every load inside it; keyword arguments still win."""
    with limits.using(limits.Limits(max_layers=1)):
        assert codes(text=SMALL) == ["SPC013"]
        assert codes(text=SMALL, max_layers=5) == []
    assert codes(text=SMALL) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5000", 5000),
        ("10_000", 10_000),
        ("1e9", 10**9),
        ("4MiB", 4_194_304),
        ("2M", 2_000_000),
        ("3k", 3000),
    ],
)
def test_count_option_values(text: str, value: int) -> None:
    """Counts on the command line may use underscores, exponents and unit suffixes."""
    assert limits.count(text) == value


@pytest.mark.parametrize("text", ["0", "-5", "abc", "1x", "1e30", ""])
def test_bad_count_option_values(text: str) -> None:
    """Zero, negative, unknown suffixes and absurd counts are usage errors."""
    with pytest.raises(argparse.ArgumentTypeError):
        limits.count(text)


def test_bad_limit_flag_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed count: argparse's one-line usage error, exit 2."""
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--max-layers", "lots", str(tmp_path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "is not a count" in err and "Traceback" not in err


@pytest.mark.parametrize("command", sorted(limits.LIMITED_COMMANDS))
def test_every_spec_loading_command_honours_the_limits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """Each command in LIMITED_COMMANDS exists, takes --max-layers, and stops at SPC013."""
    from specc.commands import COMMANDS

    assert command in COMMANDS, f"{command} is listed as limited but is not a command"
    path = tmp_path / "small.spec"
    path.write_text(SMALL, encoding="utf-8")
    extra = {"graph": ["-o", str(tmp_path / "g.svg")], "notebook": ["-o", str(tmp_path / "n.ipynb")]}
    code = main([command, "--max-layers", "1", str(path), *extra.get(command, [])])
    out = capsys.readouterr()
    assert code == 1 and "SPC013" in out.out + out.err, out.out + out.err

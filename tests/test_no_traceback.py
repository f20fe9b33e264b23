"""No user-facing path prints a traceback: bad files, bad flags, unwritable outputs, and real bugs.

A user mistake is one line and exit 1 (spec errors) or 2 (usage); a bug in specc is one line saying
so, exit 2, with the traceback in a details file or, under --debug, on stderr.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from specc import pipeline, shapes
from specc.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOOD = ROOT / "examples" / "digits_mlp.spec"
BUG = "internal error: this is a bug in specc"

BAD_FILES: dict[str, bytes] = {
    "invalid_utf8": b"model m {\n input: (4,)\n Dense(1) # \xff\xfe\n}\n",
    "binary_png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
    "empty": b"",
    "bom_only": b"\xef\xbb\xbf",
    "utf16": "model m { input: (4,) Dense(1) }".encode("utf-16"),
    "lone_surrogate_escape": b'model m {\n input: (4,)\n Dense(1, activation="\xed\xa0\x80")\n}\n',
    "crlf_truncated": b"model m {\r\n input: (4,\r\n",
}


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run the command in-process: exit code and everything it printed."""
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse's usage errors
        code = int(exit_.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def assert_no_traceback(text: str) -> None:
    """Neither a Python traceback nor an internal-error report."""
    assert "Traceback" not in text and BUG not in text, text
    assert not re.search(r'File "[^"]+", line \d+', text), text


@pytest.mark.parametrize("name", sorted(BAD_FILES))
@pytest.mark.parametrize("command", ["check", "summary", "compile"])
def test_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, name: str) -> None:
    """Undecodable, binary, empty and truncated files: diagnostics with the file name, exit 1."""
    path = tmp_path / f"{name}.spec"
    path.write_bytes(BAD_FILES[name])
    code, text = run_cli([command, str(path)], capsys)
    assert code == 1, text
    assert_no_traceback(text)
    assert f"{path}:" in text and "SPC" in text


@pytest.mark.parametrize(
    "args",
    [
        ["check", "{missing}"],
        ["summary", "{missing}"],
        ["compile", "{missing}"],
        ["check", "--frobnicate", "{good}"],
        ["frobnicate", "{good}"],
        [],
        ["compile", "{good}", "--target", "cobol"],
        ["summary", "{good}", "--format", "xml"],
        ["check", "--max-layers", "-3", "{good}"],
        ["compile", "{good}", "-o", "{missing_dir}/out.py"],
        ["compile", "{good}", "-o", "{tmp}"],
    ],
    ids=lambda a: " ".join(a) or "no-arguments",
)
def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    """Missing files, unknown flags, commands and choices, unwritable outputs: one message, no traceback."""
    names = {"missing": tmp_path / "nope.spec", "good": GOOD, "missing_dir": tmp_path / "no" / "dir"}
    names["tmp"] = tmp_path
    code, text = run_cli([a.format(**names) for a in args], capsys)
    # A missing spec is SPC015 (exit 1) to every command; the rest are usage errors (exit 2).
    assert code == 2 or ("{missing}" in args and code == 1), text
    assert_no_traceback(text)
    assert "error" in text
    assert not list(tmp_path.glob(".*.tmp")), "a failed write left its temporary file"


def test_folder_with_an_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder holding a good spec, an unreadable one and a dangling link: each reported, no crash."""
    (tmp_path / "good.spec").write_bytes(GOOD.read_bytes())
    locked = tmp_path / "locked.spec"
    locked.write_bytes(GOOD.read_bytes())
    locked.chmod(0)
    (tmp_path / "dangling.spec").symlink_to(tmp_path / "gone.spec")
    try:
        code, text = run_cli(["check", "--no-lint", str(tmp_path)], capsys)
    finally:
        locked.chmod(0o644)
    assert_no_traceback(text)
    if os.geteuid() != 0:  # root reads anything: then the folder simply passes
        assert code == 1 and "SPC015" in text and "locked.spec" in text, text
    else:
        assert code == 0, text


def test_a_spec_that_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder named like a spec, given as the spec of `summary`: SPC015, not IsADirectoryError."""
    folder = tmp_path / "model.spec"
    folder.mkdir()
    code, text = run_cli(["summary", str(folder)], capsys)
    assert code == 1 and "SPC015" in text, text
    assert_no_traceback(text)


def _explode(*args: object, **kwargs: object) -> object:
    """A stand-in for a stage with a bug in it."""
    raise RuntimeError("simulated bug in shape inference")


@pytest.mark.parametrize("command", ["check", "summary", "compile"])
def test_an_internal_error_is_one_line_with_a_details_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """A bug: one line saying so, exit 2; the traceback is in the file the line names."""
    monkeypatch.setattr(shapes, "build", _explode)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    code, text = run_cli([command, str(GOOD)], capsys)
    assert code == 2
    lines = text.strip().splitlines()
    assert len(lines) == 1 and BUG in lines[0], text
    assert "Traceback" not in text
    match = re.search(r"details in (\S+?)\)", lines[0])
    assert match, lines[0]
    details = Path(match.group(1)).read_text(encoding="utf-8")
    assert "Traceback" in details and "simulated bug in shape inference" in details


def test_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --debug the traceback goes to stderr instead (exit 2 all the same)."""
    monkeypatch.setattr(pipeline, "load_source", _explode)
    code, text = run_cli(["--debug", "summary", str(GOOD)], capsys)
    assert code == 2
    assert "Traceback" in text and "simulated bug in shape inference" in text


def test_unwritable_temp_folder_still_gives_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When not even the details file can be written, the line says to use --debug."""
    import tempfile

    monkeypatch.setattr(shapes, "build", _explode)

    def no_file(*args: object, **kwargs: object) -> object:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", no_file)
    code, text = run_cli(["check", str(GOOD)], capsys)
    assert code == 2 and BUG in text and "--debug" in text and "Traceback" not in text


def test_interrupt_is_quiet(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C: exit 130 and no traceback."""

    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "load_source", interrupted)
    code, text = run_cli(["summary", str(GOOD)], capsys)
    assert code == 130
    assert_no_traceback(text)


def test_real_process_closed_pipe_and_bad_flag() -> None:
    """Through the installed entry point: a reader that goes away, and argparse errors, stay quiet."""
    env = {**os.environ, "NO_COLOR": "1"}
    command = [sys.executable, "-m", "specc", "compile", str(GOOD)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(10)
        proc.stdout.close()  # like `| head -c 10`
        err = proc.stderr.read().decode()
        proc.wait(timeout=120)
    assert_no_traceback(err)
    assert "BrokenPipe" not in err and "Exception ignored" not in err, err
    result = subprocess.run(
        [sys.executable, "-m", "specc", "check", "--nope"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2
    assert_no_traceback(result.stderr)

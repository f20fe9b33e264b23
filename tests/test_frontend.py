"""Unit tests of the front end: reading, parsing, rendering, the CLI's exit codes and colour, and
that the checker never imports a framework."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from specc import cli, pipeline
from specc.commands.common import use_color
from specc.diagnostics import Diagnostic, SpeccError
from specc.parse import decode
from specc.render import json_format, text
from specc.source import Source, Span

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "digits_mlp.spec"
BAD = "model m {\n    input: (64,)\n    Dense(0)\n}\n"


def _errors(spec: str | bytes) -> list[tuple[str, int, int]]:
    with pytest.raises(SpeccError) as info:
        pipeline.load_text(spec)
    return [(d.code, d.span.line, d.span.column) for d in info.value.diagnostics]


# -- reading and positions -----------------------------------------------------------------------


def test_unreadable_paths_are_spc015(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.spec", tmp_path):
        with pytest.raises(SpeccError) as info:
            pipeline.load(path)
        (diag,) = info.value.diagnostics
        assert diag.code == "SPC015" and diag.file == str(path)


def test_bom_and_crlf_keep_columns() -> None:
    plain = _errors(BAD)
    assert _errors(("\ufeff" + BAD.replace("\n", "\r\n")).encode()) == plain == [("SPC113", 3, 11)]
    assert _errors(BAD.replace("\n", "\r")) == plain


def test_columns_count_characters_not_bytes() -> None:
    spec = 'model m {\n    input: (64,)\n    Dense(1, activation="é"); Dense(0)\n}\n'
    assert ("SPC113", 3, 37) in _errors(spec)
    assert _errors(spec.encode("utf-8")) == _errors(spec)


def test_invalid_utf8_position_counts_characters() -> None:
    assert _errors(b"model m {\n  # \xc3\xa9\xc3\xa9 \xff\n}") == [("SPC001", 2, 8)]


def test_source_lines_are_split_once() -> None:
    source = Source("x", "a\r\nb\rc\nd")
    assert source.lines == ["a", "b", "c", "d"]
    assert source.lines is source.lines
    assert source.line(4) == "d" and source.line(5) == "" and source.line(0) == ""


def test_every_error_of_a_stage_in_one_run() -> None:
    spec = "model m {\n    input: (64,)\n    Dnse(1)\n    Dropout(2)\n}\ntrain {\n    epochs: 0\n}\n"
    assert [c for c, *_ in _errors(spec)] == ["SPC107", "SPC113", "SPC113"]


def test_stages_stop_between_them() -> None:
    """A literal error stops the pipeline before validation reports anything else."""
    spec = "model m {\n    input: (64,)\n    Dnse(1e999)\n}\n"
    assert _errors(spec) == [("SPC009", 3, 10)]


def test_eof_names_the_innermost_open_bracket() -> None:
    for spec, closer in (("model m { input: (64", ")"), ("model m { input: [1", "]"), ("model m { ", "}")):
        with pytest.raises(SpeccError) as info:
            pipeline.load_text(spec)
        assert f"add the missing `{closer}`" in (info.value.diagnostics[0].help or "")


def test_decode_rejects_oversized_input() -> None:
    with pytest.raises(SpeccError) as info:
        decode(b"x" * 11, "big", max_bytes=10)
    assert info.value.diagnostics[0].code == "SPC012"


def test_only_specc_error_leaves_for_deep_input() -> None:
    assert _errors("model m { input: " + "(" * 20000)[0][0] == "SPC010"
    assert _errors("model m { input: " + "[" * 5000 + "]" * 5000 + " }")[0][0] == "SPC010"


# -- rendering -----------------------------------------------------------------------------------


def _diag(span: Span, code: str = "SPC113") -> Diagnostic:
    return Diagnostic(code, "bad", span, "f.spec", help="fix it")


def test_text_caret_sits_under_the_span() -> None:
    source = Source("f.spec", "model m {\n    é = Dense(0)\n}\n")
    out = text.render([_diag(Span(2, 15, 2, 16))], {"f.spec": source}, False)
    lines = out.splitlines()
    assert lines[0] == "f.spec:2:15: error SPC113 out-of-range: bad"
    code_line, caret = lines[2], lines[3]
    assert code_line == "2 |     é = Dense(0)"
    assert caret.index("^") == code_line.index("0") and caret.count("^") == 1
    assert lines[4] == "  = help: fix it"
    assert "\x1b[" not in out


def test_text_caret_counts_terminal_cells_for_wide_characters() -> None:
    source = Source("f.spec", '    x("日本", y=bad)\n')
    out = text.render([_diag(Span(1, 15, 1, 18))], {"f.spec": source}, False)
    code_line, caret = out.splitlines()[2:4]
    # 日 and 本 take two cells each: the caret moves right by two to stay under `bad`.
    assert caret.index("^") == code_line.index("bad") + 2 and caret.count("^") == 3
    wide = text.render([_diag(Span(1, 7, 1, 11))], {"f.spec": source}, False).splitlines()[3]
    assert wide.count("^") == 6  # "日本" with its quotes


def test_text_survives_spans_past_the_line_and_odd_characters() -> None:
    source = Source("f.spec", "a\u202eb\x07\tc\n")
    for span in (Span(1, 40, 1, 50), Span(1, 2, 3, 1), Span(9, 1, 9, 2), Span(1, 1, 1, 1)):
        out = text.render([_diag(span)], {"f.spec": source}, True)
        assert "\u202e" not in out and "\x07" not in out
        assert "\x1b[31" in out


def test_json_format_has_the_documented_keys() -> None:
    out = json.loads(json_format.render([_diag(Span(2, 3, 2, 9))], {}, False))
    (item,) = out["diagnostics"]
    assert {"file", "line", "column", "end_line", "end_column", "code", "severity", "message", "help"} <= set(
        item
    )
    assert (item["line"], item["column"], item["end_line"], item["end_column"]) == (2, 3, 2, 9)
    assert item["severity"] == "error"


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert use_color(Tty()) and not use_color(object())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty())
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not use_color(Tty())


# -- CLI -----------------------------------------------------------------------------------------


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "specc", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**environ, **env},
    )


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "sub" / "bad.spec"
    bad.parent.mkdir()
    bad.write_text(BAD, encoding="utf-8")
    assert cli.main(["check", str(EXAMPLE)]) == 0
    assert cli.main(["check", str(tmp_path)]) == 1  # directories are searched recursively
    assert f"{bad}:3:11: error SPC113" in capsys.readouterr().out
    # A missing path is SPC015 (exit 1), as for every command that reads a spec.
    assert cli.main(["check", str(tmp_path / "nope.spec")]) == 1
    assert "SPC015" in capsys.readouterr().out
    assert cli.main(["summary", str(bad)]) == 1
    assert cli.main(["summary", str(EXAMPLE), "--format", "json"]) == 0
    with pytest.raises(SystemExit) as info:
        cli.main(["check", "--format", "yaml", str(EXAMPLE)])
    assert info.value.code == 2


def test_cli_check_json_and_colour(tmp_path: Path) -> None:
    bad = tmp_path / "bad.spec"
    bad.write_text(BAD, encoding="utf-8")
    result = _run(["check", "--format", "json", str(bad)])
    assert result.returncode == 1
    (item,) = [d for d in json.loads(result.stdout)["diagnostics"] if d["code"] == "SPC113"]
    assert (item["file"], item["line"], item["column"]) == (str(bad), 3, 11)
    assert "\x1b[" not in _run(["check", str(bad)]).stdout  # not a terminal
    assert "\x1b[" in _run(["check", str(bad)], FORCE_COLOR="1").stdout
    assert "\x1b[" not in _run(["check", str(bad)], FORCE_COLOR="1", NO_COLOR="1").stdout


def test_summary_json_keys_and_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["summary", str(EXAMPLE), "--format", "json", "--target", "keras"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["total_params"], data["trainable_params"], data["non_trainable_params"]) == (9610, 9610, 0)
    for row in data["layers"]:
        assert {"name", "type", "output_shape", "params", "trainable"} <= set(row)


_NO_FRAMEWORK = """
import sys
import specc.cli
codes = [specc.cli.main(args) for args in {runs!r}]
loaded = sorted(m for m in ("torch", "tensorflow", "keras", "numpy", "jax") if m in sys.modules)
print("LOADED", loaded, "CODES", codes)
sys.exit(1 if loaded or codes[2:] != [0, 0] else 0)
"""


def test_check_and_summary_import_no_framework() -> None:
    corpus = ROOT / "tests" / "corpus" / "valid"
    runs = [
        ["check", str(ROOT / "examples")],
        ["check", "--format", "json", str(corpus)],  # lint may flag these; only imports matter
        ["summary", str(corpus / "resnet50_stages.spec"), "--target", "keras"],
        ["summary", str(corpus / "sequence_models.spec"), "--format", "json"],
    ]
    result = subprocess.run(
        [sys.executable, "-c", _NO_FRAMEWORK.format(runs=runs)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "LOADED [] CODES [0, " in result.stdout


# -- parser cache --------------------------------------------------------------------------------

_PARSE = "import specc.parse as p; print(p._cache_file(p._grammar_path().read_text()) or 'NONE'); p.parser()"


def _cache_run(cache_home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SPECC_NO_PARSER_CACHE"}
    env["XDG_CACHE_HOME"] = str(cache_home)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            _PARSE + "; import specc.pipeline as s; s.load_text('model m { input: 4 Dense(1) }')",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_parser_cache_lives_in_the_user_cache_folder(tmp_path: Path) -> None:
    first = _cache_run(tmp_path)
    assert first.returncode == 0, first.stderr
    (cached,) = (tmp_path / "specc").glob("parser-*.pickle")
    assert first.stdout.strip() == str(cached)
    cached.write_bytes(b"garbage\n" + cached.read_bytes()[:100])  # a torn or foreign file: rebuilt
    again = _cache_run(tmp_path)
    assert again.returncode == 0 and again.stderr == "", again.stderr


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() == 0, reason="root can write anywhere")
def test_parser_cache_skips_a_read_only_folder(tmp_path: Path) -> None:
    (tmp_path / "specc").mkdir()
    (tmp_path / "specc").chmod(0o555)
    result = _cache_run(tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "NONE", result.stderr


def test_parser_cache_skips_a_folder_others_can_write(tmp_path: Path) -> None:
    (tmp_path / "specc").mkdir()
    (tmp_path / "specc").chmod(0o777)  # someone else could plant a pickle there
    result = _cache_run(tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "NONE", result.stderr
    assert not list((tmp_path / "specc").iterdir())

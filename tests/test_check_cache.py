"""The `specc check` result cache: a hit reports exactly what a fresh check would, and only then."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from specc import check_cache, cli, config, pipeline

ROOT = Path(__file__).resolve().parent.parent
CLEAN = (ROOT / "examples" / "digits_mlp.spec").read_text(encoding="utf-8")
WARNS = """\
model m {
    input: (4,)
    Dense(3, activation=softmax)
}
train {
    data: iris
    loss: sparse_categorical_crossentropy
    optimizer: Adam(learning_rate=0.5)
}
"""
BROKEN = "model m {\n    input: (4,\n}\n"
FORMATS = ("text", "json", "github", "sarif")


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh cache folder per test, with the cache enabled."""
    home = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("SPECC_NO_CACHE", raising=False)
    return home / "specc" / "check"


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run `specc check` in this process; the exit code and everything it printed."""
    code = cli.main(["check", *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files the front end analyses from now on."""
    seen: list[str] = []
    load_text = pipeline.load_text

    def spy(text: str | bytes, name: str = "<spec>", *args: object, **kwargs: int) -> object:
        seen.append(Path(name).name)
        return load_text(text, name, *args, **kwargs)

    monkeypatch.setattr(pipeline, "load_text", spy)
    return seen


@pytest.mark.parametrize(
    "text", [CLEAN, WARNS, BROKEN, 'model m {\n    input: (4,)\n    Dense(3, name="\xff")\n}\n']
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_hit_prints_what_a_fresh_check_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, text: str, fmt: str
) -> None:
    spec = tmp_path / "model.spec"
    spec.write_text(text, encoding="utf-8")
    fresh = check(capsys, "--no-cache", "--format", fmt, str(spec))
    first = check(capsys, "--format", fmt, str(spec))
    seen = analysed(monkeypatch)
    second = check(capsys, "--format", fmt, str(spec))
    assert seen == [], "the second check analysed the file again"
    assert fresh == first == second


def test_invalid_utf8_is_reported_the_same_from_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "binary.spec"
    spec.write_bytes(b"model m {\n  input: (4,)\n  \xff\n}\n")
    results = [check(capsys, *flags, str(spec)) for flags in ([], [], ["--no-cache"])]
    assert results[0] == results[1] == results[2]
    assert results[0][0] == 1 and "SPC001" in results[0][1]


def test_every_input_of_the_result_is_in_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contents, lint flags, --select/--ignore, [tool.specc] and limits each force a new check."""
    spec = tmp_path / "model.spec"
    spec.write_text(WARNS, encoding="utf-8")
    seen = analysed(monkeypatch)
    assert check(capsys, str(spec))[0] == 0
    assert check(capsys, str(spec), "--strict")[0] == 1  # the same result, judged strictly: a hit
    assert len(seen) == 1
    assert "SPC411" not in check(capsys, "--ignore", "SPC411", str(spec))[1]
    assert "SPC411" not in check(capsys, "--no-lint", str(spec))[1]
    assert "SPC014" in check(capsys, "--max-params", "10", str(spec))[1]
    (tmp_path / "pyproject.toml").write_text('[tool.specc]\nignore = ["SPC411"]\n', encoding="utf-8")
    config._find_in.cache_clear()  # the per-process memo of where each folder's settings are
    assert "SPC411" not in check(capsys, str(spec))[1]
    spec.write_text(WARNS.replace("0.5", "0.001"), encoding="utf-8")
    assert check(capsys, "--no-lint", str(spec))[0] == 0
    assert len(seen) == 6


def test_a_change_to_specc_itself_invalidates(tmp_path: Path) -> None:
    """The code fingerprint follows the package's files (an upgrade or an edit in a checkout)."""
    module = Path(check_cache.__file__)
    before = check_cache.code_fingerprint()
    info = module.stat()
    try:
        os.utime(module, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
        check_cache.code_fingerprint.cache_clear()
        assert check_cache.code_fingerprint() != before
    finally:
        os.utime(module, ns=(info.st_atime_ns, info.st_mtime_ns))
        check_cache.code_fingerprint.cache_clear()
    assert check_cache.code_fingerprint() == before


def test_a_damaged_entry_is_checked_again_and_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], own_cache: Path
) -> None:
    spec = tmp_path / "model.spec"
    spec.write_text(WARNS, encoding="utf-8")
    expected = check(capsys, str(spec))
    (entry,) = own_cache.glob("*.json")
    key = json.loads(entry.read_text(encoding="utf-8"))["key"]
    damaged = [
        "{not json",
        '{"key": 1}',
        "[]",
        json.dumps({"key": key, "diagnostics": [{}], "text": None}),
        json.dumps({"key": key, "diagnostics": [], "text": 1}),
    ]
    for garbage in damaged:
        entry.write_text(garbage, encoding="utf-8")
        assert check(capsys, str(spec)) == expected
    assert json.loads(entry.read_text(encoding="utf-8"))["diagnostics"]


def test_one_entry_per_path_and_none_when_disabled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, own_cache: Path
) -> None:
    spec = tmp_path / "model.spec"
    for i in range(3):  # three edits of one file leave one entry
        spec.write_text(WARNS.replace("0.5", f"0.{i + 5}"), encoding="utf-8")
        check(capsys, str(spec))
    assert len(list(own_cache.glob("*.json"))) == 1
    other = tmp_path / "other.spec"
    other.write_text(CLEAN, encoding="utf-8")
    check(capsys, "--no-cache", str(other))
    monkeypatch.setenv("SPECC_NO_CACHE", "1")
    check(capsys, str(other))
    assert len(list(own_cache.glob("*.json"))) == 1
    assert not list(own_cache.glob("*.tmp"))


def test_a_folder_others_can_write_is_not_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], own_cache: Path
) -> None:
    """Cached results decide what is reported: a folder another user could fill is never trusted."""
    own_cache.mkdir(parents=True)
    own_cache.chmod(0o777)
    spec = tmp_path / "model.spec"
    spec.write_text(CLEAN, encoding="utf-8")
    assert check(capsys, str(spec))[0] == 0
    assert not list(own_cache.glob("*.json"))


def test_parallel_workers_share_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(6):
        (tmp_path / f"m{i}.spec").write_text(WARNS if i % 2 else CLEAN, encoding="utf-8")
    fresh = check(capsys, "--no-cache", "--format", "json", str(tmp_path))
    assert check(capsys, "--jobs", "2", "--format", "json", str(tmp_path)) == fresh
    seen = analysed(monkeypatch)
    assert check(capsys, "--format", "json", str(tmp_path)) == fresh
    assert seen == []


def test_a_hit_imports_neither_lark_nor_pydantic(tmp_path: Path) -> None:
    """The point of the cache: an unchanged clean spec is re-checked without the front end's imports."""
    spec = tmp_path / "model.spec"
    spec.write_text(CLEAN, encoding="utf-8")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "home")}
    probe = (
        "import sys; from specc import cli; code = cli.main(['check', sys.argv[1]]); "
        "print(sorted(m for m in ('lark', 'pydantic', 'specc.ir') if m in sys.modules)); sys.exit(code)"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", probe, str(spec)], capture_output=True, text=True, env=env, check=True
        )
        for _ in range(2)
    ]
    assert "['lark', 'pydantic', 'specc.ir']" in runs[0].stdout
    assert "[]" in runs[1].stdout, runs[1].stdout

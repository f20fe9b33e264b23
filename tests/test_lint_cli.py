"""`specc check` as a CI linter: output formats, exit codes, selection, configuration, suppression."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from specc.cli import main
from specc.render.github import annotation, escape_data, escape_property

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = Path(__file__).parent / "lint" / "snapshot"
DEMO = "tests/lint/snapshot/demo.spec"
SCHEMA = Path(__file__).parent / "sarif-2.1.0-subset.schema.json"
UPDATE = bool(os.environ.get("SPECC_UPDATE_SNAPSHOTS"))

CLEAN = """model m {
    input: (64,)
    Dense(32, activation=relu)
    Dense(10, activation=softmax)
}
train {
    data: digits()
    loss: sparse_categorical_crossentropy
    optimizer: Adam(learning_rate=1e-3)
}
"""
# One warning (SPC414 dropout-too-high) and nothing else.
WARNS = CLEAN.replace("Dense(32, activation=relu)", "Dense(32, activation=relu)\n    Dropout(0.9)")


@pytest.fixture
def repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the repository root without colour, so paths and output are stable."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return ROOT


def specc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def codes(output: str) -> list[str]:
    """The codes of the diagnostics in text output, in order."""
    return re.findall(r"^\S+:\d+:\d+: \w+ (SPC\d+)", output, flags=re.MULTILINE)


def write(folder: Path, text: str, name: str = "model.spec") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- snapshots -----------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Output without what changes between releases (the version)."""
    from specc import __version__

    return text.replace(f'"version": "{__version__}"', '"version": "<version>"')


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_snapshot(repo: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out, _ = specc(capsys, "check", DEMO, "--format", fmt)
    assert code == 1  # SPC401 double-softmax is an error
    snapshot = SNAPSHOTS / f"demo.{fmt}"
    if UPDATE:
        snapshot.write_text(normalise(out), encoding="utf-8")
    assert normalise(out) == snapshot.read_text(encoding="utf-8")


def test_sarif_validates_against_the_schema(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = specc(capsys, "check", DEMO, "tests/lint/SPC432_bad.spec", "--format", "sarif")
    log = json.loads(out)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    assert {r["id"] for r in rules} >= {f"SPC4{n:02d}" for n in (0, 1, 2, 11, 32, 48)}
    for rule in rules:
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
    assert run["results"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {DEMO, "tests/lint/SPC432_bad.spec"}


def test_sarif_of_a_front_end_error_lists_its_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "model m {\n    input: (64,)\n    Dense(10, activation=sofmax)\n}\n")
    code, out, _ = specc(capsys, "check", str(path), "--format", "sarif")
    assert code == 1
    run = json.loads(out)["runs"][0]
    (result,) = run["results"]
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"] == "SPC114"
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith(
        "file:"
    )


def test_github_escaping() -> None:
    from specc.diagnostics import Diagnostic
    from specc.source import Span

    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a,b:c%") == "a%2Cb%3Ac%25"
    diag = Diagnostic("SPC414", "drops 90%, really", Span(3, 5, 3, 9), "dir:x/a,b.spec", "line1\nline2")
    assert annotation(diag) == (
        "::warning file=dir%3Ax/a%2Cb.spec,line=3,col=5,endLine=3,endColumn=9,"
        "title=SPC414 dropout-too-high::drops 90%25, really%0Ahelp: line1%0Aline2"
    )


def test_github_paths_relative_to_the_workspace(monkeypatch: pytest.MonkeyPatch) -> None:
    from specc.diagnostics import Diagnostic

    monkeypatch.setenv("GITHUB_WORKSPACE", "/home/runner/work/repo")
    assert "file=specs/a.spec," in annotation(
        Diagnostic("SPC414", "m", file="/home/runner/work/repo/specs/a.spec")
    )
    assert "file=/elsewhere/a.spec," in annotation(Diagnostic("SPC414", "m", file="/elsewhere/a.spec"))
    assert "file=specs/a.spec," in annotation(Diagnostic("SPC414", "m", file="specs/a.spec"))


# -- exit codes ----------------------------------------------------------------------------


def test_clean_spec_passes_even_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, CLEAN)
    assert specc(capsys, "check", str(path))[0] == 0
    assert specc(capsys, "check", "--strict", str(path))[0] == 0


def test_warnings_fail_only_under_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, WARNS)
    code, out, _ = specc(capsys, "check", str(path))
    assert (code, codes(out)) == (0, ["SPC414"])
    assert specc(capsys, "check", "--strict", str(path))[0] == 1


def test_info_never_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, CLEAN.replace("learning_rate=1e-3", "learning_rate=1e-8"))
    code, out, _ = specc(capsys, "check", "--strict", str(path))
    assert (code, codes(out)) == (0, ["SPC412"])


def test_select_and_ignore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, WARNS.replace("learning_rate=1e-3", "learning_rate=0.5"))
    assert codes(specc(capsys, "check", str(path))[1]) == ["SPC414", "SPC411"]
    assert codes(specc(capsys, "check", "--select", "SPC411", str(path))[1]) == ["SPC411"]
    assert codes(specc(capsys, "check", "--select", "dropout-too-high", str(path))[1]) == ["SPC414"]
    assert codes(specc(capsys, "check", "--select", "SPC41", "--ignore", "SPC414", str(path))[1]) == [
        "SPC411"
    ]
    assert codes(specc(capsys, "check", "--ignore", "SPC411,SPC414", str(path))[1]) == []
    assert specc(capsys, "check", "--strict", "--ignore", "SPC411", "--ignore", "SPC414", str(path))[0] == 0


def test_bad_selection_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, CLEAN)
    code, _, err = specc(capsys, "check", "--select", "SPC999", str(path))
    assert code == 2 and "matches no lint rule" in err
    code, _, err = specc(capsys, "check", "--ignore", "droput-too-high", str(path))
    assert code == 2 and "did you mean `dropout-too-high`" in err
    code, _, err = specc(capsys, "check", "--select", "SPC201", str(path))
    assert code == 2 and "front-end check" in err


def test_front_end_errors_are_not_linted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = write(tmp_path, WARNS.replace("Dense(10, activation=softmax)", "Dense(10, activation=sofmax)"))
    fine = write(tmp_path, WARNS, "other.spec")
    code, out, _ = specc(capsys, "check", str(broken), str(fine))
    assert code == 1
    assert codes(out) == ["SPC114", "SPC414"]
    assert out.count("SPC414") == 1 and "other.spec" in out.split("SPC414")[0].splitlines()[-1]


def test_no_lint_runs_only_the_front_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, WARNS)
    assert specc(capsys, "check", "--strict", "--no-lint", str(path))[:2] == (
        0,
        "All checks passed (1 file).\n",
    )


# -- configuration -------------------------------------------------------------------------


def test_config_found_walking_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.specc]\nignore = ["SPC414"]\n', encoding="utf-8")
    nested = tmp_path / "specs" / "deep"
    nested.mkdir(parents=True)
    path = write(nested, WARNS)
    assert specc(capsys, "check", "--strict", str(path))[0] == 0
    # A nearer pyproject.toml without [tool.specc] is passed over, as ruff does.
    (nested / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    from specc import config

    config._find_in.cache_clear()
    assert specc(capsys, "check", "--strict", str(path))[0] == 0


def test_config_select_and_cli_select(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.specc]\nselect = ["SPC411"]\n', encoding="utf-8")
    path = write(tmp_path, WARNS.replace("learning_rate=1e-3", "learning_rate=0.5"))
    assert codes(specc(capsys, "check", str(path))[1]) == ["SPC411"]
    # The command line's --select replaces the file's.
    assert codes(specc(capsys, "check", "--select", "SPC414", str(path))[1]) == ["SPC414"]


def test_config_severity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.specc.severity]\nSPC414 = "error"\nlearning-rate-too-high = "off"\n', encoding="utf-8"
    )
    path = write(tmp_path, WARNS.replace("learning_rate=1e-3", "learning_rate=0.5"))
    code, out, _ = specc(capsys, "check", str(path))
    assert (code, codes(out)) == (1, ["SPC414"])
    assert "error SPC414" in out
    (tmp_path / "pyproject.toml").write_text(
        '[tool.specc.severity]\nSPC414 = "info"\nSPC411 = "off"\n', encoding="utf-8"
    )
    from specc import config

    config._find_in.cache_clear()
    code, out, _ = specc(capsys, "check", "--strict", str(path))
    assert code == 0 and "info SPC414" in out


@pytest.mark.parametrize(
    "text, message",
    [
        ("[tool.specc]\nselect = 3\n", "must be a list of strings"),
        ('[tool.specc]\nignore = ["nope-rule"]\n', "matches no lint rule"),
        ("[tool.specc]\nfoo = 1\n", "unknown [tool.specc] key `foo`"),
        ('[tool.specc.severity]\nSPC414 = "loud"\n', "must be"),
        ("[tool.specc\n", "invalid TOML"),
    ],
)
def test_config_errors_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    path = write(tmp_path, CLEAN)
    code, _, err = specc(capsys, "check", str(path))
    assert code == 2 and message in err and "pyproject.toml" in err


# -- suppression ---------------------------------------------------------------------------


def test_suppression_by_code_and_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for comment in (
        "# specc: ignore[SPC414]",
        "# specc: ignore[dropout-too-high]",
        "#specc:ignore[spc414, SPC411]",
    ):
        text = WARNS.replace("Dropout(0.9)", f"Dropout(0.9)  {comment}")
        path = write(tmp_path, text)
        code, out, _ = specc(capsys, "check", "--strict", str(path))
        if "SPC411" in comment:
            assert (code, codes(out)) == (1, ["SPC400"]) and "SPC411" in out
        else:
            assert (code, codes(out)) == (0, [])


def test_suppression_only_covers_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = WARNS.replace("Dense(32, activation=relu)", "Dense(32, activation=relu)  # specc: ignore[SPC414]")
    path = write(tmp_path, text)
    code, out, _ = specc(capsys, "check", "--strict", str(path))
    assert (code, codes(out)) == (1, ["SPC400", "SPC414"])


def test_unused_suppressions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = CLEAN.replace(
        "Dense(32, activation=relu)", "Dense(32, activation=relu)  # specc: ignore[SPC401, nope, SPC201]"
    )
    path = write(tmp_path, text)
    code, out, _ = specc(capsys, "check", str(path))
    assert code == 0 and codes(out) == ["SPC400", "SPC400", "SPC400"]
    assert "nothing on this line triggers SPC401" in out
    assert "`nope` is not a specc code" in out
    assert "SPC201 is a front-end check" in out
    # Columns point at each code inside the comment.
    columns = re.findall(r"model\.spec:3:(\d+):", out)
    line = text.splitlines()[2]
    assert [int(c) for c in columns] == [
        line.index("SPC401") + 1,
        line.index("nope") + 1,
        line.index("SPC201") + 1,
    ]
    # A rule that did not run cannot make its suppression stale, and SPC400 can be ignored.
    assert codes(specc(capsys, "check", "--ignore", "SPC400", str(path))[1]) == []


def test_suppression_comment_inside_a_string_is_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = WARNS.replace("Dropout(0.9)", "Dropout(0.9)").replace(
        "data: digits()", 'data: csv("a#b.csv", target="# specc: ignore[SPC400]")'
    )
    from specc.lint.suppress import comment_start

    assert comment_start('x("a#b", "\\"#") # c') == 16
    assert comment_start('x("# no comment")') == -1
    path = write(tmp_path, text)
    assert "SPC400" not in specc(capsys, "check", str(path))[1]


def test_deliberate_unused_suppression_can_be_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = CLEAN.replace(
        "Dense(32, activation=relu)", "Dense(32, activation=relu)  # specc: ignore[SPC443, SPC400]"
    )
    path = write(tmp_path, text)
    assert specc(capsys, "check", "--strict", str(path))[:2] == (0, "All checks passed (1 file).\n")


# -- rules and explain ---------------------------------------------------------------------


def test_rules_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = specc(capsys, "rules", "--format", "json")
    rows = json.loads(out)["rules"]
    assert code == 0 and len(rows) >= 25
    assert all(r["kind"] == "lint" and r["code"].startswith("SPC4") for r in rows)
    assert {"code", "name", "severity", "summary", "finds", "why", "example", "fix"} <= set(rows[0])
    code, out, _ = specc(capsys, "rules", "--all", "--format", "json")
    assert {"SPC001", "SPC201", "SPC401"} <= {r["code"] for r in json.loads(out)["rules"]}


def test_rules_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = specc(capsys, "rules")
    assert code == 0
    assert re.search(r"^SPC401  error    double-softmax\s+a softmax", out, flags=re.MULTILINE)


def test_explain_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    from specc.codes import CODES
    from specc.lint import rule_codes

    for code in sorted(CODES):
        status, out, _ = specc(capsys, "explain", code)
        assert status == 0 and out.startswith(f"{code} {CODES[code].name} (")
        if code in rule_codes():
            for section in ("What it finds", "Why it matters", "Example", "Fix"):
                assert f"\n{section}\n" in out
    assert specc(capsys, "explain", "double-softmax")[1] == specc(capsys, "explain", "spc401")[1]


def test_explain_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = specc(capsys, "explain", "SPC4011")
    assert code == 2 and "unknown code `SPC4011`" in err
    code, _, err = specc(capsys, "explain", "no such/thing")
    assert code == 2 and "neither a code" in err


# -- framework-free ------------------------------------------------------------------------


def test_check_imports_no_framework(repo: Path) -> None:
    script = (
        "import sys\n"
        "from specc.cli import main\n"
        f"main(['check', '--format', 'sarif', {DEMO!r}, 'tests/lint'])\n"
        "main(['rules'])\n"
        "main(['explain', 'SPC401'])\n"
        "bad = sorted(m for m in ('numpy', 'torch', 'keras', 'tensorflow') if m in sys.modules)\n"
        "sys.stderr.write(repr(bad))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=repo, check=False
    )
    assert done.stderr.strip().endswith("[]"), done.stderr


def test_parallel_check_gives_the_same_result(repo: Path) -> None:
    """`--jobs 2` forks workers; run it in a fresh interpreter (forking pytest, which may hold
    framework threads from other tests, proves nothing about the command)."""

    def check(*flags: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "specc", "check", "--format", "json", *flags, "tests/lint"]
        return subprocess.run(command, capture_output=True, text=True, cwd=repo, check=False)

    one, two = check("--jobs", "1"), check("-j", "2")
    assert one.returncode == two.returncode == 1
    assert json.loads(one.stdout)["diagnostics"] and one.stdout == two.stdout

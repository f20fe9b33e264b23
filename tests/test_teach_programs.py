"""Teaching output with the real targets: --teach programs pass ruff and run, notebooks run, recipes."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from specc import pipeline
from specc.cli import main
from specc.commands.compile import generate
from specc.targets import target
from specc.teach.comments import annotate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.spec"))
SHORT = ["--epochs", "1", "--max-steps", "2", "--no-pretrained"]


def need(module: str) -> None:
    """Skip unless a framework is installed, without importing it here.

    Importing torch, torchvision and TensorFlow into one process can crash it; the generated
    programs run in their own processes anyway.
    """
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")


def compiled(spec: Path, name: str) -> str | None:
    """The plain program for a spec, or None when the target refuses it (e.g. Keras has no resnet18)."""
    program = pipeline.load(spec)
    if target(name).check(program):
        return None
    return generate(spec, name)


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", *args], capture_output=True, text=True, check=False)


def violations(folder: Path) -> set[tuple[str, str]]:
    """(file, rule) pairs `ruff check --isolated` reports."""
    result = ruff("check", "--isolated", "--output-format", "json", str(folder))
    return {(Path(v["filename"]).name, v["code"]) for v in json.loads(result.stdout or "[]")}


@pytest.mark.parametrize("name", ["torch", "keras"])
def test_teach_programs_keep_ruff_clean(name: str, tmp_path: Path) -> None:
    """Comments add no ruff finding and keep `ruff format --check` happy, in both languages."""
    plain, taught = tmp_path / "plain", tmp_path / "taught"
    plain.mkdir()
    taught.mkdir()
    count = 0
    for spec in EXAMPLES:
        code = compiled(spec, name)
        if code is None:
            continue
        program = pipeline.load(spec)
        for lang in ("en", "ko"):
            out = annotate(code, program, name, lang)
            assert ast.dump(ast.parse(out)) == ast.dump(ast.parse(code))
            assert out.count("\n# ") + out.count("    # ") > code.count("\n# ") + code.count("    # ")
            (plain / f"{spec.stem}_{lang}.py").write_text(code, encoding="utf-8")
            (taught / f"{spec.stem}_{lang}.py").write_text(out, encoding="utf-8")
        count += 1
    assert count >= 10
    fmt = ruff("format", "--isolated", "--check", str(taught))
    assert fmt.returncode == 0 or ruff("format", "--isolated", "--check", str(plain)).returncode != 0, (
        fmt.stdout
    )
    assert violations(taught) <= violations(plain)


def test_teach_comments_show_each_concept() -> None:
    spec = ROOT / "examples" / "regularization_l2.spec"
    program = pipeline.load(spec)
    for name in ("torch", "keras"):
        code = annotate(generate(spec, name), program, name, "ko")
        for phrase in ("# 활성화 함수", "# 손실 함수", "# 옵티마이저", "# L2 규제", "# 장치", "# 학습:"):
            assert phrase in code, (name, phrase)


@pytest.mark.parametrize(
    "name", [pytest.param("torch", marks=pytest.mark.torch), pytest.param("keras", marks=pytest.mark.keras)]
)
def test_teach_program_runs(name: str, tmp_path: Path) -> None:
    need(name)
    out = tmp_path / "program.py"
    spec = ROOT / "examples" / "digits_mlp.spec"
    assert main(["compile", str(spec), "--target", name, "--teach", "--lang", "ko", "-o", str(out)]) == 0
    assert "# 드롭아웃" in out.read_text(encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(out), *SHORT, "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / "run" / "metrics.json").exists()


@pytest.mark.torch
def test_notebook_executes(tmp_path: Path) -> None:
    need("torch")
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = tmp_path / "digits.ipynb"
    spec = ROOT / "examples" / "digits_mlp.spec"
    assert main(["notebook", str(spec), "--target", "torch", "--lang", "ko", "-o", str(path)]) == 0
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds[0] == "markdown" and kinds[-1] == "code" and kinds.count("markdown") >= 5
    assert any("드롭아웃" in cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    text = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    assert "final:" in text


def test_notebook_is_reproducible(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(ROOT / "examples" / "dropout.spec")
    assert main(["notebook", spec, "--target", "keras"]) == 0
    first = capsys.readouterr().out
    assert main(["notebook", spec, "--target", "keras"]) == 0
    assert capsys.readouterr().out == first
    assert json.loads(first)["nbformat"] == 4
    # `specc compile --notebook` is the same notebook.
    assert main(["compile", spec, "--target", "keras", "--notebook"]) == 0
    assert capsys.readouterr().out == first


# -- the notes' two recipes -------------------------------------------------------------------


def build_only(code: str, tmp_path: Path) -> dict[str, int]:
    """Build the model without weights downloads and read the counts it reports."""
    program = tmp_path / "program.py"
    program.write_text(code, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(program), "--build-only", "--no-pretrained", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads((tmp_path / "out" / "summary.json").read_text())


@pytest.mark.torch
def test_torch_recipe_frozen_resnet18_new_head(tmp_path: Path) -> None:
    """The notes' PyTorch recipe: frozen resnet18, a new final layer, an optimizer over it only."""
    code = generate(ROOT / "examples" / "feature_extraction_resnet18.spec", "torch")
    for construct in (
        "models.resnet18(",
        "requires_grad_(False)",
        "nn.Linear(512, 10)",
        "nn.CrossEntropyLoss(",
    ):
        assert construct in code, construct
    assert "[p for p in model.parameters() if p.requires_grad]" in code  # the optimizer's parameters
    need("torchvision")
    counts = build_only(code, tmp_path)
    assert counts["trainable_params"] == 512 * 10 + 10


@pytest.mark.keras
def test_keras_recipe_resnet50_finetune(tmp_path: Path) -> None:
    """The notes' Keras recipe: ResNet50 without top, frozen, pooled, softmax head; unfreeze, 1e-5."""
    code = generate(ROOT / "examples" / "finetune_resnet50.spec", "keras")
    for construct in (
        "keras.applications.ResNet50(",
        "include_top=False",
        "base.trainable = False",
        "training=False",
        "GlobalAveragePooling2D(",
        '"softmax"',
        "learning_rate=1e-05",
        "weighted[: -phase.base]",
        ".compile(",
    ):
        assert construct in code, construct
    need("keras")
    counts = build_only(code, tmp_path)
    assert counts["trainable_params"] == 2048 * 10 + 10

"""The Keras 3 target: compile checks, goldens, ruff and audit of generated programs, and real runs.

Compiling needs no framework. The runs import Keras in one subprocess per backend
(tests/keras_runner.py), so TensorFlow starts once for all programs.
Regenerate the goldens with `SPECC_UPDATE_GOLDENS=1 pytest tests/test_keras_target.py`.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from audit import assert_audited, renamed

from specc import pipeline, summary
from specc.commands.compile import generate
from specc.diagnostics import SpeccError
from specc.targets import keras as keras_target
from specc.targets.base import missing_emitters

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.spec"))
SPECS = sorted((ROOT / "tests" / "specs" / "keras").glob("*.spec"))
GOLDEN = ROOT / "tests" / "golden" / "keras"
RUNNER = ROOT / "tests" / "keras_runner.py"
UPDATE = bool(os.environ.get("SPECC_UPDATE_GOLDENS"))
HAS_KERAS = importlib.util.find_spec("keras") is not None
HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_keras = pytest.mark.skipif(not HAS_KERAS, reason="keras is not installed")
ALLOWED_IMPORTS = {"keras", "numpy", "sklearn", "matplotlib", "tensorflow"}
STDLIB = set(sys.stdlib_module_names)


def compiled(path: Path) -> str | None:
    """The Keras program for a spec, or None when the target refuses it (SPC301)."""
    try:
        return generate(path, "keras")
    except SpeccError as err:
        codes = {d.code for d in err.diagnostics}
        assert codes == {"SPC301"}, f"{path.name}: unexpected errors {err}"
        return None


def uses_backbone(path: Path) -> bool:
    return pipeline.load(path).model.base is not None


def uses_images(path: Path) -> bool:
    program = pipeline.load(path)
    return program.train is not None and type(program.train.data).call_name == "image_folder"


# ---------------------------------------------------------------------------------------------
# Compiling (no framework needed).


def test_every_layer_has_an_emitter_or_a_reason() -> None:
    assert missing_emitters(keras_target.EMITTERS, keras_target.UNSUPPORTED) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_compiles_or_names_the_missing_backbone(path: Path) -> None:
    try:
        code = generate(path, "keras")
    except SpeccError as err:
        [diagnostic] = err.diagnostics
        assert diagnostic.code == "SPC301"
        assert "keras" in diagnostic.message
        assert diagnostic.help is not None
        for name in keras_target.BACKBONES:
            assert name in diagnostic.help
        return
    tree = ast.parse(code)
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported - STDLIB <= ALLOWED_IMPORTS
    # TensorFlow is imported only by the input pipeline the TensorFlow backend uses, never at
    # module level: on the other backends the program runs without it.
    top = {a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names}
    top |= {n.module or "" for n in tree.body if isinstance(n, ast.ImportFrom)}
    assert not {name for name in top if name.split(".")[0] == "tensorflow"}
    importers = {
        f.name
        for f in ast.walk(tree)
        if isinstance(f, ast.FunctionDef)
        and any(isinstance(n, ast.Import) and n.names[0].name == "tensorflow" for n in ast.walk(f))
    }
    assert importers == {"tf_batches"}
    assert code.rstrip().endswith('if __name__ == "__main__":\n    main()')
    assert generate(path, "keras") == code, "compiling twice must give the same bytes"


def test_resnet18_is_a_clear_error_naming_what_keras_ships(tmp_path: Path) -> None:
    spec = tmp_path / "r18.spec"
    spec.write_text(
        "model r18 {\n    input: (64, 64, 3)\n    base: resnet18()\n    GlobalAveragePooling2D()\n"
        "    Dense(2, activation=softmax)\n}\n"
        "train {\n    data: synthetic(samples=8, classes=2)\n"
        "    loss: sparse_categorical_crossentropy\n}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpeccError) as err:
        generate(spec, "keras")
    [diagnostic] = err.value.diagnostics
    assert diagnostic.code == "SPC301"
    assert diagnostic.message == "`resnet18` is not available for the keras target"
    assert diagnostic.help == "keras ships: efficientnet_b0, mobilenet_v2, resnet50, vgg16"
    assert (diagnostic.span.line, diagnostic.span.column) == (3, 11)
    out = tmp_path / "out.py"
    run = subprocess.run(
        [sys.executable, "-m", "specc", "compile", str(spec), "--target", "keras", "-o", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert run.returncode == 1, run.stderr
    assert "SPC301" in run.stderr and "keras ships:" in run.stderr
    assert not out.exists(), "a failed compile writes nothing"


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_golden(path: Path) -> None:
    code = generate(path, "keras")
    golden = GOLDEN / f"{path.stem}.py"
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(code.encode("utf-8"))
    assert golden.is_file(), f"no golden for {path.name}: run with SPECC_UPDATE_GOLDENS=1"
    assert code.encode("utf-8") == golden.read_bytes()


@pytest.mark.parametrize("path", [*SPECS, *EXAMPLES], ids=lambda p: p.stem)
def test_spec_names_stay_data(path: Path) -> None:
    """Every name the spec gives, renamed to a marker, appears only inside string literals."""
    program = pipeline.load(path)
    text, markers = renamed(program.spec.source.text, program)
    try:
        marked = pipeline.load_text(text, path.name, path)
    except SpeccError:
        pytest.skip("a selector names an automatic layer name, which renaming cannot follow")
    try:
        code = keras_target.emit(marked, keras_target.EmitOptions())
    except ValueError:
        assert keras_target.check(program), "emit() refused a program that check() accepts"
        return
    assert_audited(code, markers)


def _ruff() -> list[str]:
    exe = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(exe).exists():
        pytest.skip("ruff is not installed")
    return [exe]


def test_generated_programs_are_formatted_and_ruff_clean(tmp_path: Path) -> None:
    for path in [*EXAMPLES, *SPECS]:
        code = compiled(path)
        if code is not None:
            (tmp_path / f"{path.stem}.py").write_text(code, encoding="utf-8")
    ruff = _ruff()
    fmt = subprocess.run(
        [*ruff, "format", "--isolated", "--check", str(tmp_path)], capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    rules = "E,F,W,I,B,UP,N,SIM,C4,RET,PIE"
    lint = subprocess.run(
        [*ruff, "check", "--isolated", "--select", rules, "--ignore", "N812", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_logits_only_where_the_loss_matches() -> None:
    def logits(source: str) -> str | None:
        return keras_target.plan_of(pipeline.load_text(source)).logits

    head = "model m {\n input: (4,)\n Dense(3, activation=softmax)\n}\ntrain {\n data: iris()\n"
    assert logits(head + " loss: sparse_categorical_crossentropy\n}\n") == "softmax"
    assert logits(head + " loss: categorical_crossentropy\n}\n") == "softmax"
    # The model outputs probabilities but the spec says they are logits: kept as written.
    assert logits(head + " loss: sparse_categorical_crossentropy(from_logits=true)\n}\n") is None
    sigmoid = (
        "model m {\n input: (30,)\n Dense(1)\n Activation(sigmoid)\n}\ntrain {\n data: breast_cancer()\n"
    )
    assert logits(sigmoid + " loss: binary_crossentropy\n}\n") == "sigmoid"
    assert logits(sigmoid + " loss: mse\n}\n") is None


# ---------------------------------------------------------------------------------------------
# Running (Keras installed): one runner process per backend and group of jobs.


def run_jobs(jobs: list[dict[str, Any]], tmp: Path, backend: str, timeout: int) -> list[dict[str, Any]]:
    """Run jobs in tests/keras_runner.py with KERAS_BACKEND=backend; their results in order."""
    spec, results = tmp / "jobs.json", tmp / "results.json"
    spec.write_text(json.dumps(jobs), encoding="utf-8")
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, str(RUNNER), str(spec), str(results)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert proc.returncode == 0 and results.is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(results.read_text(encoding="utf-8"))


def write_pictures(root: Path) -> None:
    """Two classes of 16x16 PNG images, told apart by colour."""
    from PIL import Image

    for label, colour in (("red", (220, 30, 30)), ("blue", (30, 30, 220))):
        folder = root / "pictures" / label
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(6):
            shade = tuple(max(0, c - 10 * i) for c in colour)
            Image.new("RGB", (16, 16), shade).save(folder / f"{i}.png")


def smoke_jobs(paths: list[Path], tmp: Path, data_dir: dict[Path, Path]) -> list[dict[str, Any]]:
    """For each spec: a build-only job and a 1-epoch, 2-step training job."""
    jobs = []
    for path in paths:
        code = compiled(path)
        assert code is not None
        program = tmp / f"{path.stem}.py"
        program.write_text(code, encoding="utf-8")
        common = ["--no-pretrained", "--data-dir", str(data_dir.get(path, path.parent))]
        out = tmp / "runs" / path.stem
        jobs.append({"program": str(program), "argv": [*common, "--build-only", "--out", str(out / "build")]})
        jobs.append(
            {
                "program": str(program),
                "argv": [*common, "--epochs", "1", "--max-steps", "2", "--out", str(out / "train")],
            }
        )
    return jobs


def check_smoke(paths: list[Path], jobs: list[dict[str, Any]], results: list[dict[str, Any]]) -> list[str]:
    """Problems of the smoke runs: failures, counts unlike `specc summary`, missing outputs."""
    problems = []
    for i, path in enumerate(paths):
        build, train = results[2 * i], results[2 * i + 1]
        for kind, result in (("build", build), ("train", train)):
            if not result["ok"]:
                problems.append(f"{path.name} {kind}: {result['error']}\n{result['output'][-1500:]}")
        if not build["ok"] or not train["ok"]:
            continue
        out = Path(jobs[2 * i]["argv"][-1])
        counts = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        expected = summary.as_dict(pipeline.load(path), "keras")
        for key in ("total_params", "trainable_params", "non_trainable_params"):
            if counts[key] != expected[key]:
                problems.append(f"{path.name}: {key} {counts[key]} but specc summary says {expected[key]}")
        run = Path(jobs[2 * i + 1]["argv"][-1])
        history = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["history"]
        phases = pipeline.load(path).train.phases  # type: ignore[union-attr]
        if [r["stage"] for r in history] != [p.name for p in phases]:
            problems.append(f"{path.name}: history stages {[r['stage'] for r in history]}")
        first = history[0]
        keys = ["epoch", "stage", "loss", "val_loss"]
        for metric in phases[0].metrics:
            keys += [metric, f"val_{metric}"]
        if list(first) != [*keys, "seconds"]:
            problems.append(f"{path.name}: metrics.json keys {list(first)}")
        for name in ("model.weights.h5", "checkpoint.npz", "history.png"):
            if not (run / name).is_file():
                problems.append(f"{path.name}: no {name}")
        if "final:" not in train["output"]:
            problems.append(f"{path.name}: no final line")
    return problems


def _runnable(backend: str) -> list[Path]:
    """Specs to smoke-run: every compiled example and test spec; torch skips TF-only features."""
    paths = [p for p in [*EXAMPLES, *SPECS] if compiled(p) is not None and p.stem != "backbone_file"]
    paths = [p for p in paths if not uses_backbone(p)]
    if backend == "torch":
        paths = [p for p in paths if not uses_images(p)]
    return paths


@needs_keras
@pytest.mark.keras
@pytest.mark.parametrize("backend", ["tensorflow", "torch"])
def test_programs_run_and_count_like_summary(backend: str, tmp_path: Path) -> None:
    if backend == "torch" and not HAS_TORCH:
        pytest.skip("torch is not installed")
    paths = _runnable(backend)
    write_pictures(tmp_path / "data")
    # The test specs' image folder is drawn here; examples bring their own next to them.
    data_dir = {p: tmp_path / "data" for p in paths if p in SPECS and uses_images(p)}
    jobs = smoke_jobs(paths, tmp_path, data_dir)
    results = run_jobs(jobs, tmp_path, backend, timeout=1500)
    problems = check_smoke(paths, jobs, results)
    assert not problems, "\n".join(problems)


@needs_keras
@pytest.mark.keras
@pytest.mark.slow
def test_backbone_examples_run(tmp_path: Path) -> None:
    """Backbone examples on TensorFlow, randomly initialised (no downloads): build, then 2 steps a phase."""
    paths = [p for p in EXAMPLES if compiled(p) is not None and uses_backbone(p)]
    if not paths:
        pytest.skip("no backbone example compiles for keras")
    jobs = smoke_jobs(paths, tmp_path, {})
    results = run_jobs(jobs, tmp_path, "tensorflow", timeout=3000)
    problems = check_smoke(paths, jobs, results)
    assert not problems, "\n".join(problems)


SAVE_BACKBONE = """
import keras
keras.utils.set_random_seed(5)
base = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3))
PATH.parent.mkdir(parents=True, exist_ok=True)
base.save_weights(PATH)
result = [float(w.numpy().sum()) for w in base.weights]
"""

LOAD_BACKBONE = """
from pathlib import Path
base = module.build_base(True, Path(DATA))
result = [float(w.numpy().sum()) for w in base.weights]
"""


@needs_keras
@pytest.mark.keras
@pytest.mark.slow
def test_backbone_weights_file_loads_weights_only(tmp_path: Path) -> None:
    """`weights="file"`: build_base loads the file's weights (a .weights.h5, no objects) into the backbone."""
    spec = ROOT / "tests" / "specs" / "keras" / "backbone_file.spec"
    program = tmp_path / "backbone_file.py"
    program.write_text(generate(spec, "keras"), encoding="utf-8")
    path = tmp_path / "data" / "weights" / "mobilenet.weights.h5"
    jobs = [
        {
            "program": str(program),
            "call": f"from pathlib import Path\nPATH = Path({str(path)!r})\n{SAVE_BACKBONE}",
        },
        {"program": str(program), "call": f"DATA = {str(tmp_path / 'data')!r}\n{LOAD_BACKBONE}"},
    ]
    saved, loaded = run_jobs(jobs, tmp_path, "tensorflow", timeout=900)
    assert saved["ok"] and loaded["ok"], saved["error"] + loaded["error"]
    assert loaded["value"] == saved["value"]


def _weights(path: Path) -> dict[str, Any]:
    """Every array in a .weights.h5 file, by its path in the file."""
    import h5py
    import numpy as np

    arrays: dict[str, Any] = {}
    with h5py.File(path, "r") as file:
        file.visititems(
            lambda name, item: (
                arrays.__setitem__(name, np.array(item)) if isinstance(item, h5py.Dataset) else None
            )
        )
    return arrays


@needs_keras
@pytest.mark.keras
@pytest.mark.slow
def test_resume_is_exact_and_digits_learns(tmp_path: Path) -> None:
    """Interrupted + --resume equals an uninterrupted run (mid-phase and at both phase borders).

    The same runner also trains the digits MLP example in full: it must reach 0.95 validation accuracy.
    """
    import numpy as np

    spec = ROOT / "tests" / "specs" / "keras" / "stages_resume.spec"
    program = tmp_path / "stages_resume.py"
    program.write_text(generate(spec, "keras"), encoding="utf-8")
    common = ["--max-steps", "6", "--data-dir", str(spec.parent)]
    jobs: list[dict[str, Any]] = [
        {"program": str(program), "argv": [*common, "--out", str(tmp_path / "whole")]}
    ]
    stops = (1, 2, 3)  # mid-phase, before a rebuilt optimizer, before a kept optimizer
    for stop in stops:
        out = str(tmp_path / f"stop{stop}")
        jobs.append({"program": str(program), "argv": [*common, "--out", out], "interrupt_after": stop})
        jobs.append({"program": str(program), "argv": [*common, "--out", out, "--resume"]})
    digits = tmp_path / "digits_mlp.py"
    digits.write_text(generate(ROOT / "examples" / "digits_mlp.spec", "keras"), encoding="utf-8")
    jobs.append({"program": str(digits), "argv": ["--out", str(tmp_path / "digits")]})
    results = run_jobs(jobs, tmp_path, "tensorflow", timeout=1500)
    failed = [f"{r['error']}\n{r['output'][-1000:]}" for r in results if not r["ok"]]
    assert not failed, "\n".join(failed)
    whole = _weights(tmp_path / "whole" / "model.weights.h5")
    history = json.loads((tmp_path / "whole" / "metrics.json").read_text())["history"]
    assert [r["stage"] for r in history] == ["main", "main", "head_only", "longer"]
    for stop in stops:
        resumed = _weights(tmp_path / f"stop{stop}" / "model.weights.h5")
        assert resumed.keys() == whole.keys()
        for name, array in whole.items():
            assert np.array_equal(resumed[name], array), f"stop after {stop}: {name} differs"
        again = json.loads((tmp_path / f"stop{stop}" / "metrics.json").read_text())["history"]
        drop = ("seconds",)
        assert [{k: v for k, v in r.items() if k not in drop} for r in again] == [
            {k: v for k, v in r.items() if k not in drop} for r in history
        ]
    final = json.loads((tmp_path / "digits" / "metrics.json").read_text())["history"][-1]
    assert final["val_accuracy"] >= 0.95, final


WEIGHT_DECAY_CHECK = """
import keras
import numpy as np

def one_step(weight_decay):
    keras.utils.set_random_seed(3)
    model = module.build_model()
    model.weight_decay = weight_decay
    phase = module.make_phases()[0]
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss=phase.loss)
    before = [np.array(w) for w in model.trainable_weights]
    x = np.random.default_rng(0).standard_normal((16, 64)).astype("float32")
    model.train_on_batch(x, np.arange(16) % 10)
    return before, [np.array(w) for w in model.trainable_weights]

before, decayed = one_step(0.1)
_, plain = one_step(0.0)
# Coupled L2: the decayed step moves each weight by an extra -lr * wd * w.
result = max(float(np.max(np.abs((d - p) - (-0.5 * 0.1 * b)))) for b, d, p in zip(before, decayed, plain))
"""


@needs_keras
@pytest.mark.keras
@pytest.mark.parametrize("backend", ["tensorflow", "torch"])
def test_weight_decay_is_coupled_l2(backend: str, tmp_path: Path) -> None:
    """One SGD step with the spec's weight_decay differs from one without by exactly -lr * wd * w."""
    if backend == "torch" and not HAS_TORCH:
        pytest.skip("torch is not installed")
    program = tmp_path / "stages_resume.py"
    program.write_text(generate(ROOT / "tests" / "specs" / "keras" / "stages_resume.spec", "keras"))
    [result] = run_jobs(
        [{"program": str(program), "call": WEIGHT_DECAY_CHECK}], tmp_path, backend, timeout=600
    )
    assert result["ok"], result["error"]
    assert result["value"] < 1e-6


SAME_ON_BOTH_BACKENDS = """\
model tiny {
    input: (64,)
    Dense(16, activation=relu)
    Dense(10, activation=softmax)
}
train {
    data: digits()
    loss: sparse_categorical_crossentropy
    optimizer: SGD(learning_rate=0.1)
    epochs: 2
    batch_size: 32
    metrics: [accuracy]
}
"""


@needs_keras
@pytest.mark.keras
def test_tensorflow_and_torch_backends_train_on_the_same_batches(tmp_path: Path) -> None:
    """From the same weights, two epochs on each backend end in the same weights.

    The epochs' orders come from (seed, epoch) on both input paths (tf.data on TensorFlow,
    a PyDataset elsewhere); an off-by-one epoch on one of them would train on other batches.
    """
    import numpy as np

    if not HAS_TORCH:
        pytest.skip("torch is not installed")
    spec = tmp_path / "tiny.spec"
    spec.write_text(SAME_ON_BOTH_BACKENDS, encoding="utf-8")
    program = tmp_path / "tiny.py"
    program.write_text(generate(spec, "keras"), encoding="utf-8")
    init = tmp_path / "init.npz"
    train = ["--init-weights", str(init), "--max-steps", "5"]
    first = [
        {
            "program": str(program),
            "argv": ["--build-only", "--export-weights", str(init), "--out", str(tmp_path / "b")],
        },
        {
            "program": str(program),
            "argv": [*train, "--export-weights", str(tmp_path / "tf.npz"), "--out", str(tmp_path / "t")],
        },
    ]
    torch_job = [
        {
            "program": str(program),
            "argv": [*train, "--export-weights", str(tmp_path / "torch.npz"), "--out", str(tmp_path / "p")],
        }
    ]
    for jobs, backend in ((first, "tensorflow"), (torch_job, "torch")):
        results = run_jobs(jobs, tmp_path, backend, timeout=600)
        failed = [f"{r['error']}\n{r['output'][-1000:]}" for r in results if not r["ok"]]
        assert not failed, "\n".join(failed)
    with np.load(tmp_path / "tf.npz") as tf_weights, np.load(tmp_path / "torch.npz") as torch_weights:
        assert sorted(tf_weights) == sorted(torch_weights)
        with np.load(init) as start:
            assert any(not np.allclose(start[k], tf_weights[k]) for k in start), "nothing trained"
        for key in tf_weights:
            np.testing.assert_allclose(torch_weights[key], tf_weights[key], rtol=1e-4, atol=1e-5, err_msg=key)

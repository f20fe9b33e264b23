"""One spec, one meaning: the PyTorch and Keras programs of a spec compute the same thing.

Each framework runs in its own process (tests/parity/worker.py), driving the generated programs
through their own command line: `--build-only --export-weights` writes each target's initial
weights in the portable .npz layout; the suite perturbs them (non-zero biases, non-trivial
BatchNorm statistics) and both targets `--init-weights` from the same file, then `--predict`,
train (one full batch per epoch, so every epoch is one step on the same examples) and
`--export-weights`. What is compared: parameter counts (with `specc summary`), predictions
(1e-5), the first training loss (1e-5), weights after 10 steps (1e-4 relative), the trainable set
of every stage, and frozen BatchNorm statistics. docs/semantics.md records the measured figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "parity"))

from cases import (  # noqa: E402 - the case table lives next to the worker
    BACKBONE_CASES,
    EPSILON_PLACEMENT,
    FORWARD,
    LOSSES,
    ROUND_TRIP,
    STAGES,
    UPDATES,
    Case,
)

from specc import pipeline  # noqa: E402
from specc.summary import as_dict  # noqa: E402
from specc.targets import keras as keras_target  # noqa: E402
from specc.targets import torch as torch_target  # noqa: E402
from specc.targets.base import EmitOptions  # noqa: E402

WORKER = Path(__file__).resolve().parent / "parity" / "worker.py"
TARGETS = {"torch": torch_target, "keras": keras_target}
SOURCES = ("torch", "keras")  # which target's initial weights a check starts from
ALL = FORWARD + LOSSES + UPDATES + STAGES + BACKBONE_CASES
TRAINED = LOSSES + UPDATES + STAGES
PREDICTED = FORWARD + LOSSES + STAGES  # the update cases share one architecture: not repeated

pytestmark = [
    pytest.mark.keras,
    pytest.mark.skipif(
        find_spec("torch") is None or find_spec("keras") is None,
        reason="the parity suite needs both torch and keras",
    ),
]


@dataclass
class Run:
    """Everything the workers produced, by case name and framework."""

    folder: Path
    programs: dict[str, dict[str, Path]] = field(default_factory=dict)
    results: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    def path(self, case: str, framework: str, name: str) -> Path:
        folder = self.folder / case / framework
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name

    def ok(self, case: str, framework: str, job: str) -> dict[str, Any]:
        """A job's result, failing the test with the program's error if it did not succeed."""
        result = self.results[(case, framework, job)]
        assert result["ok"], f"{case} ({framework}, {job}): {result['error']}\n{result['output']}"
        return result


def run_workers(jobs: dict[str, list[tuple[str, str, dict[str, Any]]]], run: Run, stage: str) -> None:
    """Run each framework's jobs in its own worker process, both at once."""
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env["CUDA_VISIBLE_DEVICES"] = ""
    running = {}
    for framework, items in jobs.items():
        job_file = run.folder / f"{stage}_{framework}_jobs.json"
        result_file = run.folder / f"{stage}_{framework}_results.json"
        job_file.write_text(json.dumps([job for _, _, job in items]), encoding="utf-8")
        command = [sys.executable, str(WORKER), str(job_file), str(result_file)]
        log = (run.folder / f"{stage}_{framework}.log").open("w")
        running[framework] = (subprocess.Popen(command, env=env, stdout=log, stderr=log), result_file)
    for framework, (process, result_file) in running.items():
        process.wait(timeout=1200)
        log = (run.folder / f"{stage}_{framework}.log").read_text()[-3000:]
        assert result_file.is_file(), f"the {framework} worker crashed:\n{log}"
        results = json.loads(result_file.read_text(encoding="utf-8"))
        for (case, name, _), result in zip(jobs[framework], results, strict=True):
            run.results[(case, framework, name)] = result


def perturb(source: Path, target: Path, seed: int) -> None:
    """Initial weights made general: every array moved off its initial value, variances kept > 0."""
    rng = np.random.default_rng(seed)
    with np.load(source) as archive:
        arrays = {key: archive[key] for key in archive.files}
    for key, array in arrays.items():
        if key.endswith("/moving_variance"):
            arrays[key] = rng.uniform(0.5, 2.0, array.shape).astype(np.float32)
        elif array.dtype.kind == "f":
            arrays[key] = (array + rng.normal(0, 0.2, array.shape)).astype(np.float32)
    np.savez(target, **arrays)


def inputs(spec: Path, path: Path) -> None:
    """Eight examples for --predict: floats, or token ids below the Embedding's vocabulary."""
    program = pipeline.load(spec)
    shape = (8, *program.model.input_shape)
    rng = np.random.default_rng(7)
    if program.model.token_input:
        vocabulary = program.model.layers[0].layer.input_dim  # type: ignore[attr-defined]
        np.save(path, rng.integers(0, vocabulary, size=shape))
    else:
        np.save(path, rng.standard_normal(shape).astype(np.float32))


@pytest.fixture(scope="module")
def parity(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Compile every case for both targets and run the two stages of jobs."""
    run = Run(tmp_path_factory.mktemp("parity"))
    first: dict[str, list[tuple[str, str, dict[str, Any]]]] = {"torch": [], "keras": []}
    for case in ALL:
        spec = run.folder / case.name / f"{case.name}.spec"
        spec.parent.mkdir(parents=True, exist_ok=True)
        spec.write_text(case.spec(), encoding="utf-8")
        program = pipeline.load(spec)
        run.programs[case.name] = {}
        for framework, target in TARGETS.items():
            if target.check(program):
                continue  # Keras ships no resnet18: test_counts checks that error
            path = run.path(case.name, framework, "program.py")
            path.write_text(target.emit(program, EmitOptions()), encoding="utf-8")
            run.programs[case.name][framework] = path
            argv = ["--build-only", "--no-pretrained", "--out", str(path.parent / "build")]
            if not case.base or case.name == ROUND_TRIP:
                argv += ["--export-weights", str(path.with_name("initial.npz"))]
            first[framework].append((case.name, "build", {"program": str(path), "argv": argv}))
            if case.stages:
                first[framework].append((case.name, "trainable", {"program": str(path), "trainable": True}))
    run_workers(first, run, "first")

    second: dict[str, list[tuple[str, str, dict[str, Any]]]] = {"torch": [], "keras": []}
    predicting = {c.name for c in PREDICTED}
    for case in FORWARD + TRAINED:
        x = run.folder / case.name / "inputs.npy"
        inputs(run.folder / case.name / f"{case.name}.spec", x)
        for seed, source in enumerate(SOURCES):
            initial = run.path(case.name, source, "initial.npz")
            if not initial.is_file():
                continue  # the build failed: test_counts_equal_the_summary reports it
            perturb(initial, run.path(case.name, source, "start.npz"), seed)
        for framework in TARGETS:
            program = str(run.programs[case.name][framework])
            for source in SOURCES if case.name in predicting else ():
                start = str(run.path(case.name, source, "start.npz"))
                out = run.path(case.name, framework, f"from_{source}")
                predicted = str(run.path(case.name, framework, f"predictions_from_{source}.npy"))
                argv = ["--init-weights", start, "--predict", str(x), "--predictions", predicted]
                second[framework].append(
                    (case.name, f"predict_{source}", {"program": program, "argv": [*argv, "--out", str(out)]})
                )
                again = str(run.path(case.name, framework, f"again_from_{source}.npz"))
                argv = ["--init-weights", start, "--build-only", "--export-weights", again]
                second[framework].append(
                    (case.name, f"again_{source}", {"program": program, "argv": [*argv, "--out", str(out)]})
                )
            if case.epochs:
                start = str(run.path(case.name, "torch", "start.npz"))
                out = run.path(case.name, framework, "trained")
                argv = ["--init-weights", start, "--out", str(out)]
                argv += ["--export-weights", str(run.path(case.name, framework, "trained.npz"))]
                second[framework].append((case.name, "train", {"program": program, "argv": argv}))
    for framework in TARGETS:
        mine = str(run.path(ROUND_TRIP, framework, "initial.npz"))
        other = str(run.path(ROUND_TRIP, "keras" if framework == "torch" else "torch", "initial.npz"))
        program = str(run.programs[ROUND_TRIP][framework])
        out = str(run.path(ROUND_TRIP, framework, "again"))
        again = str(run.path(ROUND_TRIP, framework, "again.npz"))
        argv = ["--init-weights", mine, "--build-only", "--export-weights", again, "--out", out]
        second[framework].append((ROUND_TRIP, "again", {"program": program, "argv": argv}))
        argv = ["--init-weights", other, "--build-only", "--out", out]
        second[framework].append((ROUND_TRIP, "foreign", {"program": program, "argv": argv}))
    for framework in TARGETS:
        # Weights of another model: refused with the keys that do not fit.
        other = str(run.path("loss_mse", "torch", "start.npz"))
        program = str(run.programs["recurrent_last"][framework])
        argv = [
            "--init-weights",
            other,
            "--build-only",
            "--out",
            str(run.path("recurrent_last", framework, "misfit")),
        ]
        second[framework].append(("recurrent_last", "misfit", {"program": program, "argv": argv}))
    run_workers(second, run, "second")
    return run


def load(path: Path) -> dict[str, np.ndarray]:
    """Every array of an .npz."""
    with np.load(path) as archive:
        return {key: archive[key] for key in archive.files}


def history(run: Run, case: str, framework: str) -> list[dict[str, Any]]:
    """The metrics.json history of a case's training run."""
    run.ok(case, framework, "train")
    path = run.path(case, framework, "trained") / "metrics.json"
    return json.loads(path.read_text(encoding="utf-8"))["history"]


# 1. Architecture ------------------------------------------------------------------------------


def extra_torch_biases(case: Case, run: Run) -> int:
    """torch's second bias vector per SimpleRNN/LSTM (Keras has one): the only count difference."""
    program = pipeline.load(run.folder / case.name / f"{case.name}.spec")
    gates = {"SimpleRNN": 1, "LSTM": 4}
    nodes = [n for n in program.model.layers if n.type in gates]
    return sum(gates[n.type] * n.layer.units for n in nodes)  # type: ignore[attr-defined]


@pytest.mark.parametrize("framework", TARGETS)
@pytest.mark.parametrize("case", ALL, ids=lambda c: c.name)
def test_counts_equal_the_summary(parity: Run, case: Case, framework: str) -> None:
    if framework not in parity.programs[case.name]:
        pytest.skip(f"{case.base} is not available for {framework}")
    parity.ok(case.name, framework, "build")
    built = json.loads((parity.path(case.name, framework, "build") / "summary.json").read_text())
    summary = as_dict(pipeline.load(parity.folder / case.name / f"{case.name}.spec"), framework)
    assert built["trainable_params"] == summary["trainable_params"]
    assert built["total_params"] == summary["total_params"]


@pytest.mark.parametrize("case", [c for c in ALL if not c.base], ids=lambda c: c.name)
def test_trainable_counts_agree_between_targets(parity: Run, case: Case) -> None:
    counts = {}
    for framework in TARGETS:
        parity.ok(case.name, framework, "build")
        path = parity.path(case.name, framework, "build") / "summary.json"
        counts[framework] = json.loads(path.read_text())["trainable_params"]
    assert counts["torch"] - counts["keras"] == extra_torch_biases(case, parity)


@pytest.mark.parametrize("case", FORWARD + TRAINED, ids=lambda c: c.name)
def test_portable_files_have_the_same_keys_and_shapes(parity: Run, case: Case) -> None:
    files = {f: load(parity.path(case.name, f, "initial.npz")) for f in TARGETS}
    shapes = {f: {k: a.shape for k, a in arrays.items()} for f, arrays in files.items()}
    assert shapes["torch"] == shapes["keras"]


# 2. Forward -----------------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("case", PREDICTED, ids=lambda c: c.name)
def test_predictions_agree(parity: Run, case: Case, source: str) -> None:
    outputs = {}
    for framework in TARGETS:
        parity.ok(case.name, framework, f"predict_{source}")
        outputs[framework] = np.load(parity.path(case.name, framework, f"predictions_from_{source}.npy"))
    np.testing.assert_allclose(outputs["torch"], outputs["keras"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("framework", TARGETS)
@pytest.mark.parametrize("case", PREDICTED, ids=lambda c: c.name)
def test_import_then_export_gives_the_same_file(parity: Run, case: Case, framework: str) -> None:
    for source in SOURCES:
        parity.ok(case.name, framework, f"again_{source}")
        start = load(parity.path(case.name, source, "start.npz"))
        again = load(parity.path(case.name, framework, f"again_from_{source}.npz"))
        assert again.keys() == start.keys()
        for key, array in start.items():
            # A sum of torch's two RNN biases may round differently: 1 ulp, nothing more.
            np.testing.assert_allclose(again[key], array, rtol=1e-6, atol=1e-7, err_msg=key)


# 3. Loss --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", LOSSES, ids=lambda c: c.name)
def test_first_loss_agrees(parity: Run, case: Case) -> None:
    losses = {f: history(parity, case.name, f)[0]["loss"] for f in TARGETS}
    assert losses["torch"] == pytest.approx(losses["keras"], rel=1e-5, abs=1e-6)


@pytest.mark.parametrize(
    "case", [c for c in LOSSES + UPDATES if c.name not in EPSILON_PLACEMENT], ids=lambda c: c.name
)
def test_validation_loss_agrees(parity: Run, case: Case) -> None:
    losses = {f: history(parity, case.name, f)[-1]["val_loss"] for f in TARGETS}
    assert losses["torch"] == pytest.approx(losses["keras"], rel=1e-4, abs=1e-6)


# 4. Updates -----------------------------------------------------------------------------------


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| over max |b|: the weights' difference relative to their size."""
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


def weight_differences(run: Run, case: str) -> dict[str, float]:
    """Per weight, the relative difference between the targets' weights after training."""
    for framework in TARGETS:
        run.ok(case, framework, "train")
    trained = {f: load(run.path(case, f, "trained.npz")) for f in TARGETS}
    assert trained["torch"].keys() == trained["keras"].keys()
    return {key: relative_difference(trained["torch"][key], b) for key, b in trained["keras"].items()}


@pytest.mark.parametrize(
    "case", [c for c in TRAINED if c.name not in EPSILON_PLACEMENT], ids=lambda c: c.name
)
def test_weights_after_training_agree(parity: Run, case: Case) -> None:
    differences = weight_differences(parity, case.name)
    worst = max(differences, key=differences.__getitem__)
    assert differences[worst] <= 1e-4, f"{worst}: {differences[worst]:.2e}"


@pytest.mark.parametrize("case", [c for c in UPDATES if c.name in EPSILON_PLACEMENT], ids=lambda c: c.name)
def test_epsilon_placement_difference_stays_as_documented(parity: Run, case: Case) -> None:
    differences = weight_differences(parity, case.name)
    worst = max(differences, key=differences.__getitem__)
    print(f"{case.name}: {worst} differs by {differences[worst]:.2e} (relative)")
    assert differences[worst] <= EPSILON_PLACEMENT[case.name], f"{worst}: {differences[worst]:.2e}"


# 5. Freezing and stages -----------------------------------------------------------------------


@pytest.mark.parametrize("case", [c for c in STAGES if c.stages], ids=lambda c: c.name)
def test_every_stage_trains_the_same_weights(parity: Run, case: Case) -> None:
    sets = {f: parity.ok(case.name, f, "trainable")["trainable"] for f in TARGETS}
    assert sets["torch"] == sets["keras"]
    assert len(sets["torch"]) == 3 and sets["torch"][1] == ["head/bias", "head/kernel"]


@pytest.mark.parametrize("framework", TARGETS)
def test_frozen_batchnorm_statistics_do_not_move(parity: Run, framework: str) -> None:
    case = "frozen_batch_normalization"
    parity.ok(case, framework, "train")
    start = load(parity.path(case, "torch", "start.npz"))
    trained = load(parity.path(case, framework, "trained.npz"))
    for role in ("gamma", "beta", "moving_mean", "moving_variance"):
        assert np.array_equal(trained[f"norm/{role}"], start[f"norm/{role}"]), role
    assert not np.array_equal(trained["dense/kernel"], start["dense/kernel"])


# Backbones ------------------------------------------------------------------------------------


@pytest.mark.parametrize("framework", TARGETS)
def test_backbone_weights_round_trip_within_a_target(parity: Run, framework: str) -> None:
    parity.ok(ROUND_TRIP, framework, "again")
    initial = load(parity.path(ROUND_TRIP, framework, "initial.npz"))
    again = load(parity.path(ROUND_TRIP, framework, "again.npz"))
    assert again.keys() == initial.keys()
    assert any(key.startswith(f"base/{framework}/") for key in initial)
    for key, array in initial.items():
        assert np.array_equal(again[key], array), key


@pytest.mark.parametrize("framework", TARGETS)
def test_backbone_weights_across_targets_are_a_clear_error(parity: Run, framework: str) -> None:
    result = parity.results[(ROUND_TRIP, framework, "foreign")]
    assert not result["ok"]
    other = "torchvision" if framework == "keras" else "keras.applications"
    assert result["error"].startswith("error: ") and other in result["error"], result["error"]
    assert "mobilenet_v2" in result["error"]


@pytest.mark.parametrize("framework", TARGETS)
def test_weights_of_another_model_are_a_clear_error(parity: Run, framework: str) -> None:
    result = parity.results[("recurrent_last", framework, "misfit")]
    assert not result["ok"]
    missing = "missing ['lstm/bias', 'lstm/kernel', 'lstm/recurrent_kernel']"
    assert f"does not fit this model: {missing}" in result["error"], result["error"]
    assert "unexpected ['dense_1/bias', 'dense_1/kernel']" in result["error"], result["error"]

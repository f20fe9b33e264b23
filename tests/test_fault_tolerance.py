"""Generated programs survive kill -9: resume from the last complete checkpoint, same final weights.

For both targets: a run is killed at random moments (after its first checkpoint, mostly mid-epoch),
half-written temporary files are left behind as a crash mid-write would leave them, and `--resume`
twice finishes the run. metrics.json always holds exactly the finished epochs, identical to an
uninterrupted run's, and the final weights are bit-identical (CPU, same seed). An --out that cannot
be written fails at once with one line, before any training. The kill moments come from a seeded
generator whose seed is printed, so a failure can be replayed with SPECC_KILL_SEED.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from importlib import util
from pathlib import Path

import pytest

from specc.commands.compile import generate

HAS_TORCH = util.find_spec("torch") is not None
HAS_KERAS = util.find_spec("keras") is not None and util.find_spec("h5py") is not None
TARGETS = [
    pytest.param("torch", marks=[pytest.mark.torch, pytest.mark.skipif(not HAS_TORCH, reason="needs torch")]),
    pytest.param("keras", marks=[pytest.mark.keras, pytest.mark.skipif(not HAS_KERAS, reason="needs keras")]),
]

# Dropout (random state), a stage that freezes a layer (a rebuilt optimizer) and momentum (optimizer
# state): everything a resume must restore exactly.
SPEC = """\
model resumable {
    input: (64,)
    hidden = Dense(32, activation=relu)
    Dropout(0.3)
    head = Dense(10, activation=softmax)
}
train {
    data: digits()
    loss: sparse_categorical_crossentropy
    optimizer: SGD(learning_rate=0.05, momentum=0.9)
    epochs: 3
    batch_size: 32
    metrics: [accuracy]
    seed: 3
    stage tune {
        freeze: [hidden]
        optimizer: Adam(learning_rate=1e-3)
        epochs: 3
    }
}
"""
EPOCHS = 6
CHECKPOINT = {"torch": "checkpoint.pt", "keras": "checkpoint.npz"}
WEIGHTS = {"torch": "model.safetensors", "keras": "model.weights.h5"}
ENV = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}


def program(tmp_path: Path, target: str) -> list[str]:
    """The command line of the compiled program (CPU, short epochs)."""
    spec = tmp_path / "resumable.spec"
    spec.write_text(SPEC, encoding="utf-8")
    path = tmp_path / f"resumable_{target}.py"
    path.write_text(generate(spec, target), encoding="utf-8")
    device = ["--device", "cpu"] if target == "torch" else []
    return [sys.executable, str(path), *device, "--max-steps", "12"]


def run(command: list[str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Run a program to the end."""
    return subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=timeout)


def history(out: Path) -> list[dict[str, object]]:
    """metrics.json's epochs without their wall-clock seconds."""
    records = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["history"]
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def weights(path: Path) -> dict[str, object]:
    """The model's arrays in a .safetensors or .weights.h5 file, by name (read without the frameworks)."""
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file

        return dict(load_file(str(path)))
    import h5py

    arrays: dict[str, object] = {}
    with h5py.File(path, "r") as file:
        file.visititems(
            lambda name, item: arrays.update({name: item[()]}) if hasattr(item, "shape") else None
        )
    # The model's weights only: Keras adds the optimizer's variables when the model was compiled in
    # this process, which a resume with nothing left to train never does.
    return {name: array for name, array in arrays.items() if not name.startswith("optimizer/")}


def kill_at_random(command: list[str], checkpoint: Path, rng: random.Random, epoch_seconds: float) -> int:
    """Start a (resumed) run, wait for a checkpoint newer than the start, SIGKILL it a random moment later.

    Returns the number of epochs metrics.json held when the process died.
    """
    out = checkpoint.parent
    before = checkpoint.stat().st_mtime_ns if checkpoint.exists() else 0
    process = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        if checkpoint.exists() and checkpoint.stat().st_mtime_ns != before:
            break
        time.sleep(0.02)
    time.sleep(rng.uniform(0, 1.5 * epoch_seconds))
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    return len(history(out)) if (out / "metrics.json").exists() else 0


def leave_half_written_files(out: Path, target: str) -> None:
    """What a kill in the middle of a write leaves: truncated temporary files next to the good ones."""
    good = (out / CHECKPOINT[target]).read_bytes()
    (out / f"{CHECKPOINT[target]}.tmp").write_bytes(good[: len(good) // 2])
    text = (out / "metrics.json").read_text(encoding="utf-8")
    (out / "metrics.json.tmp").write_text(text[: len(text) // 2], encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS)
def test_kill_9_at_random_moments_then_resume(tmp_path: Path, target: str) -> None:
    """Killed twice at random moments, resumed twice: same history and bit-identical final weights."""
    seed = int(os.environ.get("SPECC_KILL_SEED", random.SystemRandom().randrange(2**32)))
    print(f"kill moments: SPECC_KILL_SEED={seed}")
    rng = random.Random(seed)
    command = program(tmp_path, target)
    whole = tmp_path / "whole"
    done = run([*command, "--out", str(whole)])
    assert done.returncode == 0, done.stderr[-3000:]
    expected = history(whole)
    assert [r["epoch"] for r in expected] == list(range(1, EPOCHS + 1))
    records = json.loads((whole / "metrics.json").read_text(encoding="utf-8"))["history"]
    epoch_seconds = max(float(r["seconds"]) for r in records)

    out = tmp_path / "killed"
    args = [*command, "--out", str(out)]
    finished = kill_at_random(args, out / CHECKPOINT[target], rng, epoch_seconds)
    for _ in range(2):
        # The finished epochs, exactly as the uninterrupted run recorded them; never a partial one.
        assert 1 <= finished <= EPOCHS
        assert history(out) == expected[:finished]
        leave_half_written_files(out, target)
        finished = kill_at_random([*args, "--resume"], out / CHECKPOINT[target], rng, epoch_seconds)
        assert finished >= 1
    resumed = run([*args, "--resume"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Traceback" not in resumed.stderr
    assert history(out) == expected
    got, want = weights(out / WEIGHTS[target]), weights(whole / WEIGHTS[target])
    assert want and got.keys() == want.keys()
    import numpy as np

    for name, array in want.items():
        assert np.array_equal(got[name], array), f"{name} differs after kill -9 and --resume"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("where", ["under_a_file", "read_only_folder"])
def test_unwritable_out_fails_before_training(tmp_path: Path, target: str, where: str) -> None:
    """--out under a regular file, or in a read-only folder: one error line at once, no training."""
    if where == "under_a_file":
        blocker = tmp_path / "a_file"
        blocker.write_text("not a folder\n", encoding="utf-8")
        out = blocker / "run"
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        out = locked / "run"
    done = run([*program(tmp_path, target), "--out", str(out)], timeout=300)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "error:" in done.stderr and str(out) in done.stderr, done.stderr[-3000:]
    assert "epoch 1" not in done.stdout, "training started before --out was found unwritable"


@pytest.mark.parametrize("target", ["torch", "keras"])
def test_a_full_disk_is_found_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    """The program's `prepare_out` writes and fsyncs a probe: ENOSPC there is one clear error line."""
    import ast
    import errno

    code = Path(program(tmp_path, target)[1]).read_text(encoding="utf-8")
    tree = ast.parse(code)
    (function,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "prepare_out"]
    namespace: dict[str, object] = {"Path": Path, "os": os}
    exec(ast.get_source_segment(code, function) or "", namespace)  # only this function, not the program

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(SystemExit) as stop:
        namespace["prepare_out"](tmp_path / "out")  # type: ignore[operator]
    assert str(stop.value) == f"error: cannot write to --out {tmp_path / 'out'}: No space left on device"
    main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    found = [n for n in ast.walk(main) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    calls = [n.func.id for n in sorted(found, key=lambda n: (n.lineno, n.col_offset))]  # source order
    assert "prepare_out" in calls, "main() does not check --out"
    assert calls.index("prepare_out") < min(
        (calls.index(c) for c in ("train", "fit", "build_model") if c in calls), default=len(calls)
    ), "main() builds or trains before checking --out"

"""Training throughput of specc's Keras programs against hand-written idiomatic `model.fit` programs.

For each model the generated program (compiled from examples/) and a hand-written program for the
same model and data run alternately, `--repeats` times each, in fresh processes on the same machine.
Two measures: wall-clock examples per second over epochs 2..N (epoch 1 pays for tracing), timed
around whole epochs with validation; and examples per CPU-second, from the CPU time of an N-epoch
run minus that of a 2-epoch run (start-up and tracing cancel out; everything a program does per
epoch, checkpoints included, counts). The CPU figure is the steadier one on a shared machine. The
ratio generated / hand-written is printed per model (goal: >= 1.0).

    python benchmarks/bench_keras.py [--epochs 8] [--repeats 3] [--backend tensorflow]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from specc.commands.compile import generate

ROOT = Path(__file__).resolve().parent.parent

# The idiomatic program: what a Keras user writes by hand for the same data and model, with Keras's
# defaults wherever the spec leaves a choice (shuffle=True, jit_compile="auto").
HAND = """\
import json
import sys
import time

import keras
import numpy as np
from sklearn.datasets import load_digits

epochs, out, jit = int(sys.argv[1]), sys.argv[2], sys.argv[3]
keras.utils.set_random_seed(0)
x, y = load_digits(return_X_y=True)
x = x.astype("float32")
order = np.random.default_rng(0).permutation(len(x))
n_val = round(len(x) * 0.2)
train, val = order[: len(x) - n_val], order[len(x) - n_val :]
mean, std = x[train].mean(0), x[train].std(0)
std[std == 0] = 1
x = (x - mean) / std
MODEL


class Clock(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.ends = []

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())


clock = Clock()
model.compile(
    optimizer=keras.optimizers.Adam(1e-3),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
    jit_compile="auto" if jit == "auto" else jit == "true",
)
model.fit(
    x[train].reshape(SHAPE), y[train], batch_size=32, epochs=epochs,
    validation_data=(x[val].reshape(SHAPE), y[val]), callbacks=[clock],
)
json.dump({"seconds": clock.ends[-1] - clock.ends[0], "train": len(train)}, open(out, "w"))
"""

MODELS = {
    "digits_mlp": (
        """model = keras.Sequential([
    keras.Input((64,)),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dropout(0.2),
    keras.layers.Dense(10, activation="softmax"),
])""",
        "(-1, 64)",
    ),
    "convnet_digits": (
        """model = keras.Sequential([
    keras.Input((8, 8, 1)),
    keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
    keras.layers.MaxPooling2D(2),
    keras.layers.Conv2D(32, (3, 3), activation="relu"),
    keras.layers.Flatten(),
    keras.layers.Dropout(0.25),
    keras.layers.Dense(10, activation="softmax"),
])""",
        "(-1, 8, 8, 1)",
    ),
}


def run(command: list[str], backend: str) -> float:
    """Run a program quietly and return the CPU seconds it used (all threads); fail loudly."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


N_TRAIN = round(1797 * 0.8)  # digits rows that train (validation_split 0.2)


def generated(program: Path, epochs: int, out: Path, backend: str) -> tuple[float, float]:
    """(wall examples/s over epochs 2..N, CPU seconds of the whole run) of the generated program."""
    argv = [sys.executable, str(program), "--epochs", str(epochs), "--out", str(out), "--seed", "0"]
    cpu = run(argv, backend)
    history = json.loads((out / "metrics.json").read_text())["history"]
    return N_TRAIN * (epochs - 1) / sum(r["seconds"] for r in history[1:]), cpu


def hand(program: Path, epochs: int, out: Path, backend: str, jit: str) -> tuple[float, float]:
    """(wall examples/s over epochs 2..N, CPU seconds of the whole run) of the hand-written program."""
    cpu = run([sys.executable, str(program), str(epochs), str(out), jit], backend)
    result = json.loads(out.read_text())
    return result["train"] * (epochs - 1) / result["seconds"], cpu


def main() -> None:
    """Print a table of throughputs and ratios."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", default="tensorflow")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=sorted(MODELS))
    parser.add_argument("--verbose", action="store_true", help="print every run's figures")
    args = parser.parse_args()
    short = 2
    print(
        f"backend {args.backend}; medians of {args.repeats} alternating runs; "
        f"wall: examples/s over epochs 2-{args.epochs}; "
        f"cpu: examples per CPU-second from the difference of {args.epochs}- and {short}-epoch runs"
    )
    kinds = ("generated", "hand, jit off", "hand, jit auto")
    header = f"{'model':<16} {'measure':<5}" + "".join(f" {k:>15}" for k in kinds)
    print(header + f" {'gen/off':>8} {'gen/auto':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in args.models:
            model, shape = MODELS[name]
            program = root / f"{name}_keras.py"
            program.write_text(generate(ROOT / "examples" / f"{name}.spec", "keras"))
            baseline = root / f"{name}_hand.py"
            baseline.write_text(HAND.replace("MODEL", model).replace("SHAPE", shape))
            wall: dict[str, list[float]] = {k: [] for k in kinds}
            cpu: dict[str, list[float]] = {k: [] for k in kinds}
            for i in range(args.repeats):
                for kind in kinds:
                    figures = []
                    for epochs in (args.epochs, short):
                        out = root / f"{name}_{i}_{kind[-4:].strip()}_{epochs}"
                        if kind == "generated":
                            figures.append(generated(program, epochs, out, args.backend))
                        else:
                            jit = "false" if kind.endswith("off") else "auto"
                            figures.append(
                                hand(baseline, epochs, out.with_suffix(".json"), args.backend, jit)
                            )
                    (speed, long_cpu), (_, short_cpu) = figures
                    wall[kind].append(speed)
                    cpu[kind].append(N_TRAIN * (args.epochs - short) / (long_cpu - short_cpu))
            for measure, table in (("wall", wall), ("cpu", cpu)):
                if args.verbose:
                    print(
                        f"{name} {measure}: "
                        + "; ".join(f"{k} {[round(v) for v in table[k]]}" for k in kinds)
                    )
                m = [statistics.median(table[k]) for k in kinds]
                cells = "".join(f" {v:>15,.0f}" for v in m)
                print(f"{name:<16} {measure:<5}{cells} {m[0] / m[1]:>8.2f} {m[0] / m[2]:>8.2f}")


if __name__ == "__main__":
    main()

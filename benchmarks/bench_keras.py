"""Training throughput of specc's Keras programs against hand-written idiomatic `model.fit` programs.

For each model the generated program (compiled from examples/) and a hand-written program for the
same model and data run alternately, `--repeats` times each, in fresh processes on the same machine.
Throughput is training examples per second over epochs 2..N (epoch 1 pays for tracing), measured
around whole epochs, validation included. The ratio generated / hand-written is printed per model
(goal: >= 1.0).

    python benchmarks/bench_keras.py [--epochs 8] [--repeats 3] [--backend tensorflow]
"""

from __future__ import annotations

import argparse
import json
import os
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


def run(command: list[str], backend: str) -> None:
    """Run a program quietly; fail loudly."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    if proc.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def generated(program: Path, epochs: int, out: Path, backend: str) -> float:
    """Examples per second of the generated program over epochs 2..N."""
    run([sys.executable, str(program), "--epochs", str(epochs), "--out", str(out), "--seed", "0"], backend)
    history = json.loads((out / "metrics.json").read_text())["history"]
    n_train = round(1797 * 0.8)
    return n_train * (epochs - 1) / sum(r["seconds"] for r in history[1:])


def hand(program: Path, epochs: int, out: Path, backend: str, jit: str) -> float:
    """Examples per second of the hand-written program over epochs 2..N."""
    run([sys.executable, str(program), str(epochs), str(out), jit], backend)
    result = json.loads(out.read_text())
    return result["train"] * (epochs - 1) / result["seconds"]


def main() -> None:
    """Print a table of throughputs and ratios."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", default="tensorflow")
    args = parser.parse_args()
    print(f"backend {args.backend}, {args.epochs} epochs, median of {args.repeats} alternating runs")
    columns = ("generated", "hand (jit off)", "ratio", "hand (auto)", "ratio")
    print(f"{'model':<16} {columns[0]:>10} {columns[1]:>15} {columns[2]:>6} {columns[3]:>12} {columns[4]:>6}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, (model, shape) in MODELS.items():
            program = root / f"{name}_keras.py"
            program.write_text(generate(ROOT / "examples" / f"{name}.spec", "keras"))
            baseline = root / f"{name}_hand.py"
            baseline.write_text(HAND.replace("MODEL", model).replace("SHAPE", shape))
            ours, off, auto = [], [], []
            for i in range(args.repeats):
                ours.append(generated(program, args.epochs, root / f"{name}_{i}", args.backend))
                off.append(hand(baseline, args.epochs, root / f"{name}_{i}_off.json", args.backend, "false"))
                auto.append(hand(baseline, args.epochs, root / f"{name}_{i}_auto.json", args.backend, "auto"))
            g, h, a = statistics.median(ours), statistics.median(off), statistics.median(auto)
            print(f"{name:<16} {g:>10,.0f} {h:>15,.0f} {g / h:>6.2f} {a:>12,.0f} {g / a:>6.2f}")


if __name__ == "__main__":
    main()

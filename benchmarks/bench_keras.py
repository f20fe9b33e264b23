"""Training throughput of specc's Keras programs against hand-written idiomatic `model.fit` programs.

For each model the generated program (compiled from examples/) and a hand-written program for the
same model and data run alternately, `--repeats` times each, in fresh processes on the same machine.
Both programs read the clocks at the end of every epoch (the generated one after its checkpoint and
metrics.json), and two measures come from the end of epoch 1 to the end of epoch N (epoch 1 pays
for tracing): wall-clock examples per second, and examples per CPU-second of the process (all its
threads). Everything a program does per epoch, validation and checkpoints included, counts. The
CPU figure is the steadier one on a shared machine. The ratio generated / hand-written is printed
per model (goal: >= 1.0).

`--paths` instead compares, in one process per model, the generated program's input paths for the
same model: its tf.data pipeline (what it uses on TensorFlow), its PyDataset (the other backends),
and Keras's own array path (what the hand-written program uses), alternating fit calls of 3 epochs.

    python benchmarks/bench_keras.py [--epochs 8] [--repeats 3] [--backend tensorflow] [--paths]
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
        self.ends.append((time.perf_counter(), time.process_time()))


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
json.dump(clock.ends, open(out, "w"))
"""

# Runs a generated program, reading the same clocks at the end of every epoch, after its checkpoint.
DRIVER = """\
import importlib.util
import json
import sys
import time

spec = importlib.util.spec_from_file_location("program", sys.argv[1])
program = importlib.util.module_from_spec(spec)
spec.loader.exec_module(program)
ends = []


class ClockedRecorder(program.EpochRecorder):
    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        ends.append((time.perf_counter(), time.process_time()))


program.EpochRecorder = ClockedRecorder
program.main(sys.argv[3:])
json.dump(ends, open(sys.argv[2], "w"))
"""

# The input paths in one process: the same model, fit calls of 3 epochs alternating between them;
# per-epoch wall and CPU seconds, the first epoch of each call left out (it builds the iterators).
PATHS = """\
import importlib.util
import json
import math
import sys
import time

import keras

spec = importlib.util.spec_from_file_location("program", sys.argv[1])
program = importlib.util.module_from_spec(spec)
spec.loader.exec_module(program)
rounds, out = int(sys.argv[2]), sys.argv[3]
keras.utils.set_random_seed(0)
x, y, x_val, y_val = program.load_data(0)
model = program.build_model()
phase = program.make_phases()[0]
model.compile(optimizer=phase.optimizer, loss=phase.loss, metrics=phase.metrics, jit_compile=False)
steps = math.ceil(len(x) / 32)


class Clock(keras.callbacks.Callback):
    def __init__(self, first, times):
        super().__init__()
        self.first, self.times = first, times

    def on_epoch_begin(self, epoch, logs=None):
        self.began = (time.perf_counter(), time.process_time())

    def on_epoch_end(self, epoch, logs=None):
        if epoch > self.first:
            wall, cpu = time.perf_counter(), time.process_time()
            self.times.append((wall - self.began[0], cpu - self.began[1]))


kinds = ["tf.data", "PyDataset", "arrays"]
seconds = {kind: [] for kind in kinds}
epoch = 0
for i in range(rounds):
    for kind in kinds if i % 2 == 0 else kinds[::-1]:
        common = dict(epochs=epoch + 3, initial_epoch=epoch, validation_data=(x_val, y_val))
        common.update(validation_batch_size=32, callbacks=[Clock(epoch, seconds[kind])], verbose=0)
        if kind == "tf.data":
            batches = program.tf_batches(x, y, 32, 0, range(epoch, epoch + 3), steps)
            model.fit(batches, steps_per_epoch=steps, shuffle=False, **common)
        elif kind == "PyDataset":
            model.fit(program.ShuffledBatches(x, y, 32, 0, epoch, steps), shuffle=False, **common)
        else:
            model.fit(x, y, batch_size=32, **common)
        epoch += 3
json.dump(seconds, open(out, "w"))
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


N_TRAIN = round(1797 * 0.8)  # digits rows that train (validation_split 0.2)


def throughput(clocks: Path) -> tuple[float, float]:
    """(wall examples/s, examples per CPU-second) from the end of epoch 1 to the end of the last."""
    ends = json.loads(clocks.read_text())
    examples = N_TRAIN * (len(ends) - 1)
    return examples / (ends[-1][0] - ends[0][0]), examples / (ends[-1][1] - ends[0][1])


def generated(program: Path, driver: Path, epochs: int, out: Path, backend: str) -> tuple[float, float]:
    """The throughputs of the generated program, run by DRIVER."""
    clocks = out.with_suffix(".json")
    argv = ["--epochs", str(epochs), "--out", str(out), "--seed", "0"]
    run([sys.executable, str(driver), str(program), str(clocks), *argv], backend)
    return throughput(clocks)


def hand(program: Path, epochs: int, out: Path, backend: str, jit: str) -> tuple[float, float]:
    """The throughputs of the hand-written program."""
    run([sys.executable, str(program), str(epochs), str(out), jit], backend)
    return throughput(out)


def compare_paths(program: Path, root: Path, rounds: int) -> None:
    """Print the in-process comparison of the input paths (PATHS) for one generated program."""
    script, out = root / "paths.py", root / f"{program.stem}_paths.json"
    script.write_text(PATHS)
    run([sys.executable, str(script), str(program), str(rounds), str(out)], "tensorflow")
    seconds = json.loads(out.read_text())
    medians = {k: [statistics.median(t[i] for t in v) for i in (0, 1)] for k, v in seconds.items()}
    base = medians["tf.data"]
    for kind, (wall, cpu) in medians.items():
        print(
            f"{program.stem.removesuffix('_keras'):<16} {kind:<10} {len(seconds[kind]):>3} epochs "
            f"{wall * 1000:>6.0f} ms wall {cpu * 1000:>6.0f} ms CPU per epoch; "
            f"tf.data speed-up: {wall / base[0]:.2f} wall, {cpu / base[1]:.2f} CPU"
        )


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
    parser.add_argument(
        "--paths", action="store_true", help="compare the input paths in one process (TensorFlow)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.paths:
            for name in args.models:
                program = root / f"{name}_keras.py"
                program.write_text(generate(ROOT / "examples" / f"{name}.spec", "keras"))
                compare_paths(program, root, 2 * args.repeats)
            return
        print(
            f"backend {args.backend}; medians of {args.repeats} alternating runs; "
            f"wall: examples/s, cpu: examples per CPU-second, both over epochs 2-{args.epochs}"
        )
        kinds = ("generated", "hand, jit off", "hand, jit auto")
        header = f"{'model':<16} {'measure':<5}" + "".join(f" {k:>15}" for k in kinds)
        print(header + f" {'gen/off':>8} {'gen/auto':>8}")
        driver = root / "driver.py"
        driver.write_text(DRIVER)
        for name in args.models:
            model, shape = MODELS[name]
            program = root / f"{name}_keras.py"
            program.write_text(generate(ROOT / "examples" / f"{name}.spec", "keras"))
            baseline = root / f"{name}_hand.py"
            baseline.write_text(HAND.replace("MODEL", model).replace("SHAPE", shape))
            wall: dict[str, list[float]] = {k: [] for k in kinds}
            cpu: dict[str, list[float]] = {k: [] for k in kinds}
            for i in range(args.repeats):
                for kind in kinds if i % 2 == 0 else kinds[::-1]:
                    out = root / f"{name}_{i}_{kind[-4:].strip()}"
                    if kind == "generated":
                        speed, per_cpu = generated(program, driver, args.epochs, out, args.backend)
                    else:
                        jit = "false" if kind.endswith("off") else "auto"
                        speed, per_cpu = hand(
                            baseline, args.epochs, out.with_suffix(".json"), args.backend, jit
                        )
                    wall[kind].append(speed)
                    cpu[kind].append(per_cpu)
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

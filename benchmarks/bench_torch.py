"""Training throughput of specc's generated PyTorch programs against hand-written PyTorch loops.

For an MLP, a small convnet and an LSTM, the same run measures examples per second of one training
epoch three ways, alternating them and keeping each one's median:

- generated: the generated program's own `train_one_epoch` over its `Batches` (tensors on the device,
  batches by indexing, autocast/GradScaler plumbing, metric sums kept on the device);
- idiomatic: the textbook loop, `DataLoader(TensorDataset(...), shuffle=True)`, `loss.item()` and
  an accuracy count every step;
- tight: a minimal hand-written loop that also batches by indexing and never synchronises.

Throughput is examples per CPU-second (time.process_time, one torch thread by default), so that
other processes on a shared machine do not decide the figures. Ratios above 1.0 mean the generated
program is faster. Usage:

    python benchmarks/bench_torch.py [--repeats 5] [--device cpu]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from specc import pipeline  # noqa: E402
from specc.targets import torch as torch_target  # noqa: E402
from specc.targets.base import EmitOptions  # noqa: E402

CASES: dict[str, tuple[str, Callable[[], nn.Module]]] = {
    "mlp": (
        """
        model mlp { input: (64,) Dense(128, activation=relu) Dropout(0.2) Dense(10, activation=softmax) }
        train { data: digits() loss: sparse_categorical_crossentropy optimizer: Adam() batch_size: 32
                metrics: [accuracy] }
        """,
        lambda: nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10)),
    ),
    "convnet": (
        """
        model convnet {
            input: (28, 28, 1)
            Conv2D(16, 3, activation=relu) MaxPooling2D(2)
            Conv2D(32, 3, activation=relu) MaxPooling2D(2)
            Flatten() Dense(10, activation=softmax)
        }
        train { data: synthetic(samples=2560, classes=10) loss: sparse_categorical_crossentropy
                optimizer: Adam() batch_size: 64 metrics: [accuracy] }
        """,
        lambda: nn.Sequential(
            nn.Conv2d(1, 16, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(800, 10),
        ),
    ),
    "lstm": (
        """
        model lstm { input: (20, 16) LSTM(64) Dense(5, activation=softmax) }
        train { data: synthetic(samples=2560, classes=5) loss: sparse_categorical_crossentropy
                optimizer: Adam() batch_size: 64 metrics: [accuracy] }
        """,
        lambda: HandLSTM(),
    ),
}


class HandLSTM(nn.Module):
    """The hand-written LSTM classifier: last step's output into a linear layer."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(16, 64, batch_first=True)
        self.fc = nn.Linear(64, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.lstm(x)
        return self.fc(outputs[:, -1])


def compile_case(name: str, text: str, folder: Path) -> ModuleType:
    """Compile a spec and import the generated program."""
    spec = folder / f"{name}.spec"
    spec.write_text(text)
    code = torch_target.emit(pipeline.load(spec), EmitOptions())
    path = folder / f"{name}_program.py"
    path.write_text(code)
    loader = importlib.util.spec_from_file_location(path.stem, path)
    assert loader and loader.loader
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


def generated_epoch(program: ModuleType, device: torch.device) -> Callable[[], float]:
    """One epoch of the generated program's training loop; returns CPU seconds."""
    torch.manual_seed(0)
    x_train, y_train, _, _ = program.load_data(0)
    split = program.as_tensors(x_train, y_train, device)
    model = program.build_model().to(device)
    phase = program.PHASES[0]
    optimizer = program.build_optimizer([p for p in model.parameters() if p.requires_grad])
    loss_fn = program.build_loss()
    scaler = torch.amp.GradScaler(device.type, enabled=False)
    generator = torch.Generator().manual_seed(0)
    batches = program.Batches(split, phase.batch_size, generator)

    def epoch() -> float:
        start = time.process_time()
        program.train_one_epoch(
            model, batches, loss_fn, optimizer, scaler, torch.float32, phase.metrics, None
        )  # returns .item() values: the epoch's work is finished when it returns
        return time.process_time() - start

    return epoch


def idiomatic_epoch(
    make: Callable[[], nn.Module],
    inputs: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int,
    device: torch.device,
) -> Callable[[], float]:
    """The textbook loop: a DataLoader over a TensorDataset, .item() every step."""
    torch.manual_seed(0)
    model = make().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(inputs, labels), batch_size=batch_size, shuffle=True)

    def epoch() -> float:
        start = time.process_time()
        model.train()
        running_loss, correct = 0.0, 0
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            outputs = model(x)
            loss = criterion(outputs, y)
            loss.backward()
            optimizer.step()
            running_loss += loss.item() * len(y)
            correct += (outputs.argmax(1) == y).sum().item()
        return time.process_time() - start

    return epoch


def tight_epoch(
    make: Callable[[], nn.Module],
    inputs: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int,
    device: torch.device,
) -> Callable[[], float]:
    """A minimal loop: tensors on the device, batches by indexing, one sync per epoch."""
    torch.manual_seed(0)
    model = make().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    inputs, labels = inputs.to(device), labels.to(device)

    def epoch() -> float:
        start = time.process_time()
        model.train()
        total = torch.zeros((), device=device)
        order = torch.randperm(len(inputs), device=device)
        for begin in range(0, len(inputs), batch_size):
            index = order[begin : begin + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(inputs[index]), labels[index])
            loss.backward()
            optimizer.step()
            total += loss.detach()
        total.item()
        return time.process_time() - start

    return epoch


def main() -> None:
    """Measure every case and print examples per second and the ratios."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5, help="measured epochs per loop (median kept)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()
    # CPU time of one thread, not wall time: on a shared machine other processes' load would
    # otherwise dominate the figures (and idle OpenMP threads spin, inflating CPU time).
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}")
    print(
        f"{'case':<8} {'generated':>10} {'idiomatic':>10} {'tight':>10}  vs idiomatic  vs tight"
        "  (examples per CPU-second)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.cases:
            text, make = CASES[name]
            program = compile_case(name, text, Path(tmp))
            x_train, y_train, _, _ = program.load_data(0)
            inputs = program.as_tensors(x_train, y_train, torch.device("cpu"))[0]
            labels = torch.from_numpy(y_train)
            batch_size = program.PHASES[0].batch_size
            loops = {
                "generated": generated_epoch(program, device),
                "idiomatic": idiomatic_epoch(make, inputs, labels, batch_size, device),
                "tight": tight_epoch(make, inputs, labels, batch_size, device),
            }
            times: dict[str, list[float]] = {k: [] for k in loops}
            for loop in loops.values():  # warm-up epoch each
                loop()
            for _ in range(args.repeats):  # alternate, so machine load hits all three alike
                for key, loop in loops.items():
                    times[key].append(loop())
            rate = {k: len(inputs) / statistics.median(v) for k, v in times.items()}
            gen, idiom, tight = rate["generated"], rate["idiomatic"], rate["tight"]
            print(
                f"{name:<8} {gen:>10.0f} {idiom:>10.0f} {tight:>10.0f}"
                f"  {gen / idiom:>11.2f}x  {gen / tight:>7.2f}x"
            )


if __name__ == "__main__":
    main()

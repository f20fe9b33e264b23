"""Weights files never run code, and specs can only name paths inside their own folder.

A malicious pickle (its `__reduce__` creates a marker folder) given as a backbone's weights is
refused by the generated PyTorch program (torch.load(weights_only=True)); a Keras model file with
a Lambda layer that would do the same is never deserialized by the Keras program (load_weights
reads arrays only). Each test first proves its file really runs code when loaded unsafely.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import util
from pathlib import Path

import pytest

from specc import pipeline
from specc.commands.compile import generate
from specc.diagnostics import SpeccError

HAS_TORCH = util.find_spec("torch") is not None and util.find_spec("torchvision") is not None
HAS_KERAS = util.find_spec("keras") is not None

SPEC = """\
model evil {{
    input: (32, 32, 3)
    base: mobilenet_v2(weights="{weights}", trainable=false)
    GlobalAveragePooling2D()
    Dense(2, activation=softmax)
}}
train {{
    data: synthetic(samples=8)
    loss: sparse_categorical_crossentropy
    optimizer: Adam()
    epochs: 1
}}
"""

MAKE_PICKLE = """\
import os, sys, torch
marker = sys.argv[1]
class Evil:
    def __reduce__(self):
        return (os.mkdir, (marker,))
torch.save({"features.0.0.weight": Evil()}, "evil.pt")
torch.save({"features.0.0.weight": Evil()}, "evil.safetensors")  # a pickle in disguise
torch.load("evil.pt", weights_only=False)  # the control: loading it unsafely runs the code
assert os.path.isdir(marker), "the malicious file does not work, so the test would prove nothing"
os.rmdir(marker)
"""

MAKE_KERAS = """\
import os, sys
import keras
marker = sys.argv[1]
code = eval(f"lambda x: __import__('os').makedirs({marker!r}, exist_ok=True) or x")
inputs = keras.Input((32, 32, 3))
model = keras.Model(inputs, keras.layers.Lambda(code)(inputs))
os.rmdir(marker)  # building the model ran the lambda once
model.save("evil.keras")
model.save("evil.h5")
try:
    keras.models.load_model("evil.keras")  # safe mode (the default) refuses the lambda
except ValueError:
    pass
assert not os.path.exists(marker)
keras.models.load_model("evil.keras", safe_mode=False)  # the control: unsafe loading runs it
assert os.path.isdir(marker), "the malicious file does not work, so the test would prove nothing"
os.rmdir(marker)
"""


def run(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run a Python script or program in `cwd` quietly (no GPU, no TensorFlow chatter)."""
    env = {
        **os.environ,
        "CUDA_VISIBLE_DEVICES": "",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "KERAS_BACKEND": "tensorflow",
    }
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def program_for(folder: Path, weights: str, target: str) -> Path:
    """Compile the spec naming `weights` for a target; the program is written next to the spec."""
    spec = folder / f"evil_{Path(weights).suffix[1:]}.spec"
    spec.write_text(SPEC.format(weights=weights), encoding="utf-8")
    program = folder / f"{spec.stem}_{target}.py"
    program.write_text(generate(spec, target), encoding="utf-8")
    return program


@pytest.mark.torch
@pytest.mark.skipif(not HAS_TORCH, reason="needs torch and torchvision")
def test_torch_program_refuses_a_malicious_pickle(tmp_path: Path) -> None:
    """weights="evil.pt" (and a pickle named .safetensors): a clear refusal, and the code never runs."""
    marker = tmp_path / "MARKER"
    made = run(["-c", MAKE_PICKLE, str(marker)], tmp_path)
    assert made.returncode == 0, made.stderr
    for weights in ("evil.pt", "evil.safetensors"):
        program = program_for(tmp_path, weights, "torch")
        result = run([str(program), "--build-only", "--out", "out", "--data-dir", str(tmp_path)], tmp_path)
        assert not marker.exists(), f"loading {weights} ran the code in it"
        assert result.returncode != 0
        assert "Traceback" not in result.stderr, result.stderr
        assert "refused to load" in result.stderr and weights in result.stderr, result.stderr


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="needs keras")
def test_keras_program_never_deserializes_a_lambda(tmp_path: Path) -> None:
    """weights="evil.keras" / "evil.h5" holding a code-running Lambda: the code never runs."""
    marker = tmp_path / "MARKER"
    made = run(["-c", MAKE_KERAS, str(marker)], tmp_path)
    assert made.returncode == 0, made.stderr
    for weights in ("evil.keras", "evil.h5"):
        program = program_for(tmp_path, weights, "keras")
        result = run([str(program), "--build-only", "--out", "out", "--data-dir", str(tmp_path)], tmp_path)
        assert not marker.exists(), f"loading {weights} ran the code in it"
        # Weights that do not fit the backbone: the program stops with one line, Keras' reason in it.
        assert result.returncode != 0
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        # The program names the file it tried (as resolved under --data-dir) and Keras's reason.
        line = next((x for x in result.stderr.splitlines() if x.startswith("error: ")), "")
        assert line.startswith("error: cannot load the weights in "), result.stderr[-3000:]
        assert weights in line, line


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "~/weights.pt",
        "C:\\weights.pt",
        "\\\\server\\share\\w.pt",
        "../w.pt",
        "a/../../w.pt",
        "a/../w.pt",
    ],
)
@pytest.mark.parametrize("field", ["weights", "csv", "npz", "image_folder"])
def test_paths_must_stay_in_the_spec_folder(path: str, field: str) -> None:
    """Absolute, home-relative, drive, UNC and climbing paths: SPC120 in every path field."""
    quoted = '"' + path.replace("\\", "\\\\") + '"'
    weights = quoted if field == "weights" else "none"
    data = {
        "weights": "synthetic()",
        "csv": f'csv({quoted}, target="y")',
        "npz": f"npz({quoted})",
        "image_folder": f"image_folder({quoted}, image_size=(32, 32))",
    }[field]
    text = SPEC.replace('"{weights}"', weights).replace("synthetic(samples=8)", data).format()
    with pytest.raises(SpeccError) as err:
        pipeline.load_text(text, "paths.spec")
    assert [d.code for d in err.value.diagnostics] == ["SPC120"]


@pytest.mark.parametrize(
    "path", ["w.pt", "weights/w.pt", "./w.pt", "..w.pt", "dir..name/w.pt", "w eights.pt"]
)
def test_paths_inside_the_folder_are_accepted(path: str) -> None:
    """Relative paths inside the folder load (`..` inside a name is fine; a `..` component never is)."""
    program = pipeline.load_text(SPEC.format(weights=path), "paths.spec")
    assert program.model.base is not None


CSV_SPEC = """\
model leak {
    input: (2,)
    Dense(2, activation=softmax)
}
train {
    data: csv("data.csv", target="y")
    loss: sparse_categorical_crossentropy
    optimizer: Adam()
    epochs: 1
}
"""


@pytest.mark.torch
@pytest.mark.skipif(not HAS_TORCH, reason="needs torch")
def test_a_link_out_of_the_folder_is_refused_at_run_time(tmp_path: Path) -> None:
    """`data.csv -> ../secret.csv` passes the lexical check; the program refuses it unread."""
    secret = tmp_path / "secret.csv"
    secret.write_text("SECRET-LINE-1,y\n1,0\n", encoding="utf-8")
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "data.csv").symlink_to(secret)
    spec = folder / "leak.spec"
    spec.write_text(CSV_SPEC, encoding="utf-8")
    program = folder / "leak_torch.py"
    program.write_text(generate(spec, "torch"), encoding="utf-8")
    result = run([str(program), "--device", "cpu", "--out", str(tmp_path / "out")], folder)
    assert result.returncode != 0
    assert "leads outside" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert "SECRET" not in result.stdout + result.stderr


@pytest.mark.parametrize("target", ["torch", "keras"])
@pytest.mark.parametrize("field", ["csv", "npz", "image_folder", "weights"])
def test_every_spec_path_is_checked_against_links(target: str, field: str) -> None:
    """Each place a program opens a spec path first checks the resolved path stays in --data-dir."""
    path = '"things"'
    weights = path if field == "weights" else "none"
    data = {
        "weights": "synthetic()",
        "csv": f'csv({path}, target="y")',
        "npz": f"npz({path})",
        "image_folder": f"image_folder({path}, image_size=(32, 32))",
    }[field]
    text = SPEC.replace('"{weights}"', weights).replace("synthetic(samples=8)", data).format()
    program = pipeline.load_text(text, "paths.spec")
    from specc.targets import target as target_module
    from specc.targets.base import EmitOptions

    code = target_module(target).emit(program, EmitOptions())
    opened = code.count('/ "things"')
    assert opened == 1, f"the path is joined {opened} times"
    assert ".resolve().is_relative_to(data_dir.resolve())" in code.split('/ "things"', 1)[1].split("\n")[1]

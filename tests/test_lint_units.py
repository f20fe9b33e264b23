"""Rule details the fixtures do not pin down, and the selection logic on its own."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from specc import pipeline
from specc.config import Config, ConfigError, expand, resolve
from specc.lint import lint, rule_codes
from specc.lint.rules.label_encoding import npy_shape


def found(text: str, path: Path | None = None) -> list[str]:
    """The lint codes reported for spec text (or a file)."""
    program = pipeline.load(path) if path else pipeline.load_text(text, "t.spec")
    return [d.code for d in lint(program)]


BACKBONE = """model m {{
    input: (224, 224, 3)
    base: {backbone}(weights=none)
    GlobalAveragePooling2D()
    Dense(5, activation=softmax)
}}
train {{
    data: synthetic(samples=64, classes=5)
    loss: sparse_categorical_crossentropy
    optimizer: SGD(learning_rate=0.01, weight_decay=1e-4)
}}
"""


def test_weight_decay_on_batchnorm_backbones_only() -> None:
    assert "SPC421" in found(BACKBONE.format(backbone="resnet18"))
    assert "SPC421" not in found(BACKBONE.format(backbone="vgg16"))  # VGG16 has no BatchNorm


def test_pretrained_backbone_in_first_phase_but_random_one_is_fine() -> None:
    text = BACKBONE.format(backbone="resnet18")
    assert "SPC431" not in found(text)
    assert "SPC431" in found(text.replace("weights=none", "weights=imagenet"))


def test_expand_patterns() -> None:
    codes = rule_codes()
    assert expand("ALL", codes, "x") == set(codes)
    assert expand("SPC43", codes, "x") == {c for c in codes if c.startswith("SPC43")}
    assert expand("double-softmax", codes, "x") == {"SPC401"}
    assert expand("spc401", codes, "x") == {"SPC401"}
    with pytest.raises(ConfigError, match="matches no lint rule"):
        expand("SPC5", codes, "x")


def test_resolve_order() -> None:
    config = Config(select=("SPC41",), ignore=("SPC412",), severity={"SPC411": "error", "SPC413": "off"})
    selection = resolve(config)
    assert selection.enabled("SPC411") and not selection.enabled("SPC412") and not selection.enabled("SPC413")
    assert not selection.enabled("SPC401")
    assert selection.severity("SPC411").value == "error" and selection.severity("SPC414") is None
    # The command line's --select replaces the file's; its --ignore adds to the file's.
    selection = resolve(config, select=("SPC401", "SPC412"), ignore=("SPC401",))
    assert selection.codes == frozenset()


def _npz(path: Path, shape: tuple[int, ...], version: int = 1) -> None:
    header = "{'descr': '<i8', 'fortran_order': False, 'shape': " + repr(shape) + ", }"
    header += " " * (64 - (12 + len(header) + 1) % 64) + "\n"
    size = len(header).to_bytes(2 if version == 1 else 4, "little")
    data = b"\x93NUMPY" + bytes([version, 0]) + size + header.encode("latin-1")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("y.npy", data)


@pytest.mark.parametrize("version", [1, 2])
def test_npy_header(tmp_path: Path, version: int) -> None:
    _npz(tmp_path / "d.npz", (7, 3), version)
    assert npy_shape(tmp_path / "d.npz", "y") == (7, 3)
    assert npy_shape(tmp_path / "d.npz", "x") is None
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    assert npy_shape(tmp_path / "bad.npz", "y") is None
    assert npy_shape(tmp_path / "missing.npz", "y") is None


def test_one_hot_binary_labels(tmp_path: Path) -> None:
    _npz(tmp_path / "d.npz", (10, 2))
    spec = tmp_path / "m.spec"
    spec.write_text(
        """model m {
    input: (4,)
    Dense(1, activation=sigmoid)
}
train {
    data: npz("d.npz")
    loss: binary_crossentropy
}
""",
        encoding="utf-8",
    )
    assert "SPC408" in found("", spec)
    _npz(tmp_path / "d.npz", (10,))
    assert "SPC408" not in found("", spec)

"""SPC408 label-encoding: sparse vs categorical cross-entropy against the labels the data holds."""

from __future__ import annotations

from ast import literal_eval
from collections.abc import Iterator
from pathlib import Path

from specc.data import Npz
from specc.ir import Program
from specc.lint.base import Finding, W, rule
from specc.lint.facts import loss_sites

RULE = rule(
    "SPC408",
    "label-encoding",
    W,
    "sparse vs categorical cross-entropy does not match the labels",
    finds="`sparse_categorical_crossentropy` or `binary_crossentropy` on an npz data set whose labels "
    "`y` are one-hot rows (shape (N, C) with C > 1), read from the array header without loading "
    "the data. (Integer labels with `categorical_crossentropy` are fine: the program one-hot "
    "encodes them.)",
    why="The sparse loss takes one integer class id per example and binary cross-entropy one 0/1 "
    "value; one-hot rows are either rejected at run time, after the data has loaded, or silently "
    "read as the wrong labels.",
    bad="""
model m {
    input: (20,)
    Dense(5, activation=softmax)
}
train {
    data: npz("onehot.npz")    # y has shape (N, 5)
    loss: sparse_categorical_crossentropy
}
""",
    fix="Use categorical_crossentropy for one-hot labels (or store integer class ids in y).",
    good="""
train {
    data: npz("onehot.npz")
    loss: categorical_crossentropy
}
""",
)


def npy_shape(archive: Path, member: str) -> tuple[int, ...] | None:
    """The shape in the header of one .npy member of an .npz archive, or None when unreadable."""
    import zipfile  # only for npz data: keeps the linter's start-up small

    try:
        with zipfile.ZipFile(archive) as zf, zf.open(f"{member}.npy") as fh:
            head = fh.read(10)
            if head[:6] != b"\x93NUMPY":
                return None
            size = int.from_bytes(head[8:10], "little") if head[6] == 1 else None
            if size is None:  # format 2/3: a 4-byte header length
                size = int.from_bytes(head[8:10] + fh.read(2), "little")
            header = literal_eval(fh.read(size).decode("latin-1"))
            return tuple(header["shape"])
    except (OSError, KeyError, ValueError, SyntaxError, zipfile.BadZipFile, TypeError):
        return None


def label_shape(program: Program) -> tuple[int, ...] | None:
    """The shape of `y` in the npz archive the spec trains on, when it can be read."""
    data = program.train.data if program.train else None
    path = program.spec.source.path
    if not isinstance(data, Npz) or path is None:
        return None
    return npy_shape(path.parent / data.path, "y")


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report integer-label losses on one-hot npz labels."""
    shape = label_shape(program)
    if shape is None or len(shape) != 2 or shape[1] < 2:
        return
    for site in loss_sites(program):
        if site.loss.labels in ("sparse", "binary"):
            takes = "integer class ids" if site.loss.labels == "sparse" else "one 0/1 value per example"
            yield Finding(
                f"`{site.name}` takes {takes}, but the npz labels y have shape {shape}: one-hot rows",
                site.span,
                "use categorical_crossentropy for one-hot labels",
            )

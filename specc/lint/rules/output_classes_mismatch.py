"""SPC409 output-classes-mismatch: output units differ from the classes found next to the spec."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from specc.data import ImageFolder
from specc.ir import Program
from specc.lint.base import E, Finding, rule
from specc.lint.facts import head_span, loss_sites, output_units
from specc.lint.rules.label_encoding import label_shape

RULE = rule(
    "SPC409",
    "output-classes-mismatch",
    E,
    "the output units do not match the classes of the data on disk",
    finds="A classification loss where the number of output units differs from the number of classes "
    "that the data on disk holds: the sub-folders of an `image_folder`, or the width of one-hot "
    "labels in an npz archive. The front end checks the data sets whose classes it knows "
    "statically (SPC206); this rule looks at the files when they are there.",
    why="With fewer units than classes some labels are out of range (a crash mid-epoch, or silently "
    "wrong on some backends); with more, the model wastes probability mass on classes that never "
    "occur and its accuracy is misleading.",
    bad="""
model flowers {
    input: (224, 224, 3)
    base: resnet50(trainable=false)
    GlobalAveragePooling2D()
    Dense(10, activation=softmax)    # flowers/ has 5 class folders
}
train {
    data: image_folder("flowers")
    loss: sparse_categorical_crossentropy
}
""",
    fix="Give the output layer one unit per class (binary_crossentropy: one unit and two classes).",
    good="""
    Dense(5, activation=softmax)
""",
)


def folder_classes(root: Path) -> int | None:
    """How many class sub-folders an image folder has, or None when it cannot be listed."""
    try:
        return sum(1 for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return None


def data_classes(program: Program) -> tuple[int, str] | None:
    """(classes, where they were counted) from the files the data source reads."""
    data = program.train.data if program.train else None
    path = program.spec.source.path
    if data is None or path is None:
        return None
    if isinstance(data, ImageFolder):
        count = folder_classes(path.parent / data.path)
        return (count, f'class folders in "{data.path}"') if count else None
    shape = label_shape(program)
    if shape is not None and len(shape) == 2 and shape[1] > 1:
        return shape[1], f"one-hot columns in the npz labels {shape}"
    return None


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Compare the output units with the classes on disk."""
    found = data_classes(program)
    units = output_units(program)
    if found is None or units is None:
        return
    count, where = found
    for site in loss_sites(program):
        if not site.loss.classification:
            continue
        if site.loss.labels == "binary":
            if count != 2:
                yield Finding(
                    f"binary_crossentropy needs 2 classes, but there are {count} {where}",
                    site.span,
                    f"use sparse_categorical_crossentropy with Dense({count}, activation=softmax)",
                )
        elif units != count:
            yield Finding(
                f"the output has {units} units but there are {count} {where}",
                head_span(program, "units"),
                f"end with Dense({count}, ...)",
            )

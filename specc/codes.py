"""The one table of diagnostic codes: code -> name, severity, summary, explanation."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad a diagnostic is."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Code:
    """One stable diagnostic code."""

    code: str
    name: str
    severity: Severity
    summary: str
    explanation: str = ""


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO

_TABLE: tuple[Code, ...] = (
    # SPC0xx: reading and parsing the file.
    Code(
        "SPC001",
        "invalid-encoding",
        E,
        "the file is not valid UTF-8",
        "Spec files are UTF-8 text. Re-save the file as UTF-8.",
    ),
    Code(
        "SPC002",
        "nul-byte",
        E,
        "the file contains a NUL byte",
        "A NUL byte usually means a binary file was given where a spec was expected.",
    ),
    Code(
        "SPC003",
        "syntax-error",
        E,
        "the text does not follow the spec grammar",
        "Statements are `key: value` settings, `[name =] Layer(...)` calls and `name { ... }` blocks.",
    ),
    Code(
        "SPC004",
        "unexpected-character",
        E,
        "a character that cannot start any token",
        "Only names, numbers, double-quoted strings, brackets and punctuation may appear outside comments.",
    ),
    Code(
        "SPC005",
        "unterminated-string",
        E,
        "a string is not closed on its line",
        'Strings are written in double quotes on one line: "data/train.csv".',
    ),
    Code(
        "SPC006",
        "forbidden-string-character",
        E,
        "a string holds a control, line-break or bidi character",
        "Control, line-break (including U+2028, U+2029, U+0085) and bidirectional-override "
        "characters are rejected inside strings: they can hide what a string really says.",
    ),
    Code(
        "SPC007",
        "invalid-escape",
        E,
        'a string holds an escape other than \\" or \\\\',
        'Only \\" and \\\\ are escapes in spec strings.',
    ),
    Code(
        "SPC008",
        "number-too-long",
        E,
        "a number literal is longer than 30 digits",
        "Numbers longer than 30 digits are rejected; write large values in exponent form.",
    ),
    Code(
        "SPC009",
        "number-not-finite",
        E,
        "a number is infinite or not a number",
        "Every number in a spec must be finite.",
    ),
    Code(
        "SPC010",
        "nesting-too-deep",
        E,
        "brackets are nested too deeply",
        "Values may nest brackets at most 32 levels deep.",
    ),
    Code(
        "SPC011",
        "empty-file",
        E,
        "the file holds no model block",
        "A spec holds exactly one `model <name> { ... }` block.",
    ),
    Code(
        "SPC012",
        "file-too-large",
        E,
        "the file is larger than the configured limit",
        "Specs larger than the limit are rejected so that hostile input cannot exhaust resources.",
    ),
    Code(
        "SPC013",
        "too-many-layers",
        E,
        "the model has more layers than the configured limit",
        "Raise the limit with --max-layers if the model really is this deep.",
    ),
    Code(
        "SPC014",
        "too-many-parameters",
        E,
        "the model has more parameters than the configured limit",
        "Raise the limit with --max-params if the model really is this large.",
    ),
    Code(
        "SPC015",
        "unreadable-file",
        E,
        "the file cannot be read",
        "Check that the path exists and is a readable file.",
    ),
    # SPC1xx: structure, names and values.
    Code(
        "SPC101",
        "unknown-block",
        E,
        "a top-level block other than `model` or `train`",
        "A spec holds one `model <name> { ... }` block and at most one `train { ... }` block.",
    ),
    Code(
        "SPC102",
        "duplicate-block",
        E,
        "a second `model` or `train` block",
        "A spec holds exactly one model block and at most one train block.",
    ),
    Code(
        "SPC103",
        "missing-model",
        E,
        "the file has no `model` block",
        "Add `model <name> { input: (...) ... }`.",
    ),
    Code(
        "SPC104",
        "unknown-setting",
        E,
        "a setting that this block does not know",
        "See docs/language.md for the settings of each block.",
    ),
    Code(
        "SPC105",
        "missing-setting",
        E,
        "a required setting is missing",
        "The model block needs `input:`; a block name may be required too.",
    ),
    Code(
        "SPC106",
        "duplicate-setting",
        E,
        "a setting given twice in one block",
        "Each setting may appear once per block.",
    ),
    Code(
        "SPC107",
        "unknown-layer",
        E,
        "a layer type that specc does not know",
        "See docs/language.md for the list of layers.",
    ),
    Code(
        "SPC108",
        "unknown-argument",
        E,
        "an argument that this call does not take",
        "See docs/language.md for each call's parameters.",
    ),
    Code(
        "SPC109",
        "duplicate-argument",
        E,
        "an argument given twice",
        "Give each argument once, positionally or by keyword.",
    ),
    Code(
        "SPC110",
        "too-many-arguments",
        E,
        "more positional arguments than the call takes",
        "Name the extra arguments, or remove them.",
    ),
    Code(
        "SPC111",
        "missing-argument",
        E,
        "a required argument is missing",
        "See docs/language.md for each call's required arguments.",
    ),
    Code(
        "SPC112",
        "invalid-type",
        E,
        "a value of the wrong type",
        "Integers, floats, strings, names, booleans, tuples and lists are not interchangeable; "
        "`true` is not 1.",
    ),
    Code(
        "SPC113",
        "out-of-range",
        E,
        "a value outside its allowed range",
        "See docs/language.md for each parameter's range.",
    ),
    Code(
        "SPC114",
        "unknown-name",
        E,
        "a name that is not one of the allowed choices",
        "Activations, paddings, weights and similar settings take one of a fixed set of names.",
    ),
    Code(
        "SPC115",
        "duplicate-layer-name",
        E,
        "two layers with the same name",
        "Layer names must be unique within the model.",
    ),
    Code(
        "SPC116",
        "misplaced-statement",
        E,
        "a statement in the wrong place or order",
        "`input:` comes first in the model block, `base:` before the layers; stages live in `train`.",
    ),
    Code(
        "SPC117",
        "unknown-function",
        E,
        "an unknown loss, optimizer, data source, regularizer or backbone",
        "See docs/language.md for the names each setting takes.",
    ),
    Code(
        "SPC118",
        "unknown-selector",
        E,
        "a freeze/unfreeze selector that names nothing",
        "Selectors are `all`, `base`, `base.last(N)`, a layer name, or a list of these.",
    ),
    Code(
        "SPC119",
        "unsupported-in-stage",
        E,
        "a setting that a stage cannot override",
        "A stage may override loss, optimizer, epochs, batch_size, metrics and the trainable set.",
    ),
    Code(
        "SPC120",
        "unsafe-path",
        E,
        "a path that leaves the spec's folder",
        "Paths in a spec are relative to the spec file and may not leave its folder.",
    ),
    Code(
        "SPC121",
        "duplicate-stage-name",
        E,
        "two stages with the same name, or a stage called `main`",
        "Stage names must be unique, and `main` names the train block's own phase in the history.",
    ),
    # SPC2xx: shapes, data and the output.
    Code(
        "SPC201",
        "shape-mismatch",
        E,
        "a layer cannot take the shape it receives",
        "Each layer needs an input of a particular rank; add Flatten, pooling or Reshape.",
    ),
    Code(
        "SPC202",
        "kernel-too-large",
        E,
        "a kernel or pool window larger than its input",
        "Use padding=same, a smaller kernel, or fewer downsampling layers before it.",
    ),
    Code(
        "SPC203",
        "embedding-not-first",
        E,
        "an Embedding layer that is not the first layer",
        "Embedding maps integer token ids and must come first, right after the input.",
    ),
    Code(
        "SPC204",
        "reshape-size-mismatch",
        E,
        "a Reshape whose target size differs from its input",
        "The product of the target shape must equal the product of the input shape.",
    ),
    Code(
        "SPC205",
        "input-data-mismatch",
        E,
        "the model input cannot hold the data's features",
        "The input's size must equal the number of features of the data set.",
    ),
    Code(
        "SPC206",
        "output-loss-mismatch",
        E,
        "the output layer does not fit the loss or the labels",
        "Classification losses need one output per class (binary cross-entropy: one unit).",
    ),
    Code(
        "SPC207",
        "backbone-input",
        E,
        "a backbone input that is not an image the backbone can take",
        "Pretrained backbones take (height, width, 3) images of at least 32x32 pixels.",
    ),
    Code(
        "SPC208",
        "empty-model",
        E,
        "a model without any layer or backbone",
        "Add at least one layer after `input:`.",
    ),
    # SPC3xx: targets.
    Code(
        "SPC301",
        "unsupported-backbone",
        E,
        "the chosen target's library does not ship this backbone",
        "Pick a backbone that the target ships, or compile for the other target.",
    ),
    Code(
        "SPC302",
        "unsupported-layer",
        E,
        "the chosen target cannot express this layer",
        "Compile for a target that supports the layer.",
    ),
    Code(
        "SPC303",
        "missing-train-block",
        E,
        "compiling needs a `train` block",
        "Add `train { data: ... loss: ... optimizer: ... }`.",
    ),
    # SPC9xx: specc itself.
    Code(
        "SPC900",
        "internal-error",
        E,
        "an internal error in specc",
        "This is a bug in specc; please report it with the file that caused it.",
    ),
)

CODES: dict[str, Code] = {c.code: c for c in _TABLE}
BY_NAME: dict[str, Code] = {c.name: c for c in _TABLE}


def register(code: Code) -> Code:
    """Add a code to the table (lint rules register theirs); codes are unique."""
    if code.code in CODES and CODES[code.code] != code:
        raise ValueError(f"duplicate diagnostic code {code.code}")
    CODES[code.code] = code
    BY_NAME[code.name] = code
    return code


def lookup(code_or_name: str) -> Code:
    """The code with this code string or name; KeyError when unknown."""
    key = code_or_name.strip()
    return CODES.get(key.upper()) or BY_NAME[key.lower()]

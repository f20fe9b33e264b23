"""`specc compile --teach`: short explanatory comments above the line where each concept first appears.

A post-processor over the emitted program, so that it works for every target without touching the
emitters: it finds each concept's first line by the framework API it uses, inserts comment lines
with that line's indentation, and checks that the program's syntax tree did not change.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import unicodedata

from specc.ir import Program
from specc.targets.literal import literal
from specc.teach.concepts import keys_used
from specc.teach.texts import check_lang, concept, ui

WIDTH = 88  # ruff's default line length: generated programs are checked with `ruff check --isolated`

GROUP_LOSSES = (
    "mse",
    "mae",
    "huber",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
)
ACTIVATIONS = (
    "linear",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "leaky_relu",
    "elu",
    "gelu",
    "silu",
    "softplus",
)
_TORCH_ACT = {
    "relu": "ReLU",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "softmax": "Softmax",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "silu": "SiLU",
    "softplus": "Softplus",
}

# Concept -> regular expressions for the lines that show it, in PyTorch or Keras code.
ANCHORS: dict[str, tuple[str, ...]] = {
    "input": (r"^INPUT_SHAPE = ", r"keras\.Input\(", r"\.permute\(0, 3, 1, 2\)"),
    "transfer_learning": (
        r"keras\.applications\.[A-Z]\w*\(",
        r"models\.\w+\(\s*weights",
        r"torchvision\.models\.\w+\(",
    ),
    "feature_extraction": (
        r"\bbase\w*\.trainable = False",
        r"requires_grad_\(False\)",
        r"requires_grad = False",
    ),
    "dense": (r"layers\.Dense\(", r"nn\.Linear\("),
    "dropout": (r"layers\.Dropout\(", r"nn\.Dropout\("),
    "flatten": (r"layers\.Flatten\(", r"nn\.Flatten\(", r"\.flatten\(1\)"),
    "reshape": (r"layers\.Reshape\(", r"\.reshape\("),
    "batch_normalization": (r"layers\.BatchNormalization\(", r"nn\.BatchNorm[123]d\("),
    "layer_normalization": (r"layers\.LayerNormalization\(", r"nn\.LayerNorm\("),
    "convolution": (r"layers\.Conv[123]D\(", r"nn\.Conv[123]d\("),
    "pooling": (
        r"layers\.(Max|Average)Pooling[123]D\(",
        r"nn\.(Max|Avg)Pool[123]d\(",
        r"F\.(max|avg)_pool[123]d\(",
    ),
    "global_pooling": (
        r"layers\.Global(Average|Max)Pooling[123]D\(",
        r"nn\.Adaptive(Avg|Max)Pool[123]d\(",
        r"\.(mean|amax)\(dim=",
    ),
    "recurrent": (r"layers\.(SimpleRNN|LSTM|GRU)\(", r"nn\.(RNN|LSTM|GRU)\("),
    "embedding": (r"layers\.Embedding\(", r"nn\.Embedding\("),
    "mse": (r"losses\.MeanSquaredError\(", r"nn\.MSELoss\(", r"F\.mse_loss\(", r"\"mean_squared_error\""),
    "mae": (r"losses\.MeanAbsoluteError\(", r"nn\.L1Loss\(", r"F\.l1_loss\(", r"\"mean_absolute_error\""),
    "huber": (r"losses\.Huber\(", r"nn\.HuberLoss\(", r"F\.huber_loss\("),
    "binary_crossentropy": (
        r"losses\.BinaryCrossentropy\(",
        r"nn\.BCE(WithLogits)?Loss\(",
        r"F\.binary_cross_entropy",
    ),
    "categorical_crossentropy": (
        r"losses\.CategoricalCrossentropy\(",
        r"nn\.CrossEntropyLoss\(",
        r"F\.cross_entropy\(",
    ),
    "sparse_categorical_crossentropy": (
        r"losses\.SparseCategoricalCrossentropy\(",
        r"nn\.CrossEntropyLoss\(",
        r"F\.cross_entropy\(",
    ),
    "from_logits": (
        r"from_logits=True",
        r"nn\.CrossEntropyLoss\(",
        r"F\.cross_entropy\(",
        r"WithLogits",
        r"_with_logits\(",
    ),
    "label_smoothing": (r"label_smoothing=",),
    "sgd": (r"optimizers\.SGD\(", r"optim\.SGD\("),
    "adam": (r"optimizers\.Adam\(", r"optim\.Adam\("),
    "rmsprop": (r"optimizers\.RMSprop\(", r"optim\.RMSprop\("),
    "adamw": (r"optimizers\.AdamW\(", r"optim\.AdamW\("),
    "weight_decay": (r"weight_decay / 2", r"optim\.(SGD|Adam|RMSprop)\("),
    "l1": (r"regularizers\.L1\(", r"^PENALTIES = ", r"\.abs\(\)\.sum\(\)"),
    "l2": (
        r"regularizers\.L2\(",
        r"^PENALTIES = ",
        r"\.pow\(2\)\.sum\(\)",
        r"\.square\(\)\.sum\(\)",
        r"\*\* ?2\)\.sum\(\)",
    ),
    "l1_l2": (r"regularizers\.L1L2\(", r"^PENALTIES = "),
    "freezing": (r"\.trainable = ", r"requires_grad_\("),
    "training": (r"^def train\(", r"^def fit\(", r"^def train_phase\("),
    "metrics": (r"^def \w*accuracy\w*\(", r"metrics=[\[(]"),
    "device": (r"^def pick_device\(", r"torch\.device\("),
    "seed": (r"set_random_seed\(", r"torch\.manual_seed\("),
    "mixed_precision": (r"^def set_precision\(", r"torch\.autocast\(", r"mixed_precision"),
}
for _loss in GROUP_LOSSES:
    # The PyTorch program builds its loss in one function, whatever class it uses.
    ANCHORS[_loss] += (r"^def build_loss\(",)
ANCHORS["binary_crossentropy"] += (r"nn\.BCEWithLogitsLoss\b",)
for _name in ACTIVATIONS:
    _patterns = [rf"activation=\"{_name}\"", rf"Activation\(\"{_name}\""]
    if _name in _TORCH_ACT:
        _patterns += [rf"nn\.{_TORCH_ACT[_name]}\(", rf"F\.{_name}\(", rf"torch\.{_name}\("]
    ANCHORS[_name] = tuple(_patterns)
ANCHORS["relu"] += (r"layers\.ReLU\(",)
ANCHORS["softmax"] += (r"layers\.Softmax\(",)

# Families: their one-line introduction goes with the first member that appears.
GROUPS: dict[str, tuple[str, ...]] = {
    "activation": ACTIVATIONS,
    "loss": GROUP_LOSSES,
    "optimizer": ("sgd", "adam", "rmsprop", "adamw"),
    "regularization": ("l1", "l2", "l1_l2", "weight_decay"),
}
_GROUP_OF = {member: group for group, members in GROUPS.items() for member in members}


def display_width(text: str) -> int:
    """Columns a line takes, wide (CJK) characters counting two, as ruff measures line length."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, indent: str) -> list[str]:
    """Comment lines of at most WIDTH columns (wide characters count two)."""
    room = WIDTH - len(indent) - 2
    lines: list[str] = []
    for word in text.split():
        if lines and display_width(lines[-1]) + 1 + display_width(word) <= room:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return [f"{indent}# {line}".rstrip() for line in lines]


def unsafe_lines(code: str) -> set[int]:
    """1-based lines where a comment cannot go: inside multi-line strings or after a backslash."""
    unsafe: set[int] = set()
    starts: list[int] = []  # open f-strings (Python 3.12 tokenizes them piecewise)
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        name = tokenize.tok_name[tok.type]
        if name == "STRING":
            unsafe.update(range(tok.start[0] + 1, tok.end[0] + 1))
        elif name == "FSTRING_START":
            starts.append(tok.start[0])
        elif name == "FSTRING_END" and starts:
            unsafe.update(range(starts.pop() + 1, tok.end[0] + 1))
    for number, line in enumerate(code.splitlines(), 1):
        if line.rstrip().endswith("\\"):
            unsafe.add(number + 1)
    return unsafe


class _Layout:
    """Bracket structure of a program: where a comment line stays put under `ruff format`."""

    def __init__(self, code: str) -> None:
        self.tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline)]
        self.first: dict[int, int] = {}  # line -> index of its first real token
        self.opener: dict[int, int] = {}  # line -> line of the innermost bracket open at its start
        stack: list[int] = []
        for index, tok in enumerate(self.tokens):
            if tok.type in (
                tokenize.NL,
                tokenize.NEWLINE,
                tokenize.INDENT,
                tokenize.DEDENT,
                tokenize.COMMENT,
            ):
                continue
            line = tok.start[0]
            if line not in self.first:
                self.first[line] = index
                if stack:
                    self.opener[line] = stack[-1]
            if tok.type == tokenize.OP and tok.string in "([{":
                stack.append(line)
            elif tok.type == tokenize.OP and tok.string in ")]}" and stack:
                stack.pop()

    def stable(self, line: int) -> bool:
        """Whether a comment above `line` keeps its place: a statement start or one exploded element."""
        if line not in self.opener:
            return True
        depth = 0
        for index in range(self.first[line], len(self.tokens)):
            tok = self.tokens[index]
            if tok.type != tokenize.OP:
                continue
            if tok.string in "([{":
                depth += 1
            elif tok.string in ")]}":
                depth -= 1
                if depth < 0:
                    return False  # the last element without a trailing comma: may be re-joined
            elif tok.string == "," and depth == 0:
                following = self.tokens[index + 1]
                return following.type in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT)
        return False

    def place(self, line: int) -> int:
        """The nearest line at or above `line`, in the same statement, where a comment is stable."""
        while not self.stable(line):
            line = self.opener[line]
        return line


def _clause(line: str) -> bool:
    """Lines that continue a compound statement: a comment above them would re-attach on formatting."""
    return bool(re.match(r"\s*(else|elif|except|finally|case)\b", line))


def anchors(code: str, program: Program) -> dict[int, list[str]]:
    """0-based line index -> concept keys first shown on that line, for the concepts the spec uses."""
    lines = code.splitlines()
    unsafe = unsafe_lines(code)
    layout = _Layout(code)
    patterns = dict(ANCHORS)
    if program.train is not None:
        stages = [p for p in program.train.phases[1:] if p.rebuild]
        if stages:
            # The stage's own entry in the program's phase list: its name as a string literal.
            patterns["fine_tuning"] = (re.escape(literal(stages[0].name)), r"^def set_trainable\(")
    result: dict[int, list[str]] = {}
    for key in keys_used(program):
        for index, line in enumerate(lines):
            if index + 1 in unsafe or line.lstrip().startswith("#") or _clause(line):
                continue
            if any(re.search(p, line) for p in patterns.get(key, ())):
                placed = layout.place(index + 1) - 1
                if key not in result.get(placed, []):
                    result.setdefault(placed, []).append(key)
                break
    return result


def comment_block(keys: list[str], indent: str, lang: str, done: set[str]) -> list[str]:
    """The comment lines for the concepts first shown on one line (with their family's intro)."""
    out: list[str] = []
    for key in keys:
        group = _GROUP_OF.get(key)
        if group and group not in done:
            done.add(group)
            out += wrap(concept(group, lang).short, indent)
        out += wrap(concept(key, lang).short, indent)
    return out


def annotate(code: str, program: Program, target: str, lang: str = "en") -> str:
    """The program with teaching comments; the syntax tree is unchanged, or ValueError."""
    check_lang(lang)
    if ui("teach_header", lang) in code:
        return code  # already annotated (a target may call this itself)
    before = ast.dump(ast.parse(code))
    lines = code.splitlines()
    found = anchors(code, program)
    done: set[str] = set()
    out: list[str] = []
    for index, line in enumerate(lines):
        if index in found:
            indent = line[: len(line) - len(line.lstrip())]
            out += comment_block(found[index], indent, lang, done)
        out.append(line)
    out = _header(out, lang)
    text = "\n".join(out) + "\n"
    if ast.dump(ast.parse(text)) != before:  # comments never change the tree; anything else is a bug
        raise ValueError(f"teaching comments changed the {target} program")
    return text


def _header(lines: list[str], lang: str) -> list[str]:
    """A note after the leading comment lines saying what the comments are."""
    head = 0
    while head < len(lines) and lines[head].startswith("#"):
        head += 1
    note = wrap(ui("teach_header", lang), "")
    return lines[:head] + note + lines[head:]

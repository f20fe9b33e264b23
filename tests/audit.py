"""AST audit of generated programs: allowlisted imports, nothing that runs foreign code, no spec text as code.

Use `audit(code)` for the list of problems (empty when the program passes) or `assert_audited(code)`
in a test. `markers` are substrings that came from a spec (names, paths, payloads): they may appear
inside string constants only, never in identifiers, comments, docstrings or any other token.
`renamed(text, program)` rewrites a spec so every name it gives (model, layers, stages, and the
references to them) carries a unique marker, so any spec name that leaks into code is found.
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from collections.abc import Iterable

from specc.ir import Program
from specc.source import Source, Span

# Top-level modules a generated program may import: the frameworks, their helpers, and the
# parts of the standard library a training script needs.
THIRD_PARTY = frozenset(
    {"torch", "torchvision", "keras", "tensorflow", "numpy", "sklearn", "safetensors", "matplotlib", "tqdm"}
)
STDLIB = frozenset(
    {"__future__", "argparse", "collections", "contextlib", "csv", "dataclasses", "datetime", "errno"}
    | {"functools", "hashlib", "io", "itertools", "json", "logging", "math", "os", "pathlib", "platform"}
    | {"random", "re", "shutil", "signal", "stat", "sys", "tempfile", "time", "typing", "warnings"}
)
ALLOWED_MODULES = THIRD_PARTY | STDLIB

# Builtins that turn data into code, or open a debugger.
BANNED_BUILTINS = frozenset({"eval", "exec", "compile", "__import__", "breakpoint", "execfile"})
# Attributes that run commands or reach into interpreter internals.
BANNED_ATTRIBUTES = frozenset(
    {"system", "popen", "startfile", "execv", "execve", "execvp", "execvpe", "execl", "execle", "execlp"}
    | {"spawnv", "spawnve", "spawnl", "spawnle", "fork", "forkpty", "posix_spawn", "posix_spawnp"}
    | {"__reduce__", "__reduce_ex__", "__globals__", "__builtins__", "__subclasses__", "__code__"}
    | {"read_pickle", "unsafe_deserialization"}
)
# Modules that deserialize code or start processes: named anywhere (even as an attribute) they fail.
BANNED_MODULE_NAMES = frozenset(
    {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "marshal", "shelve", "subprocess", "importlib"}
    | {"ctypes", "pty", "runpy", "code", "codeop"}
)


def _dotted(node: ast.AST) -> str:
    """`torch.hub.load` for an attribute chain, '' for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    """The value of keyword `name` in a call, if given."""
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_const(node: ast.expr | None, value: object) -> bool:
    """Whether a node is the constant `value` (identity for True/False/None)."""
    return isinstance(node, ast.Constant) and node.value is value


def _check_call(call: ast.Call, where: str) -> list[str]:
    """Calls that load weights must refuse code: weights_only, no pickles, Keras safe mode."""
    name = _dotted(call.func)
    last = name.rsplit(".", 1)[-1]
    problems: list[str] = []
    if name in ("torch.load", "th.load"):
        if not _is_const(_keyword(call, "weights_only"), True):
            problems.append(f"{where}: torch.load without weights_only=True")
    if name.startswith(("torch.hub.", "torch.package")) and last in ("load", "PackageImporter"):
        problems.append(f"{where}: {name} runs code from a repository or package")
    if (
        last == "load"
        and name.split(".")[0] in ("np", "numpy")
        and _keyword(call, "allow_pickle") is not None
    ):
        if not _is_const(_keyword(call, "allow_pickle"), False):
            problems.append(f"{where}: {name} with allow_pickle")
    if last in ("load_model", "load_weights"):
        safe = _keyword(call, "safe_mode")
        if safe is not None and not _is_const(safe, True):
            problems.append(f"{where}: {name} with safe_mode other than True")
    if last == "enable_unsafe_deserialization":
        problems.append(f"{where}: {name} turns Keras safe mode off")
    return problems


def _docstrings(tree: ast.Module) -> list[str]:
    """Every module, class and function docstring."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc is not None:
                found.append(doc)
    return found


def _identifiers(tree: ast.Module) -> Iterable[tuple[str, int]]:
    """Every identifier in the program with its line."""
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name):
            yield node.id, line
        elif isinstance(node, ast.Attribute):
            yield node.attr, line
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name, line
        elif isinstance(node, ast.arg):
            yield node.arg, line
        elif isinstance(node, ast.keyword) and node.arg:
            yield node.arg, line
        elif isinstance(node, ast.alias):
            yield node.name, line
            if node.asname:
                yield node.asname, line
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                yield name, line
        elif isinstance(node, ast.ExceptHandler) and node.name:
            yield node.name, line


def _code_tokens(code: str) -> Iterable[tuple[str, str, int]]:
    """(kind, text, line) of every token that is not a string literal: names, operators, comments."""
    skip = {tokenize.STRING, tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT}
    skip |= {tokenize.ENDMARKER, tokenize.ENCODING}
    # Python 3.12 splits f-strings into parts; their literal middles are string text too.
    skip |= {getattr(tokenize, "FSTRING_START", -1), getattr(tokenize, "FSTRING_MIDDLE", -1)}
    skip |= {getattr(tokenize, "FSTRING_END", -1)}
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type not in skip:
            kind = "comment" if token.type == tokenize.COMMENT else "code"
            yield kind, token.string, token.start[0]


def audit(code: str, markers: Iterable[str] = ()) -> list[str]:
    """The problems of a generated program; an empty list means it passes."""
    try:
        tree = ast.parse(code)
    except SyntaxError as err:
        return [f"line {err.lineno}: not valid Python: {err.msg}"]
    problems: list[str] = []
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""] if node.level == 0 else ["<relative>"]
        else:
            modules = []
        for module in modules:
            if module.split(".")[0] not in ALLOWED_MODULES:
                problems.append(f"{where}: imports {module}, which is not on the allowlist")
        if isinstance(node, ast.Name) and node.id in BANNED_BUILTINS:
            problems.append(f"{where}: uses {node.id}")
        if isinstance(node, ast.Name) and node.id in BANNED_MODULE_NAMES:
            problems.append(f"{where}: uses the {node.id} module")
        if isinstance(node, ast.Attribute):
            if node.attr in BANNED_ATTRIBUTES:
                problems.append(f"{where}: uses .{node.attr}")
            if node.attr in BANNED_MODULE_NAMES or _dotted(node).startswith("os.exec"):
                problems.append(f"{where}: uses {_dotted(node) or node.attr}")
        if isinstance(node, ast.Call):
            problems.extend(_check_call(node, where))
    wanted = [m for m in markers if m]
    if wanted:
        for ident, line in _identifiers(tree):
            problems += [f"line {line}: identifier {ident!r} holds spec text" for m in wanted if m in ident]
        for kind, text, line in _code_tokens(code):
            problems += [
                f"line {line}: spec text {m!r} in a {kind} token {text!r}" for m in wanted if m in text
            ]
        for doc in _docstrings(tree):
            problems += [f"spec text {m!r} in a docstring" for m in wanted if m in doc]
    return problems


def assert_audited(code: str, markers: Iterable[str] = ()) -> None:
    """Fail the test with every audit problem of a generated program."""
    problems = audit(code, markers)
    assert not problems, "generated program fails the audit:\n" + "\n".join(problems)


def _offset(source: Source, line: int, column: int) -> int:
    """The character offset of a 1-based line:column in the source text."""
    lines = source.text.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + column - 1


def name_spans(program: Program) -> list[tuple[Span, str]]:
    """Where the spec writes a name of its own (model, layers, stages, selectors) and the name."""
    spec = program.spec
    found = [(spec.model.name_span, spec.model.name)]
    given = {d.name: d.name_span for d in spec.model.layers if d.name and d.name_span}
    found += [(span, name) for name, span in given.items()]
    if spec.train is not None:
        for stage in spec.train.stages:
            found.append((stage.name_span, stage.name))
            for selector in (*stage.unfreeze, *stage.freeze):
                # Automatic names (`dense_1`) come from specc, not the spec: they stay as they are.
                if selector.kind == "layer" and selector.layer in given:
                    found.append((selector.span, selector.layer))
    return found


def renamed(text: str, program: Program, marker: str = "zqx") -> tuple[str, list[str]]:
    """The spec text with every name it gives replaced by a unique marker name, and those markers."""
    source = program.spec.source
    if source.text != text:
        raise ValueError("renamed() needs the exact text the program was loaded from")
    mapping: dict[str, str] = {}
    edits: list[tuple[int, int, str]] = []
    for span, name in name_spans(program):
        start = _offset(source, span.line, span.column)
        end = _offset(source, span.end_line, span.end_column)
        if source.text[start:end] != name:
            raise ValueError(f"span of {name!r} does not hold it: {source.text[start:end]!r}")
        new = mapping.setdefault(name, f"{marker}{len(mapping)}_{name}")
        edits.append((start, end, new))
    out = text
    for start, end, new in sorted(set(edits), reverse=True):
        out = out[:start] + new + out[end:]
    return out, sorted({m.split("_", 1)[0] + "_" for m in mapping.values()})


if __name__ == "__main__":
    # `python tests/audit.py program.py ...`: audit programs by hand.
    failed = 0
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as fh:
            found = audit(fh.read())
        for problem in found:
            print(f"{path}: {problem}")
        failed |= bool(found)
    sys.exit(failed)

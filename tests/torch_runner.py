"""Run many generated PyTorch programs in one interpreter (torch is imported once, not per program).

Usage: python tests/torch_runner.py MODE OUT_DIR PROGRAM.py... where MODE is `build` (build-only
counts plus a forward pass checked against the spec's output shape) or `smoke` (one short epoch).
Prints one JSON object per program on stdout; a failing program reports its error and the exit
status is 1.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
import time
import traceback
from pathlib import Path


def load(path: Path) -> object:
    """Import a generated program as a module (its main() is not run on import)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(module: object, path: Path, out: Path, data_dir: str) -> dict[str, object]:
    """--build-only counts, and the output shape of a forward pass on a batch of two."""
    import torch

    argv = ["--build-only", "--no-pretrained", "--out", str(out), "--data-dir", data_dir]
    with contextlib.redirect_stdout(io.StringIO()):
        module.main(argv)  # type: ignore[attr-defined]
    counts = json.loads((out / "summary.json").read_text())
    torch.manual_seed(0)
    build_model = module.build_model  # type: ignore[attr-defined]
    params = build_model.__code__.co_varnames[: build_model.__code__.co_argcount]
    kwargs = {"pretrained": False} if "pretrained" in params else {}
    if "data_dir" in params:
        kwargs["data_dir"] = Path(data_dir)
    model = build_model(**kwargs).eval()
    shape = tuple(module.INPUT_SHAPE) if hasattr(module, "INPUT_SHAPE") else None  # type: ignore[attr-defined]
    if shape is None:  # image folders: channels-first images
        height, width = module.IMAGE_SIZE  # type: ignore[attr-defined]
        x = torch.zeros(2, 3, height, width)
    else:
        token = any(isinstance(m, torch.nn.Embedding) for m in model.modules())
        x = torch.zeros(2, *shape, dtype=torch.int64) if token else torch.rand(2, *shape)
        if "movedim(-1, 1)" in path.read_text():
            x = x.movedim(-1, 1)
    with torch.no_grad():
        y = model(x)
    return {"counts": counts, "output_shape": list(y.shape[1:])}


def smoke(module: object, path: Path, out: Path, data_dir: str) -> dict[str, object]:
    """One epoch of at most two steps of two examples; the metrics it wrote."""
    argv = ["--epochs", "1", "--max-steps", "2", "--batch-size", "2", "--no-pretrained"]
    argv += ["--out", str(out), "--data-dir", data_dir]
    with contextlib.redirect_stdout(io.StringIO()) as text:
        module.main(argv)  # type: ignore[attr-defined]
    history = json.loads((out / "metrics.json").read_text())["history"]
    return {"history": history, "stdout": text.getvalue()}


def main() -> int:
    """Run every program given; one JSON line each."""
    mode, out_root, data_dir, *programs = sys.argv[1:]
    status = 0
    for program in programs:
        path = Path(program)
        out = Path(out_root) / path.stem
        out.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        try:
            module = load(path)
            result = (build if mode == "build" else smoke)(module, path, out, data_dir)
            result["ok"] = True
        except BaseException:  # a SystemExit from a program is a failure too
            result = {"ok": False, "error": traceback.format_exc()}
            status = 1
        result["program"] = path.stem
        result["seconds"] = round(time.perf_counter() - start, 2)
        print(json.dumps(result), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())

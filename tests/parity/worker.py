"""Run generated programs of one framework in one process, for the parity suite.

`python tests/parity/worker.py JOBS.json RESULTS.json`: each job is {"program": path, "argv": [...]}
(run the program's main() with that command line) or {"program": path, "trainable": true} (list,
per phase, the portable weight keys that train). Only one framework is imported here: the suite
runs torch and Keras in separate processes, as a user moving weights between them would.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
import traceback
from pathlib import Path
from typing import Any


def load(index: int, path: str) -> Any:
    """Import a generated program as a fresh module (main() is not run on import)."""
    spec = importlib.util.spec_from_file_location(f"parity_program_{index}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def trainable_keys(module: Any) -> list[list[str]]:
    """Per phase, the portable keys of the weights that train after set_trainable(model, phase)."""
    if hasattr(module, "PHASES"):  # torch: build_model(), PHASES, requires_grad
        model = module.build_model()
        keys = []
        for phase in module.PHASES:
            module.set_trainable(model, phase)
            weights = module.portable_weights(model)
            keys.append(sorted(k for k, t in weights.items() if t.requires_grad))
        return keys
    model = module.build_model()  # Keras: make_phases(), layer.trainable
    keys = []
    for phase in module.make_phases():
        module.set_trainable(model, phase)
        train = {id(w) for w in model.trainable_weights}
        weights = module.model_weights(model)
        keys.append(sorted(k for k, w in weights.items() if id(w) in train))
    return keys


def run(index: int, job: dict[str, Any]) -> dict[str, Any]:
    """One job; a SystemExit with a message is reported, not raised."""
    result: dict[str, Any] = {"ok": False, "error": ""}
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            module = load(index, job["program"])
            if job.get("trainable"):
                result["trainable"] = trainable_keys(module)
            else:
                module.main(job["argv"])
        result["ok"] = True
    except SystemExit as exit:
        result["ok"] = not exit.code
        result["error"] = str(exit.code)
    except BaseException:  # noqa: BLE001 - reported to the test, which fails with it
        result["error"] = traceback.format_exc()
    result["output"] = out.getvalue()[-2000:]
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()
    return result


def main() -> None:
    """Run every job in order and write the results."""
    jobs = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    results = [run(i, job) for i, job in enumerate(jobs)]
    Path(sys.argv[2]).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

"""Run generated Keras programs in one Python process, so TensorFlow (or torch) is imported once.

`python tests/keras_runner.py JOBS.json RESULTS.json`: each job is {"program": path, "argv": [...],
"interrupt_after": N (optional)}, or {"program": path, "call": code} to run a test's code with the
imported program as `module`, its `result` returned as "value". A job with `interrupt_after` stops
the program right after it has written the checkpoint of epoch N, as a killed run would. Each result
is {"ok": bool, "output": the tail of what the program printed, "error": the traceback or exit
message}.
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


class Interrupted(Exception):
    """Raised after a chosen epoch's checkpoint, standing in for a killed process."""


def run(index: int, job: dict[str, Any]) -> dict[str, Any]:
    """Import the program fresh and call its main() with the job's arguments."""
    spec = importlib.util.spec_from_file_location(f"keras_program_{index}", job["program"])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    out = io.StringIO()
    result: dict[str, Any] = {"ok": False, "error": ""}
    try:
        with contextlib.redirect_stdout(out):
            spec.loader.exec_module(module)
            stop = job.get("interrupt_after")
            if stop is not None:
                save = module.save_checkpoint

                def save_then_stop(path: Path, model: Any, state: dict[str, Any]) -> None:
                    save(path, model, state)
                    if state["epoch"] == stop:
                        raise Interrupted

                module.save_checkpoint = save_then_stop
            if "call" in job:
                # A test's own check against the program's functions (tests only, never user input).
                namespace = {"module": module, "result": None}
                exec(job["call"], namespace)
                result["value"] = namespace["result"]
            else:
                module.main(job["argv"])
        result["ok"] = job.get("interrupt_after") is None
        if not result["ok"]:
            result["error"] = "the run was not interrupted"
    except Interrupted:
        result["ok"] = True
    except SystemExit as exit:
        result["ok"] = not exit.code
        result["error"] = f"SystemExit: {exit.code}"
    except BaseException:
        result["error"] = traceback.format_exc()
    result["output"] = out.getvalue()[-4000:]
    import keras

    keras.backend.clear_session()
    return result


def main() -> None:
    """Run every job in order and write the results."""
    jobs = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    results = [run(i, job) for i, job in enumerate(jobs)]
    Path(sys.argv[2]).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

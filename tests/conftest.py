"""Shared test set-up: every program a target generates during the test session passes the AST audit."""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable
from importlib import import_module

import pytest
from audit import assert_audited


def _audited(emit: Callable[..., str]) -> Callable[..., str]:
    """Wrap a target's `emit` so a program that fails the audit fails the test that generated it."""

    @functools.wraps(emit)
    def wrapper(*args: object, **kwargs: object) -> str:
        code = emit(*args, **kwargs)
        assert_audited(code)
        return code

    wrapper.__audited__ = True  # type: ignore[attr-defined]
    return wrapper


def _import_torchvision_first() -> None:
    """Import torchvision before anything imports keras: the other order segfaults in one process.

    (keras/TensorFlow first, then torchvision -> torch._dynamo -> triton crashes with SIGSEGV on
    torch 2.14 + TensorFlow 2.21; torchvision first is fine.) Tests that use both frameworks in the
    pytest process would otherwise crash the whole run depending on test order.
    """
    from importlib.util import find_spec

    if find_spec("torchvision") is not None:
        import_module("torchvision")


def pytest_configure(config: pytest.Config) -> None:
    """Give specc a cache folder of its own; replace each target's `emit` with the audited one."""
    from specc.targets import TARGETS

    # The session's own cache folder (parser and check results), inherited by every `specc`
    # subprocess: no test reads a result the user's cache holds, or leaves one there.
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="specc-test-cache-")
    # Tests replace specc's internals to provoke bugs and failures; a cached result would skip
    # them depending on test order. tests/test_check_cache.py turns the cache back on.
    os.environ["SPECC_NO_CACHE"] = "1"
    _import_torchvision_first()

    for name in TARGETS:
        try:
            module = import_module(f"specc.targets.{name}")
        except Exception:  # noqa: BLE001 - a target mid-rewrite: its own tests report the error
            continue
        if not getattr(module.emit, "__audited__", False):
            module.emit = _audited(module.emit)

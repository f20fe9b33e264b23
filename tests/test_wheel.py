"""The built wheel ships the grammar and works when installed on its own, outside the source tree.

Building needs hatchling: taken from the running environment when installed, else fetched from
PyPI by pip's build isolation (the only network this test may use).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout."""
    out = tmp_path_factory.mktemp("wheel")
    # Build from a copy so that the build never writes into the checkout.
    src = out / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(".git", ".venv", "venv", "__pycache__", "*.egg-info", "build", "dist"),
    )
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    cmd = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-w", str(out), *isolation]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    (path,) = out.glob("specc-*.whl")
    return path


def test_wheel_contains_the_grammar(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "specc/grammar/specc.lark" in names
    assert "specc/cli.py" in names
    assert not any(n.startswith("tests/") for n in names)


def test_installed_wheel_checks_an_example(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bindir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    python = bindir / "python"
    install = [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)]
    subprocess.run(install, check=True, timeout=300)
    # lark and pydantic come from this environment (offline): a .pth line adds its site-packages
    # after the new venv's own, and .pth files there (an editable specc) are not processed.
    purelib = Path(sysconfig.get_paths()["purelib"])
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "specc_test_deps.pth").write_text(f"{purelib}\n", encoding="utf-8")
    example = tmp_path / "digits_mlp.spec"
    shutil.copy(ROOT / "examples" / "digits_mlp.spec", example)
    where = subprocess.run(
        [str(python), "-c", "import specc; print(specc.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert str(site) in where.stdout, where.stdout
    for args in (["check", str(example)], ["summary", str(example), "--target", "keras"]):
        result = subprocess.run(
            [str(bindir / "specc"), *args], capture_output=True, text=True, cwd=tmp_path, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert "Total params: 9,610" in result.stdout

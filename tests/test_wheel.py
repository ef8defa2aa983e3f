"""Installed from a wheel, outside the checkout, sopflow ships its four SOPs (issue 15).

The wheel is built from this tree, installed into a fresh virtual environment (its
dependencies come from the test's own environment: nothing is downloaded), and the demo
and ``show`` run from an empty folder, where no ``bpmn/`` exists.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*ROOT.glob("bpmn/*.bpmn"), *ROOT.glob("bpmn/tables/*.toml")])


def _run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # no network: the build backend comes from the already-installed setuptools
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", out, ROOT, cwd=out)
    [found] = out.glob("sopflow-*.whl")
    return found


def test_the_wheel_holds_the_four_sops_byte_for_byte(wheel: Path) -> None:
    assert len(SOURCES) == 8
    with zipfile.ZipFile(wheel) as archive:
        for source in SOURCES:
            name = "sopflow/_data/catalog/" + source.relative_to(ROOT / "bpmn").as_posix()
            assert archive.read(name) == source.read_bytes(), name


@pytest.mark.slow
def test_the_demo_runs_from_an_empty_folder_after_installing_the_wheel(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                     cwd=tmp_path).strip())
    # the dependencies (not sopflow) from this environment
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
         "--no-index", "-q", wheel, cwd=tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPFLOW_", "PYTHON"))}
    where = _run(python, "-c", "import sopflow, sys; print(sopflow.__file__)", cwd=empty, env=env)
    assert str(venv) in where  # the installed copy, not the checkout
    out = _run(venv / "bin" / "sopflow", "demo", "--weeks", "1", cwd=empty, env=env)
    assert "purbalingga_pengukuran_kinerja" in out
    assert (empty / "demo-report.html").is_file()
    shown = _run(venv / "bin" / "sopflow", "show", "purbalingga_pengukuran_kinerja",
                 cwd=empty, env=env)
    assert "Mutu Baku" in shown or "Waktu" in shown

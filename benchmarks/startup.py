"""CLI start: ``sopflow --help`` and ``sopflow inbox`` on a small store against a bare
interpreter, interleaved in one loop (issue 14: 30 x and 40 x before).

Each command runs with its modules' bytecode cached (as an installed package has it),
after one warm-up run of each."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import ROOT, interleaved, ratio


def _sopflow() -> list[str]:
    script = Path(sys.executable).with_name("sopflow")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sopflow"]


def startup(workdir: Path, runs: int) -> dict[str, Any]:
    db = f"sqlite:///{workdir / 'small.db'}"
    catalog = str(ROOT / "bpmn")
    # Bytecode as an installed package has it: an environment with
    # PYTHONDONTWRITEBYTECODE (this project's shells) would otherwise compile every
    # module on every start and measure the compiler. Written to a cache of this run.
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        "PYTHONPYCACHEPREFIX": str(workdir / "pycache"),
        "SOPFLOW_DB": db,
        "SOPFLOW_CATALOG": catalog,
    }
    for _ in range(3):
        subprocess.run(
            [
                *_sopflow(),
                "start",
                "purbalingga_pengukuran_kinerja",
                "--actor",
                "a",
                "--role",
                "camat",
            ],
            env=env,
            check=True,
            capture_output=True,
        )

    def run(cmd: list[str]) -> float:
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        return (time.perf_counter() - t0) * 1000

    bare = [sys.executable, "-c", "pass"]
    for warm in (bare, [*_sopflow(), "--help"], [*_sopflow(), "inbox"]):
        run(warm)  # fills the bytecode cache
    figures = interleaved(
        max(runs, 10),
        {
            "python_c_pass": lambda: run(bare),
            "sopflow_help": lambda: run([*_sopflow(), "--help"]),
            "sopflow_inbox": lambda: run([*_sopflow(), "inbox"]),
        },
        "ms",
    )
    return {
        **figures,
        "help_over_bare": ratio(figures["sopflow_help"], figures["python_c_pass"]),
        "inbox_over_bare": ratio(figures["sopflow_inbox"], figures["python_c_pass"]),
    }

"""The README's command sequence runs as written (issue 15: its `complete INSTANCE 10`
failed right after `start`). The block is read from README.md itself, so editing the
README without keeping it runnable fails here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```sh\n(.*?)```", text, re.S) if "sopflow start" in b]
    return block


def test_the_readme_example_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "bpmn").symlink_to(ROOT / "bpmn")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPFLOW_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _example()],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "ready: step_03" in done.stdout
    assert (tmp_path / "laporan.html").is_file() and (tmp_path / "sop.html").is_file()

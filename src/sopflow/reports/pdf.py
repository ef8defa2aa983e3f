"""The SOP document as PDF, printed by headless Chromium (the renderer `make test-document`
already uses), because no well-kept pure-Python library among sopflow's dependencies lays
out its HTML (fixed-height rows, one SVG per A4 page) faithfully, and adding WeasyPrint
(Pango, cairo) for one endpoint would be the heavy dependency the project avoids.

Chromium is found at ``SOPFLOW_CHROMIUM``, else ``chromium`` / ``chromium-browser`` on
the PATH; without it, :class:`~sopflow.errors.RendererUnavailableError` says what to
install. It runs offline (networking features off) on a file in a private temporary
directory: the document is self-contained, so nothing is fetched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sopflow.errors import RendererUnavailableError

__all__ = ["find_chromium", "html_to_pdf"]

#: seconds one document may take to print (a 20-page SOP takes about two)
TIMEOUT = 60


def find_chromium() -> str | None:
    """The Chromium executable to print with, or None when there is none."""
    given = os.environ.get("SOPFLOW_CHROMIUM")
    if given:
        return given if os.access(given, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def html_to_pdf(html: str, *, chromium: str | None = None) -> bytes:
    """``html`` (a self-contained document) printed to PDF, A4 as its CSS says."""
    executable = chromium or find_chromium()
    if executable is None:
        raise RendererUnavailableError(
            "no headless Chromium to print the PDF (install Debian's chromium, "
            "apt-get install chromium, or set SOPFLOW_CHROMIUM); the HTML document works"
        )
    with tempfile.TemporaryDirectory(prefix="sopflow-pdf-") as tmp:
        page, out = Path(tmp) / "document.html", Path(tmp) / "document.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RendererUnavailableError(f"{executable}: cannot print the PDF ({exc})") from None
        if not out.exists() or out.stat().st_size == 0 or not out.read_bytes().startswith(b"%PDF"):
            raise RendererUnavailableError(f"{executable}: wrote no PDF for the document")
        return out.read_bytes()

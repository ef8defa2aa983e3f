"""docs/web.md's API reference is the OpenAPI document the application publishes.

The table is generated (scripts/web_api_reference.py --write); this fails when a route,
a summary or a model changes without the docs, so the reference cannot go stale.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_reference_in_docs_web_md_is_generated_from_openapi() -> None:
    spec = importlib.util.spec_from_file_location("ref", ROOT / "scripts" / "web_api_reference.py")
    assert spec is not None and spec.loader is not None
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    doc = (ROOT / "docs" / "web.md").read_text(encoding="utf-8")
    assert ref.START in doc and ref.END in doc
    expected = ref.reference(ref.openapi())
    assert doc.split(ref.START, 1)[1].split(ref.END, 1)[0] == "\n" + expected, (
        "docs/web.md is stale: run python scripts/web_api_reference.py --write"
    )
    for path in ("/messages", "/external-tasks/fetch-and-lock", "/incidents", "/sla/changes"):
        assert f"`{path}`" in expected

"""Start-up stays cheap: ``import sopflow`` and ``sopflow --help`` load no heavy dependency.

issue 14: ``sopflow --help`` took 30 x a bare interpreter because importing the package
loaded the catalog, the work calendar (``holidays``), structlog and the engine. Names are
now imported on first use (PEP 562) and the CLI imports only the chosen verb's module.
These tests guard that in a fresh interpreter (``sys.modules``), not by timing it; the
benchmark measures the time.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

import sopflow
from sopflow.cli import VERBS, build_parser

HEAVY = ("holidays", "structlog", "SpiffWorkflow", "lxml")
#: what runs instances, not what lists them (issue 14: sopflow inbox imported all of it)
ENGINE = (
    "sopflow.runtime.engine",
    "sopflow.runtime.machine",
    "sopflow.runtime.actions",
    "sopflow.runtime.behaviours",
    "sopflow.events.api",
    "sopflow.jobs.api",
    "sopflow.authority.io",
    "logging",
)


def _loaded_after(code: str) -> set[str]:
    probe = (
        "import sys\n"
        f"{code}\n"
        f"print(__import__('json').dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_import_sopflow_loads_no_heavy_dependency() -> None:
    assert _loaded_after("import sopflow") == set()


def test_help_loads_no_heavy_dependency() -> None:
    code = "from sopflow.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    assert _loaded_after(code) == set()


def test_a_verb_loads_only_its_own_module() -> None:
    code = (
        "import contextlib, io, sys\n"
        "from sopflow.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['compile', '--help'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('sopflow.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    loaded = set(ast.literal_eval(out.strip()))
    # the CLI's private helpers (_common, _output, ...) may come along; no other verb may
    verbs = {m for m in loaded if not m.startswith("sopflow.cli._")}
    assert verbs == {"sopflow.cli.compile"}, loaded


def test_every_public_name_still_resolves() -> None:
    for name in sopflow.__all__:
        assert getattr(sopflow, name) is not None, name
    assert set(sopflow.__all__) <= set(dir(sopflow))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        sopflow.Nope  # noqa: B018


def test_the_verb_table_matches_what_the_modules_register() -> None:
    """VERBS lists each verb of each module with the help the module gives it, in order."""
    parser = build_parser(every=True)
    [sub] = [a for a in parser._actions if isinstance(a, type(parser._subparsers._actions[-1]))]  # type: ignore[union-attr]
    registered = {a.dest: a.help for a in sub._choices_actions}  # type: ignore[attr-defined]
    assert registered == {verb: text for verb, (_, text) in VERBS.items()}
    assert list(registered) == list(VERBS)
    lazy = build_parser("inbox", every=False)
    [lazy_sub] = [a for a in lazy._actions if a.dest == "verb"]
    assert [a.dest for a in lazy_sub._choices_actions] == list(VERBS)  # type: ignore[attr-defined]


def test_inbox_loads_only_the_definitions_its_steps_belong_to(tmp_path: object) -> None:
    """``sopflow inbox`` read the whole catalog (every BPMN file parsed and checked) to
    show a few step names: most of its start (issue 14). It now takes each definition
    from the store, where it was kept at the instance's first start, and loads neither
    the work calendar (``holidays``) nor structlog while it logs nothing; nor the engine
    (token machine, jobs, events), SpiffWorkflow or the standard library's ``logging``:
    a work list reads (``runtime/worklist.py``), it runs nothing."""
    from pathlib import Path

    db = Path(str(tmp_path)) / "s.db"
    catalog = Path(__file__).resolve().parents[1] / "bpmn"
    start = (
        "from sopflow.cli import main\n"
        f"main(['start', 'purbalingga_pengukuran_kinerja', '--actor', 'a', '--role', 'camat',"
        f" '--db', 'sqlite:///{db}', '--catalog', '{catalog}'])"
    )
    subprocess.run([sys.executable, "-c", start], check=True, capture_output=True)
    code = (
        "import contextlib, io\n"
        "from sopflow.definitions import loader\n"
        "seen = []\n"
        "real = loader.load_definitions\n"
        "loader.load_definitions = lambda *a, **k: seen.append(a) or real(*a, **k)\n"
        "from sopflow.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    main(['inbox', '--db', 'sqlite:///{db}', '--catalog', '{catalog}'])\n"
        "assert 'step_01' in out.getvalue(), out.getvalue()\n"
        "assert seen == [], seen\n"
        f"print(__import__('json').dumps([m for m in {ENGINE!r} if m in sys.modules]))\n"
    )
    probe = "import sys\n" + code
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []
    # lxml reads the stored bytes (hardened parse); SpiffWorkflow is not imported at all:
    # the XSD and its parser were passed when the store kept the definition
    assert _loaded_after(code) <= {"lxml"}

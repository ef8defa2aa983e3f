#!/usr/bin/env python3
"""Measure sopflow on BPMN files written by others: how many load, run, or are refused, and why.

A developer's tool, not part of ``make test``: it reads a folder of foreign BPMN files
(by default ``../shared/corpus`` next to the checkout; never copy those files into the
project), loads each one through the public API, runs what loads with a generic driver,
and prints the counts and the refusal reasons grouped::

    .venv/bin/python scripts/corpus.py                      # ../shared/corpus
    .venv/bin/python scripts/corpus.py PATH/TO/FOLDER --json

The driver is the same for every file, so it measures the engine, not the files: each
instance runs on a FakeClock over a memory store; every ready work item of the store (the
instance's own and those of instances it calls) is completed by an actor holding its
role, with the deciding field set true, until the started instance ends or the step
budget is spent. Script tasks (and SpiffArena pre/post scripts, handler
``"<task id>:preScript"``) get a handler that changes nothing, so a file refused only
for lack of handlers is also run, and counted apart.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from lxml import etree

from sopflow import (
    Actor,
    Catalog,
    DefinitionError,
    Engine,
    ProcessDefinition,
    SopflowError,
    __version__,
    open_store,
)
from sopflow.definitions._tasks import is_expression
from sopflow.definitions.loader import load_definitions
from sopflow.definitions.model import Step
from sopflow.runtime.assignment import assigned_users
from sopflow.testing import FakeClock

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = ROOT.parent / "shared" / "corpus"
SUFFIXES = (".bpmn", ".xml")

#: BPMN elements whose work is application code: a file refused only on these needs a
#: handler from the application, not a different engine
_HANDLER_TAGS = frozenset({"scriptTask", "serviceTask", "sendTask", "businessRuleTask"})
_BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
#: elements the events work (messages, signals, timers, boundary and event subprocesses)
#: will run: a file refused only on these and on handler tasks waits for that, not a fix here
_EVENT_TAGS = frozenset(
    {
        "boundaryEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "startEvent",
        "endEvent",
        "eventBasedGateway",
        "receiveTask",
        "subProcess",
        "messageEventDefinition",
        "signalEventDefinition",
        "timerEventDefinition",
        "errorEventDefinition",
        "escalationEventDefinition",
    }
)


@dataclass
class FileResult:
    name: str
    loaded: bool = False
    needs_handlers_only: bool = False
    #: refused only on event elements (and handler tasks): waits for the events work
    needs_events_only: bool = False
    reasons: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # one outcome per executable process
    #: handler keys that are not task ids (a SpiffArena preScript: "<task id>:preScript")
    hooks: list[str] = field(default_factory=list)


def _reason(error: SopflowError) -> str:
    """A refusal message without what differs per file (ids, names, numbers)."""
    text = getattr(error, "message", None) or str(error)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"\d+", "N", text)
    return text.strip()[:140]


def _problems(error: DefinitionError) -> list[DefinitionError]:
    problems = getattr(error, "problems", None)
    return list(problems) if problems else [error]


def _tags(path: Path) -> dict[str, str]:
    """Element id -> local tag name, read without entities or network (no DTD trust)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.parse(str(path), parser).getroot()
    except (etree.XMLSyntaxError, OSError):
        return {}
    found: dict[str, str] = {}
    for element in root.iter():
        if isinstance(element.tag, str) and element.get("id"):
            qname = etree.QName(element)
            if qname.namespace == _BPMN_NS:
                found[element.get("id") or ""] = qname.localname
    return found


def _load(path: Path, result: FileResult) -> list[ProcessDefinition]:
    try:
        return load_definitions(path)  # every executable process of the file
    except DefinitionError as error:
        problems = _problems(error)
    except Exception as error:  # a crash of the loader is a finding, not the end
        result.reasons = [f"loader crashed: {type(error).__name__}: {str(error)[:100]}"]
        return []
    result.reasons = sorted({_reason(p) for p in problems})
    tags = _tags(path)
    elements = {p.element for p in problems}
    waiting = _HANDLER_TAGS | _EVENT_TAGS
    # a flow-shape finding on an event ("cannot reach an end event") is the file's own
    if problems and all(
        tags.get(p.element or "") in waiting and "reach" not in p.message for p in problems
    ):
        result.needs_events_only = not all(tags.get(e or "") in _HANDLER_TAGS for e in elements)
    hooks = sorted({p.handler for p in problems if getattr(p, "handler", None)})
    if problems and all(
        getattr(p, "handler", None) or tags.get(p.element or "") in _HANDLER_TAGS
        for p in problems
    ):
        result.needs_handlers_only = True
        result.hooks = hooks
        tasks = [p.element for p in problems if p.element and not getattr(p, "handler", None)]
        try:
            return load_definitions(path, script_handlers=tasks + hooks)
        except DefinitionError:
            return []
    return []


def _no_op(data: dict[str, Any]) -> None:
    """A script handler that changes nothing: the driver only measures the flow."""
    return None


def _actor_for(engine: Engine, instance_id: str, step: Step | None, role: str | None) -> Actor:
    """Someone the step admits: its lane's role, and its assignee or a candidate (user or
    literal group) when it names them; an open step (no lane, no assignment) takes anyone."""
    roles = {role} if role else set()
    name = f"corpus.{role or 'anyone'}"
    if step is not None:
        roles |= {g for g in step.candidate_groups if not is_expression(g)}
        try:
            users = assigned_users(step, engine.status(instance_id).data)
        except SopflowError:
            users = ()
        if users:
            name = users[0]
    return Actor(name, roles)


def _drive(engine: Engine, clock: FakeClock, definition: ProcessDefinition, budget: int) -> str:
    starter = Actor("corpus.starter", {lane.role for lane in definition.lanes})
    try:
        progress = engine.start(definition.process_id, actor=starter, at=clock.now())
        instance_id = progress.instance_id
        for _ in range(budget):
            if engine.status(instance_id, at=clock.now()).status != "running":
                break
            items = engine.work_list(at=clock.now())
            if not items:
                return "stalled: running with no ready step"
            item = items[0]
            step = engine.definition(item.version).step(item.task_id)
            data: dict[str, Any] = {}
            if step is not None and step.decision_field is not None:
                data[step.decision_field] = True
            clock.advance(minutes=30)
            actor = _actor_for(engine, item.instance_id, step, item.role)
            engine.complete(item.instance_id, item.task_id, actor=actor, data=data, at=clock.now())
        status = engine.status(instance_id, at=clock.now()).status
    except SopflowError as error:
        return f"refused while running: {type(error).__name__}: {_reason(error)}"
    except Exception as error:  # a crash is a finding: report it, measure the rest
        return f"crashed: {type(error).__name__}: {str(error)[:120]}"
    if status == "completed":
        return "completed"
    if status == "running":
        return f"step budget ({budget}) spent"
    return f"ended as {status}"


def _run(
    definitions: Sequence[ProcessDefinition], handlers: Iterable[str], catalog: Catalog, budget: int
) -> list[str]:
    outcomes = []
    for definition in definitions:
        if not definition.executable:
            continue  # kept for its picture (isExecutable="false"): never started
        clock = FakeClock()
        engine = Engine(
            catalog,
            open_store("memory://"),
            clock=clock,
            script_handlers={h: _no_op for h in handlers},
        )
        outcomes.append(_drive(engine, clock, definition, budget))
    return outcomes


def _commit() -> str | None:
    """The sopflow commit measured, when this runs from a git checkout."""
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def measure(folder: Path, budget: int) -> dict[str, Any]:
    files = sorted(p for p in folder.iterdir() if p.is_file())
    bpmn = [p for p in files if p.suffix.lower() in SUFFIXES]
    results = [FileResult(p.name) for p in bpmn]
    loaded: dict[str, list[ProcessDefinition]] = {}
    for path, result in zip(bpmn, results, strict=True):
        definitions = _load(path, result)
        if definitions:
            result.loaded = not result.needs_handlers_only
            loaded[result.name] = definitions
    catalog = Catalog()
    for definitions in loaded.values():
        for definition in definitions:
            # the same process id in two files: the first one is the one called
            with contextlib.suppress(DefinitionError):
                catalog.add(definition)
    for path, result in zip(bpmn, results, strict=True):
        if result.name in loaded:
            handlers = _tags(path) if result.needs_handlers_only else {}
            result.runs = _run(
                loaded[result.name],
                [i for i, t in handlers.items() if t in _HANDLER_TAGS] + result.hooks,
                catalog,
                budget,
            )
    reasons = Counter(r for res in results if not res.loaded for r in res.reasons)
    runs = Counter(o for res in results for o in res.runs)
    return {
        "folder": str(folder),
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sopflow_version": __version__,
        "sopflow_commit": _commit(),
        "files": len(bpmn),
        "not_bpmn": [p.name for p in files if p not in bpmn],
        "loaded": sum(r.loaded for r in results),
        "completed": sum(r.loaded and "completed" in r.runs for r in results),
        "refused": sum(not r.loaded for r in results),
        "refused_only_for_handlers": sum(r.needs_handlers_only for r in results),
        "refused_only_for_events_or_handlers": sum(r.needs_events_only for r in results),
        "completed_with_no_op_handlers": sum(
            r.needs_handlers_only and "completed" in r.runs for r in results
        ),
        "run_outcomes": dict(runs.most_common()),
        "refusal_reasons": dict(reasons.most_common()),
        "per_file": [
            {
                "file": r.name,
                "loaded": r.loaded,
                "needs_handlers_only": r.needs_handlers_only,
                "needs_events_only": r.needs_events_only,
                "runs": r.runs,
                "reasons": r.reasons,
            }
            for r in results
        ],
    }


def _print(report: dict[str, Any], top: int) -> None:
    files = report["files"]

    def share(n: int) -> str:
        return f"{n} ({100 * n / files:.1f}%)" if files else str(n)

    commit = report["sopflow_commit"] or "not a git checkout"
    print(f"sopflow {report['sopflow_version']} ({commit}), measured {report['measured_at']}")
    print(f"{report['folder']}: {files} BPMN files ({len(report['not_bpmn'])} other files skipped)")
    print(f"  load:                           {share(report['loaded'])}")
    print(f"  run to completion:              {share(report['completed'])}")
    print(f"  refused:                        {share(report['refused'])}")
    print(
        f"    only for want of a handler:   {share(report['refused_only_for_handlers'])}"
        f" (of which {report['completed_with_no_op_handlers']} complete with no-op "
        "handlers)"
    )
    print(
        f"    only on events (and handlers): {share(report['refused_only_for_events_or_handlers'])}"
    )
    print("run outcomes (one per process that loaded):")
    for outcome, count in report["run_outcomes"].items():
        print(f"  {count:4d}  {outcome}")
    reasons = list(report["refusal_reasons"].items())
    print(f"refusal reasons (files naming each; {len(reasons)} kinds):")
    for reason, count in reasons[:top]:
        print(f"  {count:4d}  {reason}")
    if len(reasons) > top:
        print(f"  ... {len(reasons) - top} more kinds (--top N, or --json)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=DEFAULT_FOLDER,
        help=f"folder of BPMN files (default: {DEFAULT_FOLDER})",
    )
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    parser.add_argument(
        "--budget",
        type=int,
        default=500,
        help="steps completed per instance before giving up (default 500)",
    )
    parser.add_argument("--top", type=int, default=25, help="refusal reasons printed (default 25)")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"corpus: {args.folder} is not a folder", file=sys.stderr)
        return 2
    # the library's audit events are not what this measures
    structlog.configure(logger_factory=structlog.ReturnLoggerFactory(), processors=[])
    report = measure(args.folder, args.budget)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print(report, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())

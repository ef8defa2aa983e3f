"""Load a BPMN file into a checked :class:`~sopflow.definitions.model.ProcessDefinition`.

The pipeline is strict on purpose; each stage refuses what the next would trip over.
This module is the public face (and the cache); each stage lives in a module of its own:

1. hardened XML parsing (:mod:`sopflow.definitions.xmlsafe`): no DTD, no entities, bounded size;
2. the BPMN 2.0 XSD that SpiffWorkflow bundles (:mod:`sopflow.definitions._schema`);
3. reading the executable process into plain records (:mod:`sopflow.definitions._raw`),
   keeping each element's source line so every message can say
   ``file:line: element-id: ...``: the walk over a process and the choice of process in
   :mod:`sopflow.definitions._reading`, each element kind's parts in
   :mod:`sopflow.definitions._elements`;
4. the SOP checks (:mod:`sopflow.definitions.checks`), all findings collected at once;
5. SpiffWorkflow's own parser (:mod:`sopflow.definitions._schema`), so nothing it cannot
   parse is accepted;
6. building the immutable definition the engine, SLA monitor and reports read
   (:mod:`sopflow.definitions._building`).

Nothing is executed while loading: conditions are only compiled by the safe expression
language, never evaluated.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable
from pathlib import Path

from sopflow.definitions._building import (
    boolean_test,
    build_definition,
    definition_version,
    joint_steps,
    step_numbers,
)
from sopflow.definitions._raw import (
    Bounds,
    RawFlow,
    RawLane,
    RawNode,
    RawProcess,
)
from sopflow.definitions._reading import (
    executable_process_ids,
    picture_process_ids,
    read_process,
)
from sopflow.definitions._schema import _schema_problems as _schema_problems  # tests
from sopflow.definitions._schema import _spiff_parse
from sopflow.definitions.model import ProcessDefinition
from sopflow.definitions.xmlsafe import DEFAULT_MAX_BYTES, parse_xml, read_limited
from sopflow.errors import BpmnSchemaError, DefinitionError, SopCheckError

__all__ = [
    "Bounds",
    "RawFlow",
    "RawLane",
    "RawNode",
    "RawProcess",
    "boolean_test",
    "build_definition",
    "definition_version",
    "executable_process_ids",
    "joint_steps",
    "load_definition",
    "load_definition_bytes",
    "load_definitions",
    "load_definitions_bytes",
    "load_stored_for_reading",
    "problems_of",
    "read_process",
    "step_numbers",
]


# ---------------------------------------------------------------------------------------
# Public API


def load_definition_bytes(
    data: bytes,
    *,
    source: str,
    script_handlers: Collection[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ProcessDefinition:
    """Load and check BPMN bytes (a stored version, an upload); ``source`` names it in errors.

    ``script_handlers`` names the scriptTask ids the caller runs itself; any other
    scriptTask is refused. Raises a DefinitionError subclass for every problem.
    """
    if len(data) <= max_bytes:
        key = (hashlib.sha256(data).hexdigest(), source, frozenset(script_handlers))
        with _CACHE_LOCK:
            cached = _CACHE.get(key)
            if cached is not None:
                _CACHE.move_to_end(key)
                return cached
    definition = _load(data, source=source, script_handlers=script_handlers, max_bytes=max_bytes)
    with _CACHE_LOCK:
        _CACHE[(definition.version, source, frozenset(script_handlers))] = definition
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return definition


#: Definitions are immutable and keyed by content, so the engine can reload a stored
#: version per instance without paying for XSD and SpiffWorkflow parsing each time.
_CACHE_SIZE = 64
_CACHE: OrderedDict[tuple[str, str, frozenset[str]], ProcessDefinition] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def _load(
    data: bytes,
    *,
    source: str,
    script_handlers: Collection[str],
    max_bytes: int,
    process_id: str | None = None,
    executable: bool = True,
    verified: bool = False,
) -> ProcessDefinition:
    from sopflow.definitions.checks import run_checks
    from sopflow.definitions.extensions import extension_problems

    tree = parse_xml(data, source=source, max_bytes=max_bytes)
    schema = [] if verified else _schema_problems(tree, source)
    raw: RawProcess | None = None
    try:
        raw = read_process(tree, source=source, process_id=process_id)
    except DefinitionError as exc:
        if not schema:
            raise
        schema.append(exc)
    problems: list[DefinitionError] = []
    if raw is not None:  # schema errors first, then every SOP and extension finding
        problems = run_checks(raw, script_handlers=script_handlers, executable=executable)
        refused = frozenset(n.id for n in raw.nodes.values() if n.unsupported is not None)
        handled = frozenset(script_handlers)
        if executable:  # the file's executable processes already read its extensions
            problems += extension_problems(
                tree, source=source, refused_ids=refused, handled_ids=handled
            )
        problems.sort(key=lambda p: p.line or 0)
    if schema:
        first = schema[0]
        raise BpmnSchemaError(
            first.message,
            file=first.file,
            line=first.line,
            element=first.element,
            problems=schema + problems,
        )
    assert raw is not None
    if problems:
        first = problems[0]
        # str() is the first finding, so a one-line error still points at a place;
        # ``problems`` carries all of them for ``sopflow validate``.
        raise SopCheckError(
            first.message,
            file=first.file,
            line=first.line,
            element=first.element,
            problems=problems,
        )
    if not executable:  # SpiffWorkflow guards what runs; this never does
        return build_definition(raw, data=data, shared=True, executable=False)
    if not verified:
        _spiff_parse(tree, raw)
    return build_definition(raw, data=data, shared=process_id is not None)


def load_definition(
    path: str | Path,
    *,
    script_handlers: Collection[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ProcessDefinition:
    """Load and check one BPMN file, refusing it by size before reading it."""
    data = read_limited(path, max_bytes=max_bytes)
    return load_definition_bytes(
        data, source=str(path), script_handlers=script_handlers, max_bytes=max_bytes
    )


def load_definitions_bytes(
    data: bytes,
    *,
    source: str,
    script_handlers: Collection[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[ProcessDefinition]:
    """Every process of a file sopflow keeps, each a definition of its own.

    A file with one process loads exactly as :func:`load_definition_bytes`; a file with
    several isExecutable="true" processes gives one definition per process, each with
    its own version (see :func:`definition_version`). The processes it marks
    isExecutable="false" beside them follow, with ``executable=False``: kept for their
    pictures and documents, checked only by
    :data:`~sopflow.definitions.checks.PICTURE_CHECKS`, never started.
    """
    tree = parse_xml(data, source=source, max_bytes=max_bytes)
    ids = executable_process_ids(tree.getroot(), source)
    pictures = picture_process_ids(tree.getroot(), source)
    found = []
    if len(ids) == 1:
        found.append(
            load_definition_bytes(
                data, source=source, script_handlers=script_handlers, max_bytes=max_bytes
            )
        )
        ids = []
    for process_id in [*ids, *pictures]:
        key = (definition_version(data, process_id), source, frozenset(script_handlers))
        with _CACHE_LOCK:
            cached = _CACHE.get(key)
        if cached is None:
            cached = _load(
                data,
                source=source,
                script_handlers=script_handlers,
                max_bytes=max_bytes,
                process_id=process_id,
                executable=process_id not in pictures,
            )
            with _CACHE_LOCK:
                _CACHE[key] = cached
                while len(_CACHE) > _CACHE_SIZE:
                    _CACHE.popitem(last=False)
        found.append(cached)
    return found


def load_definitions(
    path: str | Path,
    *,
    script_handlers: Collection[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[ProcessDefinition]:
    """Every executable process of one BPMN file (see :func:`load_definitions_bytes`)."""
    data = read_limited(path, max_bytes=max_bytes)
    return load_definitions_bytes(
        data, source=str(path), script_handlers=script_handlers, max_bytes=max_bytes
    )


def load_stored_for_reading(
    data: bytes,
    version: str,
    *,
    source: str,
    script_handlers: Collection[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ProcessDefinition:
    """The process ``version`` names in stored bytes, for a listing that only reads it.

    A stored definition was loaded with every check (XSD, SOP checks, SpiffWorkflow's
    parser) before the store kept it, and its version is the sha256 of these bytes: the
    hash is checked here, so bytes edited in the database are refused (issue 13) as
    :meth:`Engine.definition <sopflow.runtime.engine.Engine.definition>` refuses them.
    What is skipped is what only re-proves the same bytes: the BPMN 2.0 XSD and
    SpiffWorkflow's parser (most of a ``sopflow inbox`` start, issue 14); the SOP checks
    still run (they are cheap and decide, e.g., a script task without a handler). Never
    for a path that runs an instance: the engine loads those with every check, and what
    is loaded here is not put in the loader's cache.
    """
    with _CACHE_LOCK:
        cached = _CACHE.get((version, source, frozenset(script_handlers)))
    if cached is not None:
        return cached  # already loaded, with every check
    tree = parse_xml(data, source=source, max_bytes=max_bytes)
    ids = executable_process_ids(tree.getroot(), source)
    pictures = picture_process_ids(tree.getroot(), source)
    chosen: tuple[str | None, bool]
    if len(ids) == 1 and definition_version(data) == version:
        chosen = (None, True)
    else:
        candidates = [*ids, *pictures] if len(ids) != 1 else pictures
        found = [p for p in candidates if definition_version(data, p) == version]
        if not found:
            raise DefinitionError(
                f"stored definition {version[:12]} does not match its XML", file=source
            )
        chosen = (found[0], found[0] not in pictures)
    definition = _load(
        data,
        source=source,
        script_handlers=script_handlers,
        max_bytes=max_bytes,
        process_id=chosen[0],
        executable=chosen[1],
        verified=True,
    )
    assert definition.version == version  # the hash was checked above
    return definition


def problems_of(error: DefinitionError) -> Iterable[DefinitionError]:
    """Every finding an error carries: a SopCheckError's list, or the error itself."""
    if isinstance(error, SopCheckError | BpmnSchemaError) and error.problems:
        return list(error.problems)
    return [error]

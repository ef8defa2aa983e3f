"""The loader's outside referees: the BPMN 2.0 XSD (stage 2) and SpiffWorkflow's parser
(stage 5). A file either of them refuses is not loaded; SpiffWorkflow's refusals of
valid BPMN that sopflow's own engine runs are let through (:data:`_SPIFF_LIMITS`).
"""

from __future__ import annotations

import re
import threading
from functools import cache
from typing import Any

from lxml import etree

from sopflow.definitions._raw import (
    _SHORT_NS,
    BPMN_NS,
    RawProcess,
    _line,
    _short,
)
from sopflow.errors import BpmnSchemaError, DefinitionError

_SCHEMA_LOCK = threading.Lock()


@cache
def _validator() -> Any:
    """SpiffWorkflow's bundled BPMN 2.0 XSD, built once (it takes ~0.5 s) and only if needed."""
    from SpiffWorkflow.spiff.parser.process import VALIDATOR

    return VALIDATOR


def _element_for(tree: etree._ElementTree, path: str | None, line: int | None) -> str | None:
    """The id of the element an XSD error is about, or of its nearest ancestor with one."""
    elem: etree._Element | None = None
    if path:
        try:
            hits = tree.xpath(path, namespaces=dict((v, k) for k, v in _SHORT_NS.items()))
        except etree.XPathError:
            hits = []
        if isinstance(hits, list) and hits and isinstance(hits[0], etree._Element):
            elem = hits[0]
    if elem is None and line is not None:
        elem = next((e for e in tree.iter() if _line(e) == line), None)
    while elem is not None:
        ident = elem.get("id") if isinstance(elem.tag, str) else None
        if ident:
            return ident
        elem = elem.getparent()
    return None


#: most schema findings reported for one file (a broken file can have thousands)
_MAX_SCHEMA_FINDINGS = 50


def _schema_problems(tree: etree._ElementTree, source: str) -> list[DefinitionError]:
    """Every XSD finding (up to a bound), so ``validate`` shows them all at once."""
    validator = _validator()
    with _SCHEMA_LOCK:
        validator.preprocess(tree)
        schema = validator.validator
        if schema.validate(tree):
            return []
        entries = list(schema.error_log)[:_MAX_SCHEMA_FINDINGS]
    problems: list[DefinitionError] = []
    for entry in entries:
        line = entry.line if entry.line > 0 else None
        problems.append(
            BpmnSchemaError(
                f"not valid BPMN 2.0: {_short(entry.message)}",
                file=source,
                line=line,
                element=_element_for(tree, entry.path, line),
            )
        )
    return problems


#: SpiffWorkflow parser refusals of valid BPMN that sopflow's engine runs itself.
_SPIFF_LIMITS = (
    "Multiple outgoing flows are not supported",
    # camunda:collection: sopflow's loop check requires a collection or a cardinality
    "A multiinstance task must specify a cardinality or a loop input data reference",
)


#: SpiffWorkflow's refusal of a call to a process marked isExecutable="false"
_CALLS_PICTURE = re.compile(r"Process \S+ is not executable\.?")


def _spiff_parse(tree: etree._ElementTree, raw: RawProcess) -> None:
    """Let SpiffWorkflow parse the process, so a file it cannot read is refused now."""
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

    # bpmn.io saves isExecutable="false" by default; sopflow already chose the process to
    # run (single participant or single process), so tell SpiffWorkflow the same. The tree
    # is a private parse: the definition keeps the original bytes.
    for process in tree.getroot().iterchildren(f"{{{BPMN_NS}}}process"):
        if process.get("id") == raw.process_id:
            process.set("isExecutable", "true")
    # SpiffWorkflow has no parser for business-rule tasks without its DMN engine;
    # sopflow runs them as jobs like service tasks, so let it read them as those.
    for elem in tree.getroot().iter(f"{{{BPMN_NS}}}businessRuleTask"):
        elem.tag = f"{{{BPMN_NS}}}serviceTask"
    parser = BpmnParser()
    try:
        parser.add_bpmn_xml(tree, filename=raw.source)
        parser.get_spec(raw.process_id)
        # a called process lives in another file: the catalog checks that it exists
        parser.get_subprocess_specs(raw.process_id, require_call_activity_specs=False)
    except ValidationException as exc:
        message = str(exc.args[0]) if exc.args else str(exc)
        if message.startswith(_SPIFF_LIMITS):
            return  # valid BPMN that sopflow's own engine runs (implicit split, Camunda MI)
        if _CALLS_PICTURE.fullmatch(message):
            return  # a call to an isExecutable="false" process: the catalog refuses it
            # naming both files (definitions.catalog.call_problems)
        element = exc.id or None
        node = raw.nodes.get(element) if element else None
        line = exc.line_number if isinstance(exc.line_number, int) else None
        if line is None and node is not None:
            line = node.line
        raise DefinitionError(
            f"SpiffWorkflow cannot parse it: {message}",
            file=raw.source,
            line=line,
            element=element,
        ) from exc
    except Exception as exc:
        # SpiffWorkflow raises assorted KeyError/AttributeError on odd input; for the
        # person loading the file this is still "the file cannot be used", not a crash.
        raise DefinitionError(
            f"SpiffWorkflow cannot parse it: {type(exc).__name__}: {exc}", file=raw.source
        ) from exc

"""Reading the honoured task extensions (assignment, due dates, forms) into Step fields.

The loader calls :func:`read_task_extras` for every user and manual task; what it returns
are keyword arguments of :class:`~sopflow.definitions.model.Step`. A value that cannot be
used (an assignee expression outside the language, a form field of an unknown type) is a
finding of the file, reported with every other one, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from lxml import etree

from sopflow.definitions.extensions import NAMESPACES
from sopflow.definitions.model import FormField
from sopflow.errors import ExpressionError

__all__ = ["FORM_TYPES", "is_expression", "read_task_extras", "split_list"]

_CAMUNDA: Final = NAMESPACES["camunda"]
_ZEEBE: Final = NAMESPACES["zeebe"]
_SPIFF: Final = NAMESPACES["spiffworkflow"]
_ASSIGNMENT_PREFIXES: Final = ("camunda", "flowable", "activiti")
BPMN_NS: Final = "http://www.omg.org/spec/BPMN/20100524/MODEL"

#: form field types sopflow validates (Camunda 7's built-in types; Flowable's spell them alike)
FORM_TYPES: Final = ("string", "long", "boolean", "date", "enum")
_FLOWABLE_TYPES: Final = {
    "string": "string",
    "long": "long",
    "boolean": "boolean",
    "date": "date",
    "enum": "enum",
    "int": "long",
    "integer": "long",
}
_CONSTRAINTS: Final = ("required", "readonly", "minlength", "maxlength", "min", "max")

Problem = Callable[[str, str, int | None], None]


def _line(elem: etree._Element) -> int | None:
    line: object = elem.sourceline
    return line if isinstance(line, int) else None


def is_expression(text: str) -> bool:
    return text.startswith(("${", "#{", "="))


def split_list(text: str) -> tuple[str, ...]:
    """``"sekcam, camat"`` -> ("sekcam", "camat"); an expression stays one item."""
    stripped = text.strip()
    if is_expression(stripped):
        return (stripped,)
    return tuple(part.strip() for part in stripped.split(",") if part.strip())


def _attr(elem: etree._Element, name: str) -> tuple[str, int | None] | None:
    for prefix in _ASSIGNMENT_PREFIXES:
        value = elem.get(f"{{{NAMESPACES[prefix]}}}{name}")
        if value is not None and value.strip():
            return value.strip(), _line(elem)
    return None


def _extension_children(elem: etree._Element, namespace: str, name: str) -> list[etree._Element]:
    found: list[etree._Element] = []
    for ext in elem.iterchildren(f"{{{BPMN_NS}}}extensionElements"):
        found.extend(ext.iterchildren(f"{{{namespace}}}{name}"))
    return found


def _check_expression(text: str, what: str, problem: Problem, line: int | None) -> None:
    from sopflow.runtime.expressions import compile_expression

    if not is_expression(text):
        return
    try:
        compile_expression(text)
    except ExpressionError as exc:
        problem("assignment", f"{what} {text!r} cannot be read: {exc.message}", line)


def read_task_extras(elem: etree._Element, problem: Problem) -> dict[str, Any]:
    """Step keyword arguments from a task's extensions; ``problem(code, message, line)``."""
    extras: dict[str, Any] = {}
    values: dict[str, tuple[str, int | None]] = {}
    for name in ("assignee", "candidateUsers", "candidateGroups", "dueDate", "followUpDate"):
        found = _attr(elem, name)
        if found is not None:
            values[name] = found
    for zeebe in _extension_children(elem, _ZEEBE, "assignmentDefinition") + (
        _extension_children(elem, _ZEEBE, "taskSchedule")
    ):
        for name in ("assignee", "candidateUsers", "candidateGroups", "dueDate", "followUpDate"):
            value = zeebe.get(name)
            if value and value.strip() and name not in values:
                values[name] = (value.strip(), _line(zeebe))
    if "assignee" in values:
        text, line = values["assignee"]
        _check_expression(text, "assignee", problem, line)
        extras["assignee"] = text
    for name, key in (
        ("candidateUsers", "candidate_users"),
        ("candidateGroups", "candidate_groups"),
    ):
        if name in values:
            text, line = values[name]
            items = split_list(text)
            for item in items:
                _check_expression(item, name, problem, line)
            extras[key] = items
    for name, key in (("dueDate", "due_date"), ("followUpDate", "follow_up_date")):
        if name in values:
            text, line = values[name]
            _check_due(text, name, problem, line)
            extras[key] = text
    form_key = _form_key(elem)
    if form_key is not None:
        extras["form_key"] = form_key
    form = _camunda_form(elem, problem) + _flowable_form(elem, problem)
    if form:
        extras["form"] = tuple(form)
    variable = _form_variable(elem, problem)
    if variable is not None:
        extras["form_variable"] = variable
    return extras


def _form_variable(elem: etree._Element, problem: Problem) -> str | None:
    """SpiffArena's ``spiffworkflow:variableName`` on a user task: the submitted form is
    kept whole under this one field instead of merged (SpiffWorkflow's UserTask
    ``add_data_from_form``: ``set_data(**{variable: data})``). Empty means merged, as
    there. A sopflow deciding step (property ``keputusan``) routes on a top-level field,
    so the two together are refused rather than leave its gateway reading nothing."""
    found = _extension_children(elem, _SPIFF, "variableName")
    text = next(((e.text or "").strip() for e in found if (e.text or "").strip()), None)
    if text is None:
        return None
    line = _line(found[0])
    if etree.QName(elem.tag).localname != "userTask":
        return None  # reported by the extension check: honoured on user tasks only
    from sopflow.events.payloads import check_variable

    try:
        name = check_variable(text)
    except ExpressionError as exc:
        problem("form", f"spiffworkflow:variableName {text[:80]!r} refused: {exc.message}", line)
        return None
    for props in elem.iter(f"{{{_SPIFF}}}property", f"{{{NAMESPACES['camunda']}}}property"):
        if (props.get("name") or "").strip() == "keputusan":
            problem(
                "form",
                f"spiffworkflow:variableName {name!r} on a deciding step: its gateway reads "
                "the decision field at the top of the data; remove one of the two",
                line,
            )
            return None
    return name


_ISO_DATE: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_ISO_DURATION: Final = re.compile(
    r"P(?!$)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?"
)


def is_due_text(text: str) -> bool:
    """An ISO 8601 date, date-time or duration, as dueDate / followUpDate may be written."""
    return bool(_ISO_DATE.fullmatch(text) or _ISO_DURATION.fullmatch(text))


def _check_due(text: str, what: str, problem: Problem, line: int | None) -> None:
    from sopflow.runtime.expressions import compile_expression

    if is_expression(text):
        # Evaluated on the instance data when the step opens (runtime/due_dates.py); an
        # expression outside the safe language is refused here, never run another way.
        try:
            compile_expression(text)
        except ExpressionError as exc:
            problem(
                "unsupported-extension",
                f"{what} {text!r} cannot be evaluated safely: {exc.message}; write a name "
                "holding an ISO date or duration (${tenggat}), an ISO duration (P2D) or "
                "date, or give the step a waktu",
                line,
            )
        return
    if is_due_text(text):
        return
    problem(
        "sop-check",
        f"{what} {text!r} is neither an ISO date, an ISO duration nor an expression",
        line,
    )


def _form_key(elem: etree._Element) -> str | None:
    found = _attr(elem, "formKey")
    if found is not None:
        return found[0]
    ref = elem.get(f"{{{_CAMUNDA}}}formRef")
    if ref:
        binding = elem.get(f"{{{_CAMUNDA}}}formRefBinding") or "latest"
        version = elem.get(f"{{{_CAMUNDA}}}formRefVersion")
        suffix = f":{version}" if binding == "version" and version else ""
        return f"camunda-forms:{ref}@{binding}{suffix}"
    for zeebe in _extension_children(elem, _ZEEBE, "formDefinition"):
        key = zeebe.get("formKey") or zeebe.get("formId") or zeebe.get("externalReference")
        if key:
            return key
    for props in _extension_children(elem, _SPIFF, "properties"):
        for prop in props.iterchildren(f"{{{_SPIFF}}}property"):
            if prop.get("name") == "formJsonSchemaFilename" and prop.get("value"):
                return str(prop.get("value"))
    return None


def _number(
    text: str | None, what: str, field_id: str, problem: Problem, line: int | None
) -> int | None:
    if text is None:
        problem("form", f"form field {field_id!r}: constraint {what} needs a config value", line)
        return None
    if not re.fullmatch(r"-?\d{1,18}", text.strip()):
        problem("form", f"form field {field_id!r}: {what}={text!r} is not a whole number", line)
        return None
    return int(text)


def _camunda_form(elem: etree._Element, problem: Problem) -> list[FormField]:
    fields: list[FormField] = []
    for form in _extension_children(elem, _CAMUNDA, "formData"):
        for field in form.iterchildren(f"{{{_CAMUNDA}}}formField"):
            field_id = (field.get("id") or "").strip()
            line = _line(field)
            if not field_id.isidentifier():
                problem("form", f"form field id {field_id!r} is not a field name", line)
                continue
            kind = (field.get("type") or "string").strip()
            if kind not in FORM_TYPES:
                problem(
                    "form",
                    f"form field {field_id!r}: type {kind!r} is not one of {', '.join(FORM_TYPES)}",
                    line,
                )
                continue
            options: dict[str, Any] = {}
            for constraint in field.iterfind(f"{{{_CAMUNDA}}}validation/{{{_CAMUNDA}}}constraint"):
                name = (constraint.get("name") or "").strip()
                if name not in _CONSTRAINTS:
                    problem(
                        "form",
                        f"form field {field_id!r}: constraint {name!r} is not "
                        f"supported (only {', '.join(_CONSTRAINTS)})",
                        _line(constraint),
                    )
                elif name in ("required", "readonly"):
                    options[name] = True
                else:
                    options[name] = _number(
                        constraint.get("config"), name, field_id, problem, _line(constraint)
                    )
            values = tuple(
                (value.get("id") or "", value.get("name") or value.get("id") or "")
                for value in field.iterchildren(f"{{{_CAMUNDA}}}value")
            )
            if kind == "enum" and not values:
                problem(
                    "form", f"form field {field_id!r}: an enum needs camunda:value entries", line
                )
            fields.append(
                FormField(
                    id=field_id,
                    type=kind,
                    label=field.get("label"),
                    default=field.get("defaultValue"),
                    values=values,
                    **options,
                )
            )
    return fields


def _flowable_form(elem: etree._Element, problem: Problem) -> list[FormField]:
    fields: list[FormField] = []
    for prefix in ("flowable", "activiti"):
        for prop in _extension_children(elem, NAMESPACES[prefix], "formProperty"):
            field_id = (prop.get("id") or "").strip()
            line = _line(prop)
            kind = _FLOWABLE_TYPES.get((prop.get("type") or "string").strip())
            if not field_id.isidentifier() or kind is None:
                problem(
                    "form",
                    f"{prefix}:formProperty {field_id!r}: id must be a field name "
                    f"and type one of {', '.join(FORM_TYPES)}",
                    line,
                )
                continue
            for mapping in ("variable", "expression"):
                if prop.get(mapping):
                    problem(
                        "form",
                        f"{prefix}:formProperty {field_id!r}: {mapping} mappings "
                        "are not supported; name the field after the variable",
                        line,
                    )
            values = tuple(
                (value.get("id") or "", value.get("name") or value.get("id") or "")
                for value in prop.iterchildren(f"{{{NAMESPACES[prefix]}}}value")
            )
            fields.append(
                FormField(
                    id=field_id,
                    type=kind,
                    label=prop.get("name"),
                    required=prop.get("required") == "true",
                    readonly=prop.get("writable") == "false",
                    default=prop.get("default"),
                    values=values,
                )
            )
    return fields

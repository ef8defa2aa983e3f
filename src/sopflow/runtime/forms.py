"""Task forms: validating what a completion submits, and describing it as a JSON schema.

A form comes from ``camunda:formData`` or ``flowable:formProperty`` (read at load into
:class:`~sopflow.definitions.model.FormField`); a deciding step's ``disetujui`` is described
the same way. :func:`check_form` runs on ``complete`` before anything is written, so a
required field is required (Camunda 7's meaning) and a ``long`` is a whole number;
:func:`form_schema` is what the work item carries so an application can draw the form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sopflow.definitions.model import FormField, Step
from sopflow.errors import TaskDataError

__all__ = ["check_fields", "check_form", "form_schema"]

#: Camunda 7's default date pattern (dd/MM/yyyy), and ISO dates
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")
_LONG_BITS = 63  # a Java long


def _label(field: FormField) -> str:
    return (
        f"{field.id!r} ({field.label})"
        if field.label and field.label != field.id
        else repr(field.id)
    )


def _is_date(value: str) -> bool:
    for pattern in _DATE_FORMATS:
        try:
            datetime.strptime(value, pattern)
        except ValueError:
            continue
        return True
    return False


def _typed_default(field: FormField) -> object:
    """The default as the field's type (a Camunda default is text in the XML)."""
    text = field.default
    if text is None:
        return None
    if field.type == "long" and re.fullmatch(r"-?\d{1,18}", text.strip()):
        return int(text)
    if field.type == "boolean" and text.strip().lower() in ("true", "false"):
        return text.strip().lower() == "true"
    return text


def _problem(field: FormField, value: object) -> str | None:
    """Why ``value`` does not fit ``field``, or None."""
    kind = field.type
    if kind == "boolean":
        return None if isinstance(value, bool) else f"must be true or false, got {value!r}"
    if kind == "long":
        if not isinstance(value, int) or isinstance(value, bool):
            return f"must be a whole number, got {value!r}"
        if value.bit_length() > _LONG_BITS:
            return "is out of the range of a long"
        if field.min is not None and value < field.min:
            return f"must be at least {field.min}, got {value}"
        if field.max is not None and value > field.max:
            return f"must be at most {field.max}, got {value}"
        return None
    if not isinstance(value, str):
        return f"must be text, got {value!r}"
    if kind == "date" and not _is_date(value):
        return f"must be a date (dd/mm/yyyy or yyyy-mm-dd), got {value!r}"
    if kind == "enum" and value not in {v for v, _ in field.values}:
        allowed = ", ".join(v for v, _ in field.values)
        return f"must be one of {allowed}, got {value!r}"
    if field.minlength is not None and len(value) < field.minlength:
        return f"must be at least {field.minlength} characters long"
    if field.maxlength is not None and len(value) > field.maxlength:
        return f"must be at most {field.maxlength} characters long"
    return None


def check_form(step: Step, submitted: Mapping[str, Any], *, instance_id: str) -> dict[str, Any]:
    """``submitted`` with form defaults filled in, or TaskDataError naming the field."""
    return check_fields(step.form, submitted, instance_id=instance_id, task_id=step.id)


def check_fields(
    fields: Iterable[FormField],
    submitted: Mapping[str, Any],
    *,
    instance_id: str | None,
    task_id: str | None,
) -> dict[str, Any]:
    """The check of :func:`check_form` for any list of fields (a start event's form too)."""
    values = dict(submitted)
    for field in fields:
        present = field.id in values and values[field.id] is not None
        if field.readonly and present and values[field.id] != _typed_default(field):
            raise TaskDataError(
                f"form field {_label(field)} is read-only", instance_id=instance_id, task_id=task_id
            )
        if not present and field.default is not None:
            values[field.id] = _typed_default(field)
            present = True
        if not present or values[field.id] == "":
            if field.required:
                raise TaskDataError(
                    f"form field {_label(field)} is required",
                    instance_id=instance_id,
                    task_id=task_id,
                )
            continue
        why = _problem(field, values[field.id])
        if why is not None:
            raise TaskDataError(
                f"form field {_label(field)} {why}", instance_id=instance_id, task_id=task_id
            )
    return values


def _field_schema(field: FormField) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    if field.type == "boolean":
        schema["type"] = "boolean"
    elif field.type == "long":
        schema["type"] = "integer"
        if field.min is not None:
            schema["minimum"] = field.min
        if field.max is not None:
            schema["maximum"] = field.max
    else:
        schema["type"] = "string"
        if field.type == "date":
            schema["format"] = "date"
        if field.type == "enum":
            schema["enum"] = [v for v, _ in field.values]
            schema["x-labels"] = {v: label for v, label in field.values}
        if field.minlength is not None:
            schema["minLength"] = field.minlength
        if field.maxlength is not None:
            schema["maxLength"] = field.maxlength
    if field.label:
        schema["title"] = field.label
    default = _typed_default(field)
    if default is not None:
        schema["default"] = default
    if field.readonly:
        schema["readOnly"] = True
    return schema


def form_schema(step: Step) -> dict[str, Any] | None:
    """The step's form as a JSON schema (draft 2020-12), or None when it has no form.

    A deciding step (``keputusan``) describes its decision field as a required boolean,
    the same way a form would.
    """
    fields = list(step.form)
    if step.decision_field is not None and all(f.id != step.decision_field for f in fields):
        fields.append(
            FormField(id=step.decision_field, type="boolean", label="Disetujui?", required=True)
        )
    if not fields:
        return None
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "title": step.name,
        "properties": {f.id: _field_schema(f) for f in fields},
        "required": [f.id for f in fields if f.required],
    }

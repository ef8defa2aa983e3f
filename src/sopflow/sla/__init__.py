"""SLA foundations: Mutu Baku waktu texts read as standards, and the work calendar.

``parse_waktu`` turns the Waktu cell of a step into a :class:`Standard`;
:class:`WorkCalendar` says when such a standard runs out (``due_at``) and how much working
time a step took (``working_minutes_between``).
"""

from sopflow.sla.calendar import WorkCalendar, from_config
from sopflow.sla.durations import HariPolicy, Standard, StandardKind, parse_waktu

__all__ = [
    "HariPolicy",
    "Standard",
    "StandardKind",
    "WorkCalendar",
    "from_config",
    "parse_waktu",
]

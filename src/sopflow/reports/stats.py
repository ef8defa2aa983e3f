"""Figures for SLA reports: per instance, and per SOP across instances.

The figures are what the Permenpan-RB 35/2012 monitoring officer lacks today: how long
each step actually takes in working time, how often it meets its Mutu Baku waktu and how
often its decision sends the file back. From them the monitoring form ("Monitoring
Pelaksanaan SOP AP") is pre-filled for the officer to confirm, by a stated rule:

- *Berjalan dengan baik* when all three hold: (1) at least :data:`GOOD_SHARE_MET` (80%)
  of the passes with a standard met it (or the step has none); (2) the late passes are
  not far late: the p90 overrun is at most :data:`MAX_P90_OVERRUN_SHARE` (half) of the
  standard; (3) at most :data:`MAX_RETURN_SHARE` (a third) of its passes sent the file
  back ("Tidak"): a return says the file that reached the step was incomplete, so an
  occasional one is noted (and the kelengkapan action suggested), not held against a
  step that decided on time;
- otherwise *Tidak berjalan dengan baik*; a step never performed is *Belum dapat dinilai*.

A joint step (one row of the SOP with several Pelaksana, run as one task per lane) is one
row of the report and of the form: its tasks' passes are counted under the row, and the
form names each lane's figures. A pass closed because a sibling branch, a completion
condition or a terminate end event ended it (``outcome`` cancelled or terminated) is
counted as cancelled: neither done nor met nor breached (issue 10).

Working time is counted on each process's calendar. Percentiles use the nearest-rank
method (p90 of n values = the ceil(0.9 n)-th smallest), so every figure is a time that
really occurred; the median is the usual middle value (mean of the two middle ones).

This module gathers the public names; the work is done in :mod:`~sopflow.reports.stats_instance`
(one instance), :mod:`~sopflow.reports.stats_sop` (one SOP across instances, and a unit's
roll-up), :mod:`~sopflow.reports.stats_form` (the monitoring form and its rule) and
:mod:`~sopflow.reports.stats_numbers` (median, p90, minutes as an officer reads them).
"""

from __future__ import annotations

from sopflow.reports.stats_form import (
    BELUM_DINILAI,
    BERJALAN_BAIK,
    GOOD_SHARE_MET,
    MAX_P90_OVERRUN_SHARE,
    MAX_RETURN_SHARE,
    TIDAK_BERJALAN_BAIK,
    FormRow,
    assess,
)
from sopflow.reports.stats_instance import InstanceReport, StepPass, instance_report
from sopflow.reports.stats_numbers import format_minutes, median, p90
from sopflow.reports.stats_sop import (
    Figures,
    ProcessReport,
    RoleFigures,
    StepFigures,
    process_report,
    processes_in,
)

__all__ = [
    "BELUM_DINILAI",
    "BERJALAN_BAIK",
    "GOOD_SHARE_MET",
    "MAX_P90_OVERRUN_SHARE",
    "MAX_RETURN_SHARE",
    "TIDAK_BERJALAN_BAIK",
    "Figures",
    "FormRow",
    "InstanceReport",
    "ProcessReport",
    "RoleFigures",
    "StepFigures",
    "StepPass",
    "assess",
    "format_minutes",
    "instance_report",
    "median",
    "p90",
    "process_report",
    "processes_in",
]

"""Specification of the pictures: the process drawn from its DI, and the instance timeline."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
from lxml import etree
from tests.conftest import FIXTURES, ROOT, ListCatalog

from sopflow.definitions.loader import load_definition, load_definition_bytes
from sopflow.definitions.model import NodeKind, ProcessDefinition
from sopflow.errors import DefinitionError
from sopflow.reports.render import (
    STATUS_STYLES,
    STATUSES,
    instance_step_status,
    render_process_svg,
    share_colour,
)
from sopflow.reports.timeline import render_timeline_svg
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor, StepRecord
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

SVG = "{http://www.w3.org/2000/svg}"
PURBALINGGA = ROOT / "bpmn" / "purbalingga-pengukuran-kinerja.bpmn"


@pytest.fixture(scope="module")
def purbalingga() -> ProcessDefinition:
    return load_definition(PURBALINGGA)


def parse(svg: str) -> etree._Element:
    return etree.fromstring(svg.encode())


def groups(root: etree._Element, css: str) -> list[etree._Element]:
    return [g for g in root.iter(f"{SVG}g") if css in (g.get("class") or "").split()]


def task(root: etree._Element, task_id: str) -> etree._Element:
    (found,) = [g for g in groups(root, "task") if g.get("data-id") == task_id]
    return found


def task_fill(root: etree._Element, task_id: str) -> str:
    rect = task(root, task_id).find(f"{SVG}rect")
    assert rect is not None
    return str(rect.get("fill"))


def texts(element: etree._Element) -> str:
    return " ".join("".join(str(x) for x in t.itertext()) for t in element.iter(f"{SVG}text"))


# ----------------------------------------------------------------------------- structure


def test_one_element_per_lane_task_gateway_and_flow(purbalingga: ProcessDefinition) -> None:
    root = parse(render_process_svg(purbalingga))
    nodes = purbalingga.nodes.values()
    assert [g.get("data-id") for g in groups(root, "lane")] == [la.id for la in purbalingga.lanes]
    assert sorted(str(g.get("data-id")) for g in groups(root, "task")) == sorted(
        s.id for s in purbalingga.steps
    )
    # the decisions and merges, and the split and join of each joint step (5, 6, 9)
    gateway_kinds = (NodeKind.EXCLUSIVE_GATEWAY, NodeKind.PARALLEL_GATEWAY)
    assert sorted(str(g.get("data-id")) for g in groups(root, "gateway")) == sorted(
        n.id for n in nodes if n.kind in gateway_kinds
    )
    kinds = {str(g.get("data-id")): g.get("data-kind") for g in groups(root, "gateway")}
    assert sorted(k for k, kind in kinds.items() if kind == "parallelGateway") == [
        f"{part}_{no:02d}" for part in ("fork", "join") for no in (5, 6, 9)
    ]
    assert sorted(str(g.get("data-id")) for g in groups(root, "flow")) == sorted(
        f.id for n in nodes for f in n.outgoing
    )
    assert len(groups(root, "pool")) == 1
    assert [g.get("data-id") for g in groups(root, "start")] == ["start"]
    assert [g.get("data-id") for g in groups(root, "end")] == ["end"]


def test_lane_names_rotated_and_tasks_numbered(purbalingga: ProcessDefinition) -> None:
    root = parse(render_process_svg(purbalingga))
    lane = groups(root, "lane")[0]
    label = lane.find(f"{SVG}text")
    assert label is not None and "rotate(-90)" in (label.get("transform") or "")
    assert "Tim SAKIP" in texts(lane)
    assert task(root, "step_10").get("data-step-no") == "10"
    assert texts(task(root, "step_10")).split()[-1] == "10"  # the number tab


def test_flow_labels_and_arrowheads(purbalingga: ProcessDefinition) -> None:
    root = parse(render_process_svg(purbalingga))
    flows = {g.get("data-id"): g for g in groups(root, "flow")}
    assert texts(flows["flow_10_tidak"]) == "Tidak"
    assert texts(flows["flow_11_ya"]) == "Ya"
    for flow in flows.values():
        assert flow.find(f"{SVG}polyline") is not None
        assert flow.find(f"{SVG}polygon") is not None  # the arrowhead


def test_gateways_have_an_x_and_end_event_is_thick(purbalingga: ProcessDefinition) -> None:
    root = parse(render_process_svg(purbalingga))
    gateway = groups(root, "gateway")[0]
    assert len(gateway.findall(f"{SVG}line")) == 2
    end = groups(root, "end")[0].find(f"{SVG}circle")
    start = groups(root, "start")[0].find(f"{SVG}circle")
    assert end is not None and start is not None
    assert float(end.get("stroke-width") or 0) > float(start.get("stroke-width") or 0)


def test_file_without_diagram_is_refused() -> None:
    definition = load_definition(FIXTURES / "engine" / "review_loop.bpmn")
    with pytest.raises(DefinitionError, match="has no diagram to draw") as info:
        render_process_svg(definition)
    assert "review_loop.bpmn" in str(info.value)


def test_foreign_modeler_file_renders() -> None:
    definition = load_definition(FIXTURES / "bpmn" / "foreign_bpmnio.bpmn")
    root = parse(render_process_svg(definition))
    assert {g.get("data-id") for g in groups(root, "task")} == {s.id for s in definition.steps}


# ----------------------------------------------------------------------------- colours


def test_each_status_colours_its_step_and_unlisted_steps_are_not_reached(
    purbalingga: ProcessDefinition,
) -> None:
    status = dict(zip([s.id for s in purbalingga.steps], STATUSES[:-1], strict=False))
    root = parse(render_process_svg(purbalingga, step_status=status))
    for task_id, value in status.items():
        assert task_fill(root, task_id) == STATUS_STYLES[value][0]
        assert task(root, task_id).get("data-id") == task_id
    unlisted = [s.id for s in purbalingga.steps if s.id not in status]
    assert unlisted
    for task_id in unlisted:
        assert task_fill(root, task_id) == STATUS_STYLES["not_reached"][0]
    legend = [g.get("data-status") for g in groups(root, "legend-item")]
    assert legend == list(STATUSES)
    assert "breached" in texts(task(root, status_key(status, "breached")))


def status_key(status: dict[str, str], value: str) -> str:
    return next(k for k, v in status.items() if v == value)


def test_share_met_colours_and_prints_the_percentage(purbalingga: ProcessDefinition) -> None:
    share = {"step_01": 1.0, "step_02": 0.5, "step_03": 0.0, "step_04": 2 / 3}
    root = parse(render_process_svg(purbalingga, share_met=share))
    assert root.get("data-mode") == "share"
    assert "100% met" in texts(task(root, "step_01"))
    assert "67% met" in texts(task(root, "step_04"))
    assert "0% met" in texts(task(root, "step_03"))
    assert "no data" in texts(task(root, "step_12"))
    for task_id, value in share.items():
        assert task_fill(root, task_id) == share_colour(value)[0]
    red, green = share_colour(0.0)[1], share_colour(1.0)[1]
    assert int(red[1:3], 16) > int(red[3:5], 16)  # red dominates at 0
    assert int(green[3:5], 16) > int(green[1:3], 16)  # green dominates at 1


@pytest.mark.parametrize("bad", [1.5, -0.1, math.nan])
def test_share_outside_zero_to_one_is_refused(purbalingga: ProcessDefinition, bad: float) -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        render_process_svg(purbalingga, share_met={"step_01": bad})


def test_unknown_status_or_both_modes_are_refused(purbalingga: ProcessDefinition) -> None:
    with pytest.raises(ValueError, match="unknown status"):
        render_process_svg(purbalingga, step_status={"step_01": "late"})
    with pytest.raises(ValueError, match="not both"):
        render_process_svg(purbalingga, step_status={}, share_met={})


# ----------------------------------------------------------------------------- safety


HOSTILE = '<script>alert("x")</script> & </text><image href="http://evil/x.png"/>'


def hostile_definition() -> ProcessDefinition:
    data = (FIXTURES / "bpmn" / "sop_minimal.bpmn").read_bytes()
    escaped = (
        HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace('"', "&quot;")
    )
    data = data.replace(b'name="Memeriksa data kinerja"', f'name="{escaped}"'.encode())
    assert escaped.encode() in data
    return load_definition_bytes(data, source="hostile.bpmn")


def test_hostile_task_name_is_escaped_and_kept_as_text() -> None:
    definition = hostile_definition()
    svg = render_process_svg(definition, title=HOSTILE + "\x00\x07")
    assert "<script" not in svg and "<image" not in svg
    assert "&lt;script&gt;" in svg
    root = parse(svg)
    assert root.find(f".//{SVG}script") is None
    assert root.find(f".//{SVG}image") is None
    tooltip = task(root, "step_02").find(f"{SVG}title")
    assert tooltip is not None and HOSTILE in (tooltip.text or "")


def test_picture_refers_to_nothing_outside_itself(purbalingga: ProcessDefinition) -> None:
    svg = render_process_svg(purbalingga, step_status={"step_01": "done_in_time"})
    root = parse(svg)
    for element in root.iter():
        for name, value in element.attrib.items():
            assert "href" not in name
            assert "url(" not in value
            assert "http" not in value
    assert svg.count("http://") == 1  # the SVG namespace declaration only
    assert root.find(f".//{SVG}image") is None and root.find(f".//{SVG}foreignObject") is None
    assert not [e for e in root.iter() if e.get("id")]  # no ids: several SVGs fit in one page


# ----------------------------------------------------------------------------- instances


def run_case(store: Store, definition: ProcessDefinition) -> tuple[Engine, str, FakeClock]:
    """Steps 1-3 in time, 4 late (45 of 30 min), 5-8 in time (8 spans the lunch break),
    9 late (its two tasks 65 and 75 working minutes of 30), 10 says Tidak, both tasks of
    9 again in time, 10 open from 14:45.

    Steps 5, 6 and 9 are joint steps (two Pelaksana on one row; a parallel split, BPMN
    2.0 section 13.3.1): each Pelaksana completes the row's number with their role."""
    clock = FakeClock("2025-08-04T08:00:00+07:00")
    engine = Engine(ListCatalog(definition), store, clock=clock)
    iid = engine.start(definition.process_id, actor=Actor("c", "camat"), at=clock.now()).instance_id
    plan = [
        (1, "camat", 10), (2, "sekcam", 10), (3, "kasi", 10), (4, "camat", 45),
        (5, "sekcam", 50), (5, "tim", 10), (6, "tim", 15), (6, "sekcam", 5),
        (7, "tim", 60), (8, "tim", 60), (9, "kasi", 90), (9, "tim", 10),
    ]
    for no, role, minutes in plan:
        engine.complete(iid, no, actor=Actor("x", role), at=clock.advance(minutes=minutes))
    engine.complete(
        iid, 10, actor=Actor("s", "sekcam"), data={"disetujui": False},
        at=clock.advance(minutes=20),
    )
    engine.complete(iid, 9, actor=Actor("t", "tim"), at=clock.advance(minutes=5))
    engine.complete(iid, 9, actor=Actor("k", "kasi"), at=clock.advance(minutes=5))
    return engine, iid, clock


def test_instance_status_latest_pass_decides(
    store: Store, purbalingga: ProcessDefinition
) -> None:
    engine, iid, clock = run_case(store, purbalingga)
    status = instance_step_status(engine.status(iid, at=clock.now()))
    assert status["step_01"] == "done_in_time"
    assert status["step_04"] == "done_late"
    # late first pass, in time on the return: each task of the joint step 9
    assert status["step_09_1"] == status["step_09_2"] == "done_in_time"
    assert status["step_05_1"] == status["step_05_2"] == "done_in_time"
    assert status["step_10"] == "on_track"
    assert "step_11" not in status
    later = instance_step_status(engine.status(iid, at=clock.now() + timedelta(minutes=50)))
    assert later["step_10"] == "at_risk"
    much_later = instance_step_status(engine.status(iid, at=clock.now() + timedelta(hours=5)))
    assert much_later["step_10"] == "breached"
    root = parse(render_process_svg(purbalingga, step_status=much_later))
    assert task_fill(root, "step_10") == STATUS_STYLES["breached"][0]
    assert task_fill(root, "step_12") == STATUS_STYLES["not_reached"][0]


def test_cancelled_instance_judges_its_open_step_at_the_cancellation(
    store: Store, purbalingga: ProcessDefinition
) -> None:
    engine, iid, clock = run_case(store, purbalingga)
    engine.cancel(iid, reason="dibatalkan", actor=Actor("c", "camat"), at=clock.advance(hours=3))
    assert instance_step_status(engine.status(iid))["step_10"] == "breached"


# ----------------------------------------------------------------------------- timeline


def test_timeline_of_a_run_with_a_return(store: Store, purbalingga: ProcessDefinition) -> None:
    engine, iid, clock = run_case(store, purbalingga)
    history = engine.history(iid)
    now = clock.now() + timedelta(minutes=50)
    root = parse(render_timeline_svg(history, definition=purbalingga, now=now))
    passes = groups(root, "pass")
    # 1-4, two tasks each of 5 and 6, 7, 8, two of 9, 10, two of 9 again, 10 open
    assert len(passes) == len(history) == 16
    for task_id in ("step_09_1", "step_09_2"):  # each task of a joint step has its bar
        nine = [(g.get("data-pass"), g.get("data-status")) for g in passes
                if g.get("data-task") == task_id]
        assert nine == [("1", "done_late"), ("2", "done_in_time")]
    assert passes[-1].get("data-status") == "at_risk"
    assert "(pass 2)" in texts(passes[-2])
    assert "↩ Tidak" in texts(next(g for g in passes if g.get("data-task") == "step_10"))
    assert "open:" in texts(passes[-1])
    assert groups(root, "now")
    for g in passes:  # every pass with a standard draws its due marker
        assert g.find(f"{SVG}line[@class='due']") is not None
    assert [g.get("data-day") for g in groups(root, "tick")][:2] == ["2025-08-04", "2025-08-05"]


def test_timeline_over_weeks_ticks_by_day_and_shades_holidays(
    purbalingga: ProcessDefinition,
) -> None:
    start = datetime.fromisoformat("2025-08-11T09:00:00+07:00")
    records = [
        StepRecord("step_07", 7, "Anggota <b>mengukur</b>", None, "tim", start + timedelta(days=d),
                   start + timedelta(days=d + 3), "t", None, {}, (), "2 hari",
                   start + timedelta(days=d + 2))
        for d in (0, 7, 14)
    ]
    svg = render_timeline_svg(records, definition=purbalingga, now=start + timedelta(days=20))
    assert "<b>" not in svg
    root = parse(svg)
    days = [str(g.get("data-day")) for g in groups(root, "tick")]
    assert days[0] == "2025-08-11" and days[-1] >= "2025-08-28"
    assert len(days) >= 18
    assert len(groups(root, "now")) == 0  # nothing open
    assert [g.get("data-pass") for g in groups(root, "pass")] == ["1", "2", "3"]
    off_days = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "day-off"]
    # 16-17 Aug, 23-24 Aug (weekends; 17 Aug is also Independence Day) and 18 Aug (cuti bersama)
    assert len(off_days) == 5
    holiday = [t for t in root.iter(f"{SVG}title") if "2025-08-18" in (t.text or "")]
    assert holiday


def test_timeline_without_records_says_so(purbalingga: ProcessDefinition) -> None:
    root = parse(render_timeline_svg([], definition=purbalingga))
    assert "no steps recorded" in texts(root)


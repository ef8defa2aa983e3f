"""The modeler check (modeler/check.sh) fails loudly, naming file and element.

A check that passes everything proves nothing, so these tests take a shipped BPMN file,
break it the way a careless edit would, run the check on just that file and expect a
non-zero exit with the file and the offending element on the failing stage's line. The
browser tests need node, npm's installed packages (modeler/node_modules, from ``npm ci``)
and Debian's chromium; without them they are skipped with the reason shown.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "modeler" / "check.sh"
FIXTURE = ROOT / "modeler" / "fixtures" / "mini.bpmn"
SOPFLOW = ROOT / ".venv" / "bin" / "sopflow"
CHROMIUM = Path(os.environ.get("SOPFLOW_CHROMIUM", "/usr/bin/chromium"))

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
BPMN = "{" + NS["bpmn"] + "}"
BPMNDI = "{" + NS["bpmndi"] + "}"
DI = "{" + NS["di"] + "}"

# Exit statuses of check.sh
PASSED, FAILED, USAGE, TOOL_MISSING = 0, 1, 2, 3


def _browser_missing() -> str | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm not on PATH"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    if not (ROOT / "modeler" / "node_modules" / ".package-lock.json").is_file():
        return "modeler/node_modules missing (run `make test-modeler` once: npm ci)"
    if not SOPFLOW.is_file():
        return "sopflow is not installed in .venv"
    return None


needs_browser = pytest.mark.skipif(
    _browser_missing() is not None, reason=f"modeler check cannot run: {_browser_missing()}"
)


#: the shipped SOP with two decisions (steps 10 and 11): the richest file to break
SHIPPED = ROOT / "bpmn" / "purbalingga-pengukuran-kinerja.bpmn"


def _run(
    *args: str, env: dict[str, str] | None = None, out: Path
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "SOPFLOW_MODELER_OUT": str(out), **(env or {})}
    return subprocess.run(
        ["bash", str(CHECK), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=180,
        check=False,
    )


def _line(output: str, status: str, stage: str, file: Path) -> str:
    """The one line check.sh prints for this stage of this file."""
    lines = [
        ln for ln in output.splitlines() if ln.split()[:2] == [status, stage] and str(file) in ln
    ]
    assert len(lines) == 1, f"expected one {status} {stage} line for {file} in:\n{output}"
    return lines[0]


def _load(path: Path) -> etree._ElementTree:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))


def _save(tree: etree._ElementTree, path: Path) -> Path:
    tree.write(str(path), xml_declaration=True, encoding="UTF-8")
    return path


def _copy(tmp_path: Path) -> tuple[Path, etree._ElementTree]:
    target = tmp_path / SHIPPED.name
    shutil.copyfile(SHIPPED, target)
    return target, _load(target)


def _delete_shape(tree: etree._ElementTree, element_id: str) -> None:
    shapes = tree.findall(f".//bpmndi:BPMNShape[@bpmnElement='{element_id}']", NS)
    assert len(shapes) == 1, f"{element_id} should have exactly one shape"
    plane = shapes[0].getparent()
    assert plane is not None
    plane.remove(shapes[0])


# --- broken files ---------------------------------------------------------------------


@needs_browser
@pytest.mark.slow
def test_a_task_without_its_shape_fails_import_naming_file_and_task(tmp_path: Path) -> None:
    file, tree = _copy(tmp_path)
    task = tree.find(".//bpmn:userTask", NS)
    assert task is not None
    task_id = task.get("id")
    assert task_id
    _delete_shape(tree, task_id)
    _save(tree, file)

    result = _run(str(file), out=tmp_path / "out")

    assert result.returncode == FAILED, result.stdout + result.stderr
    failing = _line(result.stdout, "FAIL", "import", file)
    assert f"{task_id}: UserTask has no drawn shape" in failing
    assert task_id in _line(result.stdout, "FAIL", "lint", file)  # no-bpmndi agrees


@needs_browser
@pytest.mark.slow
def test_a_lane_without_its_shape_fails_import_though_bpmn_js_stays_silent(
    tmp_path: Path,
) -> None:
    """bpmn-js imports a lane without DI without a warning: only the registry check sees it."""
    file, tree = _copy(tmp_path)
    lanes = tree.findall(".//bpmn:lane", NS)
    lane_id = lanes[-1].get("id")
    assert lane_id
    _delete_shape(tree, lane_id)
    _save(tree, file)

    result = _run(str(file), out=tmp_path / "out")

    assert result.returncode == FAILED, result.stdout + result.stderr
    assert f"{lane_id}: Lane has no drawn shape" in _line(result.stdout, "FAIL", "import", file)


@needs_browser
@pytest.mark.slow
def test_an_unconditioned_flow_on_a_gateway_with_default_fails_lint(tmp_path: Path) -> None:
    file, tree = _copy(tmp_path)
    gateway = tree.find(".//bpmn:exclusiveGateway[@default]", NS)
    assert gateway is not None, "the file needs a decision gateway with a default flow"
    gateway_id = gateway.get("id")
    end = tree.find(".//bpmn:endEvent", NS)
    assert end is not None
    end_id = end.get("id")
    flow_id = f"flow_{gateway_id}_tanpa_syarat"

    # a flow with everything a modeler would draw, except the condition
    process = gateway.getparent()
    assert process is not None
    flow = etree.SubElement(process, f"{BPMN}sequenceFlow", id=flow_id)
    flow.set("sourceRef", str(gateway_id))
    flow.set("targetRef", str(end_id))
    etree.SubElement(gateway, f"{BPMN}outgoing").text = flow_id
    incoming = etree.Element(f"{BPMN}incoming")
    incoming.text = flow_id
    end.insert(0, incoming)
    plane = tree.find(".//bpmndi:BPMNPlane", NS)
    assert plane is not None
    edge = etree.SubElement(plane, f"{BPMNDI}BPMNEdge", id=f"{flow_id}_di", bpmnElement=flow_id)
    for shape_of in (gateway_id, end_id):
        bounds = tree.find(f".//bpmndi:BPMNShape[@bpmnElement='{shape_of}']/dc:Bounds", NS)
        assert bounds is not None
        cx = float(bounds.get("x", "0")) + float(bounds.get("width", "0")) / 2
        cy = float(bounds.get("y", "0")) + float(bounds.get("height", "0")) / 2
        etree.SubElement(edge, f"{DI}waypoint", x=str(cx), y=str(cy))
    _save(tree, file)

    result = _run(str(file), out=tmp_path / "out")

    assert result.returncode == FAILED, result.stdout + result.stderr
    failing = _line(result.stdout, "FAIL", "lint", file)
    assert f"{flow_id}: error" in failing and "conditional-flows" in failing
    # drawn completely: the viewer has nothing to say, only the linter does
    _line(result.stdout, "ok", "import", file)


@needs_browser
@pytest.mark.slow
def test_one_bad_file_does_not_stop_the_others_and_a_good_one_passes_every_stage(
    tmp_path: Path,
) -> None:
    """The shipped files themselves pass in `make test-modeler`; here the small fixture does."""
    good = tmp_path / FIXTURE.name
    shutil.copyfile(FIXTURE, good)
    broken = tmp_path / "rusak.bpmn"
    broken.write_text("<bpmn:definitions", encoding="utf-8")
    missing = tmp_path / "tidak_ada.bpmn"
    out = tmp_path / "out"

    result = _run(str(broken), str(missing), str(good), out=out)

    assert result.returncode == FAILED
    for stage in ("import", "lint", "roundtrip", "edit"):
        _line(result.stdout, "FAIL", stage, broken)
        assert "ENOENT" in _line(result.stdout, "FAIL", stage, missing)
        _line(result.stdout, "ok", stage, good)
    assert "1/3 files passed" in result.stdout
    assert "0 network requests" in result.stdout

    # the viewer's picture and both saved files are left for a person to look at
    assert (out / "mini.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _load(out / "mini.roundtrip.bpmn").getroot().tag == f"{BPMN}definitions"
    edit_line = _line(result.stdout, "ok", "edit", good)
    assert "step_01 moved Anggota Tim/tim -> Camat/camat" in edit_line
    lanes_of_step_01 = [
        lane.get("id")
        for lane in _load(out / "mini.edited.bpmn").iterfind(".//bpmn:lane", NS)
        if "step_01" in [ref.text for ref in lane.findall("bpmn:flowNodeRef", NS)]
    ]
    assert lanes_of_step_01 == ["lane_2"]


# --- missing tools and usage (no browser needed) --------------------------------------


def test_without_chromium_it_says_so_in_one_line_and_fails(tmp_path: Path) -> None:
    result = _run(
        str(FIXTURE),
        env={"SOPFLOW_CHROMIUM": str(tmp_path / "no-chromium")},
        out=tmp_path / "out",
    )
    assert result.returncode == TOOL_MISSING
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "chromium not found" in result.stderr and str(tmp_path / "no-chromium") in result.stderr


def test_without_node_it_says_so_in_one_line_and_fails(tmp_path: Path) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    result = subprocess.run(
        [bash, str(CHECK), str(FIXTURE)],
        capture_output=True,
        text=True,
        env={"PATH": str(tmp_path)},  # an empty directory: no node, no npm, no coreutils
        timeout=30,
        check=False,
    )
    assert result.returncode == TOOL_MISSING
    assert result.stderr.count("\n") == 1 and "node not found" in result.stderr


def test_an_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    result = _run("--no-such-option", out=tmp_path / "out")
    assert result.returncode == USAGE
    assert "--no-such-option" in result.stderr


def test_help_explains_files_and_exit_statuses(tmp_path: Path) -> None:
    result = _run("--help", out=tmp_path / "out")
    assert result.returncode == PASSED
    assert "FILE.bpmn" in result.stdout and "3 a tool is missing" in result.stdout


def test_the_fixture_follows_the_convention_it_stands_in_for() -> None:
    """The harness fixture must be a file sopflow itself accepts, or its results mean nothing."""
    from sopflow.definitions.loader import load_definition

    definition = load_definition(FIXTURE)
    assert [(lane.name, lane.role) for lane in definition.lanes] == [
        ("Anggota Tim", "tim"),
        ("Camat", "camat"),
    ]
    assert [d.gateway_id for d in definition.decisions] == ["decision_02"]
    tree = _load(FIXTURE)
    drawn = {s.get("bpmnElement") for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    drawn |= {e.get("bpmnElement") for e in tree.iterfind(".//bpmndi:BPMNEdge", NS)}
    ids = {e.get("id") for e in tree.iter() if e.get("id") and e.tag.startswith(BPMN)}
    assert ids - drawn == {"definitions", "collaboration", "uji_modeler", "lanes"}


def test_pinned_versions_are_exact() -> None:
    """npm ci installs what package-lock.json says; ranges in package.json would drift."""
    package = json.loads((ROOT / "modeler" / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "modeler" / "package-lock.json").read_text(encoding="utf-8"))
    for name, version in package["dependencies"].items():
        assert version[0].isdigit(), f"{name} is not pinned: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert "playwright" not in package["dependencies"]  # playwright-core only: no browser download

'use strict';

// bpmnlint with the configuration in modeler/.bpmnlintrc (bpmnlint:recommended), run
// through its library API so one node process lints every file. The same bpmn-moddle
// parse also yields the list of lanes, pools, flow nodes and flows the XML holds, which
// the viewer stage checks against bpmn-js's element registry.

const fs = require('node:fs');
const path = require('node:path');
const { BpmnModdle } = require('bpmn-moddle');
const { Linter } = require('bpmnlint');
const NodeResolver = require('bpmnlint/lib/resolver/node-resolver');

const RC_PATH = path.join(__dirname, '..', '.bpmnlintrc');

function loadConfig() {
  return JSON.parse(fs.readFileSync(RC_PATH, 'utf8'));
}

/** Parse with bpmn-moddle; a parse error is returned, not thrown. */
async function parse(xml) {
  const moddle = new BpmnModdle();
  try {
    const { rootElement, warnings = [] } = await moddle.fromXML(xml);
    return { root: rootElement, warnings: warnings.map(firstLine), error: null };
  } catch (err) {
    return { root: null, warnings: (err.warnings || []).map(firstLine), error: firstLine(err) };
  }
}

function firstLine(warningOrError) {
  return String(warningOrError.message || warningOrError).split('\n')[0];
}

/**
 * Every lane, pool, flow node and sequence flow of the definitions, as {id, type}.
 * Walks nested lane sets and subprocesses, so nothing the engine would run is missed.
 */
function drawableElements(definitions) {
  const found = [];
  const walkLanes = (laneSets) => {
    for (const laneSet of laneSets || []) {
      for (const lane of laneSet.lanes || []) {
        found.push({ id: lane.id, type: lane.$type });
        walkLanes(lane.childLaneSet ? [lane.childLaneSet] : []);
      }
    }
  };
  const walkFlowElements = (container) => {
    walkLanes(container.laneSets);
    for (const element of container.flowElements || []) {
      if (element.$instanceOf('bpmn:FlowNode') || element.$instanceOf('bpmn:SequenceFlow')) {
        found.push({ id: element.id, type: element.$type });
      }
      if (element.flowElements) walkFlowElements(element);
    }
  };
  for (const root of definitions.rootElements || []) {
    if (root.$instanceOf('bpmn:Collaboration')) {
      for (const participant of root.participants || []) {
        found.push({ id: participant.id, type: participant.$type });
      }
    } else if (root.$instanceOf('bpmn:Process')) {
      walkFlowElements(root);
    }
  }
  return found;
}

/** bpmnlint reports as flat {id, category, rule, message}, errors before warnings. */
async function lint(root, config) {
  const linter = new Linter({ config, resolver: new NodeResolver() });
  const reports = await linter.lint(root);
  const flat = [];
  for (const [rule, items] of Object.entries(reports)) {
    for (const item of items) {
      flat.push({
        id: item.id || null,
        category: item.category,
        rule: item.name || rule,
        message: item.message,
      });
    }
  }
  flat.sort((a, b) => (a.category === b.category ? 0 : a.category === 'error' ? -1 : 1));
  return flat;
}

module.exports = { drawableElements, lint, loadConfig, parse };

'use strict';

// One headless Debian Chromium for every file, with two pages: the bpmn-js *viewer* build
// (what a reader of the file sees) and the *modeler* build (what an editor saves). The
// pages never reach the network: every request is aborted and counted, the bundles and
// stylesheets are injected from node_modules, so a check passes on an offline CI runner
// and cannot be influenced by anything remote.

const path = require('node:path');
const { chromium } = require('playwright-core');

const DIST = path.dirname(require.resolve('bpmn-js/dist/bpmn-viewer.production.min.js'));

// Flags known to work as root without a network (see shared notes on the modeler check).
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

// An import that hangs must fail the file, not the CI job.
const STEP_TIMEOUT_MS = 30000;

const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>sopflow modeler check</title>
<style>html, body { margin: 0; height: 100%; background: #fff; }
#canvas { width: 100vw; height: 100vh; }</style></head>
<body><div id="canvas"></div></body></html>`;

async function openPage(browser, bundle, aborted) {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  await page.route('**/*', (route) => {
    aborted.push(route.request().url());
    return route.abort();
  });
  await page.setContent(PAGE_HTML);
  await page.addStyleTag({ path: path.join(DIST, 'assets', 'diagram-js.css') });
  await page.addStyleTag({ path: path.join(DIST, 'assets', 'bpmn-js.css') });
  await page.addScriptTag({ path: path.join(DIST, bundle) });
  await page.evaluate((timeoutMs) => {
    window.sopflowTimeout = timeoutMs;
    // eslint-disable-next-line no-undef
    window.bpmn = new BpmnJS({ container: '#canvas' });
  }, STEP_TIMEOUT_MS);
  return page;
}

// Browser-side helper, serialised into the page: run `work` with a time limit.
const WITH_TIMEOUT = `
  window.sopflowWithTimeout = (what, work) => Promise.race([
    work(),
    new Promise((_, reject) => setTimeout(
      () => reject(new Error(what + ' did not finish within ' + window.sopflowTimeout + ' ms')),
      window.sopflowTimeout)),
  ]);
  window.sopflowWarnings = (warnings) => (warnings || []).map((w) => ({
    message: String(w.message || w).split('\\n')[0],
    // moddle warnings carry .element, bpmn-js import warnings .context.element
    element: ((w.element || (w.context && w.context.element) || {}).id) || null,
  }));
`;

class Browser {
  static async launch(executablePath) {
    const self = new Browser();
    self.aborted = [];
    self.browser = await chromium.launch({
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    self.viewer = await openPage(self.browser, 'bpmn-viewer.production.min.js', self.aborted);
    self.modeler = await openPage(self.browser, 'bpmn-modeler.production.min.js', self.aborted);
    await self.viewer.addScriptTag({ content: WITH_TIMEOUT });
    await self.modeler.addScriptTag({ content: WITH_TIMEOUT });
    return self;
  }

  async close() {
    await this.browser.close();
  }

  /**
   * Import into the viewer and look every expected element up in the element registry.
   *
   * `expected` lists {id, type} of the lanes, pools, flow nodes and flows the XML holds;
   * an element bpmn-js has no drawn shape (or connection) for is returned in `undrawn`.
   * When `screenshot` is a path, the diagram is fitted to the viewport and written there.
   */
  async view(xml, expected, screenshot) {
    const result = await this.viewer.evaluate(async ({ xml, expected }) => {
      const out = { error: null, warnings: [], undrawn: [], box: null };
      try {
        const { warnings } = await window.sopflowWithTimeout(
          'import', () => window.bpmn.importXML(xml));
        out.warnings = window.sopflowWarnings(warnings);
      } catch (err) {
        out.error = String(err.message || err).split('\n')[0];
        out.warnings = window.sopflowWarnings(err.warnings);
        return out;
      }
      const registry = window.bpmn.get('elementRegistry');
      for (const { id, type } of expected) {
        const drawn = registry.get(id);
        const isFlow = type === 'bpmn:SequenceFlow';
        const ok = drawn && drawn.businessObject && drawn.businessObject.id === id &&
          (isFlow ? Array.isArray(drawn.waypoints) && drawn.waypoints.length >= 2
                  : typeof drawn.width === 'number' && drawn.width > 0 && drawn.height > 0);
        if (!ok) out.undrawn.push({ id, type });
      }
      const canvas = window.bpmn.get('canvas');
      const inner = canvas.viewbox().inner;
      out.box = { width: inner.width, height: inner.height };
      return out;
    }, { xml, expected });

    if (screenshot && !result.error && result.box && result.box.width > 0) {
      // Size the page to the diagram (fit-viewport never zooms in past 100 %), at most
      // 2000 px wide, so the picture has no wide empty margins and stays readable.
      const margin = 30;
      const scale = Math.min(1, (2000 - 2 * margin) / result.box.width);
      const width = Math.round(result.box.width * scale + 2 * margin);
      const height = Math.max(200, Math.min(1400, Math.round(result.box.height * scale + 2 * margin)));
      await this.viewer.setViewportSize({ width, height });
      await this.viewer.evaluate((margin) => {
        const canvas = window.bpmn.get('canvas');
        canvas.resized();
        canvas.zoom('fit-viewport', 'auto');
        // fit-viewport puts the outermost shape on the edge: leave a margin around it
        const { inner } = canvas.viewbox();
        const pad = margin / Math.min(1, canvas.zoom());
        canvas.viewbox({
          x: inner.x - pad,
          y: inner.y - pad,
          width: inner.width + 2 * pad,
          height: inner.height + 2 * pad,
        });
      }, margin);
      await this.viewer.screenshot({ path: screenshot });
    }
    return result;
  }

  /** Import into the modeler and save again, untouched. */
  async roundTrip(xml) {
    return this.modeler.evaluate(async (xml) => {
      const out = { error: null, warnings: [], xml: null };
      try {
        const { warnings } = await window.sopflowWithTimeout(
          'import', () => window.bpmn.importXML(xml));
        out.warnings = window.sopflowWarnings(warnings);
        out.xml = (await window.bpmn.saveXML({ format: true })).xml;
      } catch (err) {
        out.error = String(err.message || err).split('\n')[0];
        out.warnings = window.sopflowWarnings(err.warnings);
      }
      return out;
    }, xml);
  }

  /**
   * Move task `taskId` into lane `laneId` the way a person dragging it would: through
   * the modeler's own `modeling.moveElements`, straight up or down so that its centre
   * lands on the lane's middle. The modeler then rewrites the lanes' flowNodeRef lists.
   */
  async moveToLane(xml, taskId, laneId) {
    return this.modeler.evaluate(async ({ xml, taskId, laneId }) => {
      const out = { error: null, warnings: [], xml: null, lanesOfTask: [] };
      try {
        const { warnings } = await window.sopflowWithTimeout(
          'import', () => window.bpmn.importXML(xml));
        out.warnings = window.sopflowWarnings(warnings);
        const registry = window.bpmn.get('elementRegistry');
        const modeling = window.bpmn.get('modeling');
        const task = registry.get(taskId);
        const lane = registry.get(laneId);
        if (!task) throw new Error(taskId + ': task has no shape to move');
        if (!lane) throw new Error(laneId + ': lane has no shape to move into');
        const dy = Math.round((lane.y + lane.height / 2) - (task.y + task.height / 2));
        modeling.moveElements([task], { x: 0, y: dy }, task.parent);
        out.lanesOfTask = registry.filter((el) => el.type === 'bpmn:Lane')
          .filter((el) => (el.businessObject.flowNodeRef || []).includes(task.businessObject))
          .map((el) => el.id);
        out.xml = (await window.bpmn.saveXML({ format: true })).xml;
      } catch (err) {
        out.error = String(err.message || err).split('\n')[0];
        out.warnings = out.warnings.length ? out.warnings : window.sopflowWarnings(err.warnings);
      }
      return out;
    }, { xml, taskId, laneId });
  }
}

module.exports = { Browser, CHROMIUM_ARGS };

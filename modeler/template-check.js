'use strict';

// The element-template check (part of `make test-modeler`, docs/other-modelers.md): the
// "Langkah SOP (Mutu Baku)" template is applied with bpmn-js-element-templates in the
// headless modeler to a task drawn there, its fields are filled in the properties panel as
// a person would, the diagram is saved, and `sopflow show --json` must read the values back
// as the step's role, waktu, kelengkapan, output and keterangan.
//
//   node modeler/template-check.js --chromium PATH --sopflow PATH --out DIR [--screenshot PNG]

const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const esbuild = require('esbuild');
const { show, validate } = require('./lib/sopflow');

const ROOT = path.resolve(__dirname, '..');
const TEMPLATE = path.join(ROOT, '.camunda', 'element-templates', 'langkah-sop.json');
const START = path.join(__dirname, 'fixtures', 'template-start.bpmn');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run'];
const FIELDS = {
  role: 'kasi',
  waktu: '2 Hari Kerja',
  kelengkapan: 'Surat permohonan',
  output: 'Nota dinas',
  keterangan: 'Diperiksa sebelum diparaf',
};

function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const need of ['chromium', 'sopflow', 'out']) {
    if (!out[need]) throw new Error(`missing --${need}`);
  }
  return out;
}

function css(name) {
  return path.join(path.dirname(require.resolve(name + '/package.json')), 'dist', 'assets');
}

async function main() {
  const opts = args();
  fs.mkdirSync(opts.out, { recursive: true });
  const bundle = path.join(opts.out, 'templates-bundle.js');
  await esbuild.build({
    entryPoints: [path.join(__dirname, 'lib', 'templates-entry.js')],
    bundle: true, format: 'iife', outfile: bundle, logLevel: 'error',
    jsx: 'automatic', jsxImportSource: 'preact', loader: { '.js': 'jsx' },
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const templates = JSON.parse(fs.readFileSync(TEMPLATE, 'utf8'));
  const browser = await chromium.launch({ executablePath: opts.chromium, headless: true,
    args: CHROMIUM_ARGS });
  const failures = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 820 } });
    const aborted = [];
    await page.route('**/*', (route) => { aborted.push(route.request().url()); return route.abort(); });
    page.on('pageerror', (err) => failures.push(`page error: ${err.message}`));
    await page.setContent(`<!doctype html><html><head><meta charset="utf-8">
      <style>html,body{margin:0;height:100%;font-family:sans-serif}
      #canvas{position:absolute;left:0;top:0;bottom:0;right:420px}
      #panel{position:absolute;top:0;bottom:0;right:0;width:420px;border-left:1px solid #ccc;overflow:auto}
      .djs-palette,.djs-context-pad{display:none}
      </style></head><body><div id="canvas"></div><div id="panel"></div></body></html>`);
    const dist = path.dirname(require.resolve('bpmn-js/dist/bpmn-modeler.production.min.js'));
    for (const sheet of [path.join(dist, 'assets', 'diagram-js.css'),
      path.join(dist, 'assets', 'bpmn-js.css'),
      path.join(dist, 'assets', 'bpmn-font', 'css', 'bpmn.css'),
      path.join(css('@bpmn-io/properties-panel'), 'properties-panel.css'),
      path.join(css('bpmn-js-element-templates'), 'element-templates.css')]) {
      if (fs.existsSync(sheet)) await page.addStyleTag({ path: sheet });
    }
    await page.addScriptTag({ path: bundle });
    const xml = fs.readFileSync(START, 'utf8');
    // Draw a new task after the start event, an end event after it, and apply the template.
    await page.evaluate(async ({ xml, templates }) => {
      const modeler = window.createSopflowModeler();
      window.modeler = modeler;
      window.templateErrors = [];
      modeler.on('elementTemplates.errors', (event) => {
        window.templateErrors.push(...event.errors.map((e) => String(e.message || e)));
      });
      modeler.get('elementTemplatesLoader').setTemplates(templates);
      await modeler.importXML(xml);
      const registry = modeler.get('elementRegistry');
      const modeling = modeler.get('modeling');
      const start = registry.get('mulai');
      const task = modeling.appendShape(start, { type: 'bpmn:UserTask' });
      modeling.updateLabel(task, 'Periksa berkas permohonan');
      modeling.appendShape(task, { type: 'bpmn:EndEvent' });
      const elementTemplates = modeler.get('elementTemplates');
      const [template] = elementTemplates.getAll();
      if (!template) throw new Error('template refused: ' + window.templateErrors.join('; '));
      const applied = elementTemplates.applyTemplate(task, template);
      window.taskId = applied.id;
      modeler.get('canvas').zoom('fit-viewport', 'auto');
    }, { xml, templates });
    await page.waitForTimeout(500);
    await page.evaluate(() => window.modeler.get('selection').select(
      window.modeler.get('elementRegistry').get(window.taskId)));
    // Fill the template's fields in the properties panel, the way a person would.
    const panel = page.locator('#panel');
    await panel.getByText('Pelaksana', { exact: true }).first().waitFor({ timeout: 15000 });
    for (const group of ['Pelaksana', 'Mutu Baku']) {
      const header = panel.locator('.bio-properties-panel-group-header', { hasText: group }).first();
      if (!(await header.getAttribute('class')).includes('open')) await header.click();
    }
    await panel.getByLabel('Pelaksana (peran)').selectOption(FIELDS.role);
    await panel.getByLabel('Waktu').fill(FIELDS.waktu);
    await panel.getByLabel('Kelengkapan').fill(FIELDS.kelengkapan);
    await panel.getByLabel('Output').fill(FIELDS.output);
    await panel.getByLabel('Keterangan').fill(FIELDS.keterangan);
    await page.waitForTimeout(600); // the panel debounces text input
    // A waktu the pattern refuses is flagged in the panel, as sopflow would refuse it.
    await panel.getByLabel('Waktu').fill('sebentar');
    await page.waitForTimeout(600);
    const flagged = await panel.locator('.bio-properties-panel-error').count();
    if (flagged === 0) failures.push('the waktu pattern did not flag "sebentar"');
    await panel.getByLabel('Waktu').fill(FIELDS.waktu);
    await page.waitForTimeout(600);
    await page.locator('#canvas').click({ position: { x: 5, y: 5 } }).catch(() => {});
    await page.evaluate(() => window.modeler.get('selection').select(
      window.modeler.get('elementRegistry').get(window.taskId)));
    await page.waitForTimeout(300);
    if (opts.screenshot) {
      fs.mkdirSync(path.dirname(opts.screenshot), { recursive: true });
      await page.screenshot({ path: opts.screenshot });
    }
    const saved = await page.evaluate(async () => (await window.modeler.saveXML({ format: true })).xml);
    const file = path.join(opts.out, 'template-applied.bpmn');
    fs.writeFileSync(file, saved);
    const refused = await validate(opts.sopflow, file);
    if (refused) failures.push(refused);
    const shown = await show(opts.sopflow, file);
    if (shown.error) {
      failures.push(shown.error);
    } else {
      const [step] = shown.data.steps;
      const got = {
        role: (step.candidate_groups || []).join(','),
        waktu: step.waktu,
        kelengkapan: (step.kelengkapan || []).join(','),
        output: (step.output || []).join(','),
        keterangan: step.keterangan,
      };
      for (const [key, want] of Object.entries(FIELDS)) {
        if (got[key] !== want) failures.push(`${key}: sopflow read ${JSON.stringify(got[key])}, the template wrote ${JSON.stringify(want)}`);
      }
    }
    if (aborted.length) failures.push(`the page tried to reach the network: ${aborted[0]}`);
  } finally {
    await browser.close();
  }
  if (failures.length) {
    for (const f of failures) console.log(`FAIL template  ${f}`);
    process.exit(1);
  }
  console.log('ok   template  Langkah SOP (Mutu Baku): applied, filled, saved, read back by sopflow show --json');
}

main().catch((err) => {
  console.log(`FAIL template  ${String(err.message || err).split('\n')[0]}`);
  process.exit(1);
});

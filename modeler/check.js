'use strict';

// The modeler check: proves each BPMN file opens, lints clean and survives both an
// untouched and an edited round trip through bpmn-js, the library behind Camunda Modeler
// and demo.bpmn.io. Prints one line per file per stage; exits 0 when every stage of every
// file passes, 1 when any fails, 2 on a usage error. Normally started by check.sh.
//
//   node check.js --out DIR --sopflow PATH --chromium PATH FILE...

const fs = require('node:fs');
const path = require('node:path');
const { Browser } = require('./lib/browser');
const { drawableElements, lint, loadConfig, parse } = require('./lib/lint');
const sopflow = require('./lib/sopflow');

const STAGES = ['import', 'lint', 'roundtrip', 'edit'];

function usage(message) {
  process.stderr.write(`check.js: ${message}\n`);
  process.stderr.write('usage: node check.js --out DIR --sopflow PATH --chromium PATH FILE...\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { out: null, sopflow: null, chromium: null, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out' || arg === '--sopflow' || arg === '--chromium') {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      opts[arg.slice(2)] = argv[++i];
    } else if (arg.startsWith('--')) {
      usage(`unknown option ${arg}`);
    } else {
      opts.files.push(arg);
    }
  }
  if (!opts.out || !opts.sopflow || !opts.chromium) usage('--out, --sopflow and --chromium are required');
  if (!opts.files.length) usage('no BPMN files given');
  return opts;
}

/** A short, unique name per file for the artefacts in the build folder. */
function labels(files) {
  const seen = new Set();
  return files.map((file) => {
    const stem = path.basename(file).replace(/\.bpmn$/i, '');
    let label = stem;
    if (seen.has(label)) label = `${path.basename(path.dirname(path.resolve(file)))}-${stem}`;
    for (let n = 2; seen.has(label); n++) label = `${stem}-${n}`;
    seen.add(label);
    return label;
  });
}

function report(stage, file, problems, note) {
  const status = problems.length ? 'FAIL' : 'ok';
  const detail = problems.length ? `: ${problems.join('; ')}` : note ? `  (${note})` : '';
  process.stdout.write(`${status.padEnd(4)} ${stage.padEnd(9)} ${file}${detail}\n`);
  return problems.length === 0;
}

function describeWarnings(kind, warnings) {
  return warnings.map((w) => (w.element ? `${w.element}: ${kind} ${w.message}` : `${kind} ${w.message}`));
}

async function checkImport(ctx) {
  const problems = [];
  if (ctx.parsed.error) problems.push(`XML: ${ctx.parsed.error}`);
  const expected = ctx.parsed.root ? drawableElements(ctx.parsed.root) : [];
  const result = await ctx.browser.view(ctx.xml, expected, ctx.screenshot);
  if (result.error) problems.push(`import error: ${result.error}`);
  // the registry's finding first: it names the element a person has to fix
  for (const { id, type } of result.undrawn) {
    const what = type === 'bpmn:SequenceFlow' ? 'no drawn connection' : 'no drawn shape';
    problems.push(`${id}: ${type.replace('bpmn:', '')} has ${what}`);
  }
  problems.push(...describeWarnings('import warning:', result.warnings));
  const note = `${expected.length} elements drawn, screenshot ${shown(ctx.screenshot)}`;
  return report('import', ctx.file, problems, note);
}

async function checkLint(ctx) {
  const problems = [];
  if (!ctx.parsed.root) {
    problems.push(`XML: ${ctx.parsed.error}`);
  } else {
    problems.push(...ctx.parsed.warnings.map((w) => `parse warning: ${w}`));
    for (const r of await lint(ctx.parsed.root, ctx.lintConfig)) {
      problems.push(`${r.id || '(file)'}: ${r.category} ${r.message} (${r.rule})`);
    }
  }
  return report('lint', ctx.file, problems, 'bpmnlint:recommended, 0 errors, 0 warnings');
}

/** A path as a person at this shell would type it: relative below the cwd, else absolute. */
function shown(file) {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(file);
}

function writeArtefact(ctx, suffix, xml) {
  const target = path.join(ctx.out, `${ctx.label}.${suffix}.bpmn`);
  fs.writeFileSync(target, xml);
  return target;
}

async function checkRoundTrip(ctx) {
  const problems = [];
  const saved = await ctx.browser.roundTrip(ctx.xml);
  if (saved.error) problems.push(`modeler import/save error: ${saved.error}`);
  problems.push(...describeWarnings('modeler import warning:', saved.warnings));
  const original = await ctx.original;
  if (original.error) problems.push(`original: ${original.error}`);
  let note = '';
  if (saved.xml) {
    const file = writeArtefact(ctx, 'roundtrip', saved.xml);
    note = `saved ${shown(file)}; sopflow validate ok, show --json unchanged`;
    const [invalid, after] = await Promise.all([
      sopflow.validate(ctx.sopflow, file, ctx.called), sopflow.show(ctx.sopflow, file)]);
    if (invalid) problems.push(`saved file: ${invalid}`);
    if (after.error) {
      problems.push(`saved file: ${after.error}`);
    } else if (original.data) {
      const diff = sopflow.firstDifference(original.data, after.data);
      if (diff) problems.push(`show --json changed after save: ${diff}`);
    }
  }
  return report('roundtrip', ctx.file, problems, note);
}

/** The first step (by number) and a lane of another role (else another name) to move it to. */
function pickMove(data) {
  const lanes = data.lanes || [];
  for (const step of data.steps || []) {
    const target = lanes.find((l) => l.role !== step.role) ||
      lanes.find((l) => l.name !== step.lane);
    if (target) return { step, lane: target };
  }
  return null;
}

async function checkEdit(ctx) {
  const problems = [];
  const original = await ctx.original;
  if (!original.data) {
    problems.push(`original: ${original.error}`);
    return report('edit', ctx.file, problems);
  }
  const move = pickMove(original.data);
  if (!move) {
    problems.push('no step and second lane to move it to (needs two lanes)');
    return report('edit', ctx.file, problems);
  }
  const { step, lane } = move;
  const edited = await ctx.browser.moveToLane(ctx.xml, step.id, lane.id);
  if (edited.error) problems.push(`${step.id}: move into ${lane.id} failed: ${edited.error}`);
  problems.push(...describeWarnings('modeler import warning:', edited.warnings));
  if (!edited.error && (edited.lanesOfTask.length !== 1 || edited.lanesOfTask[0] !== lane.id)) {
    problems.push(`${step.id}: modeler put it in flowNodeRef of [${edited.lanesOfTask}], not ${lane.id}`);
  }
  if (edited.xml) {
    const file = writeArtefact(ctx, 'edited', edited.xml);
    const [invalid, after] = await Promise.all([
      sopflow.validate(ctx.sopflow, file, ctx.called), sopflow.show(ctx.sopflow, file)]);
    if (invalid) problems.push(`edited file: ${invalid}`);
    if (after.error) {
      problems.push(`edited file: ${after.error}`);
    } else {
      const expected = JSON.parse(JSON.stringify(original.data));
      const moved = expected.steps.find((s) => s.id === step.id);
      moved.lane = lane.name;
      moved.role = lane.role;
      const got = (after.data.steps || []).find((s) => s.id === step.id);
      if (!got || got.lane !== lane.name || got.role !== lane.role) {
        problems.push(`${step.id}: sopflow reports lane ${JSON.stringify(got && got.lane)} role ` +
          `${JSON.stringify(got && got.role)}, expected ${JSON.stringify(lane.name)} role ` +
          `${JSON.stringify(lane.role)}`);
      } else {
        const diff = sopflow.firstDifference(expected, after.data);
        if (diff) problems.push(`show --json changed beyond the moved step: ${diff}`);
      }
    }
  }
  const note = `${step.id} moved ${step.lane}/${step.role} -> ${lane.name}/${lane.role}, ` +
    'sopflow reports the new lane';
  return report('edit', ctx.file, problems, note);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  fs.mkdirSync(opts.out, { recursive: true });
  const lintConfig = loadConfig();
  const browser = await Browser.launch(opts.chromium);
  let failed = 0;
  try {
    const names = labels(opts.files);
    const texts = opts.files.map((file) => {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch (err) {
        return '';
      }
    });
    const called = sopflow.calledFiles(opts.files, texts);
    for (let i = 0; i < opts.files.length; i++) {
      const file = opts.files[i];
      let xml;
      try {
        xml = fs.readFileSync(file, 'utf8');
      } catch (err) {
        for (const stage of STAGES) report(stage, file, [`cannot read: ${err.code || err.message}`]);
        failed++;
        continue;
      }
      const ctx = {
        file,
        xml,
        label: names[i],
        out: opts.out,
        sopflow: opts.sopflow,
        called: called[i],
        browser,
        lintConfig,
        screenshot: path.join(opts.out, `${names[i]}.png`),
        parsed: await parse(xml),
        // started now, awaited by the stages that need it: overlaps the viewer import
        original: sopflow.show(opts.sopflow, file),
      };
      const results = [];
      results.push(await checkImport(ctx));
      results.push(await checkLint(ctx));
      results.push(await checkRoundTrip(ctx));
      results.push(await checkEdit(ctx));
      if (results.includes(false)) failed++;
    }
  } finally {
    await browser.close();
  }
  const requests = browser.aborted.length;
  process.stdout.write(`${opts.files.length - failed}/${opts.files.length} files passed ` +
    `(${requests} network request${requests === 1 ? '' : 's'} attempted and aborted)\n`);
  return failed ? 1 : 0;
}

// `check.sh | head` closes the pipe early: stop quietly, like any other shell tool.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(1);
  throw err;
});

main().then(
  (status) => process.exit(status),
  (err) => {
    process.stderr.write(`check.js: ${err && err.stack ? err.stack.split('\n')[0] : err}\n`);
    process.exit(1);
  },
);

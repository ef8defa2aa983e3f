'use strict';

// The sopflow side of the round trips: what the engine makes of a file the modeler saved.
// It is asked through the real command line (`sopflow validate`, `sopflow show --json`),
// the same way a person checking an edited file would ask it.

// The calls are asynchronous so they overlap with the browser's work and with each other.

const { execFile } = require('node:child_process');

const TIMEOUT_MS = 60000;

function run(sopflow, args) {
  return new Promise((resolve) => {
    execFile(sopflow, args, { encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          resolve({ status: null, stdout: '', stderr: `cannot run ${sopflow}: ${error.message}` });
        } else {
          resolve({ status: error ? error.code : 0, stdout, stderr });
        }
      });
  });
}

function lastLine(text) {
  const lines = String(text || '').trim().split('\n').filter(Boolean);
  return lines.length ? lines[lines.length - 1] : '(no message)';
}

/**
 * `sopflow validate FILE [CALLED...]`: null when it accepts the file, else its one-line
 * error. `called` are the files defining the processes FILE's call activities name: the
 * engine loads a calling file only in a catalog with them, so it is validated with them,
 * and only the problems naming FILE count.
 */
async function validate(sopflow, file, called = []) {
  const proc = await run(sopflow, ['validate', file, ...called]);
  if (proc.status === 0) return null;
  const text = proc.stderr || proc.stdout;
  const own = String(text).split('\n').filter((line) => line.startsWith(`${file}:`));
  if (called.length && own.length === 0 && proc.status === 1) return null;
  return `sopflow validate exit ${proc.status}: ${own.length ? own[own.length - 1] : lastLine(text)}`;
}

const PROCESS_ID = /<(?:[\w-]+:)?process\b[^>]*?\sid="([^"]+)"/g;
const CALLED_ELEMENT = /<(?:[\w-]+:)?callActivity\b[^>]*?\scalledElement="([^"]+)"/g;

function matches(pattern, text) {
  return [...String(text).matchAll(pattern)].map((m) => m[1]);
}

/**
 * For each file (by index), the other files that define a process it calls and none of
 * its own (a round-trip copy of a file must not clash with the file in one catalog).
 */
function calledFiles(files, texts) {
  const own = texts.map((text) => new Set(matches(PROCESS_ID, text)));
  return texts.map((text, i) => {
    const calls = new Set(matches(CALLED_ELEMENT, text));
    return files.filter((_, j) => j !== i
      && [...own[j]].some((id) => calls.has(id))
      && ![...own[j]].some((id) => own[i].has(id)));
  });
}

/** `sopflow show --json FILE` parsed, or {error}. */
async function show(sopflow, file) {
  const proc = await run(sopflow, ['show', '--json', file]);
  if (proc.status !== 0) {
    return { error: `sopflow show exit ${proc.status}: ${lastLine(proc.stderr || proc.stdout)}` };
  }
  try {
    return { data: JSON.parse(proc.stdout) };
  } catch (err) {
    return { error: `sopflow show --json printed no JSON: ${err.message}` };
  }
}

// `version` is the sha256 of the bytes and `source` the path: both differ by construction.
const IGNORED = new Set(['version', 'source']);

/** The first difference between two show --json results, as "path: a != b", or null. */
function firstDifference(a, b, where = '') {
  if (Object.is(a, b)) return null;
  const isObj = (v) => v !== null && typeof v === 'object';
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const diff = firstDifference(a[i], b[i], `${where}[${i}]`);
      if (diff) return diff;
    }
    return null;
  }
  if (isObj(a) && isObj(b) && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      if (where === '' && IGNORED.has(key)) continue;
      const diff = firstDifference(a[key], b[key], where ? `${where}.${key}` : key);
      if (diff) return diff;
    }
    return null;
  }
  return `${where || '(top)'}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`;
}

module.exports = { calledFiles, firstDifference, show, validate };

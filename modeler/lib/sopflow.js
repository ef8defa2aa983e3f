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

/** `sopflow validate FILE`: null when it accepts the file, else its one-line error. */
async function validate(sopflow, file) {
  const proc = await run(sopflow, ['validate', file]);
  if (proc.status === 0) return null;
  return `sopflow validate exit ${proc.status}: ${lastLine(proc.stderr || proc.stdout)}`;
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

module.exports = { firstDifference, show, validate };

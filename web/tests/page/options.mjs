// page.mjs's command line.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CHROMIUM } from '../../../tests/harness/chromium.mjs';

function usage(msg) {
  if (msg) console.error(`page.mjs: ${msg}`);
  console.error('usage: node web/tests/page.mjs --base http://127.0.0.1:PORT --file CLIP --screenshot OUT.png ' +
    '[--api-key KEY] [--library-screenshot PATH] [--out result.json] [--rate 4] [--timeout 300] ' +
    '[--chromium /usr/bin/chromium] [--no-dash] [--keep] [--check-resume] [--subtitles] [--early] [--signed]');
  process.exit(2);
}

/** The options of the command line; exits 2 with the usage on a bad one. */
export function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        base: { type: 'string' },
        file: { type: 'string' },
        screenshot: { type: 'string' },
        'library-screenshot': { type: 'string' },
        'api-key': { type: 'string' },
        out: { type: 'string' },
        rate: { type: 'string', default: '4' },
        timeout: { type: 'string', default: '300' },
        chromium: { type: 'string', default: CHROMIUM },
        'no-dash': { type: 'boolean' },
        subtitles: { type: 'boolean' },
        keep: { type: 'boolean' },
        'check-resume': { type: 'boolean' },
        early: { type: 'boolean' },
        signed: { type: 'boolean' },
        headed: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    usage(err.message);
  }
  if (values.help) usage();
  if (!values.base) usage('--base is required');
  if (!values.file) usage('--file is required');
  if (!existsSync(values.file) || !statSync(values.file).isFile()) usage(`no such file: ${values.file}`);
  const num = (name, v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) usage(`--${name}: not a positive number: ${v}`);
    return n;
  };
  let base;
  try {
    base = new URL(values.base).origin;
  } catch {
    usage(`--base: not a URL: ${values.base}`);
  }
  return {
    base,
    file: path.resolve(values.file),
    screenshot: values.screenshot ? path.resolve(values.screenshot) : null,
    // Screenshots of each state (player at each viewport, axe states) go beside --screenshot.
    artifacts: values.screenshot ? path.dirname(path.resolve(values.screenshot)) : null,
    libraryScreenshot: values['library-screenshot'] ? path.resolve(values['library-screenshot']) : null,
    apiKey: values['api-key'] ?? null,
    out: values.out,
    rate: num('rate', values.rate),
    timeoutMs: num('timeout', values.timeout) * 1000,
    chromium: values.chromium,
    dash: !values['no-dash'],
    subtitles: Boolean(values.subtitles),
    keep: values.keep ?? false,
    checkResume: values['check-resume'] ?? false,
    early: values.early ?? false,
    signed: values.signed ?? false,
    headed: values.headed ?? false,
  };
}

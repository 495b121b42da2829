/**
 * Fuzzed configs through the CLI commands that read one (`cpex validate`, `cpex plugins`,
 * `cpex routes`), in-process through runCli: the quickstart and routing examples' configs, mutated
 * at the text level. Every run exits 0, or 1 with one coded `error CPEX_ERR_* ...` line per problem
 * on stderr — never a stack trace, a raw TypeError or a usage exit for a config problem. Fixed seed;
 * each input is written to a log file before it runs.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { capture } from './capture.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(path.join(tmpdir(), 'cpex-cli-fuzz-'));
const logFd = openSync(path.join(dir, 'inputs.log'), 'w');
afterAll(() => closeSync(logFd));

/** Example configs with their relative module paths made absolute (the fuzzed file lives in a temp dir). */
const TEXTS = ['quickstart', 'routing'].map((ex) =>
  readFileSync(path.join(repo, 'examples', ex, 'config.yaml'), 'utf8').replace(
    /node:\/\/\.\//g,
    `node://${path.join(repo, 'examples', ex)}/`,
  ),
);

const VALUES = [
  '!!binary aGVsbG8=',
  '!!set {a, b}',
  '!foo bar',
  '.nan',
  '12345678901234567890',
  '-1',
  '1e400',
  '"\\ud800"',
  '&a [*a]',
  '*nope',
  '{[a]: 1}',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
  'x'.repeat(3000),
  '{__proto__: {polluted: 1}}',
  '[]',
  '{}',
  '~',
  'sequential',
  '"node://./nowhere.ts"',
  '[tool_pre_invoke, tool_pre_invoke]',
];
const KEYS = ['__proto__', 'constructor', 'plugin_timeout', 'routes', 'groups', 'unknown', '<<', '? [k]'];

describe('cpex validate | plugins | routes on fuzzed configs', () => {
  it('property: exit 0, or exit 1 with coded error lines; never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(TEXTS.length - 1),
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.constantFrom('value', 'key', 'truncate'),
            fc.nat(VALUES.length - 1),
            fc.nat(KEYS.length - 1),
          ),
          { minLength: 1, maxLength: 2 },
        ),
        fc.constantFrom(['validate'], ['plugins'], ['plugins', '--json'], ['routes', '--tool', 'send_email']),
        async (ti, muts, cmd) => {
          const lines = TEXTS[ti]!.split('\n');
          let text = '';
          for (const [n, op, vi, ki] of muts) {
            const i = n % lines.length;
            if (op === 'value') lines[i] = lines[i]!.replace(/:\s.*$/, `: ${VALUES[vi]}`);
            else if (op === 'key') lines[i] = lines[i]!.replace(/^(\s*-?\s*)[A-Za-z_]+:/, `$1${KEYS[ki]}:`);
            text = lines.join('\n');
            if (op === 'truncate') text = text.slice(0, n % (text.length + 1));
          }
          const file = path.join(dir, 'config.yaml');
          writeFileSync(file, text);
          writeSync(logFd, `--- ${cmd.join(' ')}\n${text}\n`);
          const io = capture(dir, { NO_COLOR: '1' });
          const code = await runCli([cmd[0]!, file, ...cmd.slice(1)], io);
          const where = `${cmd.join(' ')} exit ${code}\n${io.stderr}\n--- config:\n${text}`;
          expect([0, 1], where).toContain(code);
          if (code === 1) {
            expect(io.stderr, where).toMatch(/^error CPEX_ERR_[A-Z_]+/m);
            expect(io.stderr, where).not.toMatch(/^error: /m); // an uncoded error
          }
          expect(io.stderr, where).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n|TypeError|RangeError|ReferenceError/);
        },
      ),
      { seed: 42, numRuns: 150 },
    );
  }, 240_000);
});

// The quickstart's TypeScript PII redactor and the Python example's PiiGuard
// (examples/python-plugin/plugins/pii_guard.py, in a real Python worker through @cpex/host-python,
// as `pnpm demo --config examples/python-plugin/config.yaml` runs it) give the same answers.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PluginManager } from '@cpex/core';
import { registerPythonHost } from '@cpex/host-python';
import { createTestManager, type TestManager } from '@cpex/sdk/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCI } from '../../../scripts/lib/ci.mjs';
import piiRedactor from '../src/plugins/pii-redactor.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The interpreter the quickstart gateway uses: $CPEX_PYTHON, the repo's .venv, else python3 (pydantic 2). */
function python(): string | undefined {
  const venv = path.join(repo, '.venv/bin/python');
  const cand = process.env.CPEX_PYTHON ?? (existsSync(venv) ? venv : 'python3');
  let ok = false;
  try {
    ok =
      execFileSync(cand, ['-c', 'import pydantic; print(pydantic.VERSION.split(".")[0])'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() === '2';
  } catch {}
  if (!ok && isCI()) throw new Error(`CI: ${cand} has no pydantic 2 (run scripts/setup.sh)`);
  return ok ? cand : undefined;
}

// [input, what both must make of it]
const TRICKY: [string, string][] = [
  ['Call me at 555-123-4567', 'Call me at [PHONE]'],
  ['555.123.4567', '[PHONE]'],
  ['5551234567', '[PHONE]'],
  ['(555) 123-4567', '[PHONE]'],
  ['(555)123-4567', '[PHONE]'],
  ['+1 555 987 6543', '[PHONE]'],
  ['+1-555-987-6543', '[PHONE]'],
  ['+1.555.987.6543', '[PHONE]'],
  ['+15559876543', '[PHONE]'],
  ['+1 (555) 987-6543', '[PHONE]'],
  ['+44 555 123 4567', '[PHONE]'],
  ['1-800-555-1234', '[PHONE]'],
  ['555-123-4567 ext. 89', '[PHONE]'],
  ['555-123-4567 ext 89', '[PHONE]'],
  ['555-123-4567x12', '[PHONE]'],
  ['555-123-4567 x', '[PHONE] x'],
  ['555-123-4567 ext', '[PHONE] ext'],
  ['call 555-123-4567, or 555.987.6543.', 'call [PHONE], or [PHONE].'],
  ['room 555-1234', 'room 555-1234'],
  ['12-345-6789', '12-345-6789'],
  ['55-123-4567', '55-123-4567'],
  ['555-12-4567', '[SSN]'],
  ['order 12345678901', 'order 12345678901'],
  ['id5551234567', 'id5551234567'],
  ['5551234567x', '5551234567x'],
  ['++5551234567', '++5551234567'],
  ['５５５-１２３-４５６７', '５５５-１２３-４５６７'],
  ['ssn 078-05-1120', 'ssn [SSN]'],
  ['078-05-1120-4567', '[SSN]-4567'],
  ['5551234567@example.com', '[EMAIL]'],
  ['a.b+c@mail.example.co.uk', '[EMAIL]'],
  ['bob@example.com.', '[EMAIL].'],
  ['x@y.z and 555 123 4567', '[EMAIL] and [PHONE]'],
  ['über@exämple.de', 'über@exämple.de'],
  ['no pii here 42', 'no pii here 42'],
];

type Result = { args: unknown; redacted: unknown };

describe('quickstart redactors: TypeScript and Python agree', { timeout: 120_000 }, () => {
  const py = python();
  let ts: TestManager;
  let manager: PluginManager;

  beforeAll(async () => {
    ts = await createTestManager({
      plugins: [
        {
          plugin: piiRedactor({ detect: ['ssn', 'email', 'phone'] }, { name: 'pii' } as never),
          entry: { mode: 'transform' },
        },
      ],
    });
    if (!py) return;
    manager = new PluginManager();
    registerPythonHost(manager, { python: py });
    await manager.loadConfigText(
      [
        'plugin_dirs: [./plugins]',
        'plugins:',
        '  - {name: pii, kind: pii_guard.PiiGuard, hooks: [tool_pre_invoke], mode: transform, config: {detect: [phone, email, ssn]}}',
      ].join('\n'),
      { baseDir: path.join(repo, 'examples/python-plugin') },
    );
    await manager.initialize();
  });
  afterAll(async () => {
    await ts?.shutdown();
    await manager?.shutdown();
  });

  async function both(args: Record<string, unknown>): Promise<[Result, Result]> {
    const t = await ts.invoke('tool_pre_invoke', { name: 'send', args });
    const p = await manager.invoke('tool_pre_invoke', { name: 'send', args });
    for (const r of [t, p]) {
      expect({ errors: r.errors, violation: r.violation }).toEqual({ errors: [], violation: null });
    }
    const out = (r: typeof p): Result => ({
      args: (r.modifiedPayload as { args?: unknown } | null)?.args ?? args,
      redacted: r.metadata.redacted ?? [],
    });
    return [out(t), out(p)];
  }

  it('the TypeScript redactor masks the tricky numbers as specified', async () => {
    const [t] = await both({ items: TRICKY.map(([input]) => input) });
    expect(t.args).toEqual({ items: TRICKY.map(([, want]) => want) });
  });

  it.skipIf(!py)('Python gives the same output for each tricky input, and the same metadata', async () => {
    for (const [input, want] of TRICKY) {
      const [t, p] = await both({ text: input });
      expect({ input, ...p }).toEqual({ input, ...t });
      expect(p.args).toEqual({ text: want });
    }
    const [t, p] = await both({ to: ['a.b@x.io'], note: { text: 'ring +1 555 987 6543, ssn 078-05-1120' } });
    expect(p).toEqual(t);
    expect(t.redacted).toEqual(['ssn', 'email', 'phone']);
  });

  it.skipIf(!py)(
    'Python and TypeScript agree on arbitrary strings of digits, separators and markers',
    async () => {
      const piece = fc.constantFrom(
        ...'0123456789'.split(''),
        '555',
        '123',
        '1234',
        '4567',
        '555-123-4567',
        '(555)',
        '1-',
        ' ',
        '-',
        '.',
        '+',
        '+1',
        '(',
        ')',
        'x',
        ' ext. ',
        'ext',
        '@',
        'a',
        '_',
        '５',
        'é',
      );
      // pieces glued directly or with a space or comma between them
      const texts = fc.sample(
        fc
          .array(fc.tuple(piece, fc.constantFrom('', '', ' ', ', ')), { minLength: 1, maxLength: 16 })
          .map((p) => p.flat().join('')),
        { numRuns: 500, seed: 20261207 },
      );
      const [t, p] = await both({ texts });
      expect(p.args).toEqual(t.args);
      // the sample does exercise the phone pattern
      expect(
        (t.args as { texts: string[] }).texts.filter((s) => s.includes('[PHONE]')).length,
      ).toBeGreaterThan(20);
    },
  );
});

import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli.js';
import type { ScenarioOutput } from '../src/output.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(REPO, 'conformance', 'src', 'cli.ts');

/** Runs the real `pnpm conformance` entry (node + tsx from source) and returns its exit code and output. */
function runCli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--conditions=@cpex/source', '--import', 'tsx', CLI, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 90_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function scenarioDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cpex-conf-cli-'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

// A scenario the runner has never seen, from an arbitrary directory, with env: and manager: blocks.
const FRESH = `name: fresh
description: "sequential deny with a trail before it, settings from env and manager"
env: {PLUGINS_EXECUTION_POOL: "2"}
manager: {timeout: 5, default_hook_policy: allow}
config:
  plugins:
    - {name: a, kind: pyref.plugins.probe.Probe, hooks: [tool_pre_invoke], priority: 1, config: {trail: true, global_state: {a: 1}}}
    - {name: b, kind: pyref.plugins.probe.Probe, hooks: [tool_pre_invoke], priority: 2, config: {deny: {code: B_SAYS_NO}}}
steps:
  - hook: tool_pre_invoke
    payload: {name: t, args: {q: {"$repeat": ["ab", 2]}}}
    global_context: {request_id: r-1, user: alice}
    expect:
      continue_processing: false
      violation: {code: B_SAYS_NO, plugin_name: b, reason: denied by b}
      modified_payload: {args: {q: abab, trail: a}}
      global_state: {a: 1}
      executed: [a, b]
      future_key: whatever
`;

describe('pnpm conformance (the real command)', () => {
  it('parses its options', () => {
    const a = parseArgs([
      'x.yaml',
      '--host',
      'ts',
      '--python-path',
      'p1',
      '--python-path=p2',
      '--json',
      '--python',
      '/py',
    ]);
    expect(a).toMatchObject({ inputs: ['x.yaml'], host: 'ts', json: true, python: '/py' });
    expect(a.pythonPath).toEqual([path.resolve('p1'), path.resolve('p2')]);
    expect(() => parseArgs(['--host', 'java'])).toThrow(/--host must be ts, python, native or wasm/);
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown option --bogus/);
  });

  it('runs a scenario it has never seen and prints the README output with --json', async () => {
    const dir = await scenarioDir({ 'fresh.yaml': FRESH });
    const r = runCli([dir, '--host', 'ts', '--json']);
    expect(r.stderr).not.toContain('internal error');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as ScenarioOutput[];
    expect(out).toHaveLength(1);
    const sc = out[0]!;
    expect(sc.scenario).toBe('fresh');
    expect(sc.expect_ok).toBe(true);
    expect(sc.init_error).toBeNull();
    expect(sc.load.registered).toEqual(['a', 'b']);
    expect(sc.load.hook_order).toEqual({ tool_pre_invoke: ['a', 'b'] });
    const st = sc.steps[0]!;
    expect(st.expect_ok).toBe(true);
    expect(st.expect_unknown).toEqual(['future_key']);
    expect(st.executed).toEqual([
      { plugin: 'a', mode: 'sequential', end: 'ok' },
      { plugin: 'b', mode: 'sequential', end: 'ok' },
    ]);
    expect(st.result?.violation?.plugin_name).toBe('b');
    expect(st.result?.errors).toEqual([]);
    expect(st.payload_after).toEqual({ name: 't', args: { q: 'abab' } });
    expect(Object.keys(st)).toEqual([...Object.keys(st)].sort());
  });

  it('exits non-zero and names the mismatch when an expectation fails', async () => {
    const dir = await scenarioDir({ 'wrong.yaml': FRESH.replace('executed: [a, b]', 'executed: [b, a]') });
    const r = runCli([path.join(dir, 'wrong.yaml'), '--host', 'ts']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ fresh');
    expect(r.stdout).toMatch(/step 0 executed: .*expected \["b","a"\], got \["a","b"\]/);
    expect(r.stdout).toContain('0 passed, 1 failed');
  });

  it('rejects unknown scenario and step keys with exit code 2 and a clear error', async () => {
    const dir = await scenarioDir({
      'bad-top.yaml': `${FRESH}extra_top: 1\n`,
      'bad-step.yaml': FRESH.replace('    global_context:', '    globals: {}\n    global_context:'),
    });
    const top = runCli([path.join(dir, 'bad-top.yaml'), '--host', 'ts']);
    expect(top.code).toBe(2);
    expect(top.stderr).toContain('CPEX_ERR_CONFIG_INVALID');
    expect(top.stderr).toContain('bad-top.yaml');
    expect(top.stderr).toContain('unknown scenario key "extra_top"');
    const step = runCli([path.join(dir, 'bad-step.yaml'), '--host', 'ts']);
    expect(step.code).toBe(2);
    expect(step.stderr).toContain('steps[0].globals');
    expect(step.stderr).toContain('unknown step key "globals"');
  });
});

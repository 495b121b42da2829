import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '@cpex/core';
import { describe, expect, it } from 'vitest';
import { collectScenarioFiles, expandRepeat, loadScenarioFile, parseScenario } from '../src/scenario.js';

const BASE = `name: s
config: {plugins: []}
steps:
  - hook: tool_pre_invoke
    payload: {name: calc, args: {}}
`;

function rejection(text: string): ConfigError {
  try {
    parseScenario(text, '/tmp/x/bad.yaml');
  } catch (e) {
    return e as ConfigError;
  }
  throw new Error('expected the scenario to be rejected');
}

describe('scenario loader', () => {
  it('rejects an unknown top-level key with a coded error naming the file and the key', () => {
    const e = rejection(`${BASE}surprise: 1\n`);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.code).toBe('CPEX_ERR_CONFIG_INVALID');
    expect(e.file).toBe('/tmp/x/bad.yaml');
    expect(e.message).toContain('/tmp/x/bad.yaml');
    expect(e.message).toContain('unknown scenario key "surprise"');
    expect(e.path).toBe('surprise');
  });

  it('rejects an unknown step key and names the step', () => {
    const e = rejection(`${BASE}    expected: {continue_processing: true}\n`);
    expect(e.code).toBe('CPEX_ERR_CONFIG_INVALID');
    expect(e.message).toContain('unknown step key "expected"');
    expect(e.path).toBe('steps[0].expected');
  });

  it('rejects unknown manager and global_context keys', () => {
    expect(rejection(`manager: {timeoutt: 1}\n${BASE}`).message).toContain('"timeoutt"');
    expect(rejection(`${BASE}    global_context: {request_id: "1", tenant: t}\n`).message).toContain(
      '"tenant"',
    );
  });

  it('rejects wrongly typed fields with their path', () => {
    const e = rejection(`${BASE}    violations_as_exceptions: "yes"\n`);
    expect(e.message).toContain('steps[0].violations_as_exceptions');
  });

  it('does not validate keys inside expect (the matcher reports unknown ones)', () => {
    const sc = parseScenario(`${BASE}    expect: {some_future_key: 1}\n`, 'f.yaml');
    expect(sc.steps[0]?.expect).toEqual({ some_future_key: 1 });
  });

  it('maps env values to strings and keeps the manager block', () => {
    const sc = parseScenario(
      `env: {PLUGINS_EXECUTION_POOL: 1}\nmanager: {timeout: 0.5, default_hook_policy: deny}\n${BASE}`,
      'f',
    );
    expect(sc.env).toEqual({ PLUGINS_EXECUTION_POOL: '1' });
    expect(sc.manager).toEqual({ timeout: 0.5, default_hook_policy: 'deny' });
  });

  it('expands $repeat anywhere in a payload', () => {
    expect(expandRepeat({ a: { $repeat: ['ab', 3] }, b: [{ $repeat: ['x', 0] }] })).toEqual({
      a: 'ababab',
      b: [''],
    });
    expect(() => expandRepeat({ $repeat: ['x', -1] })).toThrow(/\$repeat/);
  });

  it('reads the YAML 1.2 way: yes/no/on/off stay strings', () => {
    const sc = parseScenario(
      `${BASE}    global_context: {request_id: "1", user: no, state: {flag: on}}\n`,
      'f',
    );
    expect(sc.steps[0]?.globalContext).toEqual({ request_id: '1', user: 'no', state: { flag: 'on' } });
  });

  it('keeps the header comment that documents deviations', () => {
    const sc = parseScenario(`# differs from Python: reason\n# second line\n${BASE}`, 'f');
    expect(sc.headerComment).toBe('differs from Python: reason\nsecond line');
  });

  it('collects *.yaml files from any directory, sorted, and reports missing inputs with a code', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cpex-conf-'));
    await writeFile(path.join(dir, 'b.yaml'), BASE);
    await writeFile(path.join(dir, 'a.yml'), BASE);
    await writeFile(path.join(dir, 'notes.txt'), 'x');
    expect(await collectScenarioFiles([dir])).toEqual([path.join(dir, 'a.yml'), path.join(dir, 'b.yaml')]);
    await expect(collectScenarioFiles([path.join(dir, 'missing')])).rejects.toMatchObject({
      code: 'CPEX_ERR_CONFIG_READ',
    });
    await expect(loadScenarioFile(path.join(dir, 'notes.txt'))).rejects.toMatchObject({
      code: 'CPEX_ERR_CONFIG_INVALID',
    });
  });
});

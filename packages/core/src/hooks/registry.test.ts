import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CpexError } from '../errors/cpex-error.js';
import { dataEqual } from '../extensions/equality.js';
import { pythonAvailable, requirePython, runPython } from '../extensions/python-env.test-util.js';
import {
  BUILTIN_HOOK_NAMES,
  CMF_HOOKS,
  FAMILY_HOOKS,
  LEGACY_HOOKS,
  PAYLOAD_TYPE_CMF_MESSAGE,
  PAYLOAD_TYPE_GENERIC,
  PAYLOAD_TYPE_IDENTITY,
} from './builtin.js';
import { HookRegistry } from './registry.js';

const payloads = JSON.parse(
  readFileSync(new URL('./fixtures/payloads.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

function thrown(fn: () => unknown): CpexError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CpexError);
    return e as CpexError;
  }
  throw new Error('expected a CpexError');
}

describe('HookRegistry', () => {
  const registry = new HookRegistry();

  it('is preloaded with every built-in hook of both references, every spelling', () => {
    const expected = [
      ...Object.values(LEGACY_HOOKS),
      ...Object.values(CMF_HOOKS),
      ...Object.values(FAMILY_HOOKS),
    ];
    for (const name of expected) expect(registry.has(name), name).toBe(true);
    // the spellings ARCHITECTURE section 3 lists, none an alias of another
    for (const name of [
      'identity_resolve',
      'identity.resolve',
      'token_delegate',
      'token.delegate',
      'elicit',
      'evaluate',
    ]) {
      expect(registry.get(name)?.name).toBe(name);
    }
    expect(new Set(BUILTIN_HOOK_NAMES).size).toBe(BUILTIN_HOOK_NAMES.length);
    expect(BUILTIN_HOOK_NAMES).toHaveLength(29);
  });

  it('reports families and wire payload-type ids', () => {
    expect(registry.get('tool_pre_invoke')?.family).toBe('legacy');
    expect(registry.get('cmf.llm_input')?.family).toBe('cmf');
    expect(registry.get('evaluate')?.family).toBe('cmf');
    expect(registry.get('identity_resolve')?.family).toBe('identity');
    expect(registry.get('identity.resolve')?.family).toBe('identity');
    expect(registry.get('token_delegate')?.family).toBe('delegation');
    expect(registry.get('elicit')?.family).toBe('elicitation');
    expect([PAYLOAD_TYPE_GENERIC, PAYLOAD_TYPE_CMF_MESSAGE, PAYLOAD_TYPE_IDENTITY]).toEqual([0, 1, 2]);
    expect(registry.payloadType('cmf.tool_post_invoke')).toBe(1);
    expect(registry.payloadType('identity.resolve')).toBe(2);
    expect(registry.payloadType('tool_pre_invoke')).toBe(0);
    expect(registry.payloadType('never.defined')).toBe(0);
  });

  it('every built-in payload fixture validates and round-trips unchanged', () => {
    for (const name of BUILTIN_HOOK_NAMES) {
      const value = payloads[name];
      expect(value, `fixture for ${name}`).toBeDefined();
      expect(JSON.parse(JSON.stringify(registry.validatePayload(name, value))), name).toEqual(value);
    }
  });

  it('validatePayload names the hook and the field path on bad input', () => {
    const e = thrown(() => registry.validatePayload('tool_pre_invoke', { args: {} }));
    expect(e.code).toBe('CPEX_ERR_INVALID_PAYLOAD');
    expect(e.hook).toBe('tool_pre_invoke');
    expect(e.path).toBe('name');
    expect(e.message).toContain('tool_pre_invoke');
    const m = thrown(() =>
      registry.validatePayload('cmf.llm_input', {
        message: { role: 'user', content: [{ content_type: 'text', text: 7 }] },
      }),
    );
    expect(m.path).toBe('message.content[0].text');
    expect(
      thrown(() =>
        registry.validatePayload('http_pre_request', { path: '/', method: 'GET', headers: { a: 1 } }),
      ).path,
    ).toBe('headers.a');
    expect(
      thrown(() => registry.validatePayload('elicit', { operation: 'approve', kind: 'x', from: 'y' })).path,
    ).toBe('operation');
    expect(thrown(() => registry.validatePayload('evaluate', null)).path).toBe('(root)');
  });

  it('validateResult checks modified payloads with the hook result type', () => {
    expect(registry.validateResult('http_pre_request', { 'x-a': '1' })).toEqual({ 'x-a': '1' });
    expect(registry.validateResult('http_auth_check_permission', { granted: true, reason: 'admin' })).toEqual(
      { granted: true, reason: 'admin' },
    );
    expect(
      registry.validateResult('identity_resolve', {
        subject: { id: 'alice', type: 'user' },
        rejected: false,
      }),
    ).toBeTruthy();
    expect(
      registry.validateResult('token_delegate', { delegated_token: 't', forwarded_headers: { a: 'b' } }),
    ).toBeTruthy();
    expect(thrown(() => registry.validateResult('http_auth_check_permission', { reason: 'x' })).path).toBe(
      'granted',
    );
  });

  it('any hook name works without a definition; custom hooks can be defined with a schema', () => {
    const r = new HookRegistry();
    expect(r.has('generation_pre_call')).toBe(false);
    expect(r.validatePayload('generation_pre_call', { anything: [1] })).toEqual({ anything: [1] });
    const d = r.define('generation_pre_call', { payloadSchema: z.object({ prompt: z.string() }) });
    expect(d.family).toBe('custom');
    expect(r.get('generation_pre_call')).toBe(d);
    expect(r.validatePayload('generation_pre_call', { prompt: 'hi' })).toEqual({ prompt: 'hi' });
    expect(thrown(() => r.validatePayload('generation_pre_call', { prompt: 1 })).path).toBe('prompt');
    r.define('generation_pre_call'); // custom hooks may be redefined
    expect(r.validatePayload('generation_pre_call', { prompt: 1 })).toEqual({ prompt: 1 });
    r.define('named.only');
    expect(r.has('named.only')).toBe(true);
  });

  it('refuses to redefine a built-in hook or define an empty name', () => {
    expect(thrown(() => registry.define('tool_pre_invoke')).code).toBe('CPEX_ERR_INVALID_ARGUMENT');
    expect(thrown(() => registry.define('cmf.llm_input', {})).message).toContain('built in');
    expect(thrown(() => registry.define('  ')).code).toBe('CPEX_ERR_INVALID_ARGUMENT');
  });

  it('each registry is independent', () => {
    const a = new HookRegistry();
    const b = new HookRegistry();
    a.define('only.in.a');
    expect(b.has('only.in.a')).toBe(false);
  });

  it.runIf(pythonAvailable)(
    'Python cpex 0.1.4 knows no hook we lack, and its payload classes accept our fixtures',
    () => {
      const py = requirePython();
      const code = `
import json, sys
import cpex.framework.hooks.tools, cpex.framework.hooks.prompts, cpex.framework.hooks.resources
import cpex.framework.hooks.agents, cpex.framework.hooks.http, cpex.framework.hooks.identity, cpex.framework.hooks.message
from cpex.framework.hooks.registry import get_hook_registry
reg = get_hook_registry()
fixtures = json.load(sys.stdin)
out = {"hooks": sorted(str(getattr(h, "value", h)) for h in reg.get_registered_hooks()), "dumps": {}}
for name, value in fixtures.items():
    cls = reg.get_payload_type(name)
    if cls is None:
        continue
    out["dumps"][name] = json.loads(cls.model_validate(value).model_dump_json())
print(json.dumps(out))
`;
      const res = runPython(py, code, payloads) as { hooks: string[]; dumps: Record<string, unknown> };
      expect(res.hooks.length).toBeGreaterThan(10);
      for (const h of res.hooks) expect(BUILTIN_HOOK_NAMES, `python hook ${h}`).toContain(h);
      // Python filled defaults; our schema reads its dump back to the same data
      for (const [name, dump] of Object.entries(res.dumps)) {
        const back = JSON.parse(JSON.stringify(registry.validatePayload(name, dump)));
        const expected = { ...(payloads[name] as object) } as Record<string, unknown>;
        if (name === 'identity_resolve') {
          expect((back as { raw_token: string }).raw_token).toMatch(/^\*+$/); // SecretStr redacts on dump
          delete expected.raw_token;
          delete (back as Record<string, unknown>).raw_token;
        }
        expect(covers(back, expected), name).toBe(true);
      }
      expect(Object.keys(res.dumps).length).toBeGreaterThanOrEqual(20);
    },
  );
});

/** Python adds defaults (nulls, empty maps, the `evaluate` hook); everything we sent must still be there, equal. */
function covers(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((x, i) => covers(actual[i], x))
    );
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object') return false;
    return Object.entries(expected).every(([k, x]) => covers((actual as Record<string, unknown>)[k], x));
  }
  return dataEqual(actual, expected);
}

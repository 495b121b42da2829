import { describe, expect, it } from 'vitest';
import { evaluateExpect, matchValue } from '../src/match.js';
import type { StepOutput } from '../src/output.js';

function step(over: Partial<StepOutput> = {}): StepOutput {
  return {
    step: 0,
    hook: 'tool_pre_invoke',
    result: {
      continue_processing: false,
      modified_payload: { name: 'calc', args: { x: 1, trail: 'a' } },
      payload_modified: true,
      modified_extensions: { security: { labels: ['PII', 'SECRET'] } },
      violation: {
        code: 'FORBIDDEN',
        reason: 'Tool Not Allowed',
        description: 'gate says no',
        details: {},
        plugin_name: 'gate',
      },
      metadata: { count: 1, 'observer.saw': { args: { x: 1 } }, flag: true },
      retry_delay_ms: 0,
      errors: [{ plugin_name: 'flaky', code: 'plugin_error', message: 'boom' }],
    },
    error: null,
    background_errors: [],
    executed: [
      { plugin: 'first', mode: 'sequential', end: 'ok' },
      { plugin: 'gate', mode: 'sequential', end: 'ok' },
      { plugin: 'faf', mode: 'fire_and_forget', end: 'ok' },
    ],
    chain: null,
    contexts: { faf: { state: { saw: { args: { x: 1 } } }, metadata: {} } },
    global_context: { state: { first_ran: true }, metadata: {} },
    payload_after: { name: 'calc', args: { x: 1 } },
    ...over,
  };
}

const noInit = { init_error: null };
const check = (
  expect_: Record<string, unknown>,
  s: StepOutput | null = step(),
  init: { init_error: unknown } = noInit,
) => evaluateExpect(expect_, s, init as never);

describe('matching rules', () => {
  it('dicts match as subsets, recursively', () => {
    expect(matchValue({ a: { b: 1 } }, { a: { b: 1, c: 2 }, d: 3 })).toBeNull();
    expect(matchValue({ a: { b: 2 } }, { a: { b: 1 } })).toMatch(/a: b: not equal/);
  });
  it('an expected null matches a missing key, null and nothing else', () => {
    expect(matchValue({ a: null }, {})).toBeNull();
    expect(matchValue({ a: null }, { a: null })).toBeNull();
    expect(matchValue({ a: null }, { a: 0 })).not.toBeNull();
  });
  it('lists need the same length and order', () => {
    expect(matchValue([1, 2], [1, 2])).toBeNull();
    expect(matchValue([1, 2], [2, 1])).not.toBeNull();
    expect(matchValue([1], [1, 2])).toMatch(/expected 1 items, got 2/);
  });
  it('lists under labels/roles/teams/permissions/scopes are multisets', () => {
    for (const k of ['labels', 'roles', 'teams', 'permissions', 'scopes']) {
      expect(matchValue({ [k]: ['b', 'a'] }, { [k]: ['a', 'b'] })).toBeNull();
      expect(matchValue({ [k]: ['a', 'a'] }, { [k]: ['a', 'b'] })).not.toBeNull();
    }
    expect(matchValue({ other: ['b', 'a'] }, { other: ['a', 'b'] })).not.toBeNull();
  });
  it('true is not 1, false is not 0, 1 equals 1.0', () => {
    expect(matchValue(true, 1)).not.toBeNull();
    expect(matchValue(false, 0)).not.toBeNull();
    expect(matchValue(1, 1.0)).toBeNull();
    expect(matchValue('1', 1)).not.toBeNull();
  });
});

describe('expect keys', () => {
  it('evaluates the standard keys against the step output', () => {
    const r = check({
      continue_processing: false,
      violation_code: 'FORBIDDEN',
      violation_plugin: 'gate',
      violation: { code: 'FORBIDDEN', plugin_name: 'gate' },
      modified_payload: { args: { trail: 'a' } },
      modified_extensions: { security: { labels: ['SECRET', 'PII'] } },
      metadata: { count: 1 },
      error: null,
      executed: ['first', 'gate', 'faf'],
      contexts: { faf: { state: { saw: { args: { x: 1 } } } } },
      global_state: { first_ran: true },
      global_metadata: {},
      payload_after: { args: { x: 1 } },
      background_errors: [],
      payload_modified: true,
      errors: [{ plugin_name: 'flaky' }],
    });
    expect(r.mismatches).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('reports each failing key with expected and actual', () => {
    const r = check({ continue_processing: true, executed: ['gate', 'first', 'faf'], retry_delay_ms: 5 });
    expect(r.ok).toBe(false);
    expect(r.mismatches.map((m) => m.key)).toEqual(['continue_processing', 'executed', 'retry_delay_ms']);
    expect(r.mismatches[0]).toMatchObject({ expected: true, actual: false });
  });

  it('evaluates the extra keys', () => {
    const ok = check({
      absent_global_state: ['aud'],
      error_present: false,
      executed_set: ['faf', 'gate', 'first'],
      executed_prefix: ['first', 'gate'],
      not_executed: ['never'],
      violation_code_in: ['X', 'FORBIDDEN'],
      violation_mentions: ['tool not allowed', 'GATE SAYS'],
      errors_include: ['flaky'],
      rejected: true,
      absent: ['metadata/missing', 'modified_payload/args/nope'],
      absent_or_empty: ['global_metadata', 'metadata/missing'],
      exact: { 'metadata/observer.saw/args': { x: 1 }, 'payload_after/args/x': 1, 'executed/1': 'gate' },
    });
    expect(ok.mismatches).toEqual([]);

    const bad = check({
      absent_global_state: ['first_ran'],
      error_present: true,
      executed_set: ['faf', 'gate'],
      executed_prefix: ['gate'],
      not_executed: ['gate'],
      violation_code_in: ['X'],
      violation_mentions: ['nowhere'],
      errors_include: ['steady'],
      rejected: false,
      absent: ['metadata/count'],
      absent_or_empty: ['payload_after/args'],
      exact: { 'payload_after/args': { x: 1, y: 2 }, 'metadata/flag': 1 },
    });
    expect(bad.mismatches.map((m) => m.key)).toEqual([
      'absent_global_state',
      'error_present',
      'executed_set',
      'executed_prefix',
      'not_executed',
      'violation_code_in',
      'violation_mentions',
      'errors_include',
      'rejected',
      'absent:metadata/count',
      'absent_or_empty:payload_after/args',
      'exact:payload_after/args',
      'exact:metadata/flag',
    ]);
  });

  it('exact does not use subset matching', () => {
    expect(check({ exact: { payload_after: { args: { x: 1 } } } }).ok).toBe(false);
    expect(check({ exact: { payload_after: { name: 'calc', args: { x: 1 } } } }).ok).toBe(true);
  });

  it('any_of passes when one alternative matches, and nests', () => {
    expect(check({ any_of: [{ continue_processing: true }, { violation_code: 'FORBIDDEN' }] }).ok).toBe(true);
    expect(
      check({
        any_of: [{ continue_processing: true }, { any_of: [{ rejected: false }, { error_present: true }] }],
      }).ok,
    ).toBe(false);
    expect(check({ any_of: [{ any_of: [{ rejected: true }] }] }).ok).toBe(true);
  });

  it('violation_* keys fall back to the error object', () => {
    const s = step({
      result: null,
      error: {
        type: 'PluginViolationError',
        message: 'tool_pre_invoke blocked',
        violation: {
          code: 'NOPE',
          reason: 'not today',
          description: null,
          details: {},
          plugin_name: 'seq_deny',
        },
      },
    });
    expect(
      check(
        {
          violation_code: 'NOPE',
          violation_plugin: 'seq_deny',
          violation_mentions: ['NOT TODAY'],
          rejected: true,
        },
        s,
      ).ok,
    ).toBe(true);
    const plain = step({ result: null, error: { type: 'CpexError', message: 'database unavailable' } });
    expect(check({ violation_mentions: ['database'] }, plain).ok).toBe(true);
  });

  it('lists keys it does not evaluate in unknown, without failing', () => {
    const r = check({ continue_processing: false, shiny_new_key: 1, any_of: [{ other_new: 2 }] });
    expect(r.ok).toBe(true);
    expect(r.unknown).toEqual(['shiny_new_key', 'any_of.other_new']);
  });

  it('init_error keys need no step output; others fail without one', () => {
    const init = {
      init_error: { type: 'CpexError', message: 'plugin broken_ctor failed to load: constructor failure' },
    };
    expect(
      check({ init_error_present: true, init_error_mentions: ['BROKEN_CTOR', 'constructor'] }, null, init).ok,
    ).toBe(true);
    expect(check({ init_error_present: false }, null, init).ok).toBe(false);
    expect(check({ init_error_mentions: ['x'] }, null, noInit).ok).toBe(false);
    expect(check({ continue_processing: true }, null).mismatches[0]?.reason).toBe('no step output');
  });
});

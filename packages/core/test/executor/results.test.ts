/**
 * ARCHITECTURE.md section 2 "Result" (PipelineResult fields on success and on halt), section 3
 * "More decisions" (retryDelayMs, payloadModified as presence, `_decision_plugin`), "Further
 * decisions" (result.errors[] shape) and the validation of plugin output (bad input from a plugin
 * is a coded plugin_error, never a crash and never a silent allow).
 */
import { types } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PluginManager } from '../../src/index.js';
import { captureLogger, newManager, probe, run, snapshot, Trail } from './helpers.js';

describe('PipelineResult on success (ARCH s2 "Result")', () => {
  it('success without modification: continueProcessing true, modifiedPayload null, payloadModified false, no violation, no errors (ARCH s2 "Result")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'noop');
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    expect(r.continueProcessing).toBe(true);
    expect(r.modifiedPayload).toBeNull();
    expect(r.payloadModified).toBe(false);
    expect(r.modifiedExtensions).toBeNull();
    expect(r.violation).toBeNull();
    expect(r.errors).toEqual([]);
    expect(r.metadata).toEqual({});
    expect(r.retryDelayMs).toBe(0);
    expect(r.contextTable).not.toBeNull();
    expect(await r.background.wait()).toEqual([]);
  });

  it('success with modification: modifiedPayload is the last accepted payload and payloadModified is true (ARCH s2 "Result")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'mod', {}, (p) => ({ modifiedPayload: { ...p, q: 2 } }));
    probe(m, new Trail(), 'noop', { priority: 200 });
    await m.initialize();
    const input = { q: 1 };
    const r = await run(m, 'tool_pre_invoke', input);
    expect(r.modifiedPayload).toEqual({ q: 2 });
    expect(r.payloadModified).toBe(true);
    expect(input).toEqual({ q: 1 });
  });

  it('payloadModified is presence, not deep equality: returning the unchanged payload counts as modified (ARCH s3 "More decisions")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'same', {}, (p) => ({ modifiedPayload: p }));
    await m.initialize();
    const input = { q: 1, nested: { a: [1, 2] } };
    const r = await run(m, 'tool_pre_invoke', input);
    expect(r.payloadModified).toBe(true);
    expect(r.modifiedPayload).toEqual(input);
    expect(types.isProxy(r.modifiedPayload)).toBe(false);
  });

  it('metadata from every non-background plugin is merged in execution order — later phases overwrite earlier keys; fire_and_forget metadata is never seen (ARCH s2 "Result"; conformance scenario 19)', async () => {
    const m = newManager();
    probe(m, new Trail(), 's1', { priority: 1 }, () => ({ metadata: { owner: 's1', s1: 1 } }));
    probe(m, new Trail(), 's2', { priority: 2 }, () => ({ metadata: { owner: 's2', s2: 1 } }));
    probe(m, new Trail(), 't', { mode: 'transform', priority: 0 }, () => ({
      metadata: { owner: 't', t: 1 },
    }));
    probe(m, new Trail(), 'a', { mode: 'audit', priority: 0 }, () => ({ metadata: { owner: 'a', a: 1 } }));
    probe(m, new Trail(), 'c', { mode: 'concurrent', priority: 0 }, async () => ({
      metadata: { owner: 'c', c: 1 },
    }));
    probe(m, new Trail(), 'f', { mode: 'fire_and_forget', priority: 0 }, () => ({
      metadata: { owner: 'f', f: 1 },
    }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    await r.background.wait();
    expect(r.metadata).toEqual({ owner: 'c', s1: 1, s2: 1, t: 1, a: 1, c: 1 });
  });

  it('retryDelayMs on success is the maximum any plugin returned, audit included (ARCH s3 "More decisions")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'seq', {}, () => ({ retryDelayMs: 100 }));
    probe(m, new Trail(), 'tra', { mode: 'transform' }, () => ({ retryDelayMs: 50 }));
    probe(m, new Trail(), 'aud', { mode: 'audit' }, () => ({ retryDelayMs: 300 }));
    probe(m, new Trail(), 'con', { mode: 'concurrent' }, async () => ({ retryDelayMs: 200 }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(true);
    expect(r.retryDelayMs).toBe(300);
  });

  it('a transform deny\'s retryDelayMs counts toward the maximum (the deny is ignored, the result is kept) (ARCH s3 "More decisions")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'tra', { mode: 'transform' }, () => ({
      continueProcessing: false,
      retryDelayMs: 70,
    }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(true);
    expect(r.retryDelayMs).toBe(70);
  });
});

describe('PipelineResult on a halt (ARCH s2 "Result"; s3 "More decisions"; DEVIATIONS general rules)', () => {
  it('on a halt modifiedPayload holds the payload chained before the halting plugin; the halter\'s own edit is dropped (ARCH s2 "Result")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'first', { priority: 1 }, (p) => ({ modifiedPayload: { ...p, first: true } }));
    probe(m, new Trail(), 'halter', { priority: 2 }, (p) => ({
      continueProcessing: false,
      modifiedPayload: { ...p, halter: true },
      violation: { code: 'STOP', reason: 'stop' },
    }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    expect(r.continueProcessing).toBe(false);
    expect(r.modifiedPayload).toEqual({ q: 1, first: true });
    expect(r.payloadModified).toBe(true);
  });

  it('on a halt with nothing chained before, modifiedPayload is null (ARCH s2 "Result")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'halter', {}, (p) => ({
      continueProcessing: false,
      modifiedPayload: { ...p, x: 1 },
    }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    expect(r.modifiedPayload).toBeNull();
    expect(r.payloadModified).toBe(false);
  });

  it('on a halt the full violation of the denier reaches the result — code, reason, description, details, mcp/http fields (DEVIATIONS "A denying plugin\'s ... violation fields reach the result")', async () => {
    const m = newManager();
    const violation = {
      code: 'RATE_LIMIT',
      reason: 'too many calls',
      description: 'slow down',
      details: { limit: 10, window: '1m' },
      mcpErrorCode: -32000,
      httpStatusCode: 429,
      httpHeaders: { 'Retry-After': '5' },
    };
    probe(m, new Trail(), 'limiter', {}, () => ({
      continueProcessing: false,
      violation,
      retryDelayMs: 5000,
    }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.violation).toEqual({ ...violation, pluginName: 'limiter' });
    expect(r.retryDelayMs).toBe(5000);
  });

  it('on a halt retryDelayMs is the halting plugin\'s, not the maximum of earlier plugins (ARCH s3 "on a halt it is the halting plugin\'s")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'early', { priority: 1 }, () => ({ retryDelayMs: 900 }));
    probe(m, new Trail(), 'halter', { priority: 2 }, () => ({ continueProcessing: false, retryDelayMs: 30 }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.retryDelayMs).toBe(30);
  });

  it("on a plugin_error halt retryDelayMs is the halting plugin's (none: 0), not an earlier plugin's (ARCH s3 \"on a halt it is the halting plugin's\")", async () => {
    const m = newManager();
    probe(m, new Trail(), 'early', { priority: 1 }, () => ({ retryDelayMs: 900 }));
    probe(m, new Trail(), 'broken', { priority: 2 }, () => {
      throw new Error('x');
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.violation?.code).toBe('plugin_error');
    expect(r.retryDelayMs).toBe(0);
  });

  it('on a halt metadata combined so far is kept, including the halting plugin\'s (ARCH s2 "Result"; Python semantics)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'a', { priority: 1 }, () => ({ metadata: { a: 1 } }));
    probe(m, new Trail(), 'halter', { priority: 2 }, () => ({
      continueProcessing: false,
      metadata: { h: 2 },
    }));
    probe(m, new Trail(), 'never', { priority: 3 }, () => ({ metadata: { never: 3 } }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.metadata).toEqual({ a: 1, h: 2 });
  });

  it('on a halt the context table comes back (DEVIATIONS scenario 08)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'broken', {}, (_p, ctx) => {
      ctx.state.before = 'throw';
      throw new Error('x');
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.contextTable?.toJSON()).toEqual({ broken: { state: { before: 'throw' }, metadata: {} } });
  });
});

describe('result.errors[] (ARCH s3 "Further decisions")', () => {
  it('errors[] entries are {pluginName, code, message} with code plugin_error or plugin_timeout (ARCH s3 "result.errors[] entries")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'thrower', { onError: 'ignore', priority: 1 }, () => {
      throw new RangeError('out of range');
    });
    probe(m, new Trail(), 'sleeper', { onError: 'ignore', priority: 2, timeout: 0.02 }, async () => {
      await new Promise((r) => setTimeout(r, 200));
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.errors.map((e) => ({ pluginName: e.pluginName, code: e.code }))).toEqual([
      { pluginName: 'thrower', code: 'plugin_error' },
      { pluginName: 'sleeper', code: 'plugin_timeout' },
    ]);
    for (const e of r.errors) expect(typeof e.message).toBe('string');
    expect(r.errors[0]?.message).toContain('out of range');
  });
});

describe('invalid plugin results become plugin_error with CPEX_ERR_INVALID_RESULT (never a crash, never a silent allow)', () => {
  const bad: Array<[string, unknown]> = [
    ['a number', 42],
    ['a string', 'deny'],
    ['a boolean', false],
    ['snake_case continue_processing', { continue_processing: false }],
    ['snake_case modified_payload', { modified_payload: { q: 2 } }],
    ['a violation that is a string', { continueProcessing: false, violation: 'nope' }],
    ['a violation without a string code', { continueProcessing: false, violation: { code: 5, reason: 'x' } }],
    ['continueProcessing that is not a boolean', { continueProcessing: 'no' }],
    ['metadata that is an array', { metadata: [1, 2] }],
    ['a negative retryDelayMs', { retryDelayMs: -1 }],
    ['an array', [{ continueProcessing: false }]],
  ];
  for (const [what, value] of bad) {
    it(`a plugin returning ${what} halts with plugin_error / CPEX_ERR_INVALID_RESULT naming the plugin (bad plugin output is a coded error)`, async () => {
      const m = newManager();
      probe(m, new Trail(), 'weird', {}, () => value as never);
      await m.initialize();
      const r = await run(m, 'tool_pre_invoke', { q: 1 });
      expect(r.continueProcessing).toBe(false);
      expect(r.violation).toMatchObject({ code: 'plugin_error', pluginName: 'weird' });
      expect(r.errors[0]).toMatchObject({
        pluginName: 'weird',
        code: 'plugin_error',
        errorCode: 'CPEX_ERR_INVALID_RESULT',
      });
      expect(r.modifiedPayload).toBeNull();
    });
  }

  it('an async plugin resolving to an invalid result is handled the same way (bad plugin output is a coded error)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'weirdAsync', { mode: 'concurrent' }, async () => 7 as never);
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.violation).toMatchObject({ code: 'plugin_error', pluginName: 'weirdAsync' });
    expect(r.errors[0]?.errorCode).toBe('CPEX_ERR_INVALID_RESULT');
  });

  it('returning nothing (undefined or null) is an allow (ARCH s2 Handler returns PluginResult | void)', async () => {
    const m = newManager();
    probe(m, new Trail(), 'undef', { priority: 1 }, () => undefined);
    probe(m, new Trail(), 'nul', { priority: 2 }, () => null as never);
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.continueProcessing).toBe(true);
    expect(r.errors).toEqual([]);
  });
});

describe('_decision_plugin on http_auth_check_permission (ARCH s3 "More decisions")', () => {
  it('metadata._decision_plugin names the last plugin whose modification was accepted (ARCH s3 "More decisions")', async () => {
    const m = newManager();
    const hook = 'http_auth_check_permission';
    probe(m, new Trail(), 'first', { hook, priority: 1 }, (p) => ({
      modifiedPayload: { ...p, granted: false },
    }));
    probe(m, new Trail(), 'decider', { hook, priority: 2 }, (p) => ({
      modifiedPayload: { ...p, granted: true },
    }));
    probe(m, new Trail(), 'observer', { hook, priority: 3 }, () => ({ metadata: { seen: true } }));
    await m.initialize();
    const r = await run(m, hook, {
      user_email: 'a@b',
      resource_type: 'tool',
      resource_id: 'x',
      permission: 'use',
    });
    expect(r.metadata).toEqual({ seen: true, _decision_plugin: 'decider' });
  });

  it('plugins cannot set _decision_plugin themselves (ARCH s3 "plugins cannot set this key")', async () => {
    const m = newManager();
    const hook = 'http_auth_check_permission';
    probe(m, new Trail(), 'decider', { hook, priority: 1 }, (p) => ({
      modifiedPayload: { ...p, granted: true },
    }));
    probe(m, new Trail(), 'forger', { hook, priority: 2 }, () => ({
      metadata: { _decision_plugin: 'forger', other: 1 },
    }));
    await m.initialize();
    const r = await run(m, hook, { permission: 'use' });
    expect(r.metadata).toEqual({ other: 1, _decision_plugin: 'decider' });

    const m2 = newManager();
    probe(m2, new Trail(), 'forger', { hook }, () => ({ metadata: { _decision_plugin: 'forger' } }));
    await m2.initialize();
    const r2 = await run(m2, hook, { permission: 'use' });
    expect(r2.metadata).toEqual({});
  });

  it('_decision_plugin is only set for http_auth_check_permission (ARCH s3 "For http_auth_check_permission")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'decider', {}, (p) => ({ modifiedPayload: { ...p, x: 1 } }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(r.metadata).toEqual({});
  });
});

describe('the caller\'s payload (ARCH s3 "The caller\'s payload object is never changed")', () => {
  it("whatever plugins in every phase return, the caller's payload object is unchanged (DEVIATIONS general rules)", async () => {
    const m = newManager();
    for (const phase of ['sequential', 'transform', 'audit', 'concurrent', 'fire_and_forget'] as const) {
      probe(m, new Trail(), phase, { mode: phase }, (p) => ({
        modifiedPayload: { ...p, args: { ...p.args, [phase]: true } },
      }));
    }
    await m.initialize();
    const input = { name: 't', args: { q: 1, deep: { list: [1, 2] } } };
    const before = snapshot(input);
    const r = await run(m, 'tool_pre_invoke', input);
    await r.background.wait();
    expect(input).toEqual(before);
    expect(r.modifiedPayload).toEqual({
      name: 't',
      args: { q: 1, deep: { list: [1, 2] }, sequential: true, transform: true },
    });
  });

  it('no in-process payload size check: a payload far above max_payload_bytes (and Python\'s 1,000,000-character guard) reaches in-process plugins (ARCH s3 "Further decisions"; DEVIATIONS general rules)', async () => {
    const m = newManager({ maxPayloadBytes: 100 });
    let sawLength = 0;
    probe(m, new Trail(), 'reader', {}, (p) => {
      sawLength = (p.args.blob as string).length;
      return undefined;
    });
    await m.initialize();
    const blob = 'x'.repeat(1_500_000);
    const r = await run(m, 'tool_pre_invoke', { name: 't', args: { blob } });
    expect(r.continueProcessing).toBe(true);
    expect(r.errors).toEqual([]);
    expect(sawLength).toBe(1_500_000);
  });
});

describe('modifiedPayload: null (ARCH s2 "Result")', () => {
  it('returning modifiedPayload: null is no modification (Python\'s None): nothing is replaced and payloadModified stays false (ARCH s2 "modifiedPayload absent/null unless a plugin changed the payload")', async () => {
    const m = newManager();
    let nextSaw: unknown = 'unset';
    probe(m, new Trail(), 'nuller', { priority: 1 }, () => ({ modifiedPayload: null as never }));
    probe(m, new Trail(), 'next', { priority: 2 }, (p) => {
      nextSaw = JSON.parse(JSON.stringify(p));
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    expect(nextSaw).toEqual({ q: 1 });
    expect(r.payloadModified).toBe(false);
    expect(r.modifiedPayload).toBeNull();
  });
});

describe('hostile plugin results: throwing getters, throwing thenables (bad plugin output is a coded error, never a crash or a hang)', () => {
  const hostile: Array<[string, () => unknown]> = [
    [
      'a thenable whose then() throws',
      () => ({
        // biome-ignore lint/suspicious/noThenProperty: the point of the test
        then() {
          throw new Error('bad thenable');
        },
      }),
    ],
    [
      'an object whose then getter throws',
      () => ({
        // biome-ignore lint/suspicious/noThenProperty: the point of the test
        get then() {
          throw new Error('then getter');
        },
      }),
    ],
    [
      'a result whose continueProcessing getter throws',
      () => ({
        get continueProcessing() {
          throw new Error('field getter');
        },
      }),
    ],
    [
      'a promise of a result whose metadata getter throws',
      async () => ({
        get metadata() {
          throw new Error('async field getter');
        },
      }),
    ],
    [
      'a Proxy result whose traps throw',
      () =>
        new Proxy(
          {},
          {
            get() {
              throw new Error('proxy trap');
            },
            has() {
              throw new Error('has trap');
            },
          },
        ),
    ],
    [
      'metadata with a throwing getter',
      () => ({
        metadata: {
          get k() {
            throw new Error('metadata getter');
          },
        },
      }),
    ],
    [
      'a violation with a throwing getter',
      () => ({
        continueProcessing: false,
        violation: {
          code: 'X',
          get reason() {
            throw new Error('violation getter');
          },
        },
      }),
    ],
  ];
  for (const mode of ['sequential', 'concurrent'] as const) {
    for (const [what, handler] of hostile) {
      it(`${mode}: a plugin returning ${what} halts with plugin_error naming it; invoke resolves (never rejects raw, never hangs)`, async () => {
        const m = newManager();
        probe(m, new Trail(), 'hostile', { mode }, handler as never);
        await m.initialize();
        const r = await run(m, 'tool_pre_invoke', {});
        expect(r.continueProcessing).toBe(false);
        expect(r.violation).toMatchObject({ code: 'plugin_error', pluginName: 'hostile' });
        expect(r.errors).toEqual([expect.objectContaining({ pluginName: 'hostile', code: 'plugin_error' })]);
      }, 3_000);
    }
  }
  for (const mode of ['sequential', 'transform'] as const) {
    it(`${mode}: a plugin returning a modifiedPayload with a throwing getter halts with plugin_error naming it (the payload is read to apply it); invoke resolves`, async () => {
      const m = newManager();
      probe(m, new Trail(), 'hostile', { mode }, () => ({
        modifiedPayload: {
          get q() {
            throw new Error('payload getter');
          },
        },
      }));
      await m.initialize();
      const r = await run(m, 'tool_pre_invoke', { q: 1 });
      expect(r.continueProcessing).toBe(false);
      expect(r.violation).toMatchObject({ code: 'plugin_error', pluginName: 'hostile' });
    }, 3_000);
  }

  it('sequential: a plugin returning modifiedExtensions with a throwing getter halts with plugin_error or extension_violation naming it; invoke resolves', async () => {
    const m = newManager();
    probe(m, new Trail(), 'hostile', {}, () => ({
      modifiedExtensions: {
        get custom() {
          throw new Error('extensions getter');
        },
      } as never,
    }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {}, { extensions: { custom: { a: 1 } } as never });
    expect(r.continueProcessing).toBe(false);
    expect(['plugin_error', 'extension_violation']).toContain(r.violation?.code);
    expect(r.violation?.pluginName).toBe('hostile');
  }, 3_000);

  for (const [what, handler] of hostile) {
    it(`fire_and_forget: a plugin returning ${what} is reported by background.wait() as plugin_error (never an unhandled rejection or a hang)`, async () => {
      // Not newManager(): if background work never settles, its shutdown() would hang the afterEach hook.
      const m = new PluginManager({ env: {}, logger: captureLogger() });
      probe(m, new Trail(), 'hostile', { mode: 'fire_and_forget' }, handler as never);
      await m.initialize();
      const r = await run(m, 'tool_pre_invoke', {});
      expect(r.continueProcessing).toBe(true);
      const bg = await r.background.wait();
      expect(bg).toEqual([expect.objectContaining({ pluginName: 'hostile', code: 'plugin_error' })]);
      await m.shutdown();
    }, 3_000);
  }
});

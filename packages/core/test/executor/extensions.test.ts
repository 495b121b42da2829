/**
 * ARCHITECTURE.md section 3 rule 2 ("... or extension_violation for a forbidden extension edit")
 * and "Further decisions": "A plugin's extension edit that its tier or capabilities forbid is a
 * plugin error (coded), handled by that plugin's on_error (default fail halts); it is never
 * silently dropped." The tiers themselves are tested in src/extensions; these tests check how the
 * executor treats an accepted or refused edit.
 */
import { describe, expect, it } from 'vitest';
import { type Extensions, PluginViolationError } from '../../src/index.js';
import { newManager, probe, Trail, run } from './helpers.js';

const ext = (): Extensions =>
  ({
    request: { request_id: 'req-1', environment: 'prod' },
    http: { request_headers: { 'x-a': '1' } },
    custom: { note: 'orig' },
  }) as Extensions;

describe('extension edits in the executor (ARCH s3 "Further decisions")', () => {
  it('returning a slot the plugin cannot see is refused as extension_violation, not applied (ARCH s3 "its ... capabilities forbid")', async () => {
    const m = newManager();
    // No read_headers: the http slot is hidden from this plugin, so it may not return one.
    probe(m, new Trail(), 'blind', {}, () => ({ modifiedExtensions: ext() }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {}, { extensions: ext() });
    expect(r.violation).toMatchObject({ code: 'extension_violation', pluginName: 'blind' });
    expect(r.violation?.description).toContain('http');
  });

  it('a forbidden edit (an immutable slot) under on_error fail halts with extension_violation naming the plugin (ARCH s3 rule 2)', async () => {
    const m = newManager();
    const t = new Trail();
    m.registerHook(
      'tool_pre_invoke',
      (_p, _c, view) => {
        t.add('forger');
        return {
          modifiedExtensions: {
            ...view,
            request: { request_id: 'forged', environment: 'prod' },
          } as Extensions,
        };
      },
      { name: 'forger', priority: 1 },
    );
    probe(m, t, 'after', { priority: 2 });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {}, { extensions: ext() });
    expect(r.continueProcessing).toBe(false);
    expect(r.violation).toMatchObject({ code: 'extension_violation', pluginName: 'forger' });
    expect(r.violation?.description).toContain('request');
    expect(r.modifiedExtensions).toBeNull();
    expect(r.errors[0]).toMatchObject({ pluginName: 'forger', code: 'extension_violation' });
    expect(t.ran).toEqual(['forger']);
  });

  it('a forbidden edit under on_error ignore is recorded in errors[] (never silently dropped) and the canonical extensions stay unchanged (ARCH s3 "never silently dropped")', async () => {
    const m = newManager();
    let nextSaw: unknown;
    m.registerHook(
      'tool_pre_invoke',
      (_p, _c, view) => ({
        modifiedExtensions: { ...view, request: { request_id: 'forged', environment: 'prod' } } as Extensions,
      }),
      { name: 'forger', priority: 1, onError: 'ignore' },
    );
    m.registerHook(
      'tool_pre_invoke',
      (_p, _c, e) => {
        nextSaw = (e as { request?: { request_id?: string } } | undefined)?.request?.request_id;
        return undefined;
      },
      { name: 'reader', priority: 3 },
    );
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {}, { extensions: ext() });
    expect(r.continueProcessing).toBe(true);
    expect(r.errors).toEqual([
      expect.objectContaining({ pluginName: 'forger', code: 'extension_violation' }),
    ]);
    expect(nextSaw).toBe('req-1');
    expect(r.modifiedExtensions).toBeNull();
  });

  it('writing guarded http headers without write_headers is refused; with the capability it is accepted (ARCH s3 "its tier or capabilities forbid")', async () => {
    const edit = (): Extensions =>
      ({ ...ext(), http: { request_headers: { 'x-a': '1', 'x-b': '2' } } }) as Extensions;
    const denied = newManager();
    probe(denied, new Trail(), 'noCap', { capabilities: ['read_headers'] }, () => ({
      modifiedExtensions: edit(),
    }));
    await denied.initialize();
    const r1 = await run(denied, 'tool_pre_invoke', {}, { extensions: ext() });
    expect(r1.violation).toMatchObject({ code: 'extension_violation', pluginName: 'noCap' });
    expect(r1.violation?.description).toContain('write_headers');

    const allowed = newManager();
    probe(allowed, new Trail(), 'withCap', { capabilities: ['write_headers'] }, () => ({
      modifiedExtensions: edit(),
    }));
    await allowed.initialize();
    const r2 = await run(allowed, 'tool_pre_invoke', {}, { extensions: ext() });
    expect(r2.continueProcessing).toBe(true);
    expect(r2.errors).toEqual([]);
    expect(
      (r2.modifiedExtensions as { http?: { request_headers?: unknown } } | null)?.http?.request_headers,
    ).toEqual({
      'x-a': '1',
      'x-b': '2',
    });
  });

  it('an allowed edit of the mutable custom slot is accepted and chained to the next plugin (ARCH s3 "sequential may modify")', async () => {
    const m = newManager();
    let nextSaw: unknown;
    m.registerHook(
      'tool_pre_invoke',
      (_p, _c, view) => ({ modifiedExtensions: { ...view, custom: { note: 'edited' } } }),
      {
        name: 'editor',
        priority: 1,
      },
    );
    m.registerHook(
      'tool_pre_invoke',
      (_p, _c, e) => {
        nextSaw = (e as { custom?: { note?: string } } | undefined)?.custom?.note;
        return undefined;
      },
      { name: 'reader', priority: 2 },
    );
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {}, { extensions: ext() });
    expect(nextSaw).toBe('edited');
    expect((r.modifiedExtensions as { custom?: unknown } | null)?.custom).toEqual({ note: 'edited' });
  });

  it('an extension_violation halt throws under violationsAsExceptions (ARCH s2 "every halt ... extension_violation")', async () => {
    const m = newManager();
    m.registerHook(
      'tool_pre_invoke',
      (_p, _c, view) => ({
        modifiedExtensions: { ...view, request: { request_id: 'forged' } } as Extensions,
      }),
      { name: 'forger' },
    );
    await m.initialize();
    const err = await run(
      m,
      'tool_pre_invoke',
      {},
      { extensions: ext(), violationsAsExceptions: true },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginViolationError);
    expect((err as PluginViolationError).violation).toMatchObject({
      code: 'extension_violation',
      pluginName: 'forger',
    });
  });

  it('audit and concurrent extension edits are discarded, never applied (ARCH s3 phase table "may modify: no")', async () => {
    const m = newManager();
    const edit = { ...ext(), custom: { note: 'sneaky' } } as Extensions;
    probe(m, new Trail(), 'aud', { mode: 'audit' }, () => ({ modifiedExtensions: edit }));
    probe(m, new Trail(), 'con', { mode: 'concurrent' }, async () => ({ modifiedExtensions: edit }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {}, { extensions: ext() });
    expect(r.continueProcessing).toBe(true);
    expect(r.modifiedExtensions).toBeNull();
  });
});

describe('capability implications (ARCH s3 "More decisions": Python\'s implications)', () => {
  async function seenBy(capabilities: string[]): Promise<Record<string, unknown>> {
    const m = newManager();
    let seen: Record<string, unknown> = {};
    m.registerHook(
      'tool_pre_invoke',
      (_p, _c, view) => {
        seen = JSON.parse(JSON.stringify(view ?? {}));
        return undefined;
      },
      { name: 'viewer', capabilities },
    );
    await m.initialize();
    await run(
      m,
      'tool_pre_invoke',
      {},
      {
        extensions: {
          http: { request_headers: { 'x-a': '1' } },
          delegation: { chain: [] },
          security: { subject: { id: 'u1', roles: ['admin'] } },
        } as unknown as Extensions,
      },
    );
    return seen;
  }

  it('write_headers implies read_headers: the plugin sees the http slot (ARCH s3 "write_headers ⇒ read_headers")', async () => {
    expect(await seenBy([])).not.toHaveProperty('http');
    expect(await seenBy(['write_headers'])).toHaveProperty('http');
  });

  it('append_delegation implies read_delegation (ARCH s3 "append_delegation ⇒ read_delegation")', async () => {
    expect(await seenBy([])).not.toHaveProperty('delegation');
    expect(await seenBy(['append_delegation'])).toHaveProperty('delegation');
  });

  it('read_roles implies read_subject: the subject becomes visible with its roles (ARCH s3 "any of roles/teams/claims/permissions ⇒ read_subject")', async () => {
    const none = await seenBy([]);
    expect((none.security as Record<string, unknown> | undefined)?.subject).toBeUndefined();
    const roles = await seenBy(['read_roles']);
    expect((roles.security as { subject?: unknown } | undefined)?.subject).toEqual({
      id: 'u1',
      roles: ['admin'],
    });
  });
});

/** A plugin after the writer that records the custom slot it sees. */
function reader(m: ReturnType<typeof newManager>, t: Trail): void {
  m.registerHook(
    'tool_pre_invoke',
    (_p, _c, view) => {
      t.add(`reader saw ${JSON.stringify((view as { custom?: unknown } | undefined)?.custom)}`);
      return undefined;
    },
    { name: 'reader', priority: 200 },
  );
}

describe("a plugin's modifiedExtensions.custom must be JSON data, as the caller's is at ingress", () => {
  const cyclic = (): Record<string, unknown> => {
    const o: Record<string, unknown> = { a: 1 };
    o.self = o;
    return o;
  };
  const cases: Array<[string, () => unknown, string]> = [
    ['NaN', () => ({ score: Number.NaN }), 'custom.score'],
    ['Infinity in a list', () => ({ list: [1, Number.POSITIVE_INFINITY] }), 'custom.list[1]'],
    ['a BigInt', () => ({ deep: { n: 10n } }), 'custom.deep.n'],
    ['a Date', () => ({ at: new Date(0) }), 'custom.at'],
    ['a function', () => ({ f: () => 1 }), 'custom.f'],
    ['a cycle', () => ({ c: cyclic() }), 'custom.c.self'],
    ['a lone surrogate', () => ({ s: 'x\ud800' }), 'custom.s'],
  ];
  for (const [what, custom, path] of cases) {
    it(`${what} is refused as extension_violation with its path, and none of the result is applied`, async () => {
      const m = newManager();
      const t = new Trail();
      probe(m, t, 'writer', { onError: 'ignore' }, () => ({
        modifiedExtensions: { custom: custom() } as unknown as Extensions,
        modifiedPayload: { name: 'edited' },
        metadata: { kept: false },
      }));
      reader(m, t);
      await m.initialize();
      const r = await run(m, 'tool_pre_invoke', { name: 'orig' }, { extensions: ext() });
      expect(r.continueProcessing).toBe(true);
      expect(r.errors).toEqual([
        expect.objectContaining({
          pluginName: 'writer',
          code: 'extension_violation',
          errorCode: 'CPEX_ERR_EXTENSION_VIOLATION',
        }),
      ]);
      expect(r.errors[0]?.message).toContain(path);
      expect(r.modifiedPayload).toBeNull();
      expect(r.modifiedExtensions).toBeNull();
      expect(r.metadata).toEqual({});
      expect(t.events.find((e) => e.startsWith('reader saw'))).toBe('reader saw {"note":"orig"}');
    });
  }

  it('plain JSON data in custom is accepted and reaches the next plugin', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'writer', {}, () => ({
      modifiedExtensions: {
        custom: { note: 'new', list: [1, 'a', null, { b: true }] },
      } as unknown as Extensions,
    }));
    reader(m, t);
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {}, { extensions: ext() });
    expect(r.errors).toEqual([]);
    expect(r.modifiedExtensions?.custom).toEqual({ note: 'new', list: [1, 'a', null, { b: true }] });
    expect(t.events.find((e) => e.startsWith('reader saw'))).toBe(
      'reader saw {"note":"new","list":[1,"a",null,{"b":true}]}',
    );
  });
});

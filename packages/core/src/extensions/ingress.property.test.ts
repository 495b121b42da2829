/**
 * Issue 11 item 2: caller-supplied extensions are validated at ingress with the schemas that
 * judge plugin output. Malformed input is a coded error and never reaches a plugin; well-formed
 * wire input (labels as a JSON list) reaches plugins intact, so a label guard sees the labels.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CpexError } from '../errors/cpex-error.js';
import { PluginManager } from '../manager.js';
import { ingressExtensions } from './ingress.js';
import { MonotonicSet } from './monotonic-set.js';
import type { Extensions } from './types.js';

const gc = () => ({ requestId: 'r', state: {}, metadata: {} });
const label = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,11}$/);
const notAString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.object(),
  fc.array(fc.integer()),
);

/** Extensions that are malformed in exactly one place, with the field the error must name. */
const malformed: fc.Arbitrary<[unknown, string]> = fc.oneof(
  // labels as a string: used to reach plugins as an empty set
  label.map((l) => [{ security: { labels: l } }, 'extensions.security.labels'] as [unknown, string]),
  // a mixed list
  fc
    .tuple(fc.array(label, { maxLength: 3 }), notAString, fc.array(label, { maxLength: 3 }))
    .map(
      ([a, bad, b]) =>
        [{ security: { labels: [...a, bad, ...b] } }, 'extensions.security.labels'] as [unknown, string],
    ),
  // a header value that is not a string
  fc
    .tuple(label, notAString)
    .map(
      ([k, v]) =>
        [{ http: { request_headers: { [k]: v } } }, `extensions.http.request_headers.${k}`] as [
          unknown,
          string,
        ],
    ),
  // an unknown subject type
  label
    .filter((t) => !['user', 'agent', 'service', 'system'].includes(t))
    .map(
      (t) =>
        [
          { security: { subject: { id: 'a', subject_type: t } } },
          'extensions.security.subject.subject_type',
        ] as [unknown, string],
    ),
  // a slot that is not an object
  fc
    .tuple(
      fc.constantFrom('request', 'agent', 'http', 'security', 'delegation', 'meta'),
      fc.oneof(fc.string(), fc.integer(), fc.array(fc.string())),
    )
    .map(([slot, v]) => [{ [slot]: v }, `extensions.${slot}`] as [unknown, string]),
  // a delegation hop without its subject
  fc
    .array(label, { maxLength: 2 })
    .map(
      (scopes) =>
        [
          { delegation: { chain: [{ scopes_granted: scopes }] } },
          'extensions.delegation.chain[0].subject_id',
        ] as [unknown, string],
    ),
);

describe('caller extensions at ingress', () => {
  it('malformed extensions: invoke rejects with CPEX_ERR_INVALID_PAYLOAD naming the field; the plugin never runs', async () => {
    let calls = 0;
    const m = new PluginManager();
    m.registerHook(
      'tool_pre_invoke',
      () => {
        calls++;
      },
      {
        name: 'guard',
        capabilities: ['read_labels', 'read_headers', 'read_subject', 'read_delegation', 'read_agent'],
      },
    );
    await m.initialize();
    await fc.assert(
      fc.asyncProperty(malformed, async ([ext, field]) => {
        const err = await m
          .invoke(
            'tool_pre_invoke',
            { name: 't', args: {} },
            { globalContext: gc(), extensions: ext as Extensions },
          )
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(err).toBeInstanceOf(CpexError);
        expect((err as CpexError).code).toBe('CPEX_ERR_INVALID_PAYLOAD');
        expect((err as CpexError).message).toContain(field);
        expect((err as CpexError).hook).toBe('tool_pre_invoke');
      }),
      { numRuns: 200 },
    );
    expect(calls).toBe(0);
    await m.shutdown();
  });

  it('well-formed wire labels (a JSON list) reach the plugin as a MonotonicSet, so a label guard denies and append_labels keeps them', async () => {
    const m = new PluginManager();
    m.registerHook(
      'tool_pre_invoke',
      (_p, _c, ext) => {
        const labels = ext?.security?.labels;
        if (labels?.has('pii'))
          return { continueProcessing: false, violation: { code: 'PII', reason: 'pii' } };
        return undefined;
      },
      { name: 'guard', capabilities: ['read_labels'], priority: 2 },
    );
    m.registerHook(
      'tool_pre_invoke',
      (_p, _c, ext) => ({
        modifiedExtensions: {
          ...ext,
          security: {
            ...ext?.security,
            labels: (ext?.security?.labels ?? MonotonicSet.from([])).add('seen'),
          },
        },
      }),
      { name: 'tagger', capabilities: ['append_labels'], priority: 1 },
    );
    await m.initialize();
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(label, { maxLength: 5 }), fc.boolean(), async (labels, withPii) => {
        const wire = {
          security: { labels: withPii ? [...labels, 'pii'] : labels.filter((l) => l !== 'pii') },
        };
        const r = await m.invoke(
          'tool_pre_invoke',
          { name: 't', args: {} },
          { globalContext: gc(), extensions: wire as unknown as Extensions },
        );
        expect(r.continueProcessing).toBe(!withPii);
        if (!withPii) {
          const out = [...(r.modifiedExtensions?.security?.labels ?? [])].map((l) => l.toLowerCase());
          for (const l of wire.security.labels) expect(out).toContain(l.toLowerCase());
          expect(out).toContain('seen');
        }
      }),
      { numRuns: 100 },
    );
    await m.shutdown();
  });

  it('validates once per object (identity cache) and keeps a valid object as is', () => {
    const ext: Extensions = { security: { labels: MonotonicSet.from(['a']) }, custom: { k: 1 } };
    expect(ingressExtensions(ext)).toBe(ext);
    const wire = { security: { labels: ['a'] } };
    const once = ingressExtensions(wire);
    expect(once).not.toBe(wire);
    expect(ingressExtensions(wire)).toBe(once);
    expect(ingressExtensions(once)).toBe(once);
    expect((once as Extensions).security?.labels).toBeInstanceOf(MonotonicSet);
  });

  it('non-objects and hostile objects are coded errors, never a crash', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const throwing = {
      get security() {
        throw new Error('getter');
      },
    };
    for (const v of ['str', 42, [], proxy, throwing]) {
      const r = ingressExtensions(v, 'tool_pre_invoke');
      expect(r).toBeInstanceOf(CpexError);
      expect((r as CpexError).code).toBe('CPEX_ERR_INVALID_PAYLOAD');
    }
  });
});

/**
 * Property tests: no sequence of plugin edits — from any phase, with any capability set — can
 * remove a label, alter an immutable slot, widen a delegation scope or write a guarded slot
 * without the capability. Checked against the merge function directly and through a real
 * PluginManager (where edits from audit/concurrent/fire_and_forget are discarded by the executor).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PluginManager } from '../manager.js';
import type { Phase } from '../types.js';
import {
  CAPABILITY_NAMES,
  type CapabilityName,
  compileCapabilities,
  extensionsView,
  mergeExtensions,
} from './gate.js';
import { dataEqual } from './equality.js';
import { MonotonicSet } from './monotonic-set.js';
import type { DelegationHop, Extensions } from './types.js';

const LABELS = ['PII', 'pii', 'secret', 'Secret', 'internal', 'hr', 'finance'];
const SCOPES = ['read', 'write', 'admin', 'book'];

const hopArb = (scopes: fc.Arbitrary<string[]>) =>
  fc.record({ subject_id: fc.constantFrom('alice', 'agent-1', 'agent-2', 'svc'), scopes_granted: scopes });

/** A canonical extensions object whose delegation chain is itself well-formed (narrowing). */
const extensionsArb: fc.Arbitrary<Extensions> = fc
  .record({
    labels: fc.uniqueArray(fc.constantFrom(...LABELS), {
      maxLength: 4,
      comparator: (a, b) => a.toLowerCase() === b.toLowerCase(),
    }),
    hops: fc.array(hopArb(fc.subarray(SCOPES)), { maxLength: 3 }),
    headers: fc.dictionary(fc.constantFrom('x-a', 'x-b', 'cookie'), fc.string({ maxLength: 4 }), {
      maxKeys: 3,
    }),
    withConstraint: fc.boolean(),
  })
  .map(({ labels, hops, headers, withConstraint }) => {
    const chain: DelegationHop[] = [];
    for (const h of hops) {
      const prev = chain[chain.length - 1];
      chain.push(
        prev ? { ...h, scopes_granted: h.scopes_granted.filter((s) => prev.scopes_granted?.includes(s)) } : h,
      );
    }
    return {
      request: { request_id: 'r-1', environment: 'prod' },
      agent: { agent_id: 'a-1', turn: 1 },
      meta: { entity_type: 'tool', entity_name: 'search', tags: ['x'] },
      llm: { model_id: 'm', capabilities: ['tool_use'] },
      http: { request_headers: headers, method: 'GET', path: '/' },
      security: {
        labels: MonotonicSet.from(labels),
        classification: 'internal',
        subject: { id: 'alice', subject_type: 'user', roles: ['dev'] },
      },
      delegation: { chain, depth: chain.length, delegated: chain.length > 0 },
      ...(withConstraint ? { candidate_constraint: { allow_models: ['m1'] } } : {}),
      custom: { n: 0 },
    } satisfies Extensions;
  });

type Edit =
  | { kind: 'addLabels'; labels: string[] }
  | { kind: 'replaceLabels'; labels: string[] }
  | { kind: 'appendHop'; hop: DelegationHop }
  | { kind: 'truncateChain'; keep: number }
  | { kind: 'rewriteHop'; index: number; scopes: string[] }
  | { kind: 'setHeader'; name: string; value: string }
  | { kind: 'dropHeaders' }
  | { kind: 'changeMethod' }
  | { kind: 'changeImmutable'; slot: 'request' | 'agent' | 'meta' | 'llm' }
  | { kind: 'changeSubject' }
  | { kind: 'fabricate'; slot: 'agent' | 'http' | 'delegation' | 'raw_credentials' | 'provenance' }
  | { kind: 'constraint' }
  | { kind: 'custom'; n: number }
  | { kind: 'nullSlots' };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constant('addLabels' as const),
    labels: fc.array(fc.constantFrom(...LABELS), { maxLength: 2 }),
  }),
  fc.record({
    kind: fc.constant('replaceLabels' as const),
    labels: fc.array(fc.constantFrom(...LABELS), { maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('appendHop' as const), hop: hopArb(fc.subarray(SCOPES)) }),
  fc.record({ kind: fc.constant('truncateChain' as const), keep: fc.nat(2) }),
  fc.record({ kind: fc.constant('rewriteHop' as const), index: fc.nat(2), scopes: fc.subarray(SCOPES) }),
  fc.record({
    kind: fc.constant('setHeader' as const),
    name: fc.constantFrom('x-a', 'x-new'),
    value: fc.string({ maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('dropHeaders' as const) }),
  fc.record({ kind: fc.constant('changeMethod' as const) }),
  fc.record({
    kind: fc.constant('changeImmutable' as const),
    slot: fc.constantFrom('request', 'agent', 'meta', 'llm') as fc.Arbitrary<
      'request' | 'agent' | 'meta' | 'llm'
    >,
  }),
  fc.record({ kind: fc.constant('changeSubject' as const) }),
  fc.record({
    kind: fc.constant('fabricate' as const),
    slot: fc.constantFrom('agent', 'http', 'delegation', 'raw_credentials', 'provenance') as fc.Arbitrary<
      'agent' | 'http' | 'delegation' | 'raw_credentials' | 'provenance'
    >,
  }),
  fc.record({ kind: fc.constant('constraint' as const) }),
  fc.record({ kind: fc.constant('custom' as const), n: fc.integer() }),
  fc.record({ kind: fc.constant('nullSlots' as const) }),
);

/** Apply an edit the way a (possibly hostile) plugin would: build a new object from its view. */
function applyEdit(view: Extensions, e: Edit): Extensions {
  // biome-ignore lint/suspicious/noExplicitAny: test data poked at on purpose
  const v = view as Record<string, any>;
  switch (e.kind) {
    case 'addLabels':
      return {
        ...view,
        security: { ...view.security, labels: MonotonicSet.from(view.security?.labels).add(...e.labels) },
      };
    case 'replaceLabels':
      return { ...view, security: { ...view.security, labels: MonotonicSet.from(e.labels) } };
    case 'appendHop':
      return {
        ...view,
        delegation: { ...view.delegation, chain: [...(view.delegation?.chain ?? []), e.hop] },
      };
    case 'truncateChain':
      return {
        ...view,
        delegation: { ...view.delegation, chain: (view.delegation?.chain ?? []).slice(0, e.keep) },
      };
    case 'rewriteHop': {
      const chain = [...(view.delegation?.chain ?? [])];
      if (chain[e.index]) chain[e.index] = { ...chain[e.index]!, scopes_granted: e.scopes };
      return { ...view, delegation: { ...view.delegation, chain } };
    }
    case 'setHeader':
      return {
        ...view,
        http: { ...view.http, request_headers: { ...view.http?.request_headers, [e.name]: e.value } },
      };
    case 'dropHeaders':
      return { ...view, http: { ...view.http, request_headers: {} } };
    case 'changeMethod':
      return { ...view, http: { ...view.http, method: 'DELETE' } };
    case 'changeImmutable':
      return {
        ...view,
        [e.slot]: {
          ...(v[e.slot] ?? {}),
          changed: true,
          request_id: 'forged',
          agent_id: 'forged',
          model_id: 'forged',
        },
      };
    case 'changeSubject':
      return { ...view, security: { ...view.security, subject: { id: 'mallory', subject_type: 'user' } } };
    case 'fabricate':
      return { ...view, [e.slot]: { forged: true } } as Extensions;
    case 'constraint':
      return { ...view, candidate_constraint: { allow_models: ['forged'] } };
    case 'custom':
      return { ...view, custom: { n: e.n } };
    case 'nullSlots':
      return { custom: view.custom ?? null, security: null, delegation: null, http: null, agent: null };
  }
}

const capsArb = fc.subarray([...CAPABILITY_NAMES] as CapabilityName[]);
const plugin = fc.record({ caps: capsArb, edit: editArb });

function labelsOf(e: Extensions): MonotonicSet {
  return MonotonicSet.from(e.security?.labels);
}

/** The invariants between a canonical object before and after one accepted step by a plugin with `caps`. */
function checkStep(before: Extensions, after: Extensions, capsList: readonly string[]) {
  const has = compileCapabilities(capsList).has;
  // labels never shrink; they grow only with append_labels
  expect(labelsOf(after).isSupersetOf(labelsOf(before))).toBe(true);
  if (!has.has('append_labels')) expect(labelsOf(after).size).toBe(labelsOf(before).size);
  // immutable slots and security fields other than labels never change
  for (const slot of ['request', 'agent', 'meta', 'llm', 'provenance', 'raw_credentials'] as const) {
    expect(after[slot]).toBe(before[slot]);
  }
  for (const f of ['classification', 'subject'] as const)
    expect(after.security?.[f]).toBe(before.security?.[f]);
  expect(after.http?.method).toBe(before.http?.method);
  if (!has.has('write_headers')) expect(after.http).toBe(before.http);
  if (!has.has('write_candidate_constraint'))
    expect(after.candidate_constraint).toBe(before.candidate_constraint);
  // delegation: append-only, narrowing, only with append_delegation
  const b = before.delegation?.chain ?? [];
  const a = after.delegation?.chain ?? [];
  expect(a.length).toBeGreaterThanOrEqual(b.length);
  for (let i = 0; i < b.length; i++) expect(dataEqual(a[i], b[i])).toBe(true);
  if (!has.has('append_delegation')) expect(a.length).toBe(b.length);
  for (let i = Math.max(1, b.length); i < a.length; i++) {
    const allowed = new Set(a[i - 1]!.scopes_granted ?? []);
    for (const s of a[i]!.scopes_granted ?? []) expect(allowed.has(s)).toBe(true);
  }
}

describe('extension invariants (property tests)', () => {
  it('hold across any chain of merges by plugins with any capabilities', () => {
    fc.assert(
      fc.property(extensionsArb, fc.array(plugin, { minLength: 1, maxLength: 6 }), (initial, plugins) => {
        let canonical = initial;
        for (const p of plugins) {
          const caps = compileCapabilities(p.caps);
          const view = extensionsView(canonical, caps)!;
          const out = mergeExtensions(canonical, view, applyEdit(view, p.edit), caps);
          if (!out.ok) {
            expect(out.message).toMatch(/^extension edit rejected at /);
            continue;
          }
          checkStep(canonical, out.value, p.caps);
          canonical = out.value;
        }
        // end to end: the same invariants between the first and the last canonical object,
        // judged with the union of every capability that was used
        checkStep(
          initial,
          canonical,
          plugins.flatMap((p) => p.caps),
        );
      }),
      { numRuns: 400 },
    );
  });

  it('allows every well-formed edit a capable plugin makes (the gate is not simply closed)', () => {
    fc.assert(
      fc.property(
        extensionsArb,
        fc.array(fc.constantFrom(...LABELS), { minLength: 1, maxLength: 3 }),
        (initial, labels) => {
          const caps = compileCapabilities(['append_labels', 'append_delegation', 'write_headers']);
          const view = extensionsView(initial, caps)!;
          const last = view.delegation?.chain?.at(-1);
          const hop = {
            subject_id: 'sub',
            scopes_granted: [...(last?.scopes_granted ?? ['read'])].slice(0, 1),
          };
          const edited = applyEdit(
            applyEdit(applyEdit(view, { kind: 'addLabels', labels }), { kind: 'appendHop', hop }),
            {
              kind: 'setHeader',
              name: 'x-new',
              value: 'v',
            },
          );
          const out = mergeExtensions(initial, view, edited, caps);
          expect(out.ok).toBe(true);
          if (!out.ok) return;
          for (const l of labels) expect(labelsOf(out.value).has(l)).toBe(true);
          expect(out.value.delegation?.chain?.length).toBe((initial.delegation?.chain?.length ?? 0) + 1);
          expect(out.value.http?.request_headers?.['x-new']).toBe('v');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('hold through a real PluginManager with plugins in every phase', async () => {
    const phases: Phase[] = ['sequential', 'transform', 'audit', 'concurrent', 'fire_and_forget'];
    await fc.assert(
      fc.asyncProperty(
        extensionsArb,
        fc.array(
          fc.record({
            caps: capsArb,
            edit: editArb,
            mode: fc.constantFrom(...phases),
            onError: fc.constantFrom('ignore', 'fail'),
          }),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        async (initial, plugins) => {
          const manager = new PluginManager({ logger: { debug() {}, info() {}, warn() {}, error() {} } });
          plugins.forEach((p, i) => {
            manager.registerHook(
              'cmf.llm_input',
              (_payload, _ctx, ext) => ({ modifiedExtensions: applyEdit(ext ?? {}, p.edit) }),
              {
                name: `p${i}`,
                mode: p.mode,
                capabilities: p.caps,
                onError: p.onError as 'ignore' | 'fail',
              },
            );
          });
          await manager.initialize();
          const before = JSON.stringify(initial);
          const result = await manager.invoke(
            'cmf.llm_input',
            { message: { role: 'user', content: [] } } as never,
            { extensions: initial },
          );
          await result.background.wait();
          await manager.shutdown();
          // the caller's extensions object is never changed
          expect(JSON.stringify(initial)).toBe(before);
          // every rejection is recorded (error or halting violation), never silently dropped
          const flagged = new Set(
            result.errors.filter((e) => e.code === 'extension_violation').map((e) => e.pluginName),
          );
          if (result.violation?.code === 'extension_violation')
            flagged.add(result.violation.pluginName ?? '?');
          const expected = new Set<string>();
          let canonical = initial;
          // the executor runs sequential plugins first, then transform ones (config order within a phase)
          const serial = [...plugins.entries()].filter(([, p]) => p.mode === 'sequential');
          serial.push(...[...plugins.entries()].filter(([, p]) => p.mode === 'transform'));
          for (const [i, p] of serial) {
            const caps = compileCapabilities(p.caps);
            const view = extensionsView(canonical, caps)!;
            const out = mergeExtensions(canonical, view, applyEdit(view, p.edit), caps);
            if (out.ok) canonical = out.value;
            else {
              expected.add(`p${i}`);
              if (p.onError === 'fail') break; // on_error fail halts in sequential and transform
            }
          }
          expect([...flagged].sort()).toEqual([...expected].sort());
          const final = result.modifiedExtensions ?? initial;
          checkStep(
            initial,
            final,
            plugins.flatMap((p) => (p.mode === 'sequential' || p.mode === 'transform' ? p.caps : [])),
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});

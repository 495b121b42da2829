import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CpexError } from '../errors/cpex-error.js';
import {
  appendDelegationHop,
  getHeader,
  labelsOf,
  setHeaders,
  withCandidateConstraint,
  withCustom,
  withLabels,
} from './builders.js';
import { CAPABILITY_NAMES, compileCapabilities, extensionsView, mergeExtensions } from './gate.js';
import { MonotonicSet } from './monotonic-set.js';
import { parseExtensions } from './schemas.js';
import type { Extensions } from './types.js';

const fixture = (): Extensions =>
  parseExtensions(
    JSON.parse(readFileSync(new URL('./fixtures/rust-extensions.json', import.meta.url), 'utf8')),
  );

const caps = (...names: string[]) => compileCapabilities(names);

function merged(ext: Extensions, names: string[], edit: (view: Extensions) => Extensions) {
  const c = caps(...names);
  const view = extensionsView(ext, c)!;
  return mergeExtensions(ext, view, edit(view), c);
}

function rejected(outcome: ReturnType<typeof mergeExtensions>): string {
  expect(outcome.ok).toBe(false);
  return outcome.ok ? '' : outcome.message;
}

describe('compileCapabilities', () => {
  it('knows exactly the 17 Rust core names', () => {
    expect(CAPABILITY_NAMES).toHaveLength(17);
    for (const n of CAPABILITY_NAMES) expect(compileCapabilities([n]).has.has(n)).toBe(true);
  });
  it('expands the Python implications', () => {
    expect([...caps('write_headers').has]).toContain('read_headers');
    expect([...caps('append_labels').has]).toContain('read_labels');
    expect([...caps('append_delegation').has]).toContain('read_delegation');
    for (const n of ['read_roles', 'read_teams', 'read_claims', 'read_permissions']) {
      expect([...caps(n).has]).toContain('read_subject');
    }
    expect([...caps('read_subject').has]).toEqual(['read_subject']);
  });
  it('rejects unknown names with a coded error naming them, and is case-insensitive', () => {
    expect(caps(' Read_Labels ').has.has('read_labels')).toBe(true);
    try {
      compileCapabilities(['read_labels', 'read_everything']);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CpexError);
      expect((e as CpexError).code).toBe('CPEX_ERR_UNKNOWN_CAPABILITY');
      expect((e as CpexError).message).toContain('read_everything');
      expect((e as CpexError).message).toContain('capabilities[1]');
    }
  });
  it('gives equal sets the same key regardless of order', () => {
    expect(caps('read_labels', 'read_agent').key).toBe(caps('read_agent', 'read_labels').key);
  });
});

describe('extensionsView', () => {
  it('returns the identical object on a second call (cached per extensions object and capability set)', () => {
    const ext = fixture();
    const c = caps('read_labels');
    const first = extensionsView(ext, c);
    expect(extensionsView(ext, c)).toBe(first);
    expect(extensionsView(ext, caps('read_labels'))).toBe(first);
    expect(extensionsView(ext, caps('read_agent'))).not.toBe(first);
  });
  it('is the canonical object itself when nothing is hidden', () => {
    const ext = fixture();
    const all = compileCapabilities([...CAPABILITY_NAMES]);
    expect(extensionsView(ext, all)).toBe(ext);
  });
  it('shares unhidden slots with the canonical object (no copies)', () => {
    const ext = fixture();
    const view = extensionsView(ext, caps())!;
    expect(view.request).toBe(ext.request);
    expect(view.mcp).toBe(ext.mcp);
    expect(view.custom).toBe(ext.custom);
  });
  it('is read-only: in-place writes throw and never reach the canonical object', () => {
    const ext = fixture();
    // biome-ignore lint/suspicious/noExplicitAny: test data poked at on purpose
    const view = extensionsView(ext, caps('read_headers', 'read_labels')) as any;
    expect(() => {
      view.custom.x = 2;
    }).toThrow(TypeError);
    expect(() => {
      view.http.request_headers['x-new'] = '1';
    }).toThrow(TypeError);
    expect(() => {
      view.request = {};
    }).toThrow(TypeError);
    expect(ext.custom?.x).toBe(1);
    expect(ext.http?.request_headers?.['x-new']).toBeUndefined();
  });
  it('passes undefined through', () => {
    expect(extensionsView(undefined, caps())).toBeUndefined();
  });
});

/** What a plugin with only `cap` sees (slots/fields), and what it can change. */
describe('one test per capability', () => {
  const base = fixture();
  const none = extensionsView(base, caps())!;

  it('without any capability: open slots only; labels, subject, client, workloads, agent, http, delegation, raw credentials hidden', () => {
    expect(Object.keys(none).sort()).toEqual(
      [
        'candidate_constraint',
        'completion',
        'custom',
        'framework',
        'llm',
        'mcp',
        'meta',
        'provenance',
        'request',
        'security',
      ].sort(),
    );
    expect(Object.keys(none.security!).sort()).toEqual(['auth_method', 'classification', 'data', 'objects']);
    // and it can still change custom, but nothing gated
    expect(merged(base, [], (v) => withCustom(v, { y: 2 })).ok).toBe(true);
    rejected(merged(base, [], (v) => withLabels(v, 'PII')));
  });

  it('read_subject: subject id and type, no roles/teams/claims/permissions; cannot change it', () => {
    const v = extensionsView(base, caps('read_subject'))!;
    expect(v.security?.subject).toEqual({ id: 'alice', subject_type: 'user' });
    expect(none.security?.subject).toBeUndefined();
    const msg = rejected(
      merged(base, ['read_subject'], (view) => ({
        ...view,
        security: { ...view.security, subject: { id: 'mallory', subject_type: 'user' } },
      })),
    );
    expect(msg).toContain('security.subject');
    // echoing the filtered subject back is "unchanged", and the hidden sub-fields survive
    const out = merged(base, ['read_subject'], (view) => ({ ...view, security: { ...view.security } }));
    expect(out.ok && out.value.security?.subject?.roles).toEqual(['developer']);
  });

  for (const [cap, field, value] of [
    ['read_roles', 'roles', ['developer']],
    ['read_teams', 'teams', ['platform']],
    ['read_claims', 'claims', { tenant: 'acme', email: 'alice@example.com' }],
    ['read_permissions', 'permissions', ['tools.execute']],
  ] as const) {
    it(`${cap}: subject with ${field} only (implies read_subject); cannot change ${field}`, () => {
      const v = extensionsView(base, caps(cap))!;
      const subject = v.security?.subject as Record<string, unknown>;
      expect(subject[field]).toEqual(value);
      for (const other of ['roles', 'teams', 'claims', 'permissions'].filter((f) => f !== field)) {
        expect(subject[other]).toBeUndefined();
      }
      const msg = rejected(
        merged(base, [cap], (view) => ({
          ...view,
          security: {
            ...view.security,
            subject: { ...view.security?.subject, [field]: Array.isArray(value) ? [] : {} },
          },
        })),
      );
      expect(msg).toContain('immutable');
    });
  }

  it('read_client: client visible, immutable; hidden without', () => {
    expect(extensionsView(base, caps('read_client'))!.security?.client?.client_id).toBe('cli-1');
    expect(none.security?.client).toBeUndefined();
    rejected(
      merged(base, ['read_client'], (v) => ({
        ...v,
        security: { ...v.security, client: { ...v.security!.client!, trust_level: 'internal' } },
      })),
    );
    const msg = rejected(
      merged(base, [], (v) => ({ ...v, security: { ...v.security, client: { client_id: 'x' } } })),
    );
    expect(msg).toContain('read_client');
  });

  it('read_workload: both workloads visible, immutable', () => {
    const v = extensionsView(base, caps('read_workload'))!;
    expect(v.security?.caller_workload?.spiffe_id).toContain('travel');
    expect(v.security?.this_workload?.spiffe_id).toContain('gateway');
    expect(none.security?.caller_workload).toBeUndefined();
    rejected(
      merged(base, ['read_workload'], (view) => ({
        ...view,
        security: { ...view.security, this_workload: { spiffe_id: 'spiffe://evil' } },
      })),
    );
  });

  it('read_agent: agent visible, immutable; a plugin without it cannot fabricate one', () => {
    expect(extensionsView(base, caps('read_agent'))!.agent?.agent_id).toBe('travel-agent');
    expect(none.agent).toBeUndefined();
    rejected(merged(base, ['read_agent'], (v) => ({ ...v, agent: { ...v.agent, turn: 99 } })));
    expect(rejected(merged(base, [], (v) => ({ ...v, agent: { agent_id: 'x' } })))).toContain('hidden');
  });

  it('read_headers: http visible; headers cannot change without write_headers', () => {
    const v = extensionsView(base, caps('read_headers'))!;
    expect(getHeader(v, 'X-Tenant')).toBe('acme');
    expect(none.http).toBeUndefined();
    expect(rejected(merged(base, ['read_headers'], (view) => setHeaders(view, { 'x-a': '1' })))).toContain(
      'write_headers',
    );
  });

  it('write_headers: request and response headers change, the request line never does', () => {
    const out = merged(base, ['write_headers'], (v) =>
      setHeaders(setHeaders(v, { 'x-a': '1', 'X-TENANT': null }), { 'x-b': '2' }, { response: true }),
    );
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.value.http?.request_headers).toEqual({ 'content-type': 'application/json', 'x-a': '1' });
    expect(out.value.http?.response_headers).toEqual({ 'x-served-by': 'gw-1', 'x-b': '2' });
    expect(out.value.http?.method).toBe('POST');
    expect(base.http?.request_headers?.['x-tenant']).toBe('acme'); // canonical input untouched
    expect(
      rejected(merged(base, ['write_headers'], (v) => ({ ...v, http: { ...v.http, path: '/admin' } }))),
    ).toContain('request line');
  });

  it('read_labels: labels visible as a MonotonicSet; cannot add without append_labels', () => {
    const v = extensionsView(base, caps('read_labels'))!;
    expect(v.security?.labels).toBeInstanceOf(MonotonicSet);
    expect(v.security?.labels?.has('confidential')).toBe(true);
    expect(none.security?.labels).toBeUndefined();
    expect(rejected(merged(base, ['read_labels'], (view) => withLabels(view, 'PII')))).toContain(
      'append_labels',
    );
  });

  it('append_labels: labels grow (case-insensitive), never shrink', () => {
    const out = merged(base, ['append_labels'], (v) => withLabels(v, 'PII', 'Confidential'));
    expect(out.ok && [...labelsOf(out.value)]).toEqual(['CONFIDENTIAL', 'internal', 'PII']);
    const msg = rejected(
      merged(base, ['append_labels'], (v) => ({
        ...v,
        security: { ...v.security, labels: MonotonicSet.of('internal', 'PII') },
      })),
    );
    expect(msg).toContain('"CONFIDENTIAL"');
  });

  it('read_delegation: chain visible; appending needs append_delegation', () => {
    expect(extensionsView(base, caps('read_delegation'))!.delegation?.depth).toBe(2);
    expect(none.delegation).toBeUndefined();
    const hop = { subject_id: 'sub-agent', scopes_granted: ['flights.read'] };
    expect(rejected(merged(base, ['read_delegation'], (v) => appendDelegationHop(v, hop)))).toContain(
      'append_delegation',
    );
  });

  it('append_delegation: a narrowing hop is appended, a widening hop or a rewrite is rejected', () => {
    const out = merged(base, ['append_delegation'], (v) =>
      appendDelegationHop(v, {
        subject_id: 'sub-agent',
        subject_type: 'agent',
        scopes_granted: ['flights.read'],
      }),
    );
    expect(out.ok).toBe(true);
    if (out.ok) {
      expect(out.value.delegation?.depth).toBe(3);
      expect(out.value.delegation?.actor_subject_id).toBe('sub-agent');
      expect(out.value.delegation?.origin_subject_id).toBe('alice');
    }
    // a widening hop: the helper refuses it, and so does the merge for a hand-built chain
    const view = extensionsView(base, caps('append_delegation'))!;
    expect(() => appendDelegationHop(view, { subject_id: 'x', scopes_granted: ['flights.book'] })).toThrow(
      CpexError,
    );
    const widened = {
      ...view,
      delegation: {
        ...view.delegation,
        chain: [...view.delegation!.chain!, { subject_id: 'x', scopes_granted: ['admin'] }],
      },
    };
    expect(rejected(mergeExtensions(base, view, widened, caps('append_delegation')))).toContain('narrow');
    const rewritten = {
      ...view,
      delegation: {
        ...view.delegation,
        chain: [{ subject_id: 'mallory', scopes_granted: [] }, view.delegation!.chain![1]!],
      },
    };
    expect(
      rejected(mergeExtensions(base, view, rewritten as Extensions, caps('append_delegation'))),
    ).toContain('rewritten');
    // derived bookkeeping cannot be forged, with or without a new hop
    const forged = { ...view, delegation: { ...view.delegation, origin_subject_id: 'mallory' } };
    expect(rejected(mergeExtensions(base, view, forged, caps('append_delegation')))).toContain(
      'delegation.origin_subject_id',
    );
    const deeper = { ...view, delegation: { ...view.delegation, depth: 7 } };
    expect(rejected(mergeExtensions(base, view, deeper, caps('append_delegation')))).toContain('derived');
    const shortened = { ...view, delegation: { ...view.delegation, chain: [] } };
    expect(rejected(mergeExtensions(base, view, shortened, caps('append_delegation')))).toContain(
      'append-only',
    );
  });

  it('read_inbound_credentials: the inbound tokens only; immutable; the other sub-map cannot be fabricated', () => {
    const inbound = extensionsView(base, caps('read_inbound_credentials'))!;
    expect(Object.keys(inbound.raw_credentials!)).toEqual(['inbound_tokens']);
    expect(none.raw_credentials).toBeUndefined();
    rejected(
      merged(base, ['read_inbound_credentials'], (v) => ({
        ...v,
        raw_credentials: { inbound_tokens: { user: { source_header: 'X-Other', kind: 'opaque' } } },
      })),
    );
    rejected(
      merged(base, ['read_inbound_credentials'], (v) => ({
        ...v,
        raw_credentials: { ...v.raw_credentials, delegated_tokens: {} },
      })),
    );
    // returning it unchanged is fine and keeps the hidden sub-map
    const out = merged(base, ['read_inbound_credentials'], (v) => ({
      ...v,
      raw_credentials: { ...v.raw_credentials },
    }));
    expect(out.ok && Object.keys(out.value.raw_credentials!).sort()).toEqual([
      'delegated_tokens',
      'inbound_tokens',
    ]);
  });

  it('read_delegated_tokens: the delegated tokens only; immutable', () => {
    const delegated = extensionsView(base, caps('read_delegated_tokens'))!;
    expect(Object.keys(delegated.raw_credentials!)).toEqual(['delegated_tokens']);
    expect(
      rejected(
        merged(base, ['read_delegated_tokens'], (v) => ({ ...v, raw_credentials: { delegated_tokens: {} } })),
      ),
    ).toContain('immutable');
    rejected(
      merged(base, ['read_delegated_tokens'], (v) => ({
        ...v,
        raw_credentials: { ...v.raw_credentials, inbound_tokens: {} },
      })),
    );
    const both = extensionsView(base, caps('read_delegated_tokens', 'read_inbound_credentials'))!;
    expect(both.raw_credentials).toBe(base.raw_credentials);
  });

  it('write_candidate_constraint: everyone sees the constraint, only this capability changes it', () => {
    expect(none.candidate_constraint?.on_empty).toBe('deny');
    const edit = (v: Extensions) =>
      withCandidateConstraint(v, { ...v.candidate_constraint, allow_regions: ['eu-central-1'] });
    expect(rejected(merged(base, [], edit))).toContain('write_candidate_constraint');
    const out = merged(base, ['write_candidate_constraint'], edit);
    expect(out.ok && out.value.candidate_constraint?.allow_regions).toEqual(['eu-central-1']);
  });
});

describe('mergeExtensions', () => {
  it('returns the canonical object when nothing changed (no copy)', () => {
    const base = fixture();
    const c = caps('read_labels', 'read_headers');
    const view = extensionsView(base, c)!;
    const out = mergeExtensions(base, view, { ...view }, c);
    expect(out.ok && out.value).toBe(base);
  });
  it('treats hidden slots returned absent as unchanged, never deleted', () => {
    const base = fixture();
    const out = merged(base, [], () => ({ custom: { only: true } }));
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.value.agent).toBe(base.agent);
    expect(out.value.http).toBe(base.http);
    expect(out.value.security).toBe(base.security);
    expect(out.value.custom).toEqual({ only: true });
  });
  it('shares untouched slots with the previous canonical object (copy-on-write)', () => {
    const base = fixture();
    const out = merged(base, ['append_labels'], (v) => withLabels(v, 'PII'));
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.value.request).toBe(base.request);
    expect(out.value.delegation).toBe(base.delegation);
    expect(out.value.security?.subject).toBe(base.security?.subject);
    expect(out.value).not.toBe(base);
  });
  it('rejects changes to every immutable slot, naming the slot', () => {
    const base = fixture();
    for (const slot of ['request', 'mcp', 'completion', 'provenance', 'llm', 'framework', 'meta'] as const) {
      const msg = rejected(
        merged(base, [], (v) => ({
          ...v,
          [slot]: {
            ...(v[slot] as object),
            extra_field: 1,
            model_id: 'other',
            entity_name: 'x',
            source: 'x',
          },
        })),
      );
      expect(msg).toContain(slot);
    }
  });
  it('rejects unknown slots, non-object results and malformed edits with a clear message', () => {
    const base = fixture();
    expect(rejected(merged(base, [], (v) => ({ ...v, secrets: {} }) as Extensions))).toContain(
      'unknown extension slot',
    );
    expect(rejected(mergeExtensions(base, undefined, 'nope' as unknown as Extensions, caps()))).toContain(
      'plain object',
    );
    expect(
      rejected(
        merged(
          base,
          ['write_headers'],
          (v) => ({ ...v, http: { request_headers: { a: 1 } } }) as unknown as Extensions,
        ),
      ),
    ).toContain('http.request_headers');
    expect(rejected(merged(base, [], (v) => ({ ...v, custom: [1, 2] }) as unknown as Extensions))).toContain(
      'custom',
    );
    const bad = merged(
      base,
      ['append_labels'],
      (v) => ({ ...v, security: { ...v.security, labels: [1] } }) as unknown as Extensions,
    );
    expect(bad.ok === false && bad.details?.code).toBe('CPEX_ERR_EXTENSION_VIOLATION');
  });
  it('a returned object that throws while being read is a refusal, not a crash', () => {
    const base = fixture();
    const hostile = Object.defineProperty({}, 'custom', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(rejected(mergeExtensions(base, undefined, hostile, caps()))).toContain('boom');
  });
  it('custom values that are not JSON data (a Date) are refused with their path, as at ingress (no lossy copy either way)', () => {
    const out = merged(fixture(), [], (v) => withCustom(v, { when: new Date(0) }));
    expect(rejected(out)).toContain('custom.when');
  });
  it('works when the caller passed no extensions', () => {
    const out = mergeExtensions(undefined, undefined, withLabels(undefined, 'PII'), caps('append_labels'));
    expect(out.ok && out.value.security?.labels?.has('pii')).toBe(true);
    rejected(mergeExtensions(undefined, undefined, { request: { request_id: 'forged' } }, caps()));
  });
  it('accepts labels given as a JSON array on the canonical side', () => {
    const raw = { security: { labels: ['a'] } } as unknown as Extensions;
    const v = extensionsView(raw, caps('append_labels'))!;
    expect(v.security?.labels?.has('A')).toBe(true);
    const out = mergeExtensions(raw, v, withLabels(v, 'b'), caps('append_labels'));
    expect(out.ok && [...labelsOf(out.value)]).toEqual(['a', 'b']);
  });
});

/**
 * Which session a request belongs to — derived exactly as Rust cpex's resolver (aed0f15,
 * `apl-cpex/src/session_resolver.rs`) does, so TypeScript and Rust gateways in one fleet address
 * the same keys. First hit wins:
 *
 * 1. `agent`: `extensions.agent.session_id`, bound to the subject: `h(subject.id + ":" + value)`;
 * 2. `token_claim`: `security.subject.claims.session_id`, bound the same way;
 * 3. `identity`: `h(subject.id + ":" + caller_workload.client_id + ":" + this_workload.client_id)`,
 *    a missing workload reading as `-`;
 * 4. none (no subject id): the request has no session, and the store is not consulted.
 *
 * Empty strings behave as in Rust: an empty agent/claim value falls through to the next tier, an
 * empty subject id or workload client_id is used as given (only an absent one reads as `-`).
 *
 * `h(s)` is the first 16 hex digits (8 bytes) of SHA-256 of the UTF-8 text. A client-chosen value
 * never becomes a key on its own: without an authenticated subject it has no safe scope. Request
 * headers are never read (a header tier would let a client pick another subject's bucket). As in
 * Rust, the `:` separator is not escaped: subject `a:b` + value `c` and subject `a` + value `b:c`
 * share a session.
 */
import { createHash } from 'node:crypto';
import type { Extensions } from '../extensions/types.js';
import { boundedMemo } from './memo.js';

export type SessionSource = 'agent' | 'token_claim' | 'identity';

export interface ResolvedSession {
  /** 16 lowercase hex digits. */
  id: string;
  source: SessionSource;
}

/** Remembered per input: the same sessions come back on every request (a Map hit, not a SHA-256). */
const shortHash = boundedMemo((raw) => createHash('sha256').update(raw, 'utf8').digest('hex').slice(0, 16));

function nonEmpty(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/**
 * Sessions resolved for extensions objects whose every field the resolver reads is frozen (so the
 * answer cannot change): a caller that reuses its extensions object — and the session path freezes
 * the objects it hydrates — resolves with one WeakMap lookup instead of a string join and a Map hit.
 */
const frozenSessions = new WeakMap<object, ResolvedSession>();

const frozenOrAbsent = (v: unknown): boolean => v == null || Object.isFrozen(v);

/**
 * Remember `session` as what `ext` resolves to, when nothing the resolver reads can change: `ext`,
 * `agent`, `security`, `security.subject`, its `claims` and both workloads are frozen or absent.
 */
export function rememberSession(ext: Extensions, session: ResolvedSession): void {
  const sec = ext.security;
  const subject = sec?.subject;
  if (
    Object.isFrozen(ext) &&
    frozenOrAbsent(ext.agent) &&
    frozenOrAbsent(sec) &&
    frozenOrAbsent(subject) &&
    frozenOrAbsent(subject?.claims) &&
    frozenOrAbsent(sec?.caller_workload) &&
    frozenOrAbsent(sec?.this_workload)
  ) {
    frozenSessions.set(ext, { id: session.id, source: session.source });
  }
}

/** The request's session, or undefined when it has none (no authenticated subject id). */
export function resolveSession(ext: Extensions | null | undefined): ResolvedSession | undefined {
  if (ext != null && typeof ext === 'object') {
    const known = frozenSessions.get(ext);
    if (known !== undefined) return { id: known.id, source: known.source }; // the caller's own copy
  }
  const sec = ext?.security;
  const subject = sec?.subject?.id;
  // Every tier needs the subject (Rust: the agent and claim tiers fall through without one, and
  // the identity tier needs it too), so a request without one has no session.
  if (typeof subject !== 'string') return undefined;
  const agentSid = ext?.agent?.session_id;
  if (nonEmpty(agentSid)) return { id: shortHash(`${subject}:${agentSid}`), source: 'agent' };
  const claim = sec?.subject?.claims?.session_id;
  if (nonEmpty(claim)) return { id: shortHash(`${subject}:${claim}`), source: 'token_claim' };
  const caller = sec?.caller_workload?.client_id;
  const self = sec?.this_workload?.client_id;
  return {
    id: shortHash(
      `${subject}:${typeof caller === 'string' ? caller : '-'}:${typeof self === 'string' ? self : '-'}`,
    ),
    source: 'identity',
  };
}

/**
 * Legacy conditions (ARCHITECTURE section 3, Python cpex 0.1.x semantics): OR across conditions,
 * AND inside one; empty fields ignored; evaluated once per invocation against the ORIGINAL payload
 * and the caller's GlobalContext, before any plugin runs.
 */
import type { GlobalContext, PluginCondition } from '../types.js';
import { normalizeContentType } from '../config/load.js';

type PayloadField = {
  set: 'tools' | 'prompts' | 'resources' | 'agents';
  field: string;
  /** The value is a secret in Python (SecretStr), never equal to a name in the set. */
  secret?: true;
};

/** Which payload attribute a payload-field condition tests, per hook (Python utils.py). */
const PAYLOAD_FIELDS: Record<string, PayloadField> = {
  tool_pre_invoke: { set: 'tools', field: 'name' },
  tool_post_invoke: { set: 'tools', field: 'name' },
  prompt_pre_fetch: { set: 'prompts', field: 'prompt_id' },
  prompt_post_fetch: { set: 'prompts', field: 'prompt_id' },
  resource_pre_fetch: { set: 'resources', field: 'uri' },
  resource_post_fetch: { set: 'resources', field: 'uri' },
  agent_pre_invoke: { set: 'agents', field: 'agent_id' },
  agent_post_invoke: { set: 'agents', field: 'agent_id' },
  token_delegate: { set: 'tools', field: 'target_name' },
  // identity_resolve tests raw_token in Python: a SecretStr, never a member of the set, but falsy
  // when empty, so (the quirk below) an empty or missing token passes and any other never matches.
  identity_resolve: { set: 'tools', field: 'raw_token', secret: true },
};

export function matchesConditions(
  conditions: readonly PluginCondition[],
  hook: string,
  payload: unknown,
  gc: GlobalContext,
): boolean {
  if (conditions.length === 0) return true;
  for (const c of conditions) if (matchesOne(c, hook, payload, gc)) return true;
  return false;
}

function matchesOne(c: PluginCondition, hook: string, payload: unknown, gc: GlobalContext): boolean {
  if (c.serverIds && (gc.serverId === undefined || !c.serverIds.includes(gc.serverId))) return false;
  if (c.tenantIds && (gc.tenantId === undefined || !c.tenantIds.includes(gc.tenantId))) return false;
  if (c.contentTypes) {
    const ct = gc.contentType;
    if (!ct?.trim() || !c.contentTypes.includes(normalizeContentType(ct))) return false;
  }
  if (c.userPatterns) {
    const user = gc.user;
    if (!user) return false;
    if (typeof user === 'string') {
      if (!c.userPatterns.some((p) => user.includes(p))) return false;
    } else if (!c.userPatterns.some((p) => Object.hasOwn(user, p))) return false;
  }
  const pf = PAYLOAD_FIELDS[hook];
  if (pf) {
    const set = c[pf.set];
    if (set) {
      const value =
        payload && typeof payload === 'object' ? (payload as Record<string, unknown>)[pf.field] : undefined;
      // Python quirk kept: a falsy payload value passes the condition.
      if (value && (pf.secret || !set.includes(String(value)))) return false;
    }
  }
  return true;
}

/**
 * cpex-ts payloads, extensions, context and results ↔ the cpex:plugin WIT values (as jco
 * represents them). The table in docs/hosts/wasm.md is the contract; in short:
 *
 * | cpex-ts hook | WIT payload | data |
 * |---|---|---|
 * | `tool_pre_invoke`, `tool_post_invoke` | `custom("cpex.tool_invoke")` | Rust's ToolInvokePayload JSON `{tool_name, user, arguments}` (`arguments` = JSON text of `args` / `result`) plus `payload`: the cpex-ts payload |
 * | `cmf.*`, `evaluate` | `cmf(message-payload)` | the CMF message, typed |
 * | `identity.resolve` | `identity(identity-payload)` | typed (no raw token) |
 * | `token.delegate` | `delegation(delegation-payload)` | typed (no token bytes) |
 * | every other hook (legacy, custom) | `custom("cpex.<hook>")` | the cpex-ts payload JSON |
 */
import {
  type Extensions,
  extensionsToJSON,
  type GlobalContext,
  type PluginContext,
  type PluginResult,
  refuseNonFinite,
  setOwn,
  stringifyExact,
} from '@cpex/core/host';
import {
  CHANNELS,
  CONTENT_PARTS,
  DELEGATION_PAYLOAD,
  EXTENSION_SLOTS,
  fromWit,
  guestJson,
  guestJsonExact,
  IDENTITY_PAYLOAD,
  jsonOut,
  MappingError,
  ROLES,
  toWit,
  VIOLATION,
} from './schema.js';

export { MappingError };

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/** payload-type of the tool hooks, as in PR #65's demo plugins. */
export const TOOL_INVOKE_TYPE = 'cpex.tool_invoke';
/** Reserved global-state keys through which a guest receives its entry's config and name. */
export const CONFIG_KEY = 'cpex:config';
export const NAME_KEY = 'cpex:plugin-name';

export type WitPayload =
  | { tag: 'cmf'; val: Rec }
  | { tag: 'identity'; val: Rec }
  | { tag: 'delegation'; val: Rec }
  | { tag: 'custom'; val: { payloadType: string; payloadData: Uint8Array } };

/** How a hook's payload crosses: decided once per (plugin, hook). */
export type PayloadRoute =
  | { kind: 'tool'; field: 'args' | 'result' }
  | { kind: 'cmf' }
  | { kind: 'identity' }
  | { kind: 'delegation' }
  | { kind: 'json'; payloadType: string };

export function routeFor(hook: string, family: string | undefined): PayloadRoute {
  if (hook === 'tool_pre_invoke') return { kind: 'tool', field: 'args' };
  if (hook === 'tool_post_invoke') return { kind: 'tool', field: 'result' };
  if (family === 'cmf' || hook.startsWith('cmf.') || hook === 'evaluate') return { kind: 'cmf' };
  if (hook === 'identity.resolve') return { kind: 'identity' };
  if (hook === 'token.delegate') return { kind: 'delegation' };
  return { kind: 'json', payloadType: `cpex.${hook}` };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function userOf(gc: GlobalContext | undefined): string {
  const u = gc?.user;
  if (typeof u === 'string') return u;
  if (isRec(u)) {
    for (const k of ['id', 'sub', 'email', 'name', 'user'])
      if (typeof u[k] === 'string') return u[k] as string;
    return JSON.stringify(u);
  }
  return '';
}

// ---- CMF -----------------------------------------------------------------------------------------

function messageToWit(m: unknown, where: string): Rec {
  if (!isRec(m)) throw new MappingError(`${where}: expected a CMF message`);
  const role = ROLES[String(m.role)];
  if (!role) throw new MappingError(`${where}.role: ${JSON.stringify(m.role)} is not a CMF role`);
  const content = Array.isArray(m.content) ? m.content : [];
  return {
    schemaVersion: typeof m.schema_version === 'string' ? m.schema_version : '2.0',
    role,
    content: content.map((p, i) => {
      const at = `${where}.content[${i}]`;
      if (!isRec(p)) throw new MappingError(`${at}: expected a content part`);
      const spec = CONTENT_PARTS[String(p.content_type)];
      if (!spec)
        throw new MappingError(`${at}.content_type: ${JSON.stringify(p.content_type)} is not a CMF part`);
      if (!spec.schema) return { tag: spec.tag, val: String(p.text ?? '') };
      return { tag: spec.tag, val: toWit(spec.schema, p.content, `${at}.content`) };
    }),
    channel: m.channel == null ? undefined : CHANNELS[String(m.channel)],
  };
}

function messageFromWit(m: unknown, where: string): Rec {
  if (!isRec(m)) throw new MappingError(`${where}: expected a message record`);
  const parts = Array.isArray(m.content) ? m.content : [];
  const out: Rec = {
    schema_version: m.schemaVersion,
    role: m.role,
    content: parts.map((p: unknown, i) => {
      const at = `${where}.content[${i}]`;
      if (!isRec(p)) throw new MappingError(`${at}: expected a content part`);
      const entry = Object.entries(CONTENT_PARTS).find(([, s]) => s.tag === p.tag);
      if (!entry) throw new MappingError(`${at}: unknown content part ${JSON.stringify(p.tag)}`);
      const [contentType, spec] = entry;
      if (!spec.schema) {
        if (typeof p.val !== 'string') throw new MappingError(`${at}: expected text`);
        return { content_type: contentType, text: p.val };
      }
      return { content_type: contentType, content: fromWit(spec.schema, p.val, `${at}.content`) };
    }),
  };
  if (m.channel !== undefined) out.channel = m.channel;
  return out;
}

// ---- payloads ------------------------------------------------------------------------------------

/** What was sent, for decoding the answer against it. */
export interface Sent {
  route: PayloadRoute;
  payload: unknown;
  /** The JSON object sent in a custom payload (tool route). */
  toolData?: Rec;
}

export function payloadToWit(
  route: PayloadRoute,
  payload: unknown,
  gc: GlobalContext | undefined,
): { wit: WitPayload; sent: Sent } {
  switch (route.kind) {
    case 'tool': {
      const p = isRec(payload) ? payload : {};
      const inner = p[route.field];
      const data: Rec = {
        tool_name: typeof p.name === 'string' ? p.name : '',
        user: userOf(gc),
        arguments: inner === undefined ? '' : JSON.stringify(inner),
        payload,
      };
      const text = JSON.stringify(data);
      refuseIn(text, payload, 'payload');
      return {
        wit: {
          tag: 'custom',
          val: { payloadType: TOOL_INVOKE_TYPE, payloadData: encoder.encode(text) },
        },
        sent: { route, payload, toolData: data },
      };
    }
    case 'cmf': {
      const p = isRec(payload) ? payload : {};
      return {
        wit: { tag: 'cmf', val: { message: messageToWit(p.message, 'payload.message') } },
        sent: { route, payload },
      };
    }
    case 'identity':
      return {
        wit: { tag: 'identity', val: toWit(IDENTITY_PAYLOAD, payload, 'payload') },
        sent: { route, payload },
      };
    case 'delegation':
      return {
        wit: { tag: 'delegation', val: toWit(DELEGATION_PAYLOAD, payload, 'payload') },
        sent: { route, payload },
      };
    case 'json':
      return {
        wit: {
          tag: 'custom',
          val: {
            payloadType: route.payloadType,
            payloadData: encoder.encode(jsonOut(payload, 'payload')),
          },
        },
        sent: { route, payload },
      };
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function parseData(bytes: unknown, where: string): unknown {
  if (!(bytes instanceof Uint8Array)) throw new MappingError(`${where}: expected bytes`);
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new MappingError(`${where}: not UTF-8`);
  }
  return guestJson(text, where);
}

/** The guest's modified payload back in the cpex-ts shape of the hook. */
export function payloadFromWit(w: unknown, sent: Sent): unknown {
  if (!isRec(w) || typeof w.tag !== 'string')
    throw new MappingError('modified-payload: not a hook-payload variant');
  const route = sent.route;
  const expected = route.kind === 'tool' || route.kind === 'json' ? 'custom' : route.kind;
  if (w.tag !== expected) {
    throw new MappingError(`modified-payload: got the ${w.tag} variant, this hook takes ${expected}`);
  }
  const orig = isRec(sent.payload) ? sent.payload : {};
  switch (route.kind) {
    case 'tool': {
      const v = w.val as { payloadType: string; payloadData: Uint8Array };
      if (v.payloadType !== TOOL_INVOKE_TYPE)
        throw new MappingError(
          `modified-payload: payload-type ${JSON.stringify(v.payloadType)}, expected ${TOOL_INVOKE_TYPE}`,
        );
      const data = parseData(v.payloadData, 'modified-payload.payload-data');
      if (!isRec(data)) throw new MappingError('modified-payload.payload-data: expected a JSON object');
      const was = sent.toolData ?? {};
      let base: unknown = orig;
      if (data.payload !== undefined && !deepEqual(data.payload, was.payload)) base = data.payload;
      if (!isRec(base)) throw new MappingError('modified-payload.payload-data.payload: expected an object');
      const out: Rec = { ...base };
      if (data.tool_name !== undefined && data.tool_name !== was.tool_name) {
        if (typeof data.tool_name !== 'string')
          throw new MappingError('modified-payload: tool_name must be a string');
        out.name = data.tool_name;
      }
      if (data.arguments !== undefined && data.arguments !== was.arguments) {
        if (typeof data.arguments !== 'string')
          throw new MappingError('modified-payload: arguments must be a string');
        out[route.field] = guestJson(
          data.arguments,
          'modified-payload',
          `arguments is not JSON, cannot become ${route.field}`,
        );
      }
      return out;
    }
    case 'json': {
      const v = w.val as { payloadType: string; payloadData: Uint8Array };
      if (v.payloadType !== route.payloadType)
        throw new MappingError(
          `modified-payload: payload-type ${JSON.stringify(v.payloadType)}, expected ${route.payloadType}`,
        );
      return parseData(v.payloadData, 'modified-payload.payload-data');
    }
    case 'cmf': {
      const v = w.val as Rec;
      return { ...orig, message: messageFromWit(v.message, 'modified-payload.message') };
    }
    case 'identity':
      // The raw token never crossed; keep it from the original.
      return { ...orig, ...fromWit(IDENTITY_PAYLOAD, w.val, 'modified-payload') };
    case 'delegation': {
      const back = fromWit(DELEGATION_PAYLOAD, w.val, 'modified-payload');
      const origToken = isRec(orig.delegated_token) ? orig.delegated_token : undefined;
      if (isRec(back.delegated_token) && typeof origToken?.token === 'string')
        back.delegated_token = { ...back.delegated_token, token: origToken.token };
      return { ...orig, ...back };
    }
  }
}

// ---- extensions ----------------------------------------------------------------------------------

/** Extensions for the guest: every WIT slot (filtered slots arrive absent), plain JSON first. */
export function extensionsToWit(ext: Extensions | undefined): { wit: Rec; plain: Rec } {
  // before extensionsToJSON, whose JSON copy would turn a NaN into null
  const custom = (ext as { custom?: unknown } | undefined)?.custom;
  if (custom != null) refuseIn(JSON.stringify(custom) ?? '', custom, 'extensions.custom');
  const plain: Rec = ext ? extensionsToJSON(ext) : {};
  const wit: Rec = {};
  for (const [slot, spec] of Object.entries(EXTENSION_SLOTS)) {
    const v = plain[slot];
    wit[spec.witField] = v == null ? undefined : toWit(spec.schema, v, `extensions.${slot}`);
  }
  wit.custom = plain.custom == null ? undefined : jsonOut(plain.custom, 'extensions.custom');
  return { wit, plain };
}

/**
 * The guest's modified extensions as a cpex-ts edit: only what differs from what it was sent
 * (compared after the same WIT round trip, so defaults WIT adds are not read as edits). Core's
 * merge then applies tiers and capabilities.
 */
export function extensionsFromWit(w: unknown, sentWit: Rec): Rec | undefined {
  if (!isRec(w)) throw new MappingError('modified-extensions: not an extensions record');
  const out: Rec = {};
  for (const [slot, spec] of Object.entries(EXTENSION_SLOTS)) {
    const r = w[spec.witField];
    if (r == null) continue;
    const back = fromWit(spec.schema, r, `modified-extensions.${slot}`);
    const before =
      sentWit[spec.witField] == null ? undefined : fromWit(spec.schema, sentWit[spec.witField], slot);
    if (before !== undefined && deepEqual(back, before)) continue;
    if (before === undefined) {
      out[slot] = back;
      continue;
    }
    const diff: Rec = {};
    for (const [k, v] of Object.entries(back)) if (!deepEqual(v, before[k])) diff[k] = v;
    if (Object.keys(diff).length) out[slot] = diff;
  }
  if (w.custom != null && w.custom !== sentWit.custom) {
    const custom = guestJson(String(w.custom), 'modified-extensions.custom');
    if (!isRec(custom)) throw new MappingError('modified-extensions.custom: expected a JSON object');
    out.custom = custom;
  }
  return Object.keys(out).length ? out : undefined;
}

// ---- context -------------------------------------------------------------------------------------

/** A NaN/Infinity in `value` (its JSON `text` has a null): a MappingError naming its path. */
function refuseIn(text: string, value: unknown, where: string): void {
  try {
    refuseNonFinite(text, value, where);
  } catch (e) {
    throw new MappingError((e as Error).message);
  }
}

function entries(state: Record<string, unknown>, where: string): Array<{ key: string; value: string }> {
  const out: Array<{ key: string; value: string }> = [];
  for (const [key, v] of Object.entries(state)) {
    if (v === undefined) continue;
    // exact: a guest's own u64 (a BigInt, from guestJsonExact) goes back as the same literal
    const text = stringifyExact(v);
    refuseIn(text, v, `${where}.${key}`);
    out.push({ key, value: text });
  }
  return out;
}

/** The plugin context for the guest, with the reserved config/name entries in global-state. */
export function contextToWit(ctx: PluginContext, configJson: string, nameJson: string): Rec {
  const global = entries(ctx.globalContext?.state ?? {}, 'context.global_state');
  global.push({ key: CONFIG_KEY, value: configJson }, { key: NAME_KEY, value: nameJson });
  return { localState: entries(ctx.state ?? {}, 'context.state'), globalState: global };
}

/**
 * A guest's context entries → a map. `exact`: the guest's own local state, which comes back only
 * to it: an integer beyond ±(2^53−1) is kept exactly as a BigInt (PR #65's compute-bench keeps a
 * u64 hash there). Otherwise (global state, shared with every plugin and the caller): such an
 * integer is refused, as everywhere a guest sends JSON. Never rounded.
 */
function entriesToMap(list: unknown, where: string, exact: boolean): Rec {
  if (!Array.isArray(list)) throw new MappingError(`${where}: expected a list of entries`);
  const out: Rec = {};
  list.forEach((e, i) => {
    if (!isRec(e) || typeof e.key !== 'string' || typeof e.value !== 'string')
      throw new MappingError(`${where}[${i}]: expected {key, value}`);
    // A guest's "__proto__" key stays data (setOwn).
    const at = `${where}[${i}] (${e.key})`;
    const value = (exact ? guestJsonExact : guestJson)(e.value, at, 'value is not valid JSON');
    setOwn(out, e.key, value);
  });
  return out;
}

/** Decoded `modified-context` (reserved keys removed). */
export function contextFromWit(w: unknown): { local: Rec; global: Rec } {
  if (!isRec(w)) throw new MappingError('modified-context: not a plugin-context record');
  const local = entriesToMap(w.localState, 'modified-context.local-state', true);
  const global = entriesToMap(w.globalState, 'modified-context.global-state', false);
  delete global[CONFIG_KEY];
  delete global[NAME_KEY];
  return { local, global };
}

/** Writes a decoded context back: local state and global state are replaced by the guest's. */
export function applyContext(ctx: PluginContext, c: { local: Rec; global: Rec }): void {
  const state = ctx.state as Rec;
  for (const k of Object.keys(state)) if (!(k in c.local)) delete state[k];
  for (const k of Object.keys(c.local)) setOwn(state, k, c.local[k]);
  const gs = ctx.globalContext?.state as Rec | undefined;
  if (gs) {
    for (const k of Object.keys(gs)) if (!(k in c.global)) delete gs[k];
    for (const [k, v] of Object.entries(c.global)) if (!deepEqual(gs[k], v)) setOwn(gs, k, v);
  }
}

// ---- result --------------------------------------------------------------------------------------

/** Decodes a `hook-result` into a PluginResult (core validates it with the one result rule). */
export function resultFromWit(r: unknown, sent: Sent, sentExt: Rec, ctx: PluginContext): PluginResult {
  if (!isRec(r) || typeof r.continueProcessing !== 'boolean')
    throw new MappingError('hook-result: not a hook-result record');
  const out: PluginResult = { continueProcessing: r.continueProcessing };
  if (r.modifiedPayload != null) out.modifiedPayload = payloadFromWit(r.modifiedPayload, sent);
  if (r.modifiedExtensions != null) {
    const ext = extensionsFromWit(r.modifiedExtensions, sentExt);
    if (ext) out.modifiedExtensions = ext as Extensions;
  }
  if (r.violation != null) {
    const v = fromWit(VIOLATION, r.violation, 'violation');
    if (!isRec(v.details)) throw new MappingError('violation.details: expected a JSON object');
    out.violation = {
      code: String(v.code),
      reason: String(v.reason),
      ...(v.description !== undefined ? { description: String(v.description) } : {}),
      details: v.details as Record<string, unknown>,
      ...(typeof v.proto_error_code === 'number' ? { mcpErrorCode: v.proto_error_code } : {}),
    };
  }
  if (r.metadata != null) {
    const meta = guestJson(String(r.metadata), 'metadata');
    if (meta !== null) {
      if (!isRec(meta)) throw new MappingError('metadata: expected a JSON object');
      out.metadata = meta;
    }
  }
  if (r.modifiedContext != null) applyContext(ctx, contextFromWit(r.modifiedContext));
  return out;
}

/**
 * A small schema of the cpex:plugin WIT records, so one pair of functions converts cpex-ts data
 * (snake_case JSON, Rust cpex 0.2 shapes) to jco's representation of the WIT values (camelCase
 * records, `undefined` options, bigint u64, tuple lists, enum strings) and back, filling WIT's
 * required fields with their empty values.
 */
import { refuseNonFinite } from '@cpex/core/host';

export type FieldKind =
  | 'str'
  | 'ostr'
  | 'lstr'
  | 'olstr'
  | 'bool'
  | 'u32'
  | 'ou32'
  | 'ou16'
  | 'ou64'
  | 'os64'
  /** JSON text of any value (required; empty: `{}`) */
  | 'json'
  /** JSON text, optional */
  | 'ojson'
  /** list of JSON texts */
  | 'ljson'
  /** Record<string,string> as list<tuple<string,string>> */
  | 'smap'
  /** Record<string, any> as list<tuple<string, json text>> */
  | 'jmap'
  | 'obytes'
  /** a number carried as decimal text (delegation age-seconds) */
  | 'numstr';

export interface RecordSchema {
  readonly [witField: string]: Field;
}

export type Field =
  | FieldKind
  | {
      kind: 'rec' | 'orec' | 'lrec' | 'mrec';
      schema: RecordSchema;
      key?: string;
    }
  | { kind: 'enum' | 'oenum'; values: Readonly<Record<string, string>>; key?: string }
  | { kind: FieldKind; key: string };

const identityEnum = (...names: string[]): Record<string, string> =>
  Object.fromEntries(names.map((n) => [n, n]));

/** camelCase → snake_case */
function snake(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

export class MappingError extends Error {}

function num(v: unknown, where: string): number {
  if (typeof v === 'bigint') {
    // a WIT u64/s64 arrives as a BigInt: one beyond ±(2^53−1) would be rounded by Number()
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))
      throw new MappingError(
        `${where}: the integer ${v} is beyond ±(2^53−1): JavaScript cannot hold it exactly`,
      );
    return Number(v);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new MappingError(`${where}: expected a number`);
  return v;
}

/**
 * JSON text for the guest. JSON has no NaN/Infinity (JSON.stringify writes null): such a value is
 * a MappingError naming its path, never a null the guest reads.
 */
export function jsonOut(v: unknown, where: string): string {
  const text = JSON.stringify(v ?? null);
  try {
    return refuseNonFinite(text, v, where);
  } catch (e) {
    throw new MappingError((e as Error).message);
  }
}

function jsonText(v: unknown, where: string): string {
  return jsonOut(v, where);
}

function parseJson(text: unknown, where: string): unknown {
  if (typeof text !== 'string') throw new MappingError(`${where}: expected JSON text`);
  return guestJson(text, where);
}

/**
 * JSON text a guest wrote → its value; every JSON a guest sends goes through here. JSON.parse
 * rounds an integer literal beyond ±(2^53−1) silently (serde_json writes u64s exactly), so such a
 * value is a MappingError naming where. Only text with a run of 16+ digits is walked.
 */
export function guestJson(text: string, where: string, notJson = 'not valid JSON'): unknown {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new MappingError(`${where}: ${notJson}`);
  }
  if (LONG_DIGITS.test(text) && hasUnsafeIntegerLiteral(text)) {
    const bad = unsafeInteger(v, where);
    if (bad)
      throw new MappingError(
        `${bad}: an integer beyond ±(2^53−1) (JavaScript would round it; send it as a string)`,
      );
  }
  return v;
}

const LONG_DIGITS = /\d{16}/;

/**
 * The integer literals (no fraction, no exponent; sign included) of valid JSON `text` beyond
 * ±(2^53−1), outside strings, as [start, end) spans; the first one only unless `all`.
 */
function unsafeIntegerSpans(text: string, all: boolean): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // skip a string
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c >= 0x30 && c <= 0x39) {
      const start = i;
      while (i + 1 < text.length && /[0-9]/.test(text[i + 1]!)) i++;
      const next = text[i + 1];
      if (next === '.' || next === 'e' || next === 'E') {
        while (i + 1 < text.length && /[0-9.eE+-]/.test(text[i + 1]!)) i++;
      } else if (i - start + 1 >= 16 && !Number.isSafeInteger(Number(text.slice(start, i + 1)))) {
        spans.push([start > 0 && text[start - 1] === '-' ? start - 1 : start, i + 1]);
        if (!all) return spans;
      }
    }
  }
  return spans;
}

function hasUnsafeIntegerLiteral(text: string): boolean {
  return unsafeIntegerSpans(text, false).length > 0;
}

/** The range a 64-bit wire (WIT s64/u64, MessagePack int64/uint64) carries: −2^63 … 2^64−1. */
const MIN_64 = -(2n ** 63n);
const MAX_64 = 2n ** 64n - 1n;

/**
 * As `guestJson`, for data that is the guest's own and comes back only to it (its local state):
 * an integer literal beyond ±(2^53−1) within the 64-bit range comes back as a BigInt, exactly
 * (written back as the same literal by `stringifyExact`); beyond 64 bits it is a MappingError
 * naming where, as no wire could carry it. Nothing is rounded.
 */
export function guestJsonExact(text: string, where: string, notJson = 'not valid JSON'): unknown {
  if (!LONG_DIGITS.test(text)) return guestJson(text, where, notJson);
  try {
    JSON.parse(text);
  } catch {
    throw new MappingError(`${where}: ${notJson}`);
  }
  const spans = unsafeIntegerSpans(text, true);
  if (spans.length === 0) return JSON.parse(text);
  // Each such literal becomes a string tagged with a random tag no guest string can carry.
  // As JSON text (`\\u0000…`): the parsed string starts with a NUL no tag-less guest string matches.
  const tag = `\\u0000cpex-int-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}:`;
  let rewritten = '';
  let at = 0;
  for (const [a, b] of spans) {
    rewritten += `${text.slice(at, a)}"${tag}${text.slice(a, b)}"`;
    at = b;
  }
  const parsed: unknown = JSON.parse(rewritten + text.slice(at));
  const real = JSON.parse(`"${tag}"`) as string;
  const exact = (v: unknown, path: string): unknown => {
    if (typeof v !== 'string' || !v.startsWith(real)) return v;
    const n = BigInt(v.slice(real.length));
    if (n < MIN_64 || n > MAX_64)
      throw new MappingError(
        `${path}: the integer ${n} is beyond the 64-bit range (−2^63 … 2^64−1): no wire can carry it exactly`,
      );
    return n;
  };
  const root = exact(parsed, where);
  const stack: Array<[unknown, string]> = [[root, where]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, path] = top;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        v[i] = exact(v[i], `${path}[${i}]`);
        stack.push([v[i], `${path}[${i}]`]);
      }
    } else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        const x = exact(o[k], `${path}.${k}`);
        // defineProperty: a guest's "__proto__" key stays data
        if (x !== o[k])
          Object.defineProperty(o, k, { value: x, writable: true, enumerable: true, configurable: true });
        stack.push([x, `${path}.${k}`]);
      }
    }
  }
  return root;
}

/** The path of the first integer-valued number beyond ±(2^53−1) in parsed JSON, iteratively. */
function unsafeInteger(root: unknown, where: string): string | undefined {
  const stack: Array<[unknown, string]> = [[root, where]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, at] = top;
    if (typeof v === 'number') {
      if (Number.isInteger(v) && !Number.isSafeInteger(v)) return at;
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push([v[i], `${at}[${i}]`]);
    } else if (v !== null && typeof v === 'object')
      for (const k of Object.keys(v)) stack.push([(v as Record<string, unknown>)[k], `${at}.${k}`]);
  }
  return undefined;
}

function keyOf(witField: string, f: Field): string {
  return typeof f === 'object' && f.key ? f.key : snake(witField);
}

/** cpex-ts JSON → jco WIT value. */
export function toWit(schema: RecordSchema, value: unknown, where: string): Rec {
  const v: Rec = isRec(value) ? value : {};
  const out: Rec = {};
  for (const [field, f] of Object.entries(schema)) {
    const x = v[keyOf(field, f)];
    const at = `${where}.${keyOf(field, f)}`;
    const kind = typeof f === 'string' ? f : f.kind;
    switch (kind) {
      case 'str':
        out[field] = x == null ? '' : String(x);
        break;
      case 'ostr':
        out[field] = x == null ? undefined : String(x);
        break;
      case 'lstr':
        out[field] = Array.isArray(x)
          ? x.map(String)
          : x instanceof Set || isIterableSet(x)
            ? [...(x as Iterable<unknown>)].map(String)
            : [];
        break;
      case 'olstr':
        out[field] = x == null ? undefined : Array.isArray(x) ? x.map(String) : [];
        break;
      case 'bool':
        out[field] = x === true;
        break;
      case 'u32':
        out[field] = x == null ? 0 : num(x, at) >>> 0;
        break;
      case 'ou32':
      case 'ou16':
        out[field] = x == null ? undefined : num(x, at);
        break;
      case 'ou64':
        out[field] = x == null ? undefined : BigInt(Math.max(0, Math.trunc(num(x, at))));
        break;
      case 'os64':
        out[field] = x == null ? undefined : BigInt(Math.trunc(num(x, at)));
        break;
      case 'json':
        out[field] = jsonText(x ?? {}, at);
        break;
      case 'ojson':
        out[field] = x == null ? undefined : jsonText(x, at);
        break;
      case 'ljson':
        out[field] = Array.isArray(x) ? x.map((y, i) => jsonText(y, `${at}[${i}]`)) : [];
        break;
      case 'smap':
        out[field] = isRec(x) ? Object.entries(x).map(([k, s]) => [k, String(s)]) : [];
        break;
      case 'jmap':
        out[field] = isRec(x) ? Object.entries(x).map(([k, s]) => [k, jsonText(s, `${at}.${k}`)]) : [];
        break;
      case 'obytes':
        out[field] = x == null ? undefined : Uint8Array.from(x as number[]);
        break;
      case 'numstr':
        out[field] = String(x ?? 0);
        break;
      case 'rec':
        out[field] = toWit((f as { schema: RecordSchema }).schema, x, at);
        break;
      case 'orec':
        out[field] = x == null ? undefined : toWit((f as { schema: RecordSchema }).schema, x, at);
        break;
      case 'lrec':
        out[field] = Array.isArray(x)
          ? x.map((e, i) => toWit((f as { schema: RecordSchema }).schema, e, `${at}[${i}]`))
          : [];
        break;
      case 'mrec':
        out[field] = isRec(x)
          ? Object.entries(x).map(([k, e]) => [
              k,
              toWit((f as { schema: RecordSchema }).schema, e, `${at}.${k}`),
            ])
          : [];
        break;
      case 'enum':
      case 'oenum': {
        const values = (f as { values: Record<string, string> }).values;
        if (x == null) {
          out[field] = kind === 'oenum' ? undefined : Object.values(values)[0];
          break;
        }
        const w = values[String(x)];
        if (w === undefined) {
          if (kind === 'oenum') out[field] = undefined;
          else throw new MappingError(`${at}: ${JSON.stringify(x)} has no WIT equivalent`);
        } else out[field] = w;
        break;
      }
    }
  }
  return out;
}

function isIterableSet(x: unknown): boolean {
  return isRec(x) && typeof (x as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

/** jco WIT value → cpex-ts JSON (absent options are left out). */
export function fromWit(schema: RecordSchema, value: unknown, where: string): Rec {
  if (!isRec(value)) throw new MappingError(`${where}: expected a record`);
  const out: Rec = {};
  for (const [field, f] of Object.entries(schema)) {
    const x = value[field];
    const key = keyOf(field, f);
    const at = `${where}.${key}`;
    const kind = typeof f === 'string' ? f : f.kind;
    if (x === undefined || x === null) {
      if (
        kind === 'str' ||
        kind === 'bool' ||
        kind === 'u32' ||
        kind === 'json' ||
        kind === 'rec' ||
        kind === 'enum' ||
        kind === 'numstr'
      )
        throw new MappingError(`${at}: missing`);
      continue;
    }
    switch (kind) {
      case 'str':
      case 'ostr':
      case 'bool':
      case 'u32':
      case 'ou32':
      case 'ou16':
        out[key] = x;
        break;
      case 'lstr':
      case 'olstr':
        out[key] = [...(x as string[])];
        break;
      case 'ou64':
      case 'os64':
        out[key] = Number(x);
        break;
      case 'json':
      case 'ojson':
        out[key] = parseJson(x, at);
        break;
      case 'ljson':
        out[key] = (x as string[]).map((s, i) => parseJson(s, `${at}[${i}]`));
        break;
      case 'smap':
        out[key] = Object.fromEntries(x as Array<[string, string]>);
        break;
      case 'jmap':
        out[key] = Object.fromEntries(
          (x as Array<[string, string]>).map(([k, s]) => [k, parseJson(s, `${at}.${k}`)]),
        );
        break;
      case 'obytes':
        out[key] = [...(x as Uint8Array)];
        break;
      case 'numstr': {
        const n = Number(x);
        if (!Number.isFinite(n)) throw new MappingError(`${at}: not a number`);
        out[key] = n;
        break;
      }
      case 'rec':
      case 'orec':
        out[key] = fromWit((f as { schema: RecordSchema }).schema, x, at);
        break;
      case 'lrec':
        out[key] = (x as unknown[]).map((e, i) =>
          fromWit((f as { schema: RecordSchema }).schema, e, `${at}[${i}]`),
        );
        break;
      case 'mrec':
        out[key] = Object.fromEntries(
          (x as Array<[string, unknown]>).map(([k, e]) => [
            k,
            fromWit((f as { schema: RecordSchema }).schema, e, `${at}.${k}`),
          ]),
        );
        break;
      case 'enum':
      case 'oenum': {
        const values = (f as { values: Record<string, string> }).values;
        const ours = Object.entries(values).find(([, w]) => w === x)?.[0];
        if (ours === undefined) throw new MappingError(`${at}: unknown enum value ${JSON.stringify(x)}`);
        out[key] = ours;
        break;
      }
    }
  }
  return out;
}

// ---- the WIT records --------------------------------------------------------------------------

const SUBJECT_TYPE = identityEnum('user', 'agent', 'service', 'system');

export const SUBJECT: RecordSchema = {
  id: 'ostr',
  subjectType: { kind: 'oenum', values: SUBJECT_TYPE },
  roles: 'lstr',
  permissions: 'lstr',
  teams: 'lstr',
  claims: 'smap',
};

export const CLIENT: RecordSchema = {
  clientId: 'str',
  clientName: 'ostr',
  trustLevel: {
    kind: 'enum',
    values: { first_party: 'first-party', third_party: 'third-party', internal: 'internal' },
  },
  trustLevelCustom: 'ostr',
  authorizedScopes: 'lstr',
  authorizedAudiences: 'lstr',
  roles: 'lstr',
  permissions: 'lstr',
  teams: 'lstr',
  claims: 'jmap',
};

export const WORKLOAD: RecordSchema = {
  spiffeId: 'ostr',
  trustDomain: 'ostr',
  attestedAt: 'ostr',
  attestor: 'ostr',
  selectors: 'lstr',
  clientId: 'ostr',
};

const AUTH_DETAIL: RecordSchema = {
  detailType: { kind: 'str', key: 'type' },
  locations: 'olstr',
  actions: 'olstr',
  datatypes: 'olstr',
  identifier: 'ostr',
  privileges: 'olstr',
  extra: 'ojson',
};

const STRATEGY = {
  token_exchange: 'token-exchange',
  client_credentials: 'client-credentials',
  spiffe_svid: 'spiffe-svid',
  passthrough: 'passthrough',
  ucan: 'ucan',
  transaction_token: 'transaction-token',
};

const HOP: RecordSchema = {
  subjectId: 'str',
  subjectType: { kind: 'oenum', values: SUBJECT_TYPE },
  audience: 'ostr',
  scopesGranted: 'lstr',
  authorizationDetails: { kind: 'lrec', schema: AUTH_DETAIL },
  timestamp: 'str',
  ttlSeconds: 'ou64',
  strategy: { kind: 'oenum', values: STRATEGY },
  strategyCustom: 'ostr',
  fromCache: 'bool',
};

export const DELEGATION_EXT: RecordSchema = {
  chain: { kind: 'lrec', schema: HOP },
  depth: 'u32',
  originSubjectId: 'ostr',
  actorSubjectId: 'ostr',
  delegated: 'bool',
  ageSeconds: 'numstr',
};

const SECURITY: RecordSchema = {
  labels: 'lstr',
  classification: 'ostr',
  subject: { kind: 'orec', schema: SUBJECT },
  client: { kind: 'orec', schema: CLIENT },
  callerWorkload: { kind: 'orec', schema: WORKLOAD },
  thisWorkload: { kind: 'orec', schema: WORKLOAD },
  authMethod: 'ostr',
  objects: {
    kind: 'mrec',
    schema: { managedBy: 'ostr', permissions: 'lstr', trustDomain: 'ostr', dataScope: 'lstr' },
  },
  data: {
    kind: 'mrec',
    schema: {
      applyLabels: 'lstr',
      allowedActions: 'olstr',
      deniedActions: 'lstr',
      retention: { kind: 'orec', schema: { maxAgeSeconds: 'ou64', policy: 'str', deleteAfter: 'ostr' } },
    },
  },
};

const ANNOTATED = { annotations: 'jmap' } as const;

/** The `extensions` record, slot by slot (key = the cpex-ts slot name). */
export const EXTENSION_SLOTS: Record<string, { witField: string; schema: RecordSchema; json?: boolean }> = {
  request: {
    witField: 'request',
    schema: { environment: 'ostr', requestId: 'ostr', timestamp: 'ostr', traceId: 'ostr', spanId: 'ostr' },
  },
  security: { witField: 'security', schema: SECURITY },
  http: {
    witField: 'http',
    schema: {
      requestHeaders: 'smap',
      responseHeaders: 'smap',
      method: 'ostr',
      path: 'ostr',
      host: 'ostr',
      scheme: 'ostr',
    },
  },
  meta: {
    witField: 'meta',
    schema: { entityType: 'ostr', entityName: 'ostr', tags: 'lstr', scope: 'ostr', properties: 'smap' },
  },
  agent: {
    witField: 'agent',
    schema: {
      input: 'ostr',
      sessionId: 'ostr',
      conversationId: 'ostr',
      turn: 'ou32',
      agentId: 'ostr',
      parentAgentId: 'ostr',
      conversation: { kind: 'orec', schema: { history: 'ljson', summary: 'ostr', topics: 'lstr' } },
    },
  },
  mcp: {
    witField: 'mcp',
    schema: {
      tool: {
        kind: 'orec',
        schema: {
          name: 'str',
          title: 'ostr',
          description: 'ostr',
          inputSchema: 'ojson',
          outputSchema: 'ojson',
          serverId: 'ostr',
          namespace: 'ostr',
          ...ANNOTATED,
        },
      },
      resourceInfo: {
        kind: 'orec',
        key: 'resource',
        schema: {
          uri: 'str',
          name: 'ostr',
          description: 'ostr',
          mimeType: 'ostr',
          serverId: 'ostr',
          ...ANNOTATED,
        },
      },
      prompt: {
        kind: 'orec',
        schema: { name: 'str', description: 'ostr', arguments: 'ojson', serverId: 'ostr', ...ANNOTATED },
      },
    },
  },
  completion: {
    witField: 'completion',
    schema: {
      stopReason: {
        kind: 'oenum',
        values: {
          end: 'end',
          return: 'return-complete',
          call: 'call',
          max_tokens: 'max-tokens',
          stop_sequence: 'stop-sequence',
        },
      },
      tokens: { kind: 'orec', schema: { inputTokens: 'u32', outputTokens: 'u32', totalTokens: 'u32' } },
      model: 'ostr',
      rawFormat: 'ostr',
      createdAt: 'ostr',
      latencyMs: 'ou64',
    },
  },
  provenance: { witField: 'provenance', schema: { source: 'ostr', messageId: 'ostr', parentId: 'ostr' } },
  llm: { witField: 'llm', schema: { modelId: 'ostr', provider: 'ostr', capabilities: 'lstr' } },
  framework: {
    witField: 'framework',
    schema: {
      framework: 'ostr',
      frameworkVersion: 'ostr',
      nodeId: 'ostr',
      graphId: 'ostr',
      metadata: 'ojson',
    },
  },
  delegation: { witField: 'delegation', schema: DELEGATION_EXT },
};

// ---- CMF message ------------------------------------------------------------------------------

const RESOURCE_TYPE = identityEnum('file', 'blob', 'uri', 'database', 'api', 'memory', 'artifact');

const MEDIA: RecordSchema = { sourceType: { kind: 'str', key: 'type' }, data: 'str', mediaType: 'ostr' };

export const CONTENT_PARTS: Record<string, { tag: string; schema?: RecordSchema }> = {
  text: { tag: 'text' },
  thinking: { tag: 'thinking' },
  tool_call: {
    tag: 'tool-call',
    schema: { toolCallId: 'str', name: 'str', arguments: 'json', namespace: 'ostr' },
  },
  tool_result: {
    tag: 'tool-result',
    schema: {
      toolCallId: 'str',
      toolName: 'str',
      content: { kind: 'ojson', key: 'content' },
      isError: 'bool',
    },
  },
  resource: {
    tag: 'cmf-resource',
    schema: {
      resourceRequestId: 'str',
      uri: 'str',
      name: 'ostr',
      description: 'ostr',
      resourceType: { kind: 'enum', values: RESOURCE_TYPE },
      content: 'ostr',
      blob: 'obytes',
      mimeType: 'ostr',
      sizeBytes: 'ou64',
      annotations: 'json',
      version: 'ostr',
    },
  },
  resource_ref: {
    tag: 'resource-ref',
    schema: {
      resourceRequestId: 'str',
      uri: 'str',
      name: 'ostr',
      resourceType: { kind: 'enum', values: RESOURCE_TYPE },
      rangeStart: 'ou64',
      rangeEnd: 'ou64',
      selector: 'ostr',
    },
  },
  prompt_request: {
    tag: 'prompt-request',
    schema: { promptRequestId: 'str', name: 'str', arguments: 'json', serverId: 'ostr' },
  },
  prompt_result: {
    tag: 'prompt-result',
    schema: {
      promptRequestId: 'str',
      promptName: 'str',
      messages: 'json',
      content: 'ostr',
      isError: 'bool',
      errorMessage: 'ostr',
    },
  },
  image: { tag: 'image', schema: MEDIA },
  video: { tag: 'video', schema: { ...MEDIA, durationMs: 'ou64' } },
  audio: { tag: 'audio', schema: { ...MEDIA, durationMs: 'ou64' } },
  document: { tag: 'document', schema: { ...MEDIA, title: 'ostr' } },
};

export const ROLES = identityEnum('system', 'developer', 'user', 'assistant', 'tool');
export const CHANNELS = identityEnum('analysis', 'commentary', 'final');

// ---- identity and delegation payloads (Rust shapes, as cpex-ts's identity.resolve / token.delegate)

export const IDENTITY_PAYLOAD: RecordSchema = {
  source: {
    kind: 'enum',
    values: {
      bearer: 'bearer',
      user_token: 'user-token',
      mtls: 'mtls',
      spiffe_jwt_svid: 'spiffe-jwt-svid',
      api_key: 'api-key',
      custom: 'custom',
    },
  },
  sourceCustom: 'ostr',
  sourceHeader: 'ostr',
  headers: 'smap',
  clientHost: 'ostr',
  clientPort: 'ou16',
  subject: { kind: 'orec', schema: SUBJECT },
  client: { kind: 'orec', schema: CLIENT },
  callerWorkload: { kind: 'orec', schema: WORKLOAD },
  delegation: { kind: 'orec', schema: DELEGATION_EXT },
  resolvedAt: 'ostr',
  rawClaims: 'ojson',
};

export const DELEGATION_PAYLOAD: RecordSchema = {
  targetName: 'str',
  targetType: {
    kind: 'enum',
    values: { tool: 'tool', agent: 'agent', resource: 'resource', service: 'service', custom: 'custom' },
  },
  targetTypeCustom: 'ostr',
  targetAudience: 'ostr',
  requiredPermissions: 'lstr',
  trustDomain: 'ostr',
  authEnforcedBy: { kind: 'enum', values: identityEnum('caller', 'target', 'both') },
  routeAttenuation: {
    kind: 'orec',
    schema: { capabilities: 'lstr', resourceTemplate: 'ostr', actions: 'lstr', ttlSeconds: 'ou64' },
  },
  delegatedToken: {
    kind: 'orec',
    schema: { outboundHeader: 'str', audience: 'str', scopes: 'lstr', expiresAt: 'str' },
  },
  delegationUpdate: { kind: 'orec', schema: DELEGATION_EXT },
  delegationMode: {
    kind: 'oenum',
    values: { on_behalf_of_user: 'on-behalf-of-user', as_gateway: 'as-gateway' },
  },
  mintedAt: 'ostr',
  metadata: 'ojson',
};

export const VIOLATION: RecordSchema = {
  code: 'str',
  reason: 'str',
  description: 'ostr',
  details: 'json',
  pluginName: 'ostr',
  protoErrorCode: 'os64',
};

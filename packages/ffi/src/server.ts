/**
 * The sidecar behind `cpex serve`: PluginManagers held by handle, served over length-prefixed
 * frames (docs/ffi/protocol.md) on a Unix socket or stdio. Many connections, many requests in
 * flight per connection (answered by id, in completion order); handles belong to the connection
 * that made them and are freed when it closes.
 */
import { chmodSync, existsSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import {
  type BackgroundWork,
  ContextTable,
  IdentityPayloadSchema,
  type PipelineResult,
  PluginManager,
} from '@cpex/core';
import { MessagePayloadSchema } from '@cpex/core/cmf';
import {
  CpexError,
  type CpexErrorCode,
  checkPayloadBounds,
  errorToWire,
  type Extensions,
  type GlobalContext,
  ingressExtensions,
  type Logger,
  registerNeededHosts,
  PAYLOAD_TYPE_CMF_MESSAGE,
  PAYLOAD_TYPE_GENERIC,
  PAYLOAD_TYPE_IDENTITY,
  type ResolvedSettings,
  summarizeZodError,
} from '@cpex/core/host';
import {
  DEFAULT_MAX_FRAME_BYTES,
  type Encoding,
  decodeBody,
  encodeFrame,
  encodingOf,
  FRAME_HEADER_BYTES,
  FrameReader,
  jsonSizeBound,
  lastBodyDepth,
  PROTOCOL_VERSION,
  peekId,
  RC,
  RUST_FFI_ABI_VERSION,
  resultEnvelope,
  unpackValue,
} from './wire.js';
import { invokeAnswerFrame } from './answer.js';
import { provenCheck } from './proven.js';

/** Options of {@link SidecarServer}. */
export interface SidecarOptions {
  /** A config file preloaded and initialized at start as the shared manager (every connection may use it). */
  config?: string;
  /** Largest frame body accepted (bytes); default 16 MiB. */
  maxFrameBytes?: number;
  /** Wall-clock limit of one call (ms) before it answers -6; default 60 000 (Rust cpex's limit). */
  callTimeoutMs?: number;
  /** How long `close()` waits for calls in flight (ms); default 30 000. */
  drainTimeoutMs?: number;
  /** Base directory for configs loaded without `base_dir`; default the process cwd. */
  cwd?: string;
  env?: Record<string, string | undefined>;
  logger?: Logger;
}

/** A failure answered with a return code. */
export class FfiError extends Error {
  constructor(
    readonly rc: number,
    readonly code: CpexErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FfiError';
  }
}

interface ManagedManager {
  manager: PluginManager;
  hosts: Array<{ dispose(): Promise<void> }>;
  shared: boolean;
}

type HandleEntry =
  | { kind: 'manager'; m: ManagedManager }
  | { kind: 'context_table'; table: ContextTable; manager: number }
  | { kind: 'background'; work: BackgroundWork; manager: number };

/** One request in flight: answered exactly once (result, error or timeout). */
class Call {
  /** When it times out (ms since the epoch); set when the op is asynchronous. */
  at = 0;
  /** Answered (with its result, an error or a timeout): later outcomes are dropped. */
  answered = false;
  /** Neighbours in the server's list of calls waiting for their deadline. */
  prev: Call | undefined = undefined;
  next: Call | undefined = undefined;

  constructor(
    private readonly server: SidecarServer,
    readonly conn: Connection,
    readonly req: Request,
    readonly encoding: Encoding,
  ) {}

  /** The op's result: answered with rc 0 (dropped, handles freed, if the call already timed out). */
  done(a: Answer): void {
    if (this.answered) {
      this.server.orphaned(this.conn, this.req, a);
      return;
    }
    a.id = this.req.id;
    a.rc = RC.OK;
    this.answer(a);
  }

  /** The op's result as a finished answer frame (rc 0, this call's id). */
  doneFrame(frame: Buffer): void {
    if (this.answered) return;
    this.answered = true;
    this.server.settled(this, this.conn);
    this.conn.write(frame);
  }

  fail(e: unknown): void {
    if (this.answered) return;
    const err = classify(e);
    this.answer({ id: this.req.id, rc: err.rc, error: { code: err.code, message: err.message } });
  }

  expire(): void {
    this.fail(
      new FfiError(
        RC.TIMEOUT,
        'CPEX_ERR_FFI_TIMEOUT',
        `${this.req.op} did not finish within ${this.server.callTimeoutMs} ms`,
      ),
    );
  }

  private answer(a: Answer): void {
    this.answered = true;
    this.server.settled(this, this.conn);
    this.conn.send(a, this.encoding);
  }
}

type Request = Record<string, unknown> & { id: number; op: string };

/**
 * A request's fields as one fixed shape: the decoder stores a request's entries into this (every
 * field of docs/ffi/protocol.md is already there), so decoding a request changes no hidden class
 * and the ops read its fields from one shape. A key it does not name becomes an own property as
 * on a plain object.
 */
class RequestFields {
  id: unknown = undefined;
  op: unknown = undefined;
  manager: unknown = undefined;
  hook: unknown = undefined;
  payload_type: unknown = undefined;
  payload: unknown = undefined;
  extensions: unknown = undefined;
  context_table: unknown = undefined;
  context: unknown = undefined;
  background: unknown = undefined;
  yaml: unknown = undefined;
  base_dir: unknown = undefined;
  free_context_tables: unknown = undefined;
  free_backgrounds: unknown = undefined;
}
const newRequest = () => new RequestFields() as unknown as Record<string, unknown>;
type Answer = Record<string, unknown>;
/** The frame a request came in: its encoding, body size and depth (what payload bounds are judged by). */
interface Arrival {
  encoding: Encoding;
  bytes: number;
  /** Nesting depth of the whole body when the decoder measured it, else -1 (see lastBodyDepth). */
  depth: number;
}
/** An op's answer, a promise of it, or undefined when the op answers through its Call itself. */
type Op = (
  conn: Connection,
  req: Request,
  arrival: Arrival,
  call: Call,
) => Answer | Promise<Answer> | undefined;

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Core codes answered -3 (parse error). */
const PARSE_CODES = new Set<string>([
  'CPEX_ERR_CONFIG_PARSE',
  'CPEX_ERR_CONFIG_INVALID',
  'CPEX_ERR_CONFIG_UNSUPPORTED',
  'CPEX_ERR_UNKNOWN_CAPABILITY',
  'CPEX_ERR_DUPLICATE_PLUGIN',
  'CPEX_ERR_INVALID_PAYLOAD',
  'CPEX_ERR_PAYLOAD_TOO_DEEP',
]);
/** Core codes answered -2 (invalid input). */
const INPUT_CODES = new Set<string>(['CPEX_ERR_INVALID_ARGUMENT', 'CPEX_ERR_PAYLOAD_TOO_LARGE']);

/**
 * Map a thrown error to a return code (docs/ffi/protocol.md, "Return codes"): core's ingress
 * codes keep their code and get -3 (the value does not parse as what the hook takes:
 * CPEX_ERR_INVALID_PAYLOAD, CPEX_ERR_PAYLOAD_TOO_DEEP, config errors) or -2 (the input is refused
 * as given: CPEX_ERR_PAYLOAD_TOO_LARGE, CPEX_ERR_INVALID_ARGUMENT); any other coded error is -4.
 */
export function classify(e: unknown): FfiError {
  if (e instanceof FfiError) return e;
  if (e instanceof CpexError) {
    const msg = e.message;
    if (PARSE_CODES.has(e.code)) return new FfiError(RC.PARSE_ERROR, e.code, msg);
    if (INPUT_CODES.has(e.code)) return new FfiError(RC.INVALID_INPUT, e.code, msg);
    return new FfiError(RC.PIPELINE_ERROR, e.code, msg);
  }
  const message = e instanceof Error ? e.message : String(e);
  return new FfiError(RC.INTERNAL, 'CPEX_ERR_FFI_INTERNAL', `internal error: ${message}`);
}

const bad = (message: string) => new FfiError(RC.INVALID_INPUT, 'CPEX_ERR_FFI_FRAME', message);

/** A frame (or nested document) that does not decode: -2, except a `__proto__` map key: -3 as a payload. */
function undecodable(e: unknown, where = 'malformed frame'): FfiError {
  const message = e instanceof Error ? e.message : String(e);
  if (message.includes('__proto__'))
    return new FfiError(
      RC.PARSE_ERROR,
      'CPEX_ERR_INVALID_PAYLOAD',
      `${where}: a map key "__proto__" is refused (it could replace an object's prototype)`,
    );
  return bad(`${where}: ${message}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function str(req: Request, key: string, optional = false): string | undefined {
  const v = req[key];
  if (v === undefined || v === null) {
    if (optional) return undefined;
    throw bad(`${req.op}: field ${key} is required (a string)`);
  }
  if (typeof v !== 'string') throw bad(`${req.op}: field ${key} must be a string, got ${typeof v}`);
  return v;
}

function handleField(req: Request, key: string, optional = false): number | undefined {
  const v = req[key];
  if (v === undefined || v === null || (optional && v === 0)) {
    if (optional) return undefined;
    throw bad(`${req.op}: field ${key} is required (a handle)`);
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
    throw bad(`${req.op}: field ${key} must be a positive integer handle`);
  return v;
}

/** Where an invoke's ingress error happened (built only when it is needed). */
const invokeWhere = (hook: string) => `cpex serve invoke ${hook.slice(0, 120)}`;

/**
 * Whether every value inside the request body is provably within max_payload_depth: the body's
 * measured depth counts the request map itself, so a field's depth is at most one less.
 */
function withinDepth(arrival: Arrival, settings: ResolvedSettings): boolean {
  return arrival.depth >= 0 && arrival.depth - 1 <= settings.maxPayloadDepth;
}

/**
 * A payload or extensions field at ingress: `bin` holds one MessagePack document (the Rust
 * cpex-ffi shape), anything else is the value inline. Judged by core's checkPayloadBounds with the
 * manager's max_payload_depth, and for the payload max_payload_bytes. Work that provably passes is
 * left out, the rule unchanged: the size is measured only when the encoded size does not already
 * prove it is within (jsonSizeBound), and the depth walk only when the decoder's measure of the
 * whole body does not already prove it (withinDepth).
 */
function ingressValue(
  v: unknown,
  what: 'payload' | 'extensions',
  settings: ResolvedSettings,
  arrival: Arrival,
  hook: string,
  sized: boolean,
): unknown {
  let value = v;
  let encoded = arrival.bytes;
  let encoding = arrival.encoding;
  let shallow = withinDepth(arrival, settings);
  if (v instanceof Uint8Array) {
    shallow = false;
    const where = invokeWhere(hook);
    try {
      value = unpackValue(v);
    } catch (e) {
      const err = undecodable(e, `${where}: ${what}`);
      if (err.rc === RC.PARSE_ERROR) throw err;
      throw new FfiError(
        RC.PARSE_ERROR,
        'CPEX_ERR_INVALID_PAYLOAD',
        `${where}: ${what} is not valid MessagePack: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    encoded = v.length;
    encoding = 'msgpack';
  }
  if (value === null || typeof value !== 'object') return value;
  const measure = sized && jsonSizeBound(encoded, encoding) > settings.maxPayloadBytes;
  if (shallow && !measure) return value;
  checkPayloadBounds(
    value,
    measure
      ? { maxDepth: settings.maxPayloadDepth, maxBytes: settings.maxPayloadBytes }
      : { maxDepth: settings.maxPayloadDepth },
    `${invokeWhere(hook)}: ${what}`,
  );
  return value;
}

const GLOBAL_CONTEXT_KEYS: Record<string, keyof GlobalContext> = {
  request_id: 'requestId',
  user: 'user',
  user_context: 'userContext',
  tenant_id: 'tenantId',
  server_id: 'serverId',
  content_type: 'contentType',
  state: 'state',
  metadata: 'metadata',
};

/** The invoke request's `context` (snake_case GlobalContext) → a GlobalContext, validated. */
function globalContextFrom(v: unknown, fallbackRequestId: string): GlobalContext {
  if (v === undefined || v === null) return { requestId: fallbackRequestId, state: {}, metadata: {} };
  if (!isPlainObject(v))
    throw new FfiError(RC.PARSE_ERROR, 'CPEX_ERR_INVALID_PAYLOAD', 'invoke: context must be a map');
  const out: Record<string, unknown> = { requestId: fallbackRequestId, state: {}, metadata: {} };
  for (const [k, val] of Object.entries(v)) {
    const key = GLOBAL_CONTEXT_KEYS[k];
    if (key === undefined || val === null || val === undefined) continue;
    const objectField = k === 'state' || k === 'metadata' || k === 'user_context';
    const ok = objectField
      ? isPlainObject(val)
      : k === 'user'
        ? typeof val === 'string' || isPlainObject(val)
        : typeof val === 'string';
    if (!ok)
      throw new FfiError(
        RC.PARSE_ERROR,
        'CPEX_ERR_INVALID_PAYLOAD',
        `invoke: context.${k} must be ${objectField ? 'a map' : k === 'user' ? 'a string or a map' : 'a string'}`,
      );
    out[key] = val;
  }
  return out as unknown as GlobalContext;
}

let handleCounter = Math.floor(Math.random() * 0x7fff_ffff) + 1;
const nextHandle = () => {
  handleCounter += 1;
  if (handleCounter >= Number.MAX_SAFE_INTEGER) handleCounter = 1;
  return handleCounter;
};
let requestCounter = 0;

/** One client connection: its handles, its in-flight count, and a writer batching each tick's answers. */
export class Connection {
  readonly handles = new Map<number, HandleEntry>();
  inflight = 0;
  closed = false;
  private readonly reader: FrameReader;

  constructor(
    private readonly server: SidecarServer,
    private readonly out: Writable,
    maxFrameBytes: number,
  ) {
    this.reader = new FrameReader(maxFrameBytes);
  }

  /** Feed received bytes. */
  receive(chunk: Buffer): void {
    this.reader.feed(chunk, this);
  }

  /** A complete frame (FrameSink). */
  frame(body: Uint8Array): void {
    this.server.dispatch(this, body);
  }

  /** A frame over the size limit, skipped (FrameSink). */
  oversize(length: number): void {
    this.send(
      {
        id: 0,
        rc: RC.INVALID_INPUT,
        error: {
          code: 'CPEX_ERR_FFI_FRAME_TOO_LARGE',
          message: `frame of ${length} bytes exceeds the limit of ${this.server.maxFrameBytes}`,
        },
      },
      'msgpack',
    );
  }

  /** Encode and write one answer (a -5 answer if it cannot be encoded). */
  send(answer: Answer, encoding: Encoding): void {
    if (this.closed) return;
    let out: Buffer;
    try {
      out = encodeFrame(answer, encoding);
    } catch (e) {
      out = encodeFrame(
        {
          id: answer.id,
          rc: RC.SERIALIZE_ERROR,
          error: {
            code: 'CPEX_ERR_INVALID_RESULT',
            message: `the answer could not be encoded: ${e instanceof Error ? e.message : String(e)}`,
          },
        },
        encoding,
      );
    }
    const bodyBytes = out.length - FRAME_HEADER_BYTES;
    if (bodyBytes > this.server.maxFrameBytes) {
      out = encodeFrame(
        {
          id: answer.id,
          rc: RC.SERIALIZE_ERROR,
          error: {
            code: 'CPEX_ERR_FFI_FRAME_TOO_LARGE',
            message: `the answer (${bodyBytes} bytes) exceeds the frame limit of ${this.server.maxFrameBytes}`,
          },
        },
        encoding,
      );
    }
    this.write(out);
  }

  /**
   * Write one finished frame. While other calls of the connection are in flight, frames finished
   * in the same tick are held and leave together in one write at the end of the tick (one buffer:
   * frames that are neighbours in the encoder's slab are one view of it, others are joined); the
   * only answer due is written at once (no batching to wait for).
   */
  write(frame: Buffer): void {
    if (this.closed) return;
    if (this.held.length === 0 && this.inflight === 0) {
      this.out.write(frame);
      return;
    }
    if (this.held.length === 0) process.nextTick(this.flush);
    this.held.push(frame);
    this.heldBytes += frame.length;
  }

  private held: Buffer[] = [];
  private heldBytes = 0;

  private readonly flush = (): void => {
    const frames = this.held;
    const bytes = this.heldBytes;
    this.held = [];
    this.heldBytes = 0;
    if (this.closed || frames.length === 0) return;
    const joined = frames.length === 1 ? frames[0]! : joinFrames(frames, bytes);
    if (joined !== undefined) {
      this.out.write(joined);
      return;
    }
    // large answers in separate buffers: handed over as they are (no copy), in one corked write
    const socket = this.out as Writable & { cork?: () => void; uncork?: () => void };
    socket.cork?.();
    for (const f of frames) this.out.write(f);
    socket.uncork?.();
  };

  /** Drop every handle (connection closed): owned managers are shut down. */
  release(): void {
    this.closed = true;
    for (const [h, entry] of this.handles) {
      this.handles.delete(h);
      if (entry.kind === 'manager' && !entry.m.shared) this.server.track(disposeManaged(entry.m));
    }
  }
}

/** Above this many bytes, answers in separate buffers are not copied into one. */
const JOIN_COPY_MAX = 256 * 1024;

/**
 * Frames as one buffer: one view when they lie end to end in the same memory, else a copy (up to
 * JOIN_COPY_MAX bytes; undefined above, when they are written as they are).
 */
function joinFrames(frames: Buffer[], bytes: number): Buffer | undefined {
  const first = frames[0]!;
  let next = first.byteOffset + first.length;
  for (let i = 1; i < frames.length; i++) {
    const f = frames[i]!;
    if (f.buffer !== first.buffer || f.byteOffset !== next)
      return bytes <= JOIN_COPY_MAX ? Buffer.concat(frames, bytes) : undefined;
    next += f.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, bytes);
}

async function disposeManaged(m: ManagedManager): Promise<void> {
  await m.manager.shutdown().catch(() => {});
  for (const h of m.hosts) await h.dispose().catch(() => {});
}

/** The sidecar: managers by handle, operations by name. */
export class SidecarServer {
  readonly maxFrameBytes: number;
  readonly callTimeoutMs: number;
  private readonly drainTimeoutMs: number;
  private readonly cwd: string;
  private readonly env: Record<string, string | undefined>;
  private readonly logger: Logger;
  private readonly connections = new Set<Connection>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly listeners: net.Server[] = [];
  private readonly socketPaths: string[] = [];
  private shared: { handle: number; m: ManagedManager } | undefined;
  private draining = false;
  private inflightTotal = 0;
  private drained: (() => void) | undefined;
  private readonly ops: Record<string, Op>;
  /** Calls waiting for their deadline, oldest first (a list: no hashing per call). */
  private deadlineHead: Call | undefined;
  private deadlineTail: Call | undefined;
  private sweep: NodeJS.Timeout | undefined;

  constructor(private readonly options: SidecarOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.callTimeoutMs = options.callTimeoutMs ?? 60_000;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.cwd = options.cwd ?? process.cwd();
    this.env = options.env ?? process.env;
    this.logger = options.logger ?? silentLogger;
    this.ops = {
      version: () => this.version(),
      load_config: (c, r) => this.loadConfig(c, r),
      initialize: async (c, r) => {
        const m = this.manager(c, r);
        if (!m.manager.initialized) await m.manager.initialize();
        return {};
      },
      shutdown: async (c, r) => {
        const h = handleField(r, 'manager')!;
        const m = this.manager(c, r);
        if (m.shared) return {};
        c.handles.delete(h);
        for (const [k, e] of c.handles) if (e.kind !== 'manager' && e.manager === h) c.handles.delete(k);
        await disposeManaged(m);
        return {};
      },
      is_initialized: (c, r) => ({ value: this.manager(c, r).manager.initialized }),
      has_hooks_for: (c, r) => {
        const m = this.manager(c, r).manager;
        const hook = str(r, 'hook')!;
        return {
          value: m.initialized ? m.hasHooksFor(hook) : configured(m).some((e) => e.hooks.includes(hook)),
        };
      },
      plugin_count: (c, r) => {
        const m = this.manager(c, r).manager;
        return { value: m.initialized ? m.pluginCount : configured(m).length };
      },
      plugin_names: (c, r) => {
        const m = this.manager(c, r).manager;
        return { value: m.initialized ? m.pluginNames() : configured(m).map((e) => e.name) };
      },
      invoke: (c, r, arrival, call) => this.invoke(c, r, arrival, call),
      background_wait: async (c, r) => {
        const h = handleField(r, 'background')!;
        const e = c.handles.get(h);
        if (e?.kind !== 'background') throw invalidHandle('background', h);
        c.handles.delete(h);
        const errors = await e.work.wait();
        return { errors: errors.map(errorToWire) };
      },
      background_free: (c, r) => this.free(c, r, 'background'),
      context_table_free: (c, r) => this.free(c, r, 'context_table'),
      free: () => ({}),
      stats: (c) => ({ ...this.stats(), connection_handles: c.handles.size - (this.shared ? 1 : 0) }),
      context_table_get: (c, r) => {
        const h = handleField(r, 'context_table')!;
        const e = c.handles.get(h);
        if (e?.kind !== 'context_table') throw invalidHandle('context_table', h);
        return { request_id: e.table.requestId, table: e.table.toJSON() };
      },
    };
  }

  /** Preload the shared manager (`--config`). */
  async start(): Promise<void> {
    if (this.options.config === undefined) return;
    const file = path.resolve(this.cwd, this.options.config);
    const yaml = readFileSync(file, 'utf8');
    const m = await this.createManaged(yaml, path.dirname(file), file);
    m.shared = true;
    try {
      await m.manager.initialize();
    } catch (e) {
      await disposeManaged(m);
      throw e;
    }
    this.shared = { handle: nextHandle(), m };
  }

  /** Serve one duplex byte stream (a socket, or stdin/stdout). */
  attach(input: Readable, output: Writable): Connection {
    const conn = new Connection(this, output, this.maxFrameBytes);
    this.connections.add(conn);
    if (this.shared) conn.handles.set(this.shared.handle, { kind: 'manager', m: this.shared.m });
    const done = () => {
      if (!this.connections.delete(conn)) return;
      conn.release();
    };
    input.on('data', (chunk: Buffer) => conn.receive(chunk));
    input.on('end', done);
    input.on('close', done);
    input.on('error', done);
    output.on('error', done);
    return conn;
  }

  /** Listen on a Unix socket created with mode 0600 (a stale socket file is replaced). */
  async listen(socketPath: string): Promise<void> {
    const file = path.resolve(this.cwd, socketPath);
    if (existsSync(file)) {
      if (!lstatSync(file).isSocket()) throw new Error(`${file} exists and is not a socket`);
      const alive = await new Promise<boolean>((resolve) => {
        const probe = net.connect(file);
        probe.once('connect', () => {
          probe.destroy();
          resolve(true);
        });
        probe.once('error', () => resolve(false));
      });
      if (alive) throw new Error(`another process is listening on ${file}`);
      unlinkSync(file);
    }
    const server = net.createServer((socket) => {
      socket.setNoDelay?.(true);
      this.attach(socket, socket);
    });
    const previous = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(file, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(previous);
    }
    chmodSync(file, 0o600);
    this.listeners.push(server);
    this.socketPaths.push(file);
  }

  /** Counts for tests and diagnostics. */
  stats(): { connections: number; handles: number; inflight: number } {
    let handles = 0;
    for (const c of this.connections) handles += c.handles.size - (this.shared ? 1 : 0);
    return { connections: this.connections.size, handles, inflight: this.inflightTotal };
  }

  /** Keep a background promise (manager disposal) so close() can wait for it. */
  track(p: Promise<unknown>): void {
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  /**
   * Stop accepting, let calls in flight finish (up to drainTimeoutMs; new requests answer -4),
   * then shut every manager down and remove the socket files.
   */
  async close(): Promise<void> {
    this.draining = true;
    for (const l of this.listeners) l.close();
    if (this.inflightTotal > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.drainTimeoutMs);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const c of [...this.connections]) {
      this.connections.delete(c);
      c.release();
    }
    if (this.shared) this.track(disposeManaged(this.shared.m));
    await Promise.allSettled([...this.background]);
    for (const f of this.socketPaths) {
      try {
        unlinkSync(f);
      } catch {
        // already gone
      }
    }
  }

  /** Decode one frame and answer it (asynchronously; requests never wait for each other). */
  dispatch(conn: Connection, body: Uint8Array): void {
    const encoding = encodingOf(body);
    const arrival: Arrival = { encoding, bytes: body.length, depth: -1 };
    let req: Request;
    try {
      const msg = decodeBody(body, encoding, newRequest);
      arrival.depth = lastBodyDepth();
      if (!isPlainObject(msg)) throw bad('a request must be a map');
      const id = msg.id;
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)
        throw bad('a request needs an id (a non-negative integer)');
      if (typeof msg.op !== 'string') {
        conn.send(
          {
            id,
            rc: RC.INVALID_INPUT,
            error: { code: 'CPEX_ERR_FFI_FRAME', message: 'a request needs an op (a string)' },
          },
          encoding,
        );
        return;
      }
      req = msg as Request;
    } catch (e) {
      const err = e instanceof FfiError ? e : undecodable(e);
      const id = e instanceof FfiError ? 0 : peekId(body, encoding);
      conn.send({ id, rc: err.rc, error: { code: err.code, message: err.message } }, encoding);
      return;
    }
    if (req.free_context_tables !== undefined || req.free_backgrounds !== undefined) releaseListed(conn, req);
    const op = this.ops[req.op];
    if (op === undefined) {
      conn.send(
        {
          id: req.id,
          rc: RC.INVALID_INPUT,
          error: {
            code: 'CPEX_ERR_FFI_UNKNOWN_OP',
            message: `unknown op ${JSON.stringify(req.op).slice(0, 80)}`,
          },
        },
        encoding,
      );
      return;
    }
    if (this.draining) {
      conn.send(
        {
          id: req.id,
          rc: RC.PIPELINE_ERROR,
          error: { code: 'CPEX_ERR_SHUT_DOWN', message: 'the sidecar is shutting down' },
        },
        encoding,
      );
      return;
    }
    conn.inflight += 1;
    this.inflightTotal += 1;
    const call = new Call(this, conn, req, encoding);
    try {
      const out = op(conn, req, arrival, call);
      if (out === undefined) {
        if (!call.answered) this.await(call);
      } else if (out instanceof Promise) {
        this.await(call);
        out.then(
          (a) => call.done(a),
          (e: unknown) => call.fail(e),
        );
      } else {
        call.done(out);
      }
    } catch (e) {
      call.fail(e);
    }
  }

  /** Track an asynchronous call's deadline. */
  private await(call: Call): void {
    call.at = Date.now() + this.callTimeoutMs;
    call.prev = this.deadlineTail;
    if (this.deadlineTail) this.deadlineTail.next = call;
    else this.deadlineHead = call;
    this.deadlineTail = call;
    this.armSweep();
  }

  /** A call answered (or timed out): stop tracking it. */
  settled(call: Call, conn: Connection): void {
    if (call.at !== 0) {
      if (call.prev) call.prev.next = call.next;
      else this.deadlineHead = call.next;
      if (call.next) call.next.prev = call.prev;
      else this.deadlineTail = call.prev;
      call.prev = call.next = undefined;
      call.at = 0;
    }
    conn.inflight -= 1;
    this.inflightTotal -= 1;
    if (this.inflightTotal === 0) this.drained?.();
  }

  /** A timed-out call's late answer: the client never learns its handles, so free them now. */
  orphaned(conn: Connection, req: Request, a: Answer): void {
    for (const key of ['context_table', 'background'] as const)
      if (typeof a[key] === 'number') conn.handles.delete(a[key] as number);
    if (req.op === 'load_config' && req.manager === undefined && typeof a.manager === 'number') {
      const e = conn.handles.get(a.manager);
      conn.handles.delete(a.manager);
      if (e?.kind === 'manager') this.track(disposeManaged(e.m));
    }
  }

  /** One timer for every call's deadline (a timer per call costs more than a small invoke). */
  private armSweep(): void {
    if (this.sweep !== undefined) return;
    const every = Math.max(10, Math.min(1000, Math.floor(this.callTimeoutMs / 4)));
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (let c = this.deadlineHead; c !== undefined; ) {
        const next = c.next; // expire() unlinks c
        if (c.at <= now) c.expire();
        c = next;
      }
      if (this.deadlineHead === undefined) {
        clearInterval(this.sweep);
        this.sweep = undefined;
      }
    }, every);
    this.sweep.unref();
  }

  private version(): Answer {
    return {
      protocol: PROTOCOL_VERSION,
      rust_abi: RUST_FFI_ABI_VERSION,
      server: `@cpex/ffi ${packageVersion()}`,
      shared_manager: this.shared?.handle ?? null,
      max_frame_bytes: this.maxFrameBytes,
      encodings: ['msgpack', 'json'],
    };
  }

  private manager(conn: Connection, req: Request): ManagedManager {
    const h = handleField(req, 'manager')!;
    const e = conn.handles.get(h);
    if (e?.kind !== 'manager') throw invalidHandle('manager', h);
    return e.m;
  }

  private free(conn: Connection, req: Request, kind: 'background' | 'context_table'): Answer {
    const h = handleField(req, kind)!;
    const e = conn.handles.get(h);
    if (e?.kind !== kind) throw invalidHandle(kind, h);
    conn.handles.delete(h);
    return {};
  }

  private async createManaged(yaml: string, baseDir: string, file?: string): Promise<ManagedManager> {
    const manager = new PluginManager({ logger: this.logger, env: this.env });
    await manager.loadConfigText(yaml, { baseDir, ...(file ? { file } : {}) });
    const kinds = manager.config?.entries.map((e) => e.kind) ?? [];
    // The installed hosts the kinds need (resolved from here: they are optional peers of @cpex/ffi).
    const hosts = await registerNeededHosts(manager, kinds, {
      importer: (pkg) => import(pkg),
      options: (pkg) =>
        pkg === '@cpex/host-python' && this.env.CPEX_PYTHON ? { python: this.env.CPEX_PYTHON } : {},
    });
    return { manager, hosts, shared: false };
  }

  private async loadConfig(conn: Connection, req: Request): Promise<Answer> {
    const yaml = str(req, 'yaml')!;
    const baseDir = path.resolve(this.cwd, str(req, 'base_dir', true) ?? '.');
    const replace = handleField(req, 'manager', true);
    if (replace !== undefined) {
      const e = conn.handles.get(replace);
      if (e?.kind !== 'manager') throw invalidHandle('manager', replace);
      if (e.m.shared || e.m.manager.initialized)
        throw new FfiError(
          RC.PIPELINE_ERROR,
          'CPEX_ERR_INVALID_ARGUMENT',
          'load_config: the manager is already initialized (or shared); load into a new handle',
        );
    }
    const m = await this.createManaged(yaml, baseDir);
    if (conn.closed) {
      this.track(disposeManaged(m));
      throw invalidHandle('connection', 0);
    }
    if (replace !== undefined) {
      const old = conn.handles.get(replace);
      conn.handles.set(replace, { kind: 'manager', m });
      if (old?.kind === 'manager') this.track(disposeManaged(old.m));
      return { manager: replace };
    }
    const h = nextHandle();
    conn.handles.set(h, { kind: 'manager', m });
    return { manager: h };
  }

  /**
   * Validates synchronously (a bad request throws before any work), then runs the pipeline and
   * answers through the call (one promise hop; the common answer is written from precomputed parts).
   */
  private invoke(conn: Connection, req: Request, arrival: Arrival, call: Call): undefined {
    const mh = handleField(req, 'manager')!;
    const m = this.manager(conn, req);
    const hook = str(req, 'hook')!;
    if (hook === '') throw bad('invoke: hook must not be empty');
    const declared = req.payload_type ?? PAYLOAD_TYPE_GENERIC;
    if (
      declared !== PAYLOAD_TYPE_GENERIC &&
      declared !== PAYLOAD_TYPE_CMF_MESSAGE &&
      declared !== PAYLOAD_TYPE_IDENTITY
    )
      throw new FfiError(
        RC.PARSE_ERROR,
        'CPEX_ERR_INVALID_PAYLOAD',
        `invoke: unknown payload_type ${JSON.stringify(declared)} (0 generic, 1 CMF, 2 identity)`,
      );
    // The input context table is consumed whatever happens next (as Rust's cpex_invoke).
    const ctHandle = handleField(req, 'context_table', true);
    let previous: ContextTable | undefined;
    if (ctHandle !== undefined) {
      const e = conn.handles.get(ctHandle);
      if (e?.kind !== 'context_table') throw invalidHandle('context_table', ctHandle);
      conn.handles.delete(ctHandle);
      previous = e.table;
    }
    const settings = m.manager.settings;
    let payload = ingressValue(req.payload ?? null, 'payload', settings, arrival, hook, true);
    const extRaw = ingressValue(req.extensions, 'extensions', settings, arrival, hook, false);
    if (req.context !== undefined && req.context !== null && !withinDepth(arrival, settings))
      checkPayloadBounds(
        req.context,
        { maxDepth: settings.maxPayloadDepth },
        `${invokeWhere(hook)}: context`,
      );
    const def = m.manager.hooks.get(hook);
    const payloadType = def?.payloadType ?? declared;
    if (declared !== PAYLOAD_TYPE_GENERIC && def !== undefined && def.payloadType !== declared)
      throw new FfiError(
        RC.PARSE_ERROR,
        'CPEX_ERR_INVALID_PAYLOAD',
        `invoke: hook ${hook} takes payload_type ${def.payloadType}, not ${declared}`,
      );
    const schema =
      def?.payloadSchema ??
      (declared === PAYLOAD_TYPE_CMF_MESSAGE
        ? MessagePayloadSchema
        : declared === PAYLOAD_TYPE_IDENTITY
          ? IdentityPayloadSchema
          : undefined);
    // Plugins get the parsed value: known fields only, as Rust's typed payloads (no defaults added).
    // A value proven to pass and to parse to itself is the parsed value (see proven.ts).
    if (schema !== undefined && provenCheck(schema)?.(payload) !== true) {
      const parsed = schema.safeParse(payload);
      if (!parsed.success) {
        const { message } = summarizeZodError(parsed.error, 'payload');
        throw new FfiError(
          RC.PARSE_ERROR,
          'CPEX_ERR_INVALID_PAYLOAD',
          `invoke: invalid payload for ${hook}: ${message}`,
        );
      }
      payload = parsed.data;
    }
    let extensions: Extensions | undefined;
    if (extRaw !== undefined && extRaw !== null) {
      const ext = ingressExtensions(extRaw, hook);
      if (ext instanceof CpexError) throw ext;
      extensions = ext;
    }
    const fallbackId =
      previous?.requestId ??
      (extensions?.request?.request_id as string | undefined) ??
      `ffi-${process.pid}-${++requestCounter}`;
    const globalContext = globalContextFrom(req.context, fallbackId);
    const options = extensions
      ? { globalContext, contextTable: previous ?? null, extensions }
      : { globalContext, contextTable: previous ?? null };
    m.manager.invoke(hook, payload as never, options).then(
      (result) => this.invoked(call, mh, m.manager, hook, payloadType, globalContext, result),
      (e: unknown) => call.fail(e),
    );
    return undefined;
  }

  /** An invoke's pipeline finished: hand out its handles and answer. */
  private invoked(
    call: Call,
    mh: number,
    manager: PluginManager,
    hook: string,
    payloadType: number,
    globalContext: GlobalContext,
    result: PipelineResult<unknown>,
  ): void {
    if (call.answered) return; // timed out: the client never learns handles, so none are made
    const { conn, req } = call;
    let contextTable: number | undefined;
    let background: number | undefined;
    if (!conn.closed && conn.handles.has(mh)) {
      if (result.contextTable instanceof ContextTable) {
        contextTable = nextHandle();
        conn.handles.set(contextTable, { kind: 'context_table', table: result.contextTable, manager: mh });
      }
      if (runsInBackground(manager, hook)) {
        background = nextHandle();
        conn.handles.set(background, { kind: 'background', work: result.background, manager: mh });
      }
    }
    const context =
      req.context !== undefined && req.context !== null
        ? { state: globalContext.state, metadata: globalContext.metadata }
        : undefined;
    if (call.encoding === 'msgpack') {
      let frame: Buffer | undefined;
      try {
        frame = invokeAnswerFrame(req.id, result, payloadType, { contextTable, background, context });
      } catch {
        frame = undefined; // the answer map below reports what cannot be encoded (-5)
      }
      if (frame !== undefined && frame.length - FRAME_HEADER_BYTES <= this.maxFrameBytes) {
        call.doneFrame(frame);
        return;
      }
    }
    const answer: Answer = { result: resultEnvelope(result, payloadType, call.encoding) };
    if (contextTable !== undefined) answer.context_table = contextTable;
    if (background !== undefined) answer.background = background;
    if (context !== undefined) answer.context = context;
    call.done(answer);
  }
}

const backgroundHooks = new WeakMap<object, Set<string>>();

/** Whether a hook has fire-and-forget plugins in the manager's config (cached per config). */
function runsInBackground(m: PluginManager, hook: string): boolean {
  const config = m.config;
  if (config === undefined) return true;
  let hooks = backgroundHooks.get(config);
  if (hooks === undefined) {
    hooks = new Set(config.entries.filter((e) => e.mode === 'fire_and_forget').flatMap((e) => e.hooks));
    backgroundHooks.set(config, hooks);
  }
  return hooks.has(hook);
}

/** Before initialize(), the plugins of the loaded config (as Rust answers after load_config). */
function configured(m: PluginManager): Array<{ name: string; hooks: string[] }> {
  return (m.config?.entries ?? []).filter((e) => e.mode !== 'disabled');
}

/** `free_context_tables` / `free_backgrounds` on any request: handles the client is done with. */
function releaseListed(conn: Connection, req: Request): void {
  releaseAll(conn, req.free_context_tables, 'context_table');
  releaseAll(conn, req.free_backgrounds, 'background');
}

function releaseAll(conn: Connection, list: unknown, kind: 'context_table' | 'background'): void {
  if (!Array.isArray(list)) return;
  for (const h of list) {
    if (typeof h === 'number' && conn.handles.get(h)?.kind === kind) conn.handles.delete(h);
  }
}

function invalidHandle(kind: string, h: number): FfiError {
  return new FfiError(
    RC.INVALID_HANDLE,
    'CPEX_ERR_FFI_INVALID_HANDLE',
    `no ${kind} with handle ${h} on this connection`,
  );
}

let cachedVersion: string | undefined;
function packageVersion(): string {
  if (cachedVersion === undefined) {
    try {
      cachedVersion = (
        JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
      ).version;
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}

/**
 * `isolation: none`: the library runs inside the gateway process, each call on a libuv
 * thread-pool thread through koffi's async calls, so a slow plugin never blocks the event loop.
 *
 * What this cannot protect against (docs/hosts/native.md): a crash (segfault, abort) takes the
 * gateway down; a call that ignores its cancel flag keeps its thread after the timeout (the
 * manager has stopped waiting, the thread is still busy); memory the plugin corrupts is the
 * gateway's. Calls of one instance are serialized, so one hung plugin holds at most one thread,
 * and the host refuses more in-process native plugins than the pool has threads.
 */
import {
  CpexError,
  describeSparse,
  type Extensions,
  findSparse,
  type PluginContext,
  type PluginResult,
} from '@cpex/core/host';
import type { Decoder, Encoder } from '@msgpack/msgpack';
import { koffi, type NativeLibrary, STATUS } from './abi.js';
import { decodeResult, encodeMsgpack, makeDecoder, makeEncoder, requestObject, type Where } from './wire.js';

/** One-at-a-time lane with abortable waiting (calls of one plugin instance are serialized). */
export class Lane {
  private busy = false;
  private readonly waiters: Array<() => void> = [];

  acquire(signal: AbortSignal | undefined, onAbort: () => Error): Promise<void> | undefined {
    if (!this.busy) {
      this.busy = true;
      return undefined;
    }
    return new Promise((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', abort);
        resolve();
      };
      const abort = () => {
        const i = this.waiters.indexOf(go);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(onAbort());
      };
      if (signal?.aborted) return reject(onAbort());
      signal?.addEventListener('abort', abort, { once: true });
      this.waiters.push(go);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.busy = false;
  }

  /** Resolves when nothing holds the lane (bounded by `ms`); true when idle. */
  async idle(ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (this.busy && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return !this.busy;
  }

  get held(): boolean {
    return this.busy;
  }
}

/** Options of one in-process instance. */
export interface InProcessSpec {
  pluginName: string;
  library: NativeLibrary;
  config: Record<string, unknown> | null;
  maxPayloadBytes: number;
  maxPayloadDepth: number;
  payloadTypeOf(hook: string): number;
  shutdownTimeoutMs: number;
}

/** Reads `len` bytes at `ptr` (a copy) and frees the library's buffer. */
function takeBuffer(lib: NativeLibrary, ptr: unknown, len: number, copy: boolean): Uint8Array | undefined {
  if (ptr === null || ptr === undefined) return undefined;
  try {
    if (!copy || len === 0) return undefined;
    return new Uint8Array(koffi().view(ptr, len)).slice();
  } finally {
    lib.free(ptr, len);
  }
}

const MAX_ERROR_MESSAGE = 64 * 1024;

/** A library-provided error message, bounded. */
export function errorText(bytes: Uint8Array | undefined, status: number): string {
  if (!bytes || bytes.length === 0) return `status ${status}`;
  return Buffer.from(bytes.subarray(0, MAX_ERROR_MESSAGE)).toString('utf8');
}

/** One config entry of a native library running in the gateway process. */
export class InProcessNative {
  private state: unknown = null;
  private initialized = false;
  private closed = false;
  private readonly lane = new Lane();
  private readonly decoder: Decoder;
  private readonly encoder: Encoder;
  /** The cancel flag handed to every invoke (one per instance: calls are serialized). */
  private readonly cancel: unknown;

  constructor(private readonly spec: InProcessSpec) {
    this.decoder = makeDecoder(spec.maxPayloadBytes);
    this.encoder = makeEncoder(spec.maxPayloadDepth);
    this.cancel = koffi().alloc('int32_t', 1);
  }

  /** Runs `cpex_plugin_init` with the entry's config (off the event loop). */
  async initialize(): Promise<void> {
    if (this.initialized) return;
    const { library, pluginName } = this.spec;
    const config = encodeMsgpack(this.spec.config ?? {});
    const state: unknown[] = [null];
    const err: unknown[] = [null];
    const errLen: number[] = [0];
    const rc = await new Promise<number>((resolve, reject) =>
      library.init.async(config, config.length, state, err, errLen, (e: Error | null, r: number) =>
        e ? reject(e) : resolve(r),
      ),
    );
    const message = takeBuffer(library, err[0], errLen[0] ?? 0, rc !== STATUS.OK);
    if (rc !== STATUS.OK) {
      throw new CpexError(
        'CPEX_ERR_PLUGIN_LOAD',
        `native plugin "${pluginName}" (${library.path}): cpex_plugin_init failed: ${errorText(message, rc)}`,
        { plugin: pluginName, details: { path: library.path, status: rc } },
      );
    }
    this.state = state[0] ?? null;
    this.initialized = true;
  }

  /** One hook call: encode, wait for the lane, invoke on the pool, decode. */
  async call(
    hook: string,
    payload: unknown,
    context: PluginContext,
    extensions: Extensions | undefined,
  ): Promise<PluginResult> {
    const { library, pluginName, maxPayloadBytes } = this.spec;
    const where: Where = { plugin: pluginName, hook };
    if (this.closed)
      throw new CpexError('CPEX_ERR_SHUT_DOWN', `native plugin "${pluginName}" is shut down`, { ...where });
    if (!this.initialized) await this.initialize();
    const request = encodeRequest(
      hook,
      pluginName,
      this.spec.payloadTypeOf(hook),
      payload,
      context,
      extensions,
      where,
      this.encoder,
      this.spec.maxPayloadDepth,
    );
    if (request.length > maxPayloadBytes) throw tooLarge('request', request.length, maxPayloadBytes, where);
    const signal = context.signal;
    const aborted = () =>
      new CpexError('CPEX_ERR_ABORTED', `native plugin "${pluginName}" on ${hook}: call aborted`, {
        ...where,
      });
    const wait = this.lane.acquire(signal, aborted);
    if (wait) await wait;
    const k = koffi();
    k.encode(this.cancel, 'int32_t', 0);
    const out: unknown[] = [null];
    const outLen: number[] = [0];
    return new Promise<PluginResult>((resolve, reject) => {
      let settled = false;
      const onAbort = () => {
        // Tell the plugin to stop; the manager has already stopped waiting for us.
        k.encode(this.cancel, 'int32_t', 1);
        if (!settled) {
          settled = true;
          reject(aborted());
        }
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      library.invoke.async(
        this.state,
        request,
        request.length,
        this.cancel,
        out,
        outLen,
        (e: Error | null, rc: number) => {
          signal.removeEventListener('abort', onAbort);
          let bytes: Uint8Array | undefined;
          let failure: Error | undefined;
          try {
            const len = outLen[0] ?? 0;
            const tooBig = rc === STATUS.OK && len > maxPayloadBytes;
            bytes = takeBuffer(library, out[0], len, !settled && !tooBig);
            if (e) failure = e;
            else if (tooBig)
              failure = tooLarge('result', len, maxPayloadBytes, where, 'CPEX_ERR_RESPONSE_TOO_LARGE');
          } catch (err) {
            failure = err as Error;
          } finally {
            this.lane.release();
          }
          if (settled) return;
          settled = true;
          if (failure) return reject(failure);
          if (rc !== STATUS.OK) {
            return reject(
              new CpexError(
                rc === STATUS.CANCELLED ? 'CPEX_ERR_ABORTED' : 'CPEX_ERR_PLUGIN_EXCEPTION',
                `native plugin "${pluginName}" on ${hook}: ${errorText(bytes, rc)}`,
                { ...where, details: { status: rc } },
              ),
            );
          }
          if (!bytes)
            return reject(
              new CpexError(
                'CPEX_ERR_INVALID_RESULT',
                `native plugin "${pluginName}" on ${hook}: returned CPEX_OK without a result buffer`,
                { ...where },
              ),
            );
          try {
            resolve(decodeResult(bytes, this.decoder, this.spec.maxPayloadDepth, context, where));
          } catch (err) {
            reject(err);
          }
        },
      );
    });
  }

  /**
   * Waits (bounded) for a call in flight, then runs `cpex_plugin_shutdown`. A call still hung
   * after the bound keeps the state alive (freeing it under a running call would crash).
   */
  async shutdown(): Promise<boolean> {
    if (this.closed) return true;
    this.closed = true;
    const idle = await this.lane.idle(this.spec.shutdownTimeoutMs);
    if (this.initialized && idle) {
      await new Promise<void>((resolve) => this.spec.library.shutdown.async(this.state, () => resolve()));
      this.initialized = false;
      koffi().free(this.cancel);
    }
    return idle;
  }

  /** True while a call holds this instance's thread. */
  get busy(): boolean {
    return this.lane.held;
  }
}

export function encodeRequest(
  hook: string,
  pluginName: string,
  payloadType: number,
  payload: unknown,
  context: PluginContext,
  extensions: Extensions | undefined,
  where: Where,
  encoder: Encoder,
  maxDepth: number,
): Uint8Array {
  try {
    const request = requestObject(hook, pluginName, payloadType, payload, context, extensions);
    // The encoder visits every index of an array: one with holes is refused before it does.
    const sparse = findSparse(request);
    if (sparse) {
      throw new CpexError(
        'CPEX_ERR_INVALID_PAYLOAD',
        `native plugin "${where.plugin}" on ${hook}: the request holds ${describeSparse(sparse)} at ${sparse.path}`,
        { ...where, path: sparse.path },
      );
    }
    return encodeMsgpack(request, encoder);
  } catch (e) {
    if (e instanceof CpexError) throw e;
    if (/too deep/i.test((e as Error).message)) {
      throw new CpexError(
        'CPEX_ERR_PAYLOAD_TOO_DEEP',
        `native plugin "${where.plugin}" on ${hook}: the request nests deeper than max_payload_depth ${maxDepth}`,
        { ...where, cause: e },
      );
    }
    throw new CpexError(
      'CPEX_ERR_INVALID_PAYLOAD',
      `native plugin "${where.plugin}" on ${hook}: the request cannot be encoded as MessagePack (${(e as Error).message})`,
      { ...where, cause: e },
    );
  }
}

export function tooLarge(
  what: 'request' | 'result',
  size: number,
  max: number,
  where: Where,
  code: 'CPEX_ERR_PAYLOAD_TOO_LARGE' | 'CPEX_ERR_RESPONSE_TOO_LARGE' = 'CPEX_ERR_PAYLOAD_TOO_LARGE',
): CpexError {
  return new CpexError(
    code,
    `native plugin "${where.plugin}" on ${where.hook}: ${what} of ${size} bytes exceeds max_payload_bytes ${max}`,
    {
      ...where,
      details: { size, max },
    },
  );
}

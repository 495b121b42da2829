/**
 * The piscina worker: keeps one guest per plugin key and runs handle-hook calls. A timed-out
 * call gets this whole thread terminated by the host (V8 interrupts wasm loops), and piscina
 * starts a fresh one; the guests re-instantiate from the on-disk cache.
 *
 * Warm state is per thread: the host announces every live plugin on a BroadcastChannel (named in
 * `workerData.channel`). A thread starting up asks for the list and instantiates every guest
 * BEFORE piscina marks it ready (the default export is a promise), so no call ever lands on a
 * cold thread, a replacement included; a running thread instantiates a newly announced plugin as
 * soon as it is idle, and answers `warmed` so initialize() can wait for it. A plugin's `drop`
 * reaches every thread.
 */
import { BroadcastChannel, threadId, workerData } from 'node:worker_threads';
import {
  CALL_RETURNED,
  CALL_STARTED,
  type GuestSpec,
  GuestInstance,
  isGuestFailure,
  type LogLine,
} from './runtime.js';

export interface WorkerTask {
  /** The plugin instance (GuestSpec.key). */
  key: string;
  /**
   * Sent only when the thread asked for it (`needSpec`): calls carry the key alone, the thread
   * knows the spec from the warm-state channel (cloning the spec on every call cost about a
   * quarter of the host's CPU in the throughput bench).
   */
  spec?: GuestSpec;
  args: [string, unknown, unknown, unknown];
  /**
   * Set to 1 (and notified) when the guest is instantiated and the call starts: the host's time
   * limit counts from there. Set to 2 when the call has returned: a limit that expires while the
   * answer is on its way (a loaded machine) no longer stops it.
   */
  started?: SharedArrayBuffer;
}

/** `cold`: this thread had to instantiate the guest for this call (it was not warmed ahead). */
export type WorkerAnswer =
  | { ok: true; result: unknown; logs: LogLine[]; cold?: true }
  | { ok: false; needSpec: true }
  | {
      ok: false;
      failure: { kind: string; message: string; stderr: string };
      logs: LogLine[];
      cold?: true;
    };

/** Messages on the host's warm-state channel. */
export type WarmMessage =
  | { hello: number }
  | { specs: GuestSpec[]; to: number }
  | { warm: GuestSpec }
  | { warmed: string; thread: number }
  | { drop: string };

/** What the host passes as piscina's `workerData`. */
export interface WorkerData {
  channel: string;
  /** How long a starting thread waits for the host's list of plugins (ms). */
  helloTimeoutMs: number;
}

const guests = new Map<string, Promise<GuestInstance>>();
/** Specs announced on the warm-state channel, by key. */
const specs = new Map<string, GuestSpec>();

function guestFor(spec: GuestSpec): Promise<GuestInstance> {
  let g = guests.get(spec.key);
  if (!g) {
    g = GuestInstance.create(spec);
    g.catch(() => guests.delete(spec.key));
    guests.set(spec.key, g);
  }
  return g;
}

async function run(task: WorkerTask): Promise<WorkerAnswer> {
  let guest: GuestInstance | undefined;
  const flag = task.started ? new Int32Array(task.started) : undefined;
  const cold = guests.has(task.key) ? {} : { cold: true as const };
  let pending = guests.get(task.key);
  if (!pending) {
    const spec = task.spec ?? specs.get(task.key);
    if (!spec) return { ok: false, needSpec: true };
    pending = guestFor(spec);
  }
  try {
    guest = await pending;
    if (flag) {
      Atomics.store(flag, 0, CALL_STARTED);
      Atomics.notify(flag, 0);
    }
    const result = await guest.call(task.args);
    if (flag) Atomics.store(flag, 0, CALL_RETURNED);
    return { ok: true, result, logs: guest.takeLogs(), ...cold };
  } catch (e) {
    if (flag) Atomics.store(flag, 0, CALL_RETURNED);
    const failure = isGuestFailure(e)
      ? e
      : { kind: 'trap', message: e instanceof Error ? e.message : String(e), stderr: '' };
    return { ok: false, failure, logs: guest?.takeLogs() ?? [], ...cold };
  }
}

/** Joins the host's channel, instantiates every announced plugin, then hands piscina `run`. */
async function start(): Promise<typeof run> {
  const data = workerData as WorkerData | undefined;
  if (!data?.channel) return run;
  const channel = new BroadcastChannel(data.channel);
  (channel as unknown as { unref?: () => void }).unref?.();
  const warm = (spec: GuestSpec) =>
    guestFor(spec).then(
      () => channel.postMessage({ warmed: spec.key, thread: threadId } satisfies WarmMessage),
      () => {},
    );
  let initial: (specs: GuestSpec[]) => void = () => {};
  const listed = new Promise<GuestSpec[]>((resolve) => {
    initial = resolve;
    setTimeout(() => resolve([]), data.helloTimeoutMs).unref();
  });
  channel.onmessage = (ev: unknown) => {
    const m = (ev as { data: WarmMessage }).data;
    if ('specs' in m) {
      if (m.to === threadId) initial(m.specs);
    } else if ('warm' in m) {
      specs.set(m.warm.key, m.warm);
      void warm(m.warm);
    } else if ('drop' in m) {
      specs.delete(m.drop);
      guests.delete(m.drop);
    }
  };
  channel.postMessage({ hello: threadId } satisfies WarmMessage);
  const known = await listed;
  for (const spec of known) specs.set(spec.key, spec);
  await Promise.all(known.map(warm));
  return run;
}

export default start();

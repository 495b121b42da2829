/**
 * The piscina worker: keeps one guest per plugin key and runs handle-hook calls. A timed-out
 * call gets this whole thread terminated by the host (V8 interrupts wasm loops), and piscina
 * starts a fresh one; the guests re-instantiate from the on-disk cache.
 */
import { type GuestSpec, GuestInstance, isGuestFailure, type LogLine } from './runtime.js';

export interface WorkerTask {
  spec: GuestSpec;
  args: [string, unknown, unknown, unknown];
  /** Set to 1 (and notified) when the guest is instantiated and the call starts: the host's time limit counts from there. */
  started?: SharedArrayBuffer;
}

export type WorkerAnswer =
  | { ok: true; result: unknown; logs: LogLine[] }
  | { ok: false; failure: { kind: string; message: string; stderr: string }; logs: LogLine[] };

const guests = new Map<string, Promise<GuestInstance>>();

function guestFor(spec: GuestSpec): Promise<GuestInstance> {
  let g = guests.get(spec.key);
  if (!g) {
    g = GuestInstance.create(spec);
    g.catch(() => guests.delete(spec.key));
    guests.set(spec.key, g);
  }
  return g;
}

export default async function run(
  task: WorkerTask | { drop: string } | { warm: GuestSpec; barrier: SharedArrayBuffer; threads: number },
): Promise<WorkerAnswer | null> {
  if ('drop' in task) {
    guests.delete(task.drop);
    return null;
  }
  if ('warm' in task) {
    // Instantiate ahead so the first call on this thread does not pay for it.
    await guestFor(task.warm).catch(() => {});
    // A barrier: each warm-up task holds its thread until all of them run, so every thread of
    // the pool gets one (bounded to 10 s: threads still starting up, or one busy with a long
    // call, do not hold up initialize() for longer).
    const count = new Int32Array(task.barrier);
    Atomics.add(count, 0, 1);
    Atomics.notify(count, 0);
    const deadline = Date.now() + 10_000;
    for (
      let seen = Atomics.load(count, 0);
      seen < task.threads && Date.now() < deadline;
      seen = Atomics.load(count, 0)
    ) {
      Atomics.wait(count, 0, seen, Math.max(1, deadline - Date.now()));
    }
    return null;
  }
  let guest: GuestInstance | undefined;
  try {
    guest = await guestFor(task.spec);
    if (task.started) {
      const flag = new Int32Array(task.started);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    }
    const result = await guest.call(task.args);
    return { ok: true, result, logs: guest.takeLogs() };
  } catch (e) {
    const failure = isGuestFailure(e)
      ? e
      : { kind: 'trap', message: e instanceof Error ? e.message : String(e), stderr: '' };
    return { ok: false, failure, logs: guest?.takeLogs() ?? [] };
  }
}

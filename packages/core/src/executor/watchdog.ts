/**
 * One timer per manager (not per call or per invocation) enforces every deadline: in-flight async
 * plugin calls register here; a tick re-armed only while something is in flight rejects the calls
 * whose deadline passed. Resolution: 1/20 of the smallest timeout in flight, between 1 and 25 ms.
 */
export interface Deadline {
  deadline: number;
  timeoutMs: number;
  /** Called once when the deadline passes (rejects the waiting race, aborts the signal). */
  expire(): void;
}

export class Watchdog {
  private readonly inflight = new Set<Deadline>();
  private timer: NodeJS.Timeout | undefined;
  private minTimeoutMs = Number.POSITIVE_INFINITY;

  track(d: Deadline): void {
    this.inflight.add(d);
    if (d.timeoutMs < this.minTimeoutMs) {
      this.minTimeoutMs = d.timeoutMs;
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    }
    if (!this.timer) this.arm();
  }

  untrack(d: Deadline): void {
    this.inflight.delete(d);
  }

  get size(): number {
    return this.inflight.size;
  }

  private arm(): void {
    const period = Math.min(25, Math.max(1, Math.floor(this.minTimeoutMs / 20)));
    this.timer = setTimeout(() => this.tick(), period);
  }

  private tick(): void {
    this.timer = undefined;
    const now = performance.now();
    let min = Number.POSITIVE_INFINITY;
    for (const d of this.inflight) {
      if (now >= d.deadline) {
        this.inflight.delete(d);
        d.expire();
      } else if (d.timeoutMs < min) min = d.timeoutMs;
    }
    this.minTimeoutMs = min;
    if (this.inflight.size > 0) this.arm();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.inflight.clear();
  }
}

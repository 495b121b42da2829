/**
 * One timer per manager (not per call or per invocation) enforces every deadline. In-flight async
 * plugin calls are linked into an intrusive list (pointer writes, no Set, no hashing, no
 * allocation), and deadlines come from a coarse clock the watchdog refreshes when it arms and at
 * every tick, so starting a call reads no clock. A tick — re-armed only while something is linked —
 * expires the calls whose deadline passed. Resolution: 1/20 of the smallest timeout in flight,
 * between 1 and 25 ms; a call never expires early (its deadline carries one period of slack for
 * the coarse clock) and at most about two periods late.
 *
 * A serial phase's calls reuse one object per invocation (call.ts), and that object stays linked
 * from one call to the next: starting the next call only moves its deadline (`track` on a linked
 * call is one addition), and a settled call (`done`) that is still linked is skipped by the tick
 * and unlinked then, or by `untrack` when its invocation finishes. So a 5-plugin serial invoke
 * links once and unlinks once instead of five times each.
 */
export interface Deadline {
  deadline: number;
  /** The deadline span of this call (ms): its timeout, or the liveness backstop of a pre-emptive host. */
  spanMs: number;
  /** Settled: nothing left to expire (the tick unlinks it). */
  done: boolean;
  /** Intrusive list links, owned by the watchdog. */
  prev: Deadline | undefined;
  next: Deadline | undefined;
  /** Linked into the watchdog's list. */
  linked: boolean;
  /** Called once when the deadline of an unsettled call passes (the watchdog has already unlinked it). */
  expire(): void;
}

/** The tick period for the smallest span in flight: 1/20 of it, between 1 and 25 ms. */
function periodFor(spanMs: number): number {
  return Math.min(25, Math.max(1, Math.floor(spanMs / 20)));
}

export class Watchdog {
  #head: Deadline | undefined;
  #timer: NodeJS.Timeout | undefined;
  #period = 25;
  /** The span the current period was computed from (a call with a shorter span ticks faster). */
  #periodSpan = Number.POSITIVE_INFINITY;
  /** Coarse clock (whole ms, rounded up, performance.now() timebase), refreshed when arming and at every tick. */
  #now = 0;

  /** Start timing `d` (sets its deadline; links it unless it is linked already). */
  track(d: Deadline): void {
    const span = d.spanMs;
    if (this.#timer === undefined) {
      this.#now = Math.ceil(performance.now());
      this.#period = periodFor(span);
      this.#periodSpan = span;
      this.#arm();
    } else if (span < this.#periodSpan) {
      // A shorter timeout than any in flight: tick faster from now on.
      this.#periodSpan = span;
      const period = periodFor(span);
      if (period < this.#period) {
        this.#period = period;
        clearTimeout(this.#timer);
        this.#arm();
      }
    }
    // Never early: the coarse clock is at most one period behind.
    d.deadline = this.#now + span + this.#period;
    if (d.linked) return;
    d.linked = true;
    const h = this.#head;
    d.prev = undefined;
    d.next = h;
    if (h !== undefined) h.prev = d;
    this.#head = d;
  }

  /** Stop timing `d`. Safe to call for an unlinked or already expired call. */
  untrack(d: Deadline): void {
    if (!d.linked) return;
    d.linked = false;
    const p = d.prev;
    const n = d.next;
    if (p !== undefined) p.next = n;
    else this.#head = n;
    if (n !== undefined) n.prev = p;
    d.prev = d.next = undefined;
  }

  /** Calls linked (in flight, or settled and not unlinked yet). */
  get size(): number {
    let n = 0;
    for (let d = this.#head; d !== undefined; d = d.next) n++;
    return n;
  }

  #arm(): void {
    this.#timer = setTimeout(this.#tick, this.#period);
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    const now = (this.#now = Math.ceil(performance.now()));
    let minSpan = Number.POSITIVE_INFINITY;
    let d = this.#head;
    while (d !== undefined) {
      const next = d.next;
      if (d.done) this.untrack(d);
      else if (now >= d.deadline) {
        this.untrack(d);
        try {
          d.expire();
        } catch {
          // expire() shapes its own failures; one call's bug must not stop the others from expiring
        }
      } else if (d.spanMs < minSpan) minSpan = d.spanMs;
      d = next;
    }
    // A call tracked while this tick ran (an expired call's invocation went on) armed the timer itself.
    if (this.#timer !== undefined) return;
    if (this.#head !== undefined) {
      this.#period = periodFor(minSpan);
      this.#periodSpan = minSpan;
      this.#arm();
    } else this.#periodSpan = Number.POSITIVE_INFINITY;
  };

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (let d = this.#head; d !== undefined; ) {
      const next = d.next;
      d.linked = false;
      d.prev = d.next = undefined;
      d = next;
    }
    this.#head = undefined;
  }
}

/**
 * One timer per manager (not per call or per invocation) enforces every deadline. In-flight async
 * plugin calls are linked into an intrusive list (two pointer writes to add or remove, no Set, no
 * hashing, no allocation), and deadlines come from a coarse clock the watchdog refreshes when it
 * arms and at every tick, so starting a call reads no clock. A tick — re-armed only while
 * something is in flight — expires the calls whose deadline passed. Resolution: 1/20 of the
 * smallest timeout in flight, between 1 and 25 ms; a call never expires early (its deadline
 * carries one period of slack for the coarse clock) and at most about two periods late.
 */
export interface Deadline {
  deadline: number;
  /** The deadline span of this call (ms): its timeout, or the liveness backstop of a pre-emptive host. */
  spanMs: number;
  /** Intrusive list links, owned by the watchdog. */
  prev: Deadline | undefined;
  next: Deadline | undefined;
  /** Called once when the deadline passes (the watchdog has already unlinked it). */
  expire(): void;
}

export class Watchdog {
  #head: Deadline | undefined;
  #timer: NodeJS.Timeout | undefined;
  #period = 25;
  /** Coarse clock (ms, performance.now() timebase), refreshed when arming and at every tick. */
  #now = 0;

  /** Start timing `d` (sets its deadline). */
  track(d: Deadline): void {
    if (this.#timer === undefined) this.#now = performance.now();
    const period = Math.min(25, Math.max(1, Math.floor(d.spanMs / 20)));
    // Whole milliseconds (rounded up: never early), so the field holds a small integer, not a boxed double.
    d.deadline = Math.ceil(this.#now + d.spanMs + this.#period);
    const h = this.#head;
    d.prev = undefined;
    d.next = h;
    if (h !== undefined) h.prev = d;
    this.#head = d;
    if (this.#timer === undefined) {
      this.#period = period;
      d.deadline = Math.ceil(this.#now + d.spanMs + period);
      this.#arm();
    } else if (period < this.#period) {
      // A shorter timeout than any in flight: tick faster from now on.
      this.#period = period;
      clearTimeout(this.#timer);
      this.#arm();
    }
  }

  /** Stop timing `d` (it settled). Safe to call for an untracked or already expired call. */
  untrack(d: Deadline): void {
    const p = d.prev;
    const n = d.next;
    if (p !== undefined) p.next = n;
    else if (this.#head === d) this.#head = n;
    else return;
    if (n !== undefined) n.prev = p;
    d.prev = d.next = undefined;
  }

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
    const now = (this.#now = performance.now());
    let minSpan = Number.POSITIVE_INFINITY;
    let d = this.#head;
    while (d !== undefined) {
      const next = d.next;
      if (now >= d.deadline) {
        this.untrack(d);
        try {
          d.expire();
        } catch {
          // expire() shapes its own failures; one call's bug must not stop the others from expiring
        }
      } else if (d.spanMs < minSpan) minSpan = d.spanMs;
      d = next;
    }
    if (this.#head !== undefined) {
      this.#period = Math.min(25, Math.max(1, Math.floor(minSpan / 20)));
      this.#arm();
    }
  };

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#head = undefined;
  }
}

/**
 * The active lineup: the registrations in use, every hook's sorted lineup computed from them once,
 * and the route table — ONE immutable object, held by ONE reference in the manager.
 *
 * Seam for hot reload (and any other change of who runs): build a new ActiveLineup off to the
 * side (create + initialize its registrations, `buildActiveLineup`), then swap the manager's
 * reference in one assignment. `invoke` reads the reference exactly once, at its start, and the
 * Invocation keeps the `Lineup` it got, so calls in flight finish on the old lineup while new
 * calls see the new one; shut the old lineup's registrations down once they are idle
 * (`whenIdle`). Nothing here is mutated after construction (a Registration's runtime flags —
 * `disabled`, `closing`, `active` — are per plugin, not per lineup).
 */
import type { RouteTable } from '../executor/routing.js';
import { buildLineups, type Lineup, type Registration } from '../executor/registration.js';

export interface ActiveLineup {
  /** Every active registration, in registration order. */
  readonly registrations: readonly Registration[];
  /** hook -> its lineup (priority-sorted, split by phase); absent: no plugin for the hook. */
  readonly hooks: ReadonlyMap<string, Lineup>;
  /** With routing on: the route table (it selects from `hooks`). */
  readonly routes: RouteTable | undefined;
  /** Override instances created for routes; owned by this lineup. */
  readonly overrides: readonly Registration[];
}

export const EMPTY_LINEUP: ActiveLineup = Object.freeze({
  registrations: Object.freeze([]) as readonly Registration[],
  hooks: new Map<string, Lineup>(),
  routes: undefined,
  overrides: Object.freeze([]) as readonly Registration[],
});

/** A new, frozen lineup from registrations (sorted per hook here, once, never per call). */
export function buildActiveLineup(
  registrations: readonly Registration[],
  routes?: RouteTable,
  overrides: readonly Registration[] = [],
): ActiveLineup {
  return Object.freeze({
    registrations: Object.freeze([...registrations]),
    hooks: buildLineups(registrations),
    routes,
    overrides: Object.freeze([...overrides]),
  });
}

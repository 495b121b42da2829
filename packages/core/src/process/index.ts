/**
 * The process supervisor for out-of-process hosts (re-exported from `@cpex/core/host`):
 * `spawnSupervised` on the gateway side, `watchLifeline`/`becomeSubreaper` in a Node child, and
 * the /proc tree walk both use. See docs/security.md "Processes" for what it guarantees.
 */
export {
  canWalkProcessTree,
  descendantsOf,
  type KillTreeOptions,
  killProcessTree,
  listProcesses,
  SUPERVISOR_TAG_ENV,
  taggedProcesses,
} from './proc-tree.js';
export {
  LIFELINE_FD_ENV,
  liveSupervisedPids,
  type ProcessExit,
  type SpawnSupervisedOptions,
  type SupervisedProcess,
  spawnSupervised,
} from './supervisor.js';
export {
  becomeSubreaper,
  killOwnTreeAndExit,
  PR_SET_CHILD_SUBREAPER,
  PR_SET_PDEATHSIG,
  type Prctl,
  watchLifeline,
} from './in-child.js';

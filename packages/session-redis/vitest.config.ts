import { cpexProject } from '../../vitest.shared.js';

// Real redis-server processes and child-process gateways: generous timeouts, one file at a time.
export default cpexProject('session-redis', {
  testTimeout: 120_000,
  hookTimeout: 60_000,
  fileParallelism: false,
});

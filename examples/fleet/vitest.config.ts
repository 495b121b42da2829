import { cpexProject } from '../../vitest.shared.js';

export default cpexProject('example-fleet', { testTimeout: 120_000 });

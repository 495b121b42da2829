import { cpexProject } from '../../vitest.shared.js';

export default cpexProject('host-native', { testTimeout: 30_000 });

import { cpexProject } from '../../vitest.shared.js';

// Real Python processes: start-up (interpreter + pydantic imports, several workers at once) takes
// seconds on a loaded 2-core CI machine. Generous bounds; the tests wait for events, not for time.
export default cpexProject('host-python', { testTimeout: 60_000, hookTimeout: 120_000 });

import { fileURLToPath } from 'node:url';
import { buildProbeLibraries } from '@cpex/host-native/testing';

/** The repository root (the suite checks that declared host limits are in its docs). */
export const REPO = fileURLToPath(new URL('../../..', import.meta.url));

/** The probe libraries, built once per run by the machine's C compiler (cached under .cache/). */
export const LIBS = buildProbeLibraries();

export const gc = (requestId = 'r1') => ({ requestId, state: {}, metadata: {} });

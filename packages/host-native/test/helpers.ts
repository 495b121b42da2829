import { buildProbeLibraries } from '@cpex/host-native/testing';

/** The probe libraries, built once per run by the machine's C compiler (cached under .cache/). */
export const LIBS = buildProbeLibraries();

export const gc = (requestId = 'r1') => ({ requestId, state: {}, metadata: {} });

/**
 * @cpex/host-native — native shared-library plugins (C, Rust, anything with a C ABI) behind the
 * documented ABI in `include/cpex_plugin.h`, loaded with koffi and called off the event loop;
 * detached ed25519 signatures are verified before a library is opened.
 */
export {
  createNativeHost,
  registerNativeHost,
  resolveLibrary,
  NATIVE_SCHEME,
  NATIVE_IN_PROCESS_CAPABILITIES,
  NATIVE_PROCESS_CAPABILITIES,
} from './host.js';
export type { NativeHost, NativeIsolation, ManagerLike } from './host.js';
export type { NativeHostOptions } from './options.js';
export { threadPoolSize } from './options.js';
export { ABI_VERSION, WIRE_SCHEMA_VERSION, interfaceHash, fnv1a64 } from './abi.js';
export type { NativeManifest } from './abi.js';
export {
  checkSignature,
  parseTrustedKey,
  parseTrustedKeys,
  signaturePath,
  generateKeyPair,
  signFile,
  keyId,
} from './signature.js';
export type { TrustedKey, SignatureState } from './signature.js';
export { HEADER_PATH } from './paths.js';
export { discoverNativePlugins } from './discover.js';
export type { DiscoveredLibrary } from './discover.js';

/**
 * Cross-package internals for @cpex/* hosts and tools. Not part of the public API: no semver promise.
 */
export {};

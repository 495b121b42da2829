/** @cpex/sdk — what a plugin author imports. */
export * from '@cpex/core';

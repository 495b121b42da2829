import { ERROR_CATALOGUE } from '@cpex/core';
import { CpexError } from '@cpex/sdk';
import { expect, test } from 'vitest';

test('sdk resolves @cpex/core from source', () => {
  const e = new CpexError('CPEX_ERR_CONFIG_INVALID', 'x', { path: 'plugins[0].mode' });
  expect(e.code).toBe('CPEX_ERR_CONFIG_INVALID');
  expect(ERROR_CATALOGUE.CPEX_ERR_CONFIG_INVALID).toMatch(/schema/);
});

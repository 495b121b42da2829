import { describe, expect, it } from 'vitest';
import { route } from '../src/main.js';

describe('examples/routing: routes pick the plugins per tool', () => {
  it('exact route > glob route > defaults; a route override runs with its own config', async () => {
    const out = await route([{ tool: 'send_email' }, { tool: 'send_sms' }, { tool: 'search' }]);
    expect(out).toEqual([
      { tool: 'send_email', ran: { authn: true, pii: 'strict', audit: true, ratelimit: true } },
      { tool: 'send_sms', ran: { authn: true, pii: true, audit: true } },
      { tool: 'search', ran: { authn: true, audit: true } },
    ]);
  });
});

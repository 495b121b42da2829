// The stream of tool calls the quickstart gateway pushes through its plugins.
export interface SampleCall {
  user: string;
  hook: 'tool_pre_invoke' | 'tool_post_invoke';
  payload: { name: string; args?: Record<string, unknown>; result?: unknown };
  /** What the default config decides, for the reader (the test asserts the real decisions). */
  note: string;
}

export const SAMPLE_CALLS: SampleCall[] = [
  {
    user: 'alice',
    hook: 'tool_pre_invoke',
    payload: { name: 'search', args: { q: 'weather in Paris' } },
    note: 'allowed',
  },
  {
    user: 'alice',
    hook: 'tool_pre_invoke',
    payload: { name: 'send_email', args: { to: 'bob@example.com', body: 'Call me at 555-123-4567' } },
    note: 'PII redacted',
  },
  {
    user: 'bob',
    hook: 'tool_pre_invoke',
    payload: { name: 'delete_database', args: { confirm: true } },
    note: 'not on the allow-list',
  },
  {
    user: 'dave',
    hook: 'tool_pre_invoke',
    payload: { name: 'get_user', args: { ssn: '123-45-6789' } },
    note: 'SSN redacted',
  },
  {
    user: 'carol',
    hook: 'tool_pre_invoke',
    payload: { name: 'get_weather', args: { city: 'Oslo' } },
    note: 'allowed (1/3)',
  },
  {
    user: 'carol',
    hook: 'tool_pre_invoke',
    payload: { name: 'get_weather', args: { city: 'Lima' } },
    note: 'allowed (2/3)',
  },
  {
    user: 'carol',
    hook: 'tool_pre_invoke',
    payload: { name: 'get_weather', args: { city: 'Pune' } },
    note: 'allowed (3/3)',
  },
  {
    user: 'carol',
    hook: 'tool_pre_invoke',
    payload: { name: 'get_weather', args: { city: 'Rome' } },
    note: 'rate-limited',
  },
  {
    user: 'eve',
    hook: 'tool_pre_invoke',
    payload: { name: 'shell_exec', args: { cmd: 'rm -rf /' } },
    note: 'not on the allow-list',
  },
  {
    user: 'alice',
    hook: 'tool_post_invoke',
    payload: { name: 'get_user', result: { email: 'dave@corp.example', phone: '+1 555 987 6543' } },
    note: 'PII in the tool result redacted',
  },
];

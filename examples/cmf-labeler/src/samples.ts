import type { Extensions, MessagePayload } from '@cpex/sdk';

export interface Sample {
  title: string;
  payload: MessagePayload;
  extensions: Extensions;
}

const llm = (provider: string): Extensions => ({
  request: { request_id: `req-${provider}` },
  llm: { model_id: provider === 'internal' ? 'llama-internal' : 'gpt-4o', provider },
});

export const SAMPLES: Sample[] = [
  {
    title: 'plain question to an external model',
    payload: {
      message: {
        schema_version: '2.0',
        role: 'user',
        content: [{ content_type: 'text', text: 'What is the capital of Portugal?' }],
      },
    },
    extensions: llm('openai'),
  },
  {
    title: 'e-mail address to an external model',
    payload: {
      message: {
        schema_version: '2.0',
        role: 'user',
        content: [
          { content_type: 'text', text: 'Draft a reply to alice@example.com about the invoice.' },
          {
            content_type: 'image',
            content: { type: 'url', data: 'https://example.com/invoice.png', media_type: 'image/png' },
          },
        ],
      },
    },
    extensions: llm('openai'),
  },
  {
    title: 'phone number in a tool call, internal model',
    payload: {
      message: {
        schema_version: '2.0',
        role: 'assistant',
        content: [
          {
            content_type: 'tool_call',
            content: { tool_call_id: 'c1', name: 'send_sms', arguments: { to: '555-123-4567', body: 'hi' } },
          },
        ],
      },
    },
    extensions: llm('internal'),
  },
];

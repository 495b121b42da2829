import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CpexError } from '../errors/cpex-error.js';
import { withLabels } from '../extensions/builders.js';
import { dataEqual } from '../extensions/equality.js';
import { pythonAvailable, requirePython, runPython } from '../extensions/python-env.test-util.js';
import { ContentPartSchema, MessagePayloadSchema, MessageSchema, parseMessage } from './schemas.js';
import { CONTENT_TYPES, type Message } from './types.js';
import { MessageView, messageViews, partsOf, textOf } from './view.js';

const rust = JSON.parse(
  readFileSync(new URL('./fixtures/rust-message.json', import.meta.url), 'utf8'),
  // biome-ignore lint/suspicious/noExplicitAny: test data poked at on purpose
) as Record<string, any>;

describe('CMF message schemas', () => {
  it('the fixture covers all 12 content-part kinds', () => {
    expect(new Set(rust.content.map((p: { content_type: string }) => p.content_type))).toEqual(
      new Set(CONTENT_TYPES),
    );
  });
  it('a Rust-shaped message round-trips unchanged', () => {
    expect(JSON.parse(JSON.stringify(MessageSchema.parse(rust)))).toEqual(rust);
    for (const part of rust.content) expect(ContentPartSchema.parse(part)).toEqual(part);
  });
  it('MessagePayload: Rust {message} and Python {message, hook} both validate', () => {
    expect(MessagePayloadSchema.parse({ message: rust })).toEqual({ message: rust });
    expect(MessagePayloadSchema.parse({ message: rust, hook: 'llm_output' }).hook).toBe('llm_output');
    expect(MessagePayloadSchema.safeParse({ message: rust, hook: 'nope' }).success).toBe(false);
  });
  it('a blob is a list of byte values', () => {
    const m = {
      role: 'tool',
      content: [
        {
          content_type: 'resource',
          content: { resource_request_id: 'r', uri: 'x', resource_type: 'blob', blob: [0, 255] },
        },
      ],
    };
    expect(MessageSchema.parse(m)).toEqual(m);
    expect(
      MessageSchema.safeParse({
        ...m,
        content: [{ ...m.content[0], content: { ...m.content[0]!.content, blob: [256] } }],
      }).success,
    ).toBe(false);
  });
  it('bad input is a coded error naming the field path', () => {
    const bad = structuredClone(rust);
    bad.content[2].content.name = 42;
    try {
      parseMessage(bad, 'cmf.llm_output');
      expect.unreachable();
    } catch (e) {
      expect((e as CpexError).code).toBe('CPEX_ERR_INVALID_PAYLOAD');
      expect((e as CpexError).message).toContain('message.content[2].content.name');
      expect((e as CpexError).hook).toBe('cmf.llm_output');
    }
    expect(() => parseMessage({ role: 'robot' })).toThrow(/message\.role/);
    expect(() => parseMessage({ role: 'user', content: [{ content_type: 'hologram' }] })).toThrow(CpexError);
  });

  it.runIf(pythonAvailable)(
    'the same JSON validates as a Python cpex 0.1.4 Message and comes back equal',
    () => {
      const py = requirePython();
      const code = [
        'import json, sys',
        'from cpex.framework.cmf.message import Message',
        'print(Message.model_validate(json.load(sys.stdin)).model_dump_json())',
      ].join('\n');
      const dumped = runPython(py, code, rust);
      // Python adds its defaults as nulls; the Rust shape is the same once nulls count as absent
      const parsed = MessageSchema.parse(dumped);
      expect(dataEqual(JSON.parse(JSON.stringify(parsed)), rust)).toBe(true);
    },
  );
});

describe('MessageView (zero-copy accessors)', () => {
  const message = MessageSchema.parse(rust) as Message;
  const views = [...messageViews(message, { hook: 'cmf.llm_output' })];

  it('one view per part, reading the message in place', () => {
    expect(views.map((v) => v.kind)).toEqual([...CONTENT_TYPES]);
    expect(views[2]!.part).toBe(message.content![2]);
    expect(views[2]!.args).toBe(
      (message.content![2] as { content: { arguments: object } }).content.arguments,
    );
  });
  it('kind-specific accessors', () => {
    const [text, thinking, call, result, resource, ref, preq, pres, image, , audio, doc] =
      views as MessageView[];
    expect(text!.text).toContain('alice@example.com');
    expect(text!.action).toBe('generate');
    expect(thinking!.isText).toBe(true);
    expect(call!.action).toBe('execute');
    expect(call!.uri).toBe('tool://travel/book_flight');
    expect(call!.content).toBe('{"to":"LIS","seats":2}');
    expect(result!.name).toBe('book_flight');
    expect(result!.content).toEqual({ pnr: 'X1Y2Z3' });
    expect(result!.action).toBe('receive');
    expect(resource!.action).toBe('read');
    expect(resource!.mimeType).toBe('application/json');
    expect(ref!.uri).toBe('db://bookings/42');
    expect(preq!.action).toBe('invoke');
    expect(preq!.uri).toBe('prompt://prompts-1/summarize');
    expect(pres!.content).toBe('A short trip.');
    expect(image!.isMedia).toBe(true);
    expect(image!.mimeType).toBe('image/png');
    expect(audio!.content).toBe('UklGRg==');
    expect(doc!.name).toBe('Ticket');
    expect(text!.isPost).toBe(true);
    expect(text!.isPre).toBe(false);
    expect(views[0]!.as('text')?.text).toBe(text!.text);
    expect(views[0]!.as('tool_call')).toBeUndefined();
  });
  it('role decides the action of text parts', () => {
    const action = (role: Message['role']) =>
      new MessageView({ role, content: [{ content_type: 'text', text: 'x' }] }, 0).action;
    expect([
      action('user'),
      action('assistant'),
      action('tool'),
      action('system'),
      action('developer'),
    ]).toEqual(['send', 'generate', 'receive', 'write', 'write']);
    expect(
      new MessageView({ role: 'user', content: [{ content_type: 'text', text: 'x' }] }, 0, {
        hook: 'cmf.llm_input',
      }).isPre,
    ).toBe(true);
  });
  it('reads labels and headers through the extensions view', () => {
    const ext = withLabels({ http: { request_headers: { 'X-Tenant': 'acme' } } }, 'PII');
    const v = new MessageView(message, 0, { extensions: ext });
    expect(v.hasLabel('pii')).toBe(true);
    expect(v.hasLabel('secret')).toBe(false);
    expect(v.getHeader('x-tenant')).toBe('acme');
  });
  it('helpers: textOf joins text parts, partsOf filters by kind', () => {
    expect(textOf(message)).toBe('Here is your booking. Contact: alice@example.com');
    expect(textOf({ role: 'user', content: [] })).toBeNull();
    expect(partsOf(message, 'tool_call')[0]!.content.name).toBe('book_flight');
  });
  it('refuses an index with no part', () => {
    expect(() => new MessageView({ role: 'user' }, 0)).toThrow(RangeError);
  });
});

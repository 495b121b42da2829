// The invoke answer written from precomputed parts is byte for byte the answer map's encoding.
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { PipelineResult } from '@cpex/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invokeAnswerFrame } from '../src/answer.js';
import { resultEnvelope } from '../src/wire.js';

const reference = new Encoder({ ignoreUndefined: true, maxDepth: 1024 });

/** The answer map the sidecar would otherwise send, in its key order. */
function answerMap(
  id: number,
  r: PipelineResult<unknown>,
  payloadType: number,
  ct: number | undefined,
  bg: number | undefined,
  context: { state: unknown; metadata: unknown } | undefined,
): Record<string, unknown> {
  const a: Record<string, unknown> = { id, rc: 0, result: resultEnvelope(r, payloadType, 'msgpack') };
  if (ct !== undefined) a.context_table = ct;
  if (bg !== undefined) a.background = bg;
  if (context !== undefined) a.context = context;
  return a;
}

const result = fc.record({
  continueProcessing: fc.boolean(),
  violation: fc.option(
    fc.record({
      reason: fc.string(),
      description: fc.string(),
      code: fc.string(),
      details: fc.dictionary(fc.string(), fc.jsonValue()),
    }),
    { nil: undefined },
  ),
  errors: fc.array(fc.record({ message: fc.string(), plugin: fc.string(), code: fc.string() }), {
    maxLength: 2,
  }),
  metadata: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  payloadModified: fc.boolean(),
  modifiedPayload: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
  retryDelayMs: fc.oneof(fc.constant(0), fc.nat()),
});

describe('invokeAnswerFrame', () => {
  it('writes the bytes of the answer map, for any result and any set of parts', () => {
    fc.assert(
      fc.property(
        fc.maxSafeNat(),
        result,
        fc.constantFrom(0, 1, 2),
        fc.option(fc.maxSafeNat(), { nil: undefined }),
        fc.option(fc.maxSafeNat(), { nil: undefined }),
        fc.option(
          fc.record({
            state: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
            metadata: fc.dictionary(fc.string(), fc.string()),
          }),
          { nil: undefined },
        ),
        (id, raw, payloadType, ct, bg, context) => {
          const r = raw as unknown as PipelineResult<unknown>;
          const frame = invokeAnswerFrame(id, r, payloadType, { contextTable: ct, background: bg, context });
          fc.pre(frame !== undefined); // (a __proto__ key from fast-check: handed off)
          const want = Buffer.from(reference.encode(answerMap(id, r, payloadType, ct, bg, context)));
          expect(frame!.readUInt32BE(0)).toBe(frame!.length - 4);
          expect(frame!.subarray(4).toString('hex')).toBe(want.toString('hex'));
        },
      ),
    );
  });

  it('answers the common result from constants, and hands off what the fast path does not cover', () => {
    const plain = {
      continueProcessing: true,
      errors: [],
      metadata: {},
      payloadModified: false,
      retryDelayMs: 0,
    } as unknown as PipelineResult<unknown>;
    const frame = invokeAnswerFrame(7, plain, 0, {
      contextTable: 9,
      background: undefined,
      context: undefined,
    })!;
    expect(new Decoder().decode(frame.subarray(4))).toEqual({
      id: 7,
      rc: 0,
      result: { continue_processing: true, payload_type: 0, payload_modified: false },
      context_table: 9,
    });
    const odd = { ...plain, metadata: { at: new Date(0) } } as unknown as PipelineResult<unknown>;
    expect(
      invokeAnswerFrame(7, odd, 0, { contextTable: 9, background: undefined, context: undefined }),
    ).toBeUndefined();
    // the next frame is clean after a hand-off
    expect(
      invokeAnswerFrame(8, plain, 0, { contextTable: undefined, background: undefined, context: undefined })!
        .subarray(4)
        .toString('hex'),
    ).toBe(
      Buffer.from(reference.encode(answerMap(8, plain, 0, undefined, undefined, undefined))).toString('hex'),
    );
  });
});

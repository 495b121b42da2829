/**
 * The invoke answer written from precomputed MessagePack parts: the bytes the answer map would
 * encode to (test/answer.test.ts compares them), without building the map. The common result
 * (no violation, errors, metadata or modifications) is one constant per outcome; any other result
 * goes through resultEnvelope and the fast path.
 */
import type { PipelineResult } from '@cpex/core';
import {
  fastEncodeFrame,
  frameAbort,
  frameBegin,
  frameEnd,
  frameNumber,
  frameRaw,
  frameValue,
  isGiveUp,
} from './msgpack.js';
import { resultEnvelope } from './wire.js';

/** MessagePack bytes of a fixed value (a key, a constant part). */
function bytesOf(v: unknown): Uint8Array {
  return Uint8Array.from(fastEncodeFrame(v, 0)!);
}

const KEY_ID = bytesOf('id');
/** `"rc": 0, "result": ` */
const RC_OK_RESULT = Uint8Array.from([...bytesOf('rc'), 0x00, ...bytesOf('result')]);
/** `{"continue_processing": ` */
const ENVELOPE_START = Uint8Array.from([0x83, ...bytesOf('continue_processing')]);
const TRUE = Uint8Array.of(0xc3);
const FALSE = Uint8Array.of(0xc2);
const KEY_PAYLOAD_TYPE = bytesOf('payload_type');
/** `"payload_modified": false}` */
const UNMODIFIED_END = Uint8Array.from([...bytesOf('payload_modified'), 0xc2]);
const KEY_CONTEXT_TABLE = bytesOf('context_table');
const KEY_BACKGROUND = bytesOf('background');
const KEY_CONTEXT = bytesOf('context');

/** What an invoke answers besides its result (each absent when undefined). */
export interface InvokeAnswerParts {
  contextTable: number | undefined;
  background: number | undefined;
  context: { state: unknown; metadata: unknown } | undefined;
}

/** Whether the result is the common one: continue or not, with nothing else to say. */
function plain(r: PipelineResult<unknown>): boolean {
  if (r.violation || r.errors.length > 0 || r.payloadModified || r.modifiedExtensions || r.retryDelayMs > 0)
    return false;
  for (const _ in r.metadata) return false;
  return true;
}

/**
 * The MessagePack frame of a successful invoke's answer (`id`, `rc: 0`, `result`, then the parts
 * that are set, in that order), or undefined when a value in it is not covered by the fast path
 * (the caller then sends the answer map as usual).
 */
export function invokeAnswerFrame(
  id: number,
  result: PipelineResult<unknown>,
  payloadType: number,
  parts: InvokeAnswerParts,
): Buffer | undefined {
  // Built before the frame starts: its nested documents are encoded frames of their own.
  const envelope = plain(result) ? undefined : resultEnvelope(result, payloadType, 'msgpack');
  if (!frameBegin(4)) return undefined;
  try {
    let size = 3;
    if (parts.contextTable !== undefined) size++;
    if (parts.background !== undefined) size++;
    if (parts.context !== undefined) size++;
    frameRaw(SIZE_HEADERS[size]!);
    frameRaw(KEY_ID);
    frameNumber(id);
    frameRaw(RC_OK_RESULT);
    if (envelope === undefined) {
      frameRaw(ENVELOPE_START);
      frameRaw(result.continueProcessing ? TRUE : FALSE);
      frameRaw(KEY_PAYLOAD_TYPE);
      frameNumber(payloadType);
      frameRaw(UNMODIFIED_END);
    } else {
      frameValue(envelope);
    }
    if (parts.contextTable !== undefined) {
      frameRaw(KEY_CONTEXT_TABLE);
      frameNumber(parts.contextTable);
    }
    if (parts.background !== undefined) {
      frameRaw(KEY_BACKGROUND);
      frameNumber(parts.background);
    }
    if (parts.context !== undefined) {
      frameRaw(KEY_CONTEXT);
      frameValue(parts.context);
    }
  } catch (e) {
    frameAbort();
    if (isGiveUp(e)) return undefined;
    throw e;
  }
  return frameEnd(4);
}

const SIZE_HEADERS = [0, 1, 2, 3, 4, 5, 6].map((n) => Uint8Array.of(0x80 + n));

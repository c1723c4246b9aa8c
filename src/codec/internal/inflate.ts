import { Inflate, inflateSync } from 'fflate';
import { CodecError } from '../../errors.js';
import { toCodecError } from './validate.js';

/** The default bound on a decompressed payload: 64 MiB. */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Compressed bytes fed to the inflater at a time. DEFLATE expands its input at most ~1032
 * times, so one step outputs at most ~4 MiB: a bomb is stopped within that much of the bound.
 */
const STEP = 4096;

/** DEFLATE expands its input at most ~1032 times (258 bytes from two 1-bit codes), plus block headers. */
const MAX_RATIO = 1040;

/**
 * Inflates raw DEFLATE data that must restore to exactly `size` bytes; more is `over()`.
 * Small inputs go into one buffer of `size + 1` bytes, which is never grown (what passes
 * it is dropped, so neither memory nor time can exceed what the input allows); larger
 * ones are streamed.
 */
export function inflateExact(name: string, data: Uint8Array, size: number, over: () => CodecError): Uint8Array {
  if (data.length > STEP) return inflateBounded(name, data, size, over);
  let output: Uint8Array;
  try {
    output = inflateSync(data, { out: new Uint8Array(size + 1) });
  } catch (error) {
    // a stored block that does not fit the buffer throws RangeError: more than `size`
    if (error instanceof RangeError) throw over();
    throw toCodecError('corrupt', `${name}: invalid compressed data`, error);
  }
  if (output.length > size) throw over();
  return output;
}

/**
 * Inflates raw DEFLATE data step by step and stops as soon as the output passes `limit`
 * bytes, throwing `over()`; bad data throws `CodecError` `'corrupt'`. Memory stays within
 * `limit` plus one step's output, whatever the data claims.
 */
export function inflateBounded(name: string, data: Uint8Array, limit: number, over: () => CodecError): Uint8Array {
  if (data.length <= STEP) {
    // most payloads are small: one call into a buffer of a guessed size, which is never
    // grown (what passes it is dropped); if it fills up, inflate again as a stream
    const guess = Math.min(limit, data.length * 8 + 1024);
    let output: Uint8Array | undefined;
    try {
      output = inflateSync(data, { out: new Uint8Array(guess + 1) });
    } catch (error) {
      if (!(error instanceof RangeError)) throw toCodecError('corrupt', `${name}: invalid compressed data`, error);
    }
    if (output !== undefined && output.length <= guess) return output;
    if (guess === limit) throw over();
  } else if (data.length * MAX_RATIO <= limit) {
    // it cannot pass the bound: one call, no stream
    try {
      return inflateSync(data);
    } catch (error) {
      throw toCodecError('corrupt', `${name}: invalid compressed data`, error);
    }
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  let exceeded = false;
  const inflater = new Inflate((chunk) => {
    if (exceeded || chunk.length === 0) return;
    total += chunk.length;
    if (total > limit) exceeded = true;
    else chunks.push(chunk);
  });
  const n = data.length;
  try {
    let at = 0;
    do {
      const end = Math.min(at + STEP, n);
      inflater.push(data.subarray(at, end), end === n);
      if (exceeded) break;
      at = end;
    } while (at < n);
  } catch (error) {
    throw toCodecError('corrupt', `${name}: invalid compressed data`, error);
  }
  if (exceeded) throw over();
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The `CodecError` `'too-large'` of a payload that inflates past `maxBytes`. */
export function tooLarge(name: string, maxBytes: number): CodecError {
  return new CodecError('too-large', `${name}: the payload inflates to more than \`maxBytes\` (${maxBytes} bytes)`);
}

/**
 * CRC-32 (IEEE 802.3): `zlib.crc32` when this Node has it (≥ 20.15 / 22.2), else a table-driven
 * pure-JS fallback with the same results.
 */
import * as zlib from 'node:zlib';

let table: Int32Array | undefined;

function makeTable(): Int32Array {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
}

/** The pure-JS CRC-32 of `bytes[start, end)`, as an unsigned 32-bit integer. */
export function crc32js(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = (table ??= makeTable());
  let c = -1;
  for (let i = start; i < end; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** True when the native `zlib.crc32` is used. */
export const NATIVE_CRC32 = typeof native === 'function';

/**
 * The CRC-32 of `bytes[start, end)`. Small ranges stay in JS (a native call costs more than
 * the table loop below ~48 bytes); larger ones use `zlib.crc32` when available.
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (native === undefined || end - start < 48) return crc32js(bytes, start, end);
  return native(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)) >>> 0;
}

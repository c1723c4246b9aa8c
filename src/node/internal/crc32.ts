/**
 * CRC-32 (IEEE 802.3): `zlib.crc32` when this Node has it (≥ 20.15 / 22.2), else a table-driven
 * pure-JS fallback with the same results.
 */
import * as zlib from 'node:zlib';
import { crc32 as crc32Table } from '../../codec/internal/checksum.js';

/** The pure-JS CRC-32 of `bytes[start, end)` (shared with `ringbus/codec`'s gzip check). */
export const crc32js: (bytes: Uint8Array, start?: number, end?: number) => number = crc32Table;

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

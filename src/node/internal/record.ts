/**
 * The on-disk record and segment-header format (version 2), byte by byte in docs/storage.md.
 * Every integer is little-endian. Version 1 is version 2 without the flag bits 2 and 3: a
 * version 1 segment reads as it is.
 *
 * Segment header (16 bytes): magic `RBSG`, u8 version, 3 reserved bytes, u64 base offset.
 *
 * Record: u32 body length, u32 CRC-32 of the body, then the body: u8 flags (bit 0: payload is
 * the published bytes as-is, bit 1: has key), u64 offset, f64 timestamp, f64 expires
 * (+Infinity: none), u32 key length + UTF-8 key, u32 headers length + UTF-8 JSON object
 * (0: no headers), with flag bit 2 (a delayed message) an f64 due time, with flag bit 3 (a topic
 * with priorities) a u8 priority level, then the payload (the rest).
 */
import { crc32 } from './crc32.js';

/**
 * The version of the on-disk format `fileStorage` writes (byte 4 of every segment and index
 * header); docs/storage.md describes it byte by byte.
 *
 * @example
 * ```ts
 * import { FORMAT_VERSION } from 'ringbus/node';
 * console.log(`segments are format v${FORMAT_VERSION}`);
 * ```
 */
export const FORMAT_VERSION = 2;
/**
 * The oldest format version this code reads. A reader of version 1 only takes the due time and
 * the level of a version 2 record for payload bytes, so a segment holding such records must say 2.
 */
export const OLDEST_FORMAT_VERSION = 1;
export const SEGMENT_MAGIC = [0x52, 0x42, 0x53, 0x47] as const; // 'RBSG'
export const SEGMENT_HEADER_BYTES = 16;
/** Length + CRC. */
export const RECORD_PREFIX_BYTES = 8;
/** flags, offset, timestamp, expires, key length, headers length. */
export const RECORD_FIXED_BODY = 1 + 8 + 8 + 8 + 4 + 4;
export const FLAG_RAW = 1;
export const FLAG_KEY = 2;
/** The record carries a due time (f64, after the headers): published with a delay. */
export const FLAG_DUE = 4;
/** The record carries a priority level (u8, after the due time if any). */
export const FLAG_PRIORITY = 8;

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
const TWO32 = 0x1_0000_0000;

function hasKeys(h: object): boolean {
  for (const _ in h) return true;
  return false;
}

/** A growable byte buffer that records are encoded into, then written in one `write`. */
export class Batch {
  buf: Buffer;
  used = 0;

  constructor(bytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(bytes);
  }

  ensure(extra: number): void {
    const need = this.used + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.used);
    this.buf = next;
  }

  /** Empties the batch; shrinks a buffer that grew past `keep` bytes. */
  reset(keep = 1 << 22): void {
    this.used = 0;
    if (this.buf.length > keep) this.buf = Buffer.allocUnsafe(1 << 20);
  }
}

/** Writes a segment header into `b`. */
export function writeSegmentHeader(b: Batch, base: number): void {
  b.ensure(SEGMENT_HEADER_BYTES);
  const buf = b.buf;
  const p = b.used;
  buf[p] = SEGMENT_MAGIC[0];
  buf[p + 1] = SEGMENT_MAGIC[1];
  buf[p + 2] = SEGMENT_MAGIC[2];
  buf[p + 3] = SEGMENT_MAGIC[3];
  buf[p + 4] = FORMAT_VERSION;
  buf[p + 5] = 0;
  buf[p + 6] = 0;
  buf[p + 7] = 0;
  writeU64(buf, p + 8, base);
  b.used = p + SEGMENT_HEADER_BYTES;
}

export function writeU64(buf: Buffer, at: number, v: number): void {
  buf.writeUInt32LE(v % TWO32, at);
  buf.writeUInt32LE(Math.floor(v / TWO32), at + 4);
}

export function readU64(buf: Uint8Array, at: number): number {
  const lo = (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
  const hi = (buf[at + 4] | (buf[at + 5] << 8) | (buf[at + 6] << 16) | (buf[at + 7] << 24)) >>> 0;
  return hi * TWO32 + lo;
}

export function readU32(buf: Uint8Array, at: number): number {
  return (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
}

/** Encodes one record at the end of `b`; returns its size in bytes. */
export function writeRecord(
  b: Batch,
  offset: number,
  timestamp: number,
  expires: number,
  key: string | undefined,
  headers: Readonly<Record<string, string>>,
  payload: Uint8Array,
  raw: boolean,
  due = 0,
  priority = -1,
): number {
  const headerJson = headers === EMPTY || !hasKeys(headers) ? undefined : JSON.stringify(headers);
  const keyMax = key === undefined ? 0 : key.length * 3;
  const headersMax = headerJson === undefined ? 0 : headerJson.length * 3;
  b.ensure(RECORD_PREFIX_BYTES + RECORD_FIXED_BODY + keyMax + headersMax + 9 + payload.length);
  const buf = b.buf;
  const start = b.used;
  let p = start + RECORD_PREFIX_BYTES;
  buf[p] = (raw ? FLAG_RAW : 0) | (key === undefined ? 0 : FLAG_KEY) | (due === 0 ? 0 : FLAG_DUE) | (priority < 0 ? 0 : FLAG_PRIORITY);
  writeU64(buf, p + 1, offset);
  buf.writeDoubleLE(timestamp, p + 9);
  buf.writeDoubleLE(expires, p + 17);
  p += 25;
  const keyLen = key === undefined || key.length === 0 ? 0 : buf.write(key, p + 4, 'utf8');
  buf.writeUInt32LE(keyLen, p);
  p += 4 + keyLen;
  const hLen = headerJson === undefined ? 0 : buf.write(headerJson, p + 4, 'utf8');
  buf.writeUInt32LE(hLen, p);
  p += 4 + hLen;
  if (due !== 0) {
    buf.writeDoubleLE(due, p);
    p += 8;
  }
  if (priority >= 0) buf[p++] = priority;
  buf.set(payload, p);
  p += payload.length;
  const bodyStart = start + RECORD_PREFIX_BYTES;
  buf.writeUInt32LE(p - bodyStart, start);
  buf.writeUInt32LE(crc32(buf, bodyStart, p), start + 4);
  b.used = p;
  return p - start;
}

/** A record as read back from disk (the payload is a view into the read buffer). */
export interface RawRecord {
  offset: number;
  timestamp: number;
  expires: number;
  /** Due time of a delayed message, 0 for none. */
  due: number;
  /** Priority level, -1 for none. */
  priority: number;
  key: string | undefined;
  headers: Readonly<Record<string, string>>;
  payload: Uint8Array;
  raw: boolean;
}

/**
 * Checks the record at `at`: returns its total size when its length is plausible, it fits
 * before `end` and its CRC matches; 0 when it does not fit (torn or bad length); -1 when it
 * fits but its CRC does not match.
 */
export function checkRecord(buf: Uint8Array, at: number, end: number): number {
  if (end - at < RECORD_PREFIX_BYTES + RECORD_FIXED_BODY) return 0;
  const len = readU32(buf, at);
  if (len < RECORD_FIXED_BODY || len > end - at - RECORD_PREFIX_BYTES) return 0;
  const bodyStart = at + RECORD_PREFIX_BYTES;
  if (crc32(buf, bodyStart, bodyStart + len) !== readU32(buf, at + 4)) return -1;
  // the variable lengths must add up (a CRC collision on garbage is not a record)
  const keyLen = readU32(buf, bodyStart + 25);
  if (keyLen > len - RECORD_FIXED_BODY) return -1;
  const hLen = readU32(buf, bodyStart + 29 + keyLen);
  if (hLen > len - RECORD_FIXED_BODY - keyLen) return -1;
  return RECORD_PREFIX_BYTES + len;
}

/** The offset field of the record at `at` (no checks). */
export function recordOffset(buf: Uint8Array, at: number): number {
  return readU64(buf, at + RECORD_PREFIX_BYTES + 1);
}

const decoder = new TextDecoder();

/** Decodes a record already checked by {@link checkRecord} (`size` is its total size). */
export function readRecord(buf: Uint8Array, at: number, size: number): RawRecord {
  const b = at + RECORD_PREFIX_BYTES;
  const end = at + size;
  const flags = buf[b];
  const offset = readU64(buf, b + 1);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const timestamp = view.getFloat64(b + 9, true);
  const expires = view.getFloat64(b + 17, true);
  let p = b + 25;
  const keyLen = readU32(buf, p);
  p += 4;
  const key = flags & FLAG_KEY ? decoder.decode(buf.subarray(p, p + keyLen)) : undefined;
  p += keyLen;
  const hLen = readU32(buf, p);
  p += 4;
  let headers: Readonly<Record<string, string>> = EMPTY;
  if (hLen > 0) {
    try {
      headers = Object.freeze(JSON.parse(decoder.decode(buf.subarray(p, p + hLen))) as Record<string, string>);
    } catch {
      headers = EMPTY;
    }
  }
  p += hLen;
  let due = 0;
  if ((flags & FLAG_DUE) !== 0 && end - p >= 8) {
    due = view.getFloat64(p, true);
    p += 8;
  }
  let priority = -1;
  if ((flags & FLAG_PRIORITY) !== 0 && end - p >= 1) priority = buf[p++];
  return { offset, timestamp, expires, due, priority, key, headers, payload: buf.subarray(p, end), raw: (flags & FLAG_RAW) !== 0 };
}

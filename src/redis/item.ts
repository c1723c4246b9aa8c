/**
 * An entry as a Redis member holds it (read from the stream's fields) and the delivery record it
 * hands out for it.
 */
import { decode } from '@msgpack/msgpack';
import type { DeliveryRecord, Settlement } from '../engine.js';
import type { Headers } from '../types.js';

const NO_HEADERS: Headers = Object.freeze({});

/** The number written in decimal from byte `from` of `b` on. */
function digits(b: Buffer, from = 0): number {
  let n = 0;
  for (let i = from; i < b.length; i++) n = n * 10 + b[i]! - 0x30;
  return n;
}

/** One entry as the library's fetch answers it: offset, delivery count, flat fields. */
export type Fetched = [number, number, Buffer[]];
/** One entry as `XREADGROUP` answers it: id, flat fields. */
export type Entry = [Buffer, Buffer[]];

export interface Item {
  readonly id: string;
  readonly offset: number;
  readonly deliveryCount: number;
  /** The entry's fields: `v` the value (MessagePack), `k` the key, `h` the headers (JSON), `t` the timestamp. */
  readonly v: Buffer;
  readonly k: Buffer | undefined;
  readonly h: Buffer | undefined;
  readonly t: Buffer | undefined;
  /** When the fetch answered (the server's ack timer started about then). */
  readonly at: number;
  /** The group's gen as the member knew it when it asked for the entry (see lua-core.ts). */
  readonly gen: string;
}

/** What a record settles through: its member. */
export interface RecordOwner<T> {
  settle(record: RedisRecord<T>, how: Settlement): void;
}

/** A delivery handed out by a member's poll: stale once settled, timed out, or passed by a commit or seek. */
export class RedisRecord<T> implements DeliveryRecord<T> {
  gone = false;
  /** When the local view of the ack timeout passes (Infinity: never). */
  deadline = Infinity;
  readonly value: T;
  readonly key: string | undefined;
  readonly headers: Headers;
  readonly timestamp: number;

  constructor(
    private readonly member: RecordOwner<T>,
    readonly item: Item,
    readonly auto: boolean,
  ) {
    this.value = decode(item.v) as T;
    this.key = item.k?.toString();
    this.headers = item.h === undefined ? NO_HEADERS : (JSON.parse(item.h.toString()) as Headers);
    this.timestamp = item.t === undefined ? 0 : digits(item.t);
  }

  get offset(): number {
    return this.item.offset;
  }
  get deliveryCount(): number {
    return this.item.deliveryCount;
  }
  get settled(): boolean {
    return this.auto || this.gone;
  }

  settle(how: Settlement): void {
    this.member.settle(this, how);
  }
}

const EMPTY: Buffer = Buffer.alloc(0);

/** The offset of stream id `0-n`: n − 1. */
export function offsetOf(id: Buffer): number {
  return digits(id, 2) - 1;
}

/** Whether an entry carries an expiry (field `e`): then only the server, on its clock, may hand it out. */
export function expires(flat: Buffer[]): boolean {
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!;
    if (name.length === 1 && name[0] === 0x65) return true;
  }
  return false;
}

export function toItem(offset: number, deliveryCount: number, flat: Buffer[], at: number, gen: string): Item {
  let v: Buffer = EMPTY;
  let k: Buffer | undefined;
  let h: Buffer | undefined;
  let t: Buffer | undefined;
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!;
    if (name.length !== 1) continue;
    const value = flat[i + 1]!;
    switch (name[0]) {
      case 0x76: // v
        v = value;
        break;
      case 0x6b: // k
        k = value;
        break;
      case 0x68: // h
        h = value;
        break;
      case 0x74: // t
        t = value;
        break;
    }
  }
  return { id: `0-${offset + 1}`, offset, deliveryCount, v, k, h, t, at, gen };
}

import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import type { Delivery, Headers, NackOptions } from '../../src/index.js';

/** A `Delivery` that records how it was settled, for marble tests. */
export interface FakeDelivery<T> extends Delivery<T> {
  /** Every settle call, in order: `'ack'`, `'nack'`, `'nack:100'`, `'term'`, `'term:reason'`. */
  readonly calls: string[];
}

export interface FakeOptions {
  offset?: number;
  timestamp?: number;
  deliveryCount?: number;
  key?: string;
  headers?: Headers;
  topic?: string;
  group?: string;
}

let nextOffset = 0;

/** A fake delivery: the first settle returns true and sets `settled`; later ones return false (as the engine does). */
export function fake<T>(value: T, o: FakeOptions = {}): FakeDelivery<T> {
  const calls: string[] = [];
  let settled = false;
  const settle = (call: string): boolean => {
    calls.push(call);
    if (settled) return false;
    settled = true;
    return true;
  };
  const deliveryCount = o.deliveryCount ?? 1;
  return {
    calls,
    value,
    offset: o.offset ?? nextOffset++,
    key: o.key,
    headers: o.headers ?? {},
    timestamp: o.timestamp ?? 0,
    topic: o.topic ?? 'fake',
    group: o.group ?? 'g',
    deliveryCount,
    redelivered: deliveryCount > 1,
    get settled() {
      return settled;
    },
    ack: () => settle('ack'),
    nack: (n?: NackOptions) => settle(n?.delayMs === undefined ? 'nack' : `nack:${n.delayMs}`),
    term: (reason?: string) => settle(reason === undefined ? 'term' : `term:${reason}`),
    inProgress: () => !settled,
    [Symbol.dispose]() {
      if (!settled) settle('nack');
    },
  };
}

/** A TestScheduler asserting with vitest's deep equality. */
export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Reads a readable to the end. */
export async function readAll<T>(readable: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  const reader = readable.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) out.push(r.value);
  return out;
}

/** A promise and its resolve function. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

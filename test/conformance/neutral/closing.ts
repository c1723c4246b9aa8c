import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect } from 'vitest';
import { ClosedError, ConfigError, isRingbusError } from '../../../src/index.js';
import type { Test } from './index.js';

const INVALID_TOPIC_OPTIONS: [string, unknown][] = [
  ['capacity', 0],
  ['capacity', -1],
  ['capacity', Number.NaN],
  ['capacity', 1.5],
  ['capacity', 2 ** 31],
  ['capacity', '8'],
  ['overflow', 'explode'],
  ['ttlMs', 0],
  ['ttlMs', -5],
  ['ttlMs', Number.NaN],
  ['ackTimeoutMs', 0],
  ['maxDeliveries', 0],
  ['maxDeliveries', 2.5],
  ['growthFactor', 1],
  ['growthFactor', 100],
  ['shrinkThreshold', 1],
  ['shrinkThreshold', 0],
  ['groups', 'g'],
  ['groups', ['']],
  ['deadLetter', ''],
  ['scheduler', {}],
  ['bogus', 1],
];

export function closingNeutral(test: Test): void {
  describe('closing, aborts and errors', () => {
    test('close: publishing fails with ClosedError; consumers drain what is retained, then complete', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2]);
      const c = t.consumer({ group: 'g' });
      const waiting = t.consumer({ group: 'w', from: 'latest' }).recv();
      await t.close();
      expect(t.closed).toBe(true);
      await expect(t.publish(3)).rejects.toBeInstanceOf(ClosedError);
      expect(() => t.tryPublish(3)).toThrow(ClosedError);
      expect(await waiting).toBeUndefined();
      const [a, b] = await k.collect(c, 2, { ack: false });
      expect([a.value, b.value]).toEqual([1, 2]);
      const end = c.recv();
      expect(await k.pending(end)).toBe(true); // two deliveries still unsettled
      a.ack();
      b.nack();
      const again = await end;
      expect(again?.value).toBe(2);
      again!.ack();
      expect(await c.recv()).toBeUndefined();
    });

    test('close rejects publishers waiting for room', async (k) => {
      const t = k.bus().topic<number>('t', { capacity: 1, groups: ['g'] });
      await t.publish(0);
      const p = t.publish(1);
      expect(await k.pending(p)).toBe(true);
      await t.close();
      await expect(p).rejects.toBeInstanceOf(ClosedError);
    });

    test('Observables complete and readables close once the topic is closed and drained', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3]);
      const values = lastValueFrom(t.values({ group: 'v', from: 'earliest' }).pipe(toArray()));
      const reader = t.readable({ group: 'r', from: 'earliest' }).getReader();
      await t.close();
      expect(await values).toEqual([1, 2, 3]);
      const got: number[] = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        got.push(value.value);
        value.ack();
      }
      expect(got).toEqual([1, 2, 3]);
    });

    test('an aborted recv rejects with the signal reason and takes nothing', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      const c = t.consumer({ group: 'g' });
      const ac = new AbortController();
      const p = c.recv({ signal: ac.signal });
      ac.abort();
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      await t.publish(1);
      const d = await k.take(c);
      expect([d.value, d.deliveryCount]).toEqual([1, 1]);
      await expect(c.recv({ signal: AbortSignal.abort(new Error('why')) })).rejects.toThrow('why');
    });

    test('an aborted publish waiting for room rejects with the reason and is not published', async (k) => {
      const t = k.bus().topic<number>('t', { capacity: 1, groups: ['g'] });
      await t.publish(0);
      const ac = new AbortController();
      const p = t.publish(1, { signal: ac.signal });
      expect(await k.pending(p)).toBe(true);
      ac.abort();
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      const c = t.consumer({ group: 'g' });
      (await k.take(c)).ack();
      await k.expectNone(c);
      expect(t.stats()).toMatchObject({ tail: 1, published: 1 });
    });

    test("a consumer's signal closes it and returns what it holds", async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publish(1);
      const ac = new AbortController();
      const c = t.consumer({ group: 'g', signal: ac.signal });
      await k.take(c);
      const p = c.recv();
      ac.abort();
      expect(c.closed).toBe(true);
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      expect((await k.take(t.consumer({ group: 'g' }))).deliveryCount).toBe(2);
    });

    test('recvTimeout resolves undefined when nothing arrives in time, and the delivery when it does', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      const c = t.consumer({ group: 'g' });
      let outcome: unknown = 'pending';
      const none = c.recvTimeout(k.ms(2)).then((d) => (outcome = d));
      // time moves on until the timeout has run (an engine may arm it a turn after the call)
      await k.eventually(async () => {
        await k.clock.advance(1);
        expect(outcome).toBeUndefined();
      });
      await none;
      const p = c.recvTimeout(k.ms(1000));
      await t.publish(7);
      expect((await p)?.value).toBe(7);
    });

    test('recvBatch waits for at least one, then returns between one and max, in order', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      const c = t.consumer({ group: 'g' });
      const p = c.recvBatch(3);
      expect(await k.pending(p)).toBe(true);
      await t.publishBatch([1, 2, 3, 4]);
      const got: number[] = [];
      const first = await p;
      expect(first.length).toBeGreaterThanOrEqual(1);
      expect(first.length).toBeLessThanOrEqual(3);
      got.push(...first.map((d) => d.value));
      while (got.length < 4) {
        const batch = await c.recvBatch(10);
        expect(batch.length).toBeGreaterThanOrEqual(1);
        got.push(...batch.map((d) => d.value));
      }
      expect(got).toEqual([1, 2, 3, 4]);
      await k.expectNone(c);
    });

    test('publishBatch into a topic with no group keeps the last capacity messages and returns every offset', async (k) => {
      const t = k.bus().topic<number>('t', { capacity: 4 });
      expect(await t.publishBatch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(await t.publishBatch([10, 11])).toEqual([10, 11]);
      expect(await t.publishBatch([])).toEqual([]);
      expect(await t.publishBatch(new Set([12, 13]))).toEqual([12, 13]); // any iterable
      await k.eventually(() => expect(t.stats()).toMatchObject({ size: 4, head: 10, tail: 14, published: 14, dropped: 0 }));
      const c = t.consumer({ group: 'late', from: 'earliest' });
      expect((await k.collect(c, 4)).map((d) => d.value)).toEqual([10, 11, 12, 13]);
      await k.expectNone(c);
    });

    describe('invalid topic options', () => {
      for (const [option, value] of INVALID_TOPIC_OPTIONS) {
        test(`invalid topic option ${option} = ${String(value)} throws ConfigError naming it, the value and the range`, async (k) => {
          const bus = k.bus();
          let error: unknown;
          try {
            bus.topic('t', { [option]: value } as never);
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(ConfigError);
          expect(isRingbusError(error)).toBe(true);
          expect((error as ConfigError).code).toBe('ERR_CONFIG');
          expect((error as ConfigError).option).toBe(option);
          expect((error as Error).message).toContain(`\`${option}\``);
          expect(bus.has('t')).toBe(false);
        });
      }
    });

    test('a ConfigError message names the value and the accepted range', async (k) => {
      const bus = k.bus();
      expect(() => bus.topic('t', { capacity: 0 })).toThrow('`capacity` must be an integer from 1 to 2^30, got `0` (number)');
      expect(() => bus.topic('t', { capacity: 4, maxCapacity: 2 })).toThrow(/`maxCapacity` must be an integer from `capacity` \(4\) to 2\^30, got `2`/);
      expect(() => bus.topic('t', { overflow: 'nope' as never })).toThrow("`overflow` must be one of 'block', 'drop-oldest', 'reject', 'grow', got `\"nope\"` (string)");
    });

    test('asking for an existing topic with different options is a ConfigError; the same options return it', async (k) => {
      const bus = k.bus();
      const t = bus.topic('t', { capacity: 8 });
      expect(bus.topic('t', { capacity: 8 })).toBe(t);
      expect(bus.topic('t')).toBe(t);
      expect(() => bus.topic('t', { capacity: 16 })).toThrow(ConfigError);
      expect(() => bus.topic('t', { capacity: 8, overflow: 'reject' })).toThrow(/overflow/);
    });

    test('invalid consumer and publish arguments throw ConfigError (publish: a rejected promise) before anything changes', async (k) => {
      const t = k.bus().topic<number>('t');
      expect(() => t.consumer({ prefetch: 0 })).toThrow(ConfigError);
      expect(() => t.consumer({ from: 'middle' as never })).toThrow(ConfigError);
      expect(() => t.consumer({ from: { offset: -1 } })).toThrow(ConfigError);
      expect(() => t.consumer({ from: 'committed' })).toThrow(/needs a `group`/);
      expect(() => t.consumer({ filter: 3 as never })).toThrow(ConfigError);
      expect(() => t.tryPublish(1, { ttlMs: -1 })).toThrow(ConfigError);
      expect(() => t.tryPublish(1, { headers: { a: 1 as never } })).toThrow(/`headers.a` must be a string/);
      await expect(t.publish(1, { ttlMs: -1 })).rejects.toThrow(ConfigError);
      await expect(t.publish(1, { headers: { a: 1 as never } })).rejects.toThrow(/`headers.a` must be a string/);
      const c = t.consumer({ group: 'g' });
      await k.expectNone(c);
      await k.eventually(() => expect(t.stats()).toMatchObject({ published: 0, subscribers: 1 }));
    });

    test('deleteTopic closes the topic and completes its consumers', async (k) => {
      const bus = k.bus();
      const t = bus.topic<number>('t', { groups: ['g'] });
      await t.publish(1);
      const c = t.consumer({ group: 'g' });
      expect(await bus.deleteTopic('t')).toBe(true);
      expect(bus.has('t')).toBe(false);
      expect(c.closed).toBe(true);
      expect(await c.recv()).toBeUndefined();
      expect(await bus.deleteTopic('t')).toBe(false);
    });
  });
}

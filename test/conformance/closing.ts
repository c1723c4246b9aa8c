import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ClosedError, ConfigError, isRingbusError } from '../../src/index.js';
import { isPending, settle } from '../helpers.js';
import type { MakeBus } from './index.js';

export function closingSuite(makeBus: MakeBus): void {
  describe('closing, aborts and errors', () => {
    it('close: publishing fails with ClosedError; consumers drain what is retained, then complete', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2]);
      const c = t.consumer({ group: 'g' });
      const waiting = t.consumer({ group: 'w', from: 'latest' }).recv();
      await t.close();
      expect(t.closed).toBe(true);
      await expect(t.publish(3)).rejects.toBeInstanceOf(ClosedError);
      expect(() => t.tryPublish(3)).toThrow(ClosedError);
      expect(await waiting).toBeUndefined();
      const a = await c.recv();
      const b = await c.recv();
      expect([a?.value, b?.value]).toEqual([1, 2]);
      const end = c.recv();
      expect(await isPending(end)).toBe(true); // two deliveries still unsettled
      a!.ack();
      b!.nack();
      const again = await end;
      expect(again?.value).toBe(2);
      again!.ack();
      expect(await c.recv()).toBeUndefined();
    });

    it('close rejects publishers waiting for room', async () => {
      const t = makeBus().topic<number>('t', { capacity: 1, groups: ['g'] });
      t.tryPublish(0);
      const p = t.publish(1);
      await t.close();
      await expect(p).rejects.toBeInstanceOf(ClosedError);
    });

    it('Observables complete and readables close once the topic is closed and drained', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
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

    it('an aborted recv rejects with the signal reason and takes nothing', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      const c = t.consumer({ group: 'g' });
      const ac = new AbortController();
      const p = c.recv({ signal: ac.signal });
      ac.abort();
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      t.tryPublish(1);
      expect(c.tryRecv()?.value).toBe(1);
      await expect(c.recv({ signal: AbortSignal.abort(new Error('why')) })).rejects.toThrow('why');
    });

    it('an aborted publish waiting for room rejects with the reason and is not published', async () => {
      const t = makeBus().topic<number>('t', { capacity: 1, groups: ['g'] });
      t.tryPublish(0);
      const ac = new AbortController();
      const p = t.publish(1, { signal: ac.signal });
      ac.abort();
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      t.consumer({ group: 'g' }).tryRecv()!.ack();
      await settle();
      expect(t.stats().tail).toBe(1);
    });

    it("a consumer's signal closes it and returns what it holds", async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      t.tryPublish(1);
      const ac = new AbortController();
      const c = t.consumer({ group: 'g', signal: ac.signal });
      c.tryRecv();
      const p = c.recv();
      ac.abort();
      expect(c.closed).toBe(true);
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      expect(t.consumer({ group: 'g' }).tryRecv()?.deliveryCount).toBe(2);
    });

    it("recv's ready path keeps the rules: behind waiting recvs, within the prefetch window, nothing for a closed or aborted consumer", async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      const c = t.consumer({ group: 'g', prefetch: 1 });
      t.tryPublish(1);
      const d1 = await c.recv(); // ready: taken at the call
      expect(d1?.value).toBe(1);
      t.tryPublish(2);
      t.tryPublish(3);
      const p = c.recv(); // a message is there, but the window is full: waits
      const q = c.recv(); // and q queues behind p
      expect(await isPending(p)).toBe(true);
      expect(await isPending(q)).toBe(true);
      d1?.ack();
      const d2 = await p;
      expect(d2?.value).toBe(2);
      expect(await isPending(q)).toBe(true); // the window holds 2
      d2?.ack();
      const d3 = await q;
      expect(d3?.value).toBe(3);
      d3?.ack();

      const closed = t.consumer({ group: 'g' });
      closed.close();
      t.tryPublish(4);
      expect(await closed.recv()).toBeUndefined();

      const ac = new AbortController();
      const aborted = t.consumer({ group: 'g', signal: ac.signal });
      ac.abort(new Error('stop'));
      await expect(aborted.recv()).rejects.toThrow('stop');
      expect(c.tryRecv()?.value).toBe(4); // neither took it
    });

    it('recvTimeout resolves undefined when nothing arrives in time, and the delivery when it does', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      const c = t.consumer({ group: 'g' });
      expect(await c.recvTimeout(5)).toBeUndefined();
      const p = c.recvTimeout(1000);
      t.tryPublish(7);
      expect((await p)?.value).toBe(7);
    });

    it('recvBatch waits for at least one, then returns up to max', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      const c = t.consumer({ group: 'g' });
      const p = c.recvBatch(3);
      expect(await isPending(p)).toBe(true);
      await t.publishBatch([1, 2, 3, 4]);
      expect((await p).map((d) => d.value)).toEqual([1, 2, 3]);
      expect((await c.recvBatch(10)).map((d) => d.value)).toEqual([4]);
    });

    it('recvBatch: redeliveries first, then a run of new messages, within prefetch; each delivery settles on its own', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3, 4, 5, 6, 7]);
      const c = t.consumer({ group: 'g', prefetch: 5 });
      const [d0, d1] = await c.recvBatch(2);
      d0.nack();
      const batch = await c.recvBatch(10);
      expect(batch.map((d) => [d.value, d.deliveryCount])).toEqual([[0, 2], [2, 1], [3, 1], [4, 1]]); // d1 still held: 5 in all
      batch[1].ack();
      expect(batch[1].ack()).toBe(false); // settling twice is a no-op, and touches no other delivery of the batch
      expect(batch[2].settled).toBe(false);
      batch[3].nack();
      d1.ack();
      expect((await c.recvBatch(10)).map((d) => d.value)).toEqual([4, 5, 6]);
      expect(t.stats().groups.g).toMatchObject({ pending: 5, acked: 2, nacked: 2 });
    });

    it('recvBatch on a consumer closed while it resolves claims nothing more for it', async () => {
      // maxDeliveries 1: what the close returns is dropped, not queued for redelivery
      const t = makeBus().topic<number>('t', { groups: ['g'], maxDeliveries: 1 });
      const c = t.consumer({ group: 'g' });
      const p = c.recvBatch(10); // nothing ready: it waits for the first, then takes what is ready
      void t.publishBatch([0, 1, 2, 3]); // the first is handed to the waiting batch now, the rest after a microtask
      c.close(); // returns what it holds
      expect((await p).map((d) => d.value)).toEqual([0]);
      expect(t.stats().groups.g).toMatchObject({ members: 0, pending: 0, delivered: 1, deadLettered: 1 });
      const again = t.consumer({ group: 'g' });
      expect((await again.recvBatch(10)).map((d) => [d.value, d.deliveryCount])).toEqual([[1, 1], [2, 1], [3, 1]]);
    });

    it('recvBatch claims what is ready at the call (a close right after returns it all) and refuses a bad max at once', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3]);
      const c = t.consumer({ group: 'g' });
      await expect(c.recvBatch(0)).rejects.toThrow(ConfigError); // a rejected promise, never a synchronous throw
      await expect(c.recvBatch(1.5)).rejects.toThrow(ConfigError);
      const p = c.recvBatch(3);
      expect(t.stats().groups.g).toMatchObject({ next: 3, pending: 3 });
      c.close();
      const batch = await p;
      expect(batch.map((d) => d.value)).toEqual([0, 1, 2]);
      expect(batch.every((d) => d.settled)).toBe(true); // returned by the close: stale, settling them is a no-op
      const again = t.consumer({ group: 'g' });
      expect((await again.recvBatch(10)).map((d) => [d.value, d.deliveryCount])).toEqual([[0, 2], [1, 2], [2, 2], [3, 1]]);
    });

    it('recvBatch: a filter throwing midway hands over what the batch already claimed; the next take raises it', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3]);
      const filter = (m: { value: number }): boolean => {
        if (m.value === 2) throw new Error('filter failed on 2');
        return true;
      };
      const c = t.consumer({ group: 'g', filter });
      const batch = await c.recvBatch(10);
      expect(batch.map((d) => d.value)).toEqual([0, 1]);
      await expect(c.recvBatch(10)).rejects.toThrow('filter failed on 2');
      batch.forEach((d) => d.ack());
      expect(t.stats().groups.g).toMatchObject({ committed: 2, acked: 2 });
    });

    it('publishBatch into a topic with no group keeps the last capacity messages and returns every offset', async () => {
      const t = makeBus().topic<number>('t', { capacity: 4 });
      expect(await t.publishBatch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(await t.publishBatch([10, 11])).toEqual([10, 11]);
      expect(await t.publishBatch([])).toEqual([]);
      expect(await t.publishBatch(new Set([12, 13]))).toEqual([12, 13]); // any iterable
      expect(t.stats()).toMatchObject({ size: 4, head: 10, tail: 14, published: 14, dropped: 0 });
      const c = t.consumer({ group: 'late', from: 'earliest' });
      expect((await c.recvBatch(10)).map((d) => d.value)).toEqual([10, 11, 12, 13]);
    });

    it('publishBatch into a full ring takes the slots its groups have settled, then waits for the rest', async () => {
      const t = makeBus().topic<number>('t', { capacity: 4, groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3]);
      const c = t.consumer({ group: 'g', prefetch: 10 });
      c.commit(2); // 0 and 1 are settled: room for two
      const p = t.publishBatch([4, 5, 6, 7]);
      expect(t.stats()).toMatchObject({ head: 2, tail: 6, size: 4 });
      expect(await isPending(p)).toBe(true);
      const got: number[] = [];
      while (got.length < 6) for (const d of await c.recvBatch(10)) (got.push(d.value), d.ack());
      expect(await p).toEqual([4, 5, 6, 7]);
      expect(got).toEqual([2, 3, 4, 5, 6, 7]);
    });

    it.each([
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
    ])('invalid topic option %s = %s throws ConfigError naming it, the value and the range', (option, value) => {
      const bus = makeBus();
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

    it('a ConfigError message names the value and the accepted range', () => {
      expect(() => makeBus().topic('t', { capacity: 0 })).toThrow('`capacity` must be an integer from 1 to 2^30, got `0` (number)');
      expect(() => makeBus().topic('t', { capacity: 4, maxCapacity: 2 })).toThrow(/`maxCapacity` must be an integer from `capacity` \(4\) to 2\^30, got `2`/);
      expect(() => makeBus().topic('t', { overflow: 'nope' as never })).toThrow("`overflow` must be one of 'block', 'drop-oldest', 'reject', 'grow', got `\"nope\"` (string)");
    });

    it('asking for an existing topic with different options is a ConfigError; the same options return it', () => {
      const bus = makeBus();
      const t = bus.topic('t', { capacity: 8 });
      expect(bus.topic('t', { capacity: 8 })).toBe(t);
      expect(bus.topic('t')).toBe(t);
      expect(() => bus.topic('t', { capacity: 16 })).toThrow(ConfigError);
      expect(() => bus.topic('t', { capacity: 8, overflow: 'reject' })).toThrow(/overflow/);
    });

    it('invalid consumer and publish arguments throw ConfigError before anything changes', () => {
      const t = makeBus().topic<number>('t');
      expect(() => t.consumer({ prefetch: 0 })).toThrow(ConfigError);
      expect(() => t.consumer({ from: 'middle' as never })).toThrow(ConfigError);
      expect(() => t.consumer({ from: { offset: -1 } })).toThrow(ConfigError);
      expect(() => t.consumer({ from: 'committed' })).toThrow(/needs a `group`/);
      expect(() => t.consumer({ filter: 3 as never })).toThrow(ConfigError);
      expect(() => t.tryPublish(1, { ttlMs: -1 })).toThrow(ConfigError);
      expect(() => t.tryPublish(1, { headers: { a: 1 as never } })).toThrow(/`headers.a` must be a string/);
      expect(() => t.consumer({ group: 'g' }).tryRecv()).not.toThrow();
      expect(t.stats()).toMatchObject({ published: 0, subscribers: 1 });
    });

    it('deleteTopic closes the topic and completes its consumers', async () => {
      const bus = makeBus();
      const t = bus.topic<number>('t', { groups: ['g'] });
      t.tryPublish(1);
      const c = t.consumer({ group: 'g' });
      expect(await bus.deleteTopic('t')).toBe(true);
      expect(bus.has('t')).toBe(false);
      expect(c.closed).toBe(true);
      expect(await c.recv()).toBeUndefined();
      expect(await bus.deleteTopic('t')).toBe(false);
    });
  });
}

import { map } from 'rxjs';
import { describe, expect } from 'vitest';
import type { Delivery } from '../../../src/index.js';
import type { Test } from './index.js';

export function facesNeutral(test: Test): void {
  describe('faces', () => {
    test('messages(): subscribe joins the group; unsubscribe leaves, and what the subscriber was handed stays settleable until its ack timeout', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'], ackTimeoutMs: k.ms(10) });
      await t.publishBatch([1, 2, 3]);
      const got: Delivery<number>[] = [];
      const sub = t.messages({ group: 'g' }).subscribe((d) => got.push(d));
      await k.eventually(() => expect(got.map((d) => d.value)).toEqual([1, 2, 3]));
      expect(t.stats().groups.g.members).toBe(1);
      got[0].ack();
      sub.unsubscribe();
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ members: 0, pending: 2, committed: 1 }));
      expect(got[1].ack()).toBe(true); // settleable after the unsubscribe (firstValueFrom, take(n))
      const again = t.consumer({ group: 'g' });
      await k.expectNone(again); // 3 is still held
      await k.clock.advance(14);
      const back = await k.take(again);
      expect([back.value, back.deliveryCount]).toEqual([3, 2]);
      expect(got[2].ack()).toBe(false); // timed out: stale
    });

    test('messages(): prefetch bounds what is pushed; a settle lets one more in', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3, 4, 5]);
      const got: Delivery<number>[] = [];
      const sub = t.messages({ group: 'g', prefetch: 2 }).subscribe((d) => got.push(d));
      await k.eventually(() => expect(got.length).toBe(2));
      await k.quiet();
      expect(got.length).toBe(2); // nothing more is pushed while the window is full
      got[0].ack();
      await k.eventually(() => expect(got.length).toBe(3));
      got[1].ack();
      got[2].ack();
      await k.eventually(() => expect(got.map((d) => d.value)).toEqual([0, 1, 2, 3, 4]));
      sub.unsubscribe();
    });

    test('values(): a throwing downstream returns the message to the group', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3]);
      let error: unknown;
      t.values({ group: 'g', prefetch: 1 })
        .pipe(
          map((v) => {
            if (v === 2) throw new Error('boom');
            return v;
          }),
        )
        .subscribe({ error: (e) => (error = e) });
      await k.eventually(() => expect((error as Error | undefined)?.message).toBe('boom'));
      const d = await k.take(t.consumer({ group: 'g' }));
      expect([d.value, d.deliveryCount]).toEqual([2, 2]);
    });

    test('values(): each value is settled once the downstream has taken it', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3]);
      const got: number[] = [];
      const sub = t.values({ group: 'g' }).subscribe((v) => got.push(v));
      await k.eventually(() => expect(got).toEqual([1, 2, 3]));
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ committed: 3, pending: 0, acked: 3 }));
      sub.unsubscribe();
    });

    test('readable(): pulls on demand within prefetch; cancel returns unsettled deliveries', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3, 4, 5]);
      const reader = t.readable({ group: 'g', prefetch: 2 }).getReader();
      const a = await reader.read();
      expect(a.value?.value).toBe(1);
      await k.eventually(() => expect(t.stats().groups.g.pending).toBe(2)); // one read, one queued: the prefetch window
      a.value!.ack(); // room for one more: 3 is pulled into the stream's queue
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ pending: 2, next: 3 }));
      await reader.cancel(); // 2 and 3, queued and unread, go back
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ members: 0, pending: 2, committed: 1 }));
      expect((await k.take(t.consumer({ group: 'g' }))).value).toBe(2);
    });

    test('readable(): holds at most prefetch ahead of the reader, claimed as messages arrive, refilled as they are settled', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      const reader = t.readable({ group: 'g', prefetch: 3 }).getReader();
      await t.publishBatch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ pending: 3, next: 3 })); // claimed on arrival, up to the window
      const read: Delivery<number>[] = [];
      for (let i = 0; i < 3; i++) read.push((await reader.read()).value!);
      expect(read.map((d) => d.value)).toEqual([0, 1, 2]);
      const fourth = reader.read();
      expect(await k.pending(fourth)).toBe(true); // the window is full: the reader waits for a settle
      expect(t.stats().groups.g).toMatchObject({ pending: 3, next: 3 }); // reading alone claims nothing more
      read[0].ack();
      expect((await fourth).value?.value).toBe(3);
      read[1].ack();
      read[2].ack();
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ pending: 3, next: 6 }));
      await reader.cancel();
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ members: 0, pending: 3, committed: 3 })); // 3, 4 and 5 go back
    });

    test('readable(): an aborted signal errors the stream with its reason and returns what it held', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3]);
      const ac = new AbortController();
      const reader = t.readable({ group: 'g', prefetch: 2, signal: ac.signal }).getReader();
      expect((await reader.read()).value?.value).toBe(1);
      expect((await reader.read()).value?.value).toBe(2);
      const stuck = reader.read(); // window full: waits
      expect(await k.pending(stuck)).toBe(true);
      ac.abort(new Error('shutting down'));
      await expect(stuck).rejects.toThrow('shutting down');
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ members: 0, pending: 2, committed: 0 })); // 1 and 2 go back
      expect((await k.take(t.consumer({ group: 'g' }))).value).toBe(1);
    });

    test('readable(): waits for messages published later', async (k) => {
      const t = k.bus().topic<number>('t');
      const reader = t.readable().getReader();
      const p = reader.read();
      expect(await k.pending(p)).toBe(true);
      await t.publish(42);
      expect((await p).value?.value).toBe(42);
      await reader.cancel();
    });

    test('writable(): writer.ready waits while the topic is full under block', async (k) => {
      const t = k.bus().topic<number>('t', { capacity: 2, groups: ['g'] });
      const writer = t.writable().getWriter();
      await writer.write(0);
      await writer.write(1);
      const w = writer.write(2);
      expect(await k.pending(w)).toBe(true);
      expect(await k.pending(writer.ready)).toBe(true);
      (await k.take(t.consumer({ group: 'g' }))).ack();
      await w;
      await writer.ready;
      await k.eventually(() => expect(t.stats().tail).toBe(3));
      await writer.close();
      expect(t.closed).toBe(false);
    });

    test('writable(): readable.pipeTo(topic.writable()) moves every chunk in order', async (k) => {
      const t = k.bus().topic<number>('t', { capacity: 4, groups: ['g'] });
      const src = new ReadableStream<number>({
        start(c) {
          for (let i = 0; i < 20; i++) c.enqueue(i);
          c.close();
        },
      });
      const seen: number[] = [];
      const sub = t.messages({ group: 'g' }).subscribe((d) => {
        seen.push(d.value);
        d.ack();
      });
      await src.pipeTo(t.writable());
      await k.eventually(() => expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i)));
      sub.unsubscribe();
    });

    test('consume(): an ix AsyncIterableX; break returns what is unsettled', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3]);
      const seen: number[] = [];
      for await (const d of t.consume({ group: 'g', prefetch: 1 })) {
        seen.push(d.value);
        if (d.value === 2) break; // 2 is unsettled
        d.ack();
      }
      expect(seen).toEqual([1, 2]);
      await k.eventually(() => expect(t.stats().groups.g).toMatchObject({ members: 0, committed: 1, pending: 1 }));
      const it = t
        .consume({ group: 'g' })
        .pipe((src) => src)
        [Symbol.asyncIterator]();
      const doubled = await it.next();
      expect([doubled.value?.value, doubled.value?.deliveryCount]).toEqual([2, 2]);
      await it.return?.();
    });

    test('consume(): ends when the topic is closed and drained', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2]);
      await t.close();
      const seen: number[] = [];
      for await (const d of t.consume({ group: 'g' })) {
        seen.push(d.value);
        d.ack();
      }
      expect(seen).toEqual([1, 2]);
    });

    test('a Consumer is AsyncIterable<Delivery>', async (k) => {
      const t = k.bus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3]);
      await t.close();
      const seen: number[] = [];
      for await (const d of t.consumer({ group: 'g' })) {
        seen.push(d.value);
        d.ack();
      }
      expect(seen).toEqual([1, 2, 3]);
    });

    test('bus.stats() lists every topic; bus.stats$(ms) emits a snapshot every ms until unsubscribed', async (k) => {
      const bus = k.bus();
      const t = bus.topic<number>('a', { groups: ['g'] });
      bus.topic<number>('b');
      await t.publish(1);
      expect(Object.keys(bus.stats().topics)).toEqual(['a', 'b']);
      await k.eventually(() => expect(bus.stats().topics.a).toMatchObject({ published: 1, size: 1, groups: { g: { lag: 1 } } }));
      const seen: number[] = [];
      const sub = bus.stats$(k.ms(2)).subscribe((s) => seen.push(s.topics.a.published));
      await k.eventually(async () => {
        await k.clock.advance(1);
        expect(seen.length).toBeGreaterThanOrEqual(2);
      });
      expect(new Set(seen)).toEqual(new Set([1]));
      await t.publish(2);
      await k.eventually(async () => {
        await k.clock.advance(1);
        expect(seen.at(-1)).toBe(2);
      });
      sub.unsubscribe();
      const count = seen.length;
      await k.clock.advance(6);
      expect(seen.length).toBe(count);
    });
  });
}

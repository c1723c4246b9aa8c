import { map, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../src/index.js';
import { isPending, settle, virtualTime } from '../helpers.js';
import type { MakeBus } from './index.js';

export function facesSuite(makeBus: MakeBus): void {
  describe('faces', () => {
    it('messages(): subscribe joins the group; unsubscribe leaves, and what the subscriber was handed stays settleable until its ack timeout', async () => {
      const vt = virtualTime();
      const t = makeBus({ scheduler: vt.scheduler }).topic<number>('t', { groups: ['g'], ackTimeoutMs: 1000 });
      await t.publishBatch([1, 2, 3]);
      const got: Delivery<number>[] = [];
      const sub = t.messages({ group: 'g' }).subscribe((d) => got.push(d));
      expect(got.map((d) => d.value)).toEqual([1, 2, 3]);
      expect(t.stats().groups.g.members).toBe(1);
      got[0].ack();
      sub.unsubscribe();
      expect(t.stats().groups.g).toMatchObject({ members: 0, pending: 2, committed: 1 });
      expect(got[1].ack()).toBe(true); // settleable after the unsubscribe (firstValueFrom, take(n))
      const again = t.consumer({ group: 'g' });
      expect(again.tryRecv()).toBeUndefined(); // 3 is still held
      vt.advance(1300);
      const back = again.tryRecv();
      expect([back?.value, back?.deliveryCount]).toEqual([3, 2]);
      expect(got[2].ack()).toBe(false); // timed out: stale
    });

    it('messages(): prefetch is the backpressure', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([0, 1, 2, 3, 4, 5]);
      const got: Delivery<number>[] = [];
      t.messages({ group: 'g', prefetch: 2 }).subscribe((d) => got.push(d));
      expect(got.length).toBe(2);
      got[0].ack();
      expect(got.length).toBe(3);
      got[1].ack();
      got[2].ack();
      expect(got.map((d) => d.value)).toEqual([0, 1, 2, 3, 4]);
    });

    it('messages(): a subscriber that always nacks at once does not hang the thread; the redelivery comes on a later turn', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      t.tryPublish(1);
      t.tryPublish(2);
      const seen: string[] = [];
      const sub = t.messages({ group: 'g' }).subscribe((d) => {
        seen.push(`${d.value}:${d.deliveryCount}`);
        if (d.value === 1 && d.deliveryCount < 3) d.nack();
        else d.ack();
      });
      expect(seen).toEqual(['1:1']); // returned synchronously, redelivered on a later turn, before 2
      for (let i = 0; i < 10 && seen.length < 4; i++) await new Promise((r) => setTimeout(r, 1));
      expect(seen).toEqual(['1:1', '1:2', '1:3', '2:1']);
      sub.unsubscribe();
      expect(t.stats().groups.g).toMatchObject({ acked: 2, nacked: 2, pending: 0 });
    });

    it('messages(): a message published while a redelivery waits for its turn is not handed over before it', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      const seen: string[] = [];
      t.messages({ group: 'g' }).subscribe((d) => {
        seen.push(`${d.value}:${d.deliveryCount}`);
        if (d.value === 1 && d.deliveryCount === 1) d.nack();
        else d.ack();
      });
      t.tryPublish(1); // handed over at publish, nacked at once: parked for a later turn
      t.tryPublish(2);
      t.tryPublish(3);
      expect(seen).toEqual(['1:1']);
      for (let i = 0; i < 10 && seen.length < 4; i++) await new Promise((r) => setTimeout(r, 1));
      expect(seen).toEqual(['1:1', '1:2', '2:1', '3:1']);
      t.tryPublish(4); // and handed over at publish again afterwards
      expect(seen.at(-1)).toBe('4:1');
    });

    it('messages(): publishing from inside the subscriber, 100 000 deep, neither overflows the stack nor reorders', () => {
      const t = makeBus().topic<number>('t', { capacity: 8 });
      const N = 100_000;
      let expected = 0;
      let ok = true;
      t.messages().subscribe((d) => {
        if (d.value !== expected++) ok = false;
        d.ack();
        if (d.value < N - 1) t.tryPublish(d.value + 1);
      });
      t.tryPublish(0);
      expect(ok).toBe(true);
      expect(expected).toBe(N);
    });

    it('messages(): a subscriber holding its whole window gets nothing more until it settles', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      const got: Delivery<number>[] = [];
      t.messages({ group: 'g', prefetch: 2 }).subscribe((d) => got.push(d));
      for (let i = 0; i < 5; i++) t.tryPublish(i);
      expect(got.map((d) => d.value)).toEqual([0, 1]);
      got[1].ack(); // out of order: the window reopens, the floor stays at 0
      expect(got.map((d) => d.value)).toEqual([0, 1, 2]);
      got[0].ack();
      got[2].ack();
      expect(got.map((d) => d.value)).toEqual([0, 1, 2, 3, 4]);
      t.tryPublish(5);
      expect(got.map((d) => d.value)).toEqual([0, 1, 2, 3, 4]); // still a full window (3 and 4 held)
      expect(t.stats().groups.g).toMatchObject({ committed: 3, pending: 2, delivered: 5 });
    });

    it('messages(): deliveries arriving later are pushed as they are published', () => {
      const t = makeBus().topic<number>('t');
      const got: number[] = [];
      t.messages().subscribe((d) => {
        got.push(d.value);
        d.ack();
      });
      t.tryPublish(1);
      t.tryPublish(2);
      expect(got).toEqual([1, 2]);
    });

    it('values(): settles each value once the synchronous downstream returns', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3]);
      const pendingDuring: number[] = [];
      t.values({ group: 'g' }).subscribe(() => pendingDuring.push(t.stats().groups.g.pending));
      expect(pendingDuring).toEqual([1, 1, 1]);
      expect(t.stats().groups.g).toMatchObject({ committed: 3, pending: 0, acked: 3 });
    });

    it('values(): a throwing downstream returns the message to the group', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3]);
      let error: unknown;
      t.values({ group: 'g' })
        .pipe(
          map((v) => {
            if (v === 2) throw new Error('boom');
            return v;
          }),
        )
        .subscribe({ error: (e) => (error = e) });
      expect((error as Error).message).toBe('boom');
      const c = t.consumer({ group: 'g' });
      const d = c.tryRecv()!;
      expect([d.value, d.deliveryCount]).toEqual([2, 2]);
    });

    it('values(): unsubscribing from inside the downstream returns that message to a durable group', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      const got: number[] = [];
      const sub = t.values({ group: 'g' }).subscribe((v) => {
        got.push(v);
        if (v === 2) sub.unsubscribe();
      });
      await t.publishBatch([1, 2, 3]);
      expect(got).toEqual([1, 2]);
      expect(t.stats().groups.g).toMatchObject({ members: 0, committed: 1, pending: 1, acked: 1, next: 2 });
      const c = t.consumer({ group: 'g' });
      const d = c.tryRecv()!;
      expect([d.value, d.deliveryCount]).toEqual([2, 2]);
      expect(c.tryRecv()?.value).toBe(3);
    });

    it('values(): publishing from inside the subscriber, 100 000 deep, neither overflows the stack nor reorders', () => {
      const t = makeBus().topic<number>('t', { capacity: 8 });
      const N = 100_000;
      let expected = 0;
      let ok = true;
      t.values().subscribe((v) => {
        if (v !== expected++) ok = false;
        if (v < N - 1) t.tryPublish(v + 1);
      });
      t.tryPublish(0);
      expect(ok).toBe(true);
      expect(expected).toBe(N);
    });

    it("values({ ack: 'auto' }) with take(n): settled at hand-out, nothing returned", async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3]);
      const got: number[] = [];
      t.values({ group: 'g', ack: 'auto' }).pipe(take(2)).subscribe((v) => got.push(v));
      expect(got).toEqual([1, 2]);
      expect(t.stats().groups.g).toMatchObject({ committed: 2, pending: 0 });
    });

    it('readable(): pulls on demand within prefetch; cancel returns unsettled deliveries', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3, 4, 5]);
      const reader = t.readable({ group: 'g', prefetch: 2 }).getReader();
      const a = await reader.read();
      expect(a.value?.value).toBe(1);
      await settle();
      expect(t.stats().groups.g.pending).toBe(2); // one read, one queued: the prefetch window
      a.value!.ack(); // room for one more: 3 is pulled into the stream's queue
      await settle();
      expect(t.stats().groups.g).toMatchObject({ pending: 2, next: 3 });
      await reader.cancel(); // 2 and 3, queued and unread, go back
      expect(t.stats().groups.g).toMatchObject({ members: 0, pending: 2, committed: 1 });
      const c = t.consumer({ group: 'g' });
      expect(c.tryRecv()?.value).toBe(2);
    });

    it('readable(): holds at most prefetch ahead of the reader, claimed as messages arrive, refilled as they are settled', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      const reader = t.readable({ group: 'g', prefetch: 3 }).getReader();
      await t.publishBatch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      await settle();
      expect(t.stats().groups.g).toMatchObject({ pending: 3, next: 3 }); // claimed on arrival, up to the window
      const read: Delivery<number>[] = [];
      for (let i = 0; i < 3; i++) read.push((await reader.read()).value!);
      expect(read.map((d) => d.value)).toEqual([0, 1, 2]);
      await settle();
      expect(t.stats().groups.g).toMatchObject({ pending: 3, next: 3 }); // reading alone claims nothing more
      const fourth = reader.read();
      expect(await isPending(fourth)).toBe(true); // the window is full: the reader waits for a settle
      read[0].ack();
      expect((await fourth).value?.value).toBe(3);
      read[1].ack();
      read[2].ack();
      await settle();
      expect(t.stats().groups.g).toMatchObject({ pending: 3, next: 6 });
      await reader.cancel();
      expect(t.stats().groups.g).toMatchObject({ members: 0, pending: 3, committed: 3 }); // 3, 4 and 5 go back
    });

    it('readable(): an aborted signal errors the stream with its reason and returns what it held', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3]);
      const ac = new AbortController();
      const reader = t.readable({ group: 'g', prefetch: 2, signal: ac.signal }).getReader();
      expect((await reader.read()).value?.value).toBe(1);
      const waiting = reader.read(); // the queued 2
      expect((await waiting).value?.value).toBe(2);
      const stuck = reader.read(); // window full: waits
      ac.abort(new Error('shutting down'));
      await expect(stuck).rejects.toThrow('shutting down');
      expect(t.stats().groups.g).toMatchObject({ members: 0, pending: 2, committed: 0 }); // 1 and 2 go back
      expect(t.consumer({ group: 'g' }).tryRecv()?.value).toBe(1);
    });

    it('readable(): waits for messages published later', async () => {
      const t = makeBus().topic<number>('t');
      const reader = t.readable().getReader();
      const p = reader.read();
      await settle();
      t.tryPublish(42);
      expect((await p).value?.value).toBe(42);
      await reader.cancel();
    });

    it('writable(): writer.ready waits while the topic is full under block', async () => {
      const t = makeBus().topic<number>('t', { capacity: 2, groups: ['g'] });
      const writer = t.writable().getWriter();
      await writer.write(0);
      await writer.write(1);
      const w = writer.write(2);
      expect(await isPending(w)).toBe(true);
      expect(await isPending(writer.ready)).toBe(true);
      t.consumer({ group: 'g' }).tryRecv()!.ack();
      await w;
      await writer.ready;
      expect(t.stats().tail).toBe(3);
      await writer.close();
      expect(t.closed).toBe(false);
    });

    it('writable(): readable.pipeTo(topic.writable()) moves every chunk in order', async () => {
      const t = makeBus().topic<number>('t', { capacity: 4, groups: ['g'] });
      const src = new ReadableStream<number>({
        start(c) {
          for (let i = 0; i < 20; i++) c.enqueue(i);
          c.close();
        },
      });
      const seen: number[] = [];
      t.messages({ group: 'g' }).subscribe((d) => {
        seen.push(d.value);
        d.ack();
      });
      await src.pipeTo(t.writable());
      expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });

    it('consume(): an ix AsyncIterableX; break returns what is unsettled', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3]);
      const seen: number[] = [];
      for await (const d of t.consume({ group: 'g' })) {
        seen.push(d.value);
        if (d.value === 2) break; // 2 is unsettled
        d.ack();
      }
      expect(seen).toEqual([1, 2]);
      expect(t.stats().groups.g).toMatchObject({ members: 0, committed: 1, pending: 1 });
      const doubled = await t
        .consume({ group: 'g' })
        .pipe((src) => src)
        [Symbol.asyncIterator]()
        .next();
      expect([doubled.value?.value, doubled.value?.deliveryCount]).toEqual([2, 2]);
    });

    it('consume(): ends when the topic is closed and drained', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2]);
      await t.close();
      const seen: number[] = [];
      for await (const d of t.consume({ group: 'g' })) {
        seen.push(d.value);
        d.ack();
      }
      expect(seen).toEqual([1, 2]);
    });

    it('a Consumer is AsyncIterable<Delivery>', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'] });
      await t.publishBatch([1, 2, 3]);
      await t.close();
      const seen: number[] = [];
      for await (const d of t.consumer({ group: 'g' })) {
        seen.push(d.value);
        d.ack();
      }
      expect(seen).toEqual([1, 2, 3]);
    });

    it('bus.stats() and bus.stats$(ms) report every topic on the scheduler', () => {
      const vt = virtualTime();
      const bus = makeBus({ scheduler: vt.scheduler });
      const t = bus.topic<number>('a', { groups: ['g'] });
      bus.topic<number>('b');
      t.tryPublish(1);
      expect(Object.keys(bus.stats().topics)).toEqual(['a', 'b']);
      expect(bus.stats().topics.a).toMatchObject({ published: 1, size: 1, groups: { g: { lag: 1 } } });
      const seen: number[] = [];
      const sub = bus.stats$(100).subscribe((s) => seen.push(s.topics.a.published));
      vt.advance(250);
      t.tryPublish(2);
      vt.advance(100);
      sub.unsubscribe();
      vt.advance(500);
      expect(seen).toEqual([1, 1, 2]);
    });
  });
}

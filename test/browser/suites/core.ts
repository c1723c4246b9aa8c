// The memory engine in a browser page: channels, topics with groups, the Observable and
// web-stream faces, and timers (recvTimeout, nack delays, ack timeouts) on the page's clock.
import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { channel, ClosedError, createBus, type Delivery } from '../../../src/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('channel', () => {
  it('send, recv, ack; send waits while the channel is full and resumes on an ack', async () => {
    const [tx, rx] = channel<string>(2);
    await tx.send('a');
    await tx.send('b');
    let third = false;
    const sending = tx.send('c').then(() => (third = true));
    await sleep(5);
    expect(third).toBe(false);
    const a = await rx.recv();
    expect(a?.value).toBe('a');
    a!.ack();
    await sending;
    expect(third).toBe(true);
    const rest = [await rx.recv(), await rx.recv()];
    expect(rest.map((d) => d?.value)).toEqual(['b', 'c']);
    for (const d of rest) d!.ack();
    tx.close();
    expect(await rx.recv()).toBeUndefined();
  });

  it('recvTimeout resolves undefined after the real timeout, and a delivery when one arrives first', async () => {
    const [tx, rx] = channel<number>(4);
    const started = performance.now();
    expect(await rx.recvTimeout(30)).toBeUndefined();
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    setTimeout(() => tx.trySend(7), 10);
    const d = await rx.recvTimeout(5_000);
    expect(d?.value).toBe(7);
    d!.ack();
  });

  it('a closed receiver gives its unacked messages back; a sender on a closed channel rejects with ClosedError', async () => {
    const [tx, rx] = channel<number>(4);
    await tx.send(1);
    await tx.send(2);
    const held = await rx.recv();
    expect(held?.value).toBe(1);
    const again = rx.resubscribe();
    rx.close();
    const back = [await again.recv(), await again.recv()];
    expect(back.map((d) => [d?.value, d?.deliveryCount])).toEqual([
      [1, 2],
      [2, 1],
    ]);
    tx.close();
    await expect(tx.send(3)).rejects.toBeInstanceOf(ClosedError);
  });
});

describe('topic', () => {
  it('every group gets every message; members of one group share them', async () => {
    const t = createBus().topic<number>('t', { groups: ['billing', 'audit'] });
    await t.publishBatch([0, 1, 2, 3, 4, 5]);
    const audit = t.consumer({ group: 'audit' });
    const b1 = t.consumer({ group: 'billing', prefetch: 1 });
    const b2 = t.consumer({ group: 'billing', prefetch: 1 });
    const billed: number[] = [];
    for (;;) {
      const d = b1.tryRecv() ?? b2.tryRecv();
      if (!d) break;
      billed.push(d.value);
      d.ack();
    }
    const audited = (await audit.recvBatch(10)).map((d) => (d.ack(), d.value));
    expect(billed.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(audited).toEqual([0, 1, 2, 3, 4, 5]);
    expect(t.stats().groups.billing).toMatchObject({ acked: 6, lag: 0 });
    expect(t.stats().groups.audit).toMatchObject({ acked: 6, lag: 0 });
  });

  it('nack with delayMs redelivers after the delay, with deliveryCount 2', async () => {
    const t = createBus().topic<string>('t', { groups: ['g'] });
    await t.publish('retry me');
    const c = t.consumer({ group: 'g' });
    const first = await c.recv();
    const nackedAt = performance.now();
    first!.nack({ delayMs: 40 });
    expect(c.tryRecv()).toBeUndefined();
    const second = await c.recv();
    expect(performance.now() - nackedAt).toBeGreaterThanOrEqual(35);
    expect([second?.value, second?.deliveryCount]).toEqual(['retry me', 2]);
    second!.ack();
    expect(t.stats().groups.g).toMatchObject({ nacked: 1, redelivered: 1, acked: 1, pending: 0 });
  });

  it('an unacked delivery comes back after ackTimeoutMs', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'], ackTimeoutMs: 30 });
    await t.publish(1);
    const c = t.consumer({ group: 'g' });
    const first = await c.recv();
    const again = await c.recvTimeout(2_000);
    expect([first?.deliveryCount, again?.value, again?.deliveryCount]).toEqual([1, 1, 2]);
    expect(first!.ack()).toBe(false); // stale: the message went back
    expect(again!.ack()).toBe(true);
  });

  it('messages() is an Observable of deliveries; acking each commits the group', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    const got = firstValueFrom(t.messages({ group: 'g' }).pipe(take(3), toArray()));
    await t.publishBatch([1, 2, 3]);
    const ds: Delivery<number>[] = await got;
    expect(ds.map((d) => d.value)).toEqual([1, 2, 3]);
    for (const d of ds) d.ack();
    expect(t.stats().groups.g).toMatchObject({ acked: 3, committed: 3 });
  });

  it('a platform ReadableStream piped into writable(), and readable() piped into a platform WritableStream', async () => {
    const bus = createBus();
    const src = bus.topic<string>('src', { groups: ['g'] });
    await new ReadableStream<string>({
      start(c) {
        for (const s of ['x', 'y', 'z']) c.enqueue(s);
        c.close();
      },
    }).pipeTo(src.writable());
    expect(src.stats().published).toBe(3);
    await src.close();
    const seen: string[] = [];
    await src.readable({ group: 'g' }).pipeTo(
      new WritableStream<Delivery<string>>({
        write(d) {
          seen.push(d.value);
          d.ack();
        },
      }),
    );
    expect(seen).toEqual(['x', 'y', 'z']);
    expect(src.stats().groups.g).toMatchObject({ acked: 3, pending: 0 });
  });

  it('for await over a consumer, and stats$ on the page clock', async () => {
    const bus = createBus();
    const t = bus.topic<number>('t', { groups: ['g'] });
    await t.publishBatch([1, 2, 3]);
    await t.close();
    const seen: number[] = [];
    for await (const d of t.consumer({ group: 'g' })) {
      seen.push(d.value);
      d.ack();
    }
    expect(seen).toEqual([1, 2, 3]);
    const samples = await firstValueFrom(bus.stats$(10).pipe(take(2), toArray()));
    expect(samples[1].topics.t.groups.g.acked).toBe(3);
  });
});

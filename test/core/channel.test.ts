import { describe, expect, it } from 'vitest';
import { channel, ClosedError, ConfigError } from '../../src/index.js';
import { isPending, settle, virtualTime } from '../helpers.js';

describe('channel', () => {
  it('a receiver closed while holding an unacked message: the next receiver gets it', async () => {
    const [tx, rx] = channel<string>(4);
    await tx.send('job');
    const d = await rx.recv();
    expect(d?.value).toBe('job');
    const next = rx.resubscribe();
    rx.close();
    const again = await next.recv();
    expect([again?.value, again?.deliveryCount]).toEqual(['job', 2]);
  });

  it('a new receiver sees messages sent before it existed', async () => {
    const [tx, rx] = channel<number>(8);
    await tx.send(1);
    await tx.send(2);
    const late = rx.resubscribe();
    rx.close();
    expect((await late.recv())?.value).toBe(1);
    expect((await late.recv())?.value).toBe(2);
  });

  it('send on a full channel resolves only after an ack frees room; a recv without ack frees nothing', async () => {
    const [tx, rx] = channel<number>(2);
    await tx.send(0);
    await tx.send(1);
    expect(tx.trySend(2)).toBe(false);
    const sent = tx.send(2);
    expect(await isPending(sent)).toBe(true);
    const d0 = await rx.recv();
    expect(await isPending(sent)).toBe(true);
    d0!.ack();
    expect(await sent).toBe(2);
  });

  it('two competing receivers split N messages with no duplicate and no loss', async () => {
    const [tx, rx] = channel<number>(16);
    const rx2 = rx.resubscribe();
    const N = 2000;
    const seen: number[] = [];
    const per = [0, 0];
    const work = async (r: typeof rx, k: number) => {
      for await (const d of r) {
        seen.push(d.value);
        per[k]++;
        if (d.value % 3 === 0) await settle();
        d.ack();
      }
    };
    const done = Promise.all([work(rx, 0), work(rx2, 1)]);
    for (let i = 0; i < N; i++) await tx.send(i);
    tx.close();
    await done;
    expect(seen.length).toBe(N);
    expect(new Set(seen).size).toBe(N);
    expect(per[0]).toBeGreaterThan(0);
    expect(per[1]).toBeGreaterThan(0);
  });

  it('close-then-drain: receivers get what is left, then undefined; clones keep it open', async () => {
    const [tx, rx] = channel<number>(8);
    const tx2 = tx.clone();
    await tx.send(1);
    tx.close();
    await expect(tx.send(2)).rejects.toBeInstanceOf(ClosedError);
    await tx2.send(2);
    tx2.close();
    await expect(tx2.send(3)).rejects.toBeInstanceOf(ClosedError);
    const a = await rx.recv();
    const b = await rx.recv();
    a!.ack();
    b!.ack();
    expect([a?.value, b?.value]).toEqual([1, 2]);
    expect(await rx.recv()).toBeUndefined();
    expect(rx.tryRecv()).toBeUndefined();
  });

  it('tryRecv never waits; recvTimeout gives up on time; recvBatch returns up to max', async () => {
    const vt = virtualTime();
    const [tx, rx] = channel<number>(8, { scheduler: vt.scheduler });
    expect(rx.tryRecv()).toBeUndefined();
    const p = rx.recvTimeout(100);
    vt.advance(100);
    expect(await p).toBeUndefined();
    await tx.send(1);
    await tx.send(2);
    await tx.send(3);
    expect((await rx.recvBatch(2)).map((d) => d.value)).toEqual([1, 2]);
  });

  it('a send waiting for room can be aborted', async () => {
    const [tx] = channel<number>(1);
    await tx.send(0);
    const ac = new AbortController();
    const p = tx.send(1, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('ack timeout returns a message held too long', () => {
    const vt = virtualTime();
    const [tx, rx] = channel<string>(4, { scheduler: vt.scheduler, ackTimeoutMs: 50 });
    tx.trySend('x');
    const d = rx.tryRecv()!;
    vt.advance(50);
    expect(d.settled).toBe(false);
    vt.advance(12.5); // at most 1.25 x ackTimeoutMs
    expect(d.settled).toBe(true);
    expect(rx.tryRecv()?.deliveryCount).toBe(2);
  });

  it('take, ack, take again: each delivery settles only itself, and a receiver that acked all it held competes as before', () => {
    // a receiver's run acked to its end starts again at its next take (the lone run, memory/group/state.ts): the
    // deliveries of one run share a generation, so an old one must still settle nothing
    const [tx, rx] = channel<number>(8);
    for (let i = 0; i < 5; i++) tx.trySend(i);
    const d0 = rx.tryRecv()!;
    expect(d0.ack()).toBe(true);
    expect(d0.settled).toBe(true);
    expect(d0.ack()).toBe(false);
    const d1 = rx.tryRecv()!;
    expect(d1.offset).toBe(1);
    expect(d0.ack()).toBe(false);
    expect(d0.nack()).toBe(false);
    expect(d1.settled).toBe(false);
    expect(d1.nack()).toBe(true); // back to the channel
    const again = rx.tryRecv()!;
    expect([again.offset, again.deliveryCount]).toEqual([1, 2]);
    expect(again.ack()).toBe(true);
    // another receiver takes where the first one's empty run ends
    const other = rx.resubscribe();
    const d2 = other.tryRecv()!;
    expect(d2.offset).toBe(2);
    const d3 = rx.tryRecv()!;
    expect(d3.offset).toBe(3);
    expect(d2.ack()).toBe(true);
    expect(d3.ack()).toBe(true);
    expect(d1.ack()).toBe(false);
    const d4 = rx.tryRecv()!;
    expect(d4.offset).toBe(4);
    other.close();
    rx.close();
    expect(d4.settled).toBe(true); // closing gave it back
  });

  it('a run started again after its first delivery was acked times out from its own take', () => {
    const vt = virtualTime();
    const [tx, rx] = channel<string>(4, { scheduler: vt.scheduler, ackTimeoutMs: 40 });
    tx.trySend('a');
    tx.trySend('b');
    rx.tryRecv()!.ack();
    vt.advance(35); // the sweeper ran (and stopped: nothing held)
    const b = rx.tryRecv()!;
    vt.advance(40);
    expect(b.settled).toBe(false);
    vt.advance(10); // at most 1.25 x ackTimeoutMs after its take
    expect(b.settled).toBe(true);
    expect(rx.tryRecv()?.deliveryCount).toBe(2);
  });

  it('sends while no receiver waits wake nobody; a recv that starts waiting later, one whose wait was aborted, and a receiver that attaches later are each still woken', async () => {
    const [tx, rx] = channel<number>(64);
    for (let i = 0; i < 3; i++) expect(tx.trySend(i)).toBe(true); // nobody waits: no wake needed
    for (let i = 0; i < 3; i++) rx.recv().then((d) => d?.ack());
    await settle();
    // the receiver is caught up: its next recv waits, and the next send must wake it
    const waiting = rx.recv();
    expect(await isPending(waiting)).toBe(true);
    tx.trySend(3);
    const d3 = await waiting;
    expect(d3?.value).toBe(3);
    d3?.ack();
    // a waiting recv aborted: another receiver's recv, started later, still gets the next send
    const ac = new AbortController();
    const aborted = rx.recv({ signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    const other = rx.resubscribe();
    const next = other.recv();
    expect(await isPending(next)).toBe(true);
    tx.trySend(4);
    expect((await next)?.value).toBe(4);
    // a receiver iterated later (its wait starts in the iterator) is woken by a send as well
    const it = rx.resubscribe()[Symbol.asyncIterator]();
    const pending = it.next();
    expect(await isPending(pending)).toBe(true);
    tx.trySend(5);
    expect(await isPending(pending)).toBe(false);
    expect((await pending).value?.value).toBe(5);
  });

  it('a delivery is no thenable: recv() and Promise.resolve hand over the delivery itself, and `then` shows nowhere', async () => {
    const [tx, rx] = channel<{ n: number }>(4);
    tx.trySend({ n: 1 });
    tx.trySend({ n: 2 });
    const d = await rx.recv();
    expect(d?.value).toEqual({ n: 1 });
    expect(typeof (d as unknown as { then?: unknown }).then).toBe('undefined');
    expect('then' in d!).toBe(false); // nothing on the chain: V8 may then skip the lookup (docs/semantics.md)
    expect(await Promise.resolve(d)).toBe(d);
    const keys: string[] = [];
    for (const k in d) keys.push(k);
    expect(keys).not.toContain('then');
    expect(Object.keys(d!)).not.toContain('then');
    expect(Object.keys(JSON.parse(JSON.stringify(d)))).not.toContain('then');
    // an instance may still be given its own `then` like any object (nothing read-only is inherited)
    const e = rx.tryRecv()!;
    (e as unknown as { then: unknown }).then = 1;
    expect((e as unknown as { then: unknown }).then).toBe(1);
  });

  it('validates its arguments', () => {
    expect(() => channel(0)).toThrow(ConfigError);
    expect(() => channel(1.5)).toThrow('`capacity` must be an integer from 1 to 2^30, got `1.5` (number)');
    expect(() => channel(4, { prefetch: -1 })).toThrow(ConfigError);
    expect(() => channel(4, { bogus: 1 } as never)).toThrow(/not an option/);
  });
});

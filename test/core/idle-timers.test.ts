/**
 * A group stops its ack-timeout sweep when nothing is held (the topic closing, a settle after it
 * closed, a member leaving) and the delay timer when nothing is delayed, so a closed topic keeps no
 * timer (test/reliability/leaks.test.ts measures the heap); what is still held keeps its timeout.
 */
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/index.js';
import { virtualTime } from '../helpers.js';

function timers(vt: ReturnType<typeof virtualTime>): number {
  return vt.scheduler.actions.length;
}

describe('idle timers', () => {
  it('closing a topic with nothing held leaves no timer', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { ackTimeoutMs: 1_000 });
    const c = t.consumer({ group: 'g' });
    t.tryPublish(1);
    c.tryRecv()?.ack();
    expect(timers(vt)).toBe(1); // the sweep armed by the delivery
    await t.close();
    expect(timers(vt)).toBe(0);
  });

  it('after close, a held delivery still times out; its settle then stops the sweep', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { ackTimeoutMs: 1_000 });
    const a = t.consumer({ group: 'g' });
    const b = t.consumer({ group: 'g' });
    t.tryPublish(1);
    t.tryPublish(2);
    const held = a.tryRecv();
    b.tryRecv()?.ack();
    await t.close();
    expect(timers(vt)).toBe(1);
    vt.advance(1_300); // the ack timeout returns what `a` holds
    expect(held?.settled).toBe(true);
    const again = b.tryRecv();
    expect(again?.offset).toBe(0);
    again?.ack();
    expect(timers(vt)).toBe(0);
    await expect(b.recv()).resolves.toBeUndefined();
  });

  it('on an open topic a sweep that finds nothing held stops by itself; the next take arms it again', () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { ackTimeoutMs: 1_000 });
    const a = t.consumer({ group: 'g' });
    const b = t.consumer({ group: 'g' });
    t.tryPublish(1);
    a.tryRecv()?.ack(); // a lone run, emptied: a's next take would start it again without a claim
    b.close(); // a member leaving does not restart or stop the sweep: its phase stays as it was
    expect(timers(vt)).toBe(1);
    vt.advance(300); // one sweep period (ackTimeoutMs / 4): nothing held, so it stops
    expect(timers(vt)).toBe(0);
    t.tryPublish(2);
    const d = a.tryRecv();
    expect(timers(vt)).toBe(1);
    vt.advance(1_300);
    expect(d?.settled).toBe(true); // timed out: the sweep ran
    expect(a.tryRecv()?.deliveryCount).toBe(2);
  });

  it('a delayed nack keeps its timer through a close', async () => {
    const vt = virtualTime();
    const t = createBus({ scheduler: vt.scheduler }).topic<number>('t', { ackTimeoutMs: Infinity });
    const c = t.consumer({ group: 'g' });
    t.tryPublish(1);
    c.tryRecv()?.nack({ delayMs: 500 });
    await t.close();
    const next = c.recv();
    vt.advance(600);
    const d = await next;
    expect(d?.deliveryCount).toBe(2);
    d?.ack();
    expect(timers(vt)).toBe(0);
  });
});

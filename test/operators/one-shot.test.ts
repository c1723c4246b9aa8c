import { first, firstValueFrom, lastValueFrom, map, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBus, type Delivery } from '../../src/index.js';
import { virtualTime } from '../helpers.js';

/**
 * RxJS one-shot idioms unsubscribe from `messages()` before the subscriber settles what it got:
 * those deliveries stay held by the group (its ack timer), settleable after the unsubscribe.
 */
function setup(ackTimeoutMs = 1000) {
  const vt = virtualTime();
  const bus = createBus({ scheduler: vt.scheduler });
  const t = bus.topic<number>('jobs', { groups: ['workers'], ackTimeoutMs });
  return { vt, t };
}

describe('messages() with firstValueFrom, take(n), first()', () => {
  it('firstValueFrom: the delivery is not stale; ack() works and the message is not redelivered', async () => {
    const { vt, t } = setup();
    await t.publishBatch([1, 2]);
    const d = await firstValueFrom(t.messages({ group: 'workers' }));
    expect(d.value).toBe(1);
    expect(d.settled).toBe(false);
    expect(t.stats().groups.workers.members).toBe(0); // the face left
    expect(d.ack()).toBe(true);
    vt.advance(5000);
    const next = t.consumer({ group: 'workers' });
    expect(next.tryRecv()?.value).toBe(2); // 1 never comes back
    expect(next.tryRecv()).toBeUndefined();
    expect(t.stats().groups.workers).toMatchObject({ acked: 1, redelivered: 0 });
  });

  it('firstValueFrom: a delivery left unsettled comes back after the ack timeout, not before', async () => {
    const { vt, t } = setup(1000);
    await t.publish(1);
    const d = await firstValueFrom(t.messages({ group: 'workers' }));
    const other = t.consumer({ group: 'workers' });
    expect(other.tryRecv()).toBeUndefined(); // still held: not returned by the unsubscribe
    vt.advance(1300); // ack timeout (checked every ackTimeoutMs / 4)
    const again = other.tryRecv();
    expect([again?.value, again?.deliveryCount]).toEqual([1, 2]);
    expect(d.settled).toBe(true); // timed out: stale now
    expect(d.ack()).toBe(false);
    expect(again?.ack()).toBe(true);
  });

  it('take(n): every delivery taken stays settleable; the rest stays with the group, undelivered', async () => {
    const { vt, t } = setup();
    await t.publishBatch([1, 2, 3, 4, 5]);
    const got = await lastValueFrom(t.messages({ group: 'workers', prefetch: 5 }).pipe(take(3), toArray()));
    expect(got.map((d) => d.value)).toEqual([1, 2, 3]);
    expect(got.map((d) => d.ack())).toEqual([true, true, true]);
    const next = t.consumer({ group: 'workers' });
    const rest = [next.tryRecv(), next.tryRecv(), next.tryRecv()];
    expect(rest.map((d) => d?.value)).toEqual([4, 5, undefined]);
    expect(rest.map((d) => d?.deliveryCount)).toEqual([1, 1, undefined]); // handed back unseen, not redelivered
    rest.forEach((d) => d?.ack());
    vt.advance(5000);
    expect(next.tryRecv()).toBeUndefined(); // nothing redelivered
    expect(t.stats().groups.workers).toMatchObject({ acked: 5, redelivered: 0, pending: 0 });
  });

  it('first(predicate): deliveries it skipped are held too, and come back after the ack timeout', async () => {
    const { vt, t } = setup(1000);
    await t.publishBatch([1, 2, 3]);
    const d = await firstValueFrom(t.messages({ group: 'workers' }).pipe(first((x: Delivery<number>) => x.value === 2)));
    expect(d.ack()).toBe(true);
    const other = t.consumer({ group: 'workers' });
    expect(other.tryRecv()?.value).toBe(3); // never handed downstream of the face: free at once
    vt.advance(1300);
    const back = other.tryRecv(); // 1 was handed to first(), which dropped it unsettled
    expect([back?.value, back?.deliveryCount]).toEqual([1, 2]);
  });

  it('a subscription without a group: the delivery settles after firstValueFrom, and nothing comes back', async () => {
    const { vt, t } = setup();
    const p = firstValueFrom(t.messages());
    await t.publish(7);
    const d = await p;
    expect(d.ack()).toBe(true);
    vt.advance(5000);
    expect(Object.keys(t.stats().groups)).toEqual(['workers']); // the private group is gone
  });

  it('an explicit unsubscribe keeps what the subscriber holds too; nack() hands it back at once', async () => {
    const { t } = setup();
    await t.publishBatch([1, 2]);
    const held: Delivery<number>[] = [];
    const sub = t.messages({ group: 'workers' }).subscribe((d) => held.push(d));
    sub.unsubscribe();
    const other = t.consumer({ group: 'workers' });
    expect(other.tryRecv()).toBeUndefined();
    expect(held.map((d) => d.nack())).toEqual([true, true]);
    expect([other.tryRecv()?.value, other.tryRecv()?.value]).toEqual([1, 2]);
  });

  it('an operator that throws ends the subscription; what it was handed comes back after the ack timeout', async () => {
    const { vt, t } = setup(1000);
    await t.publishBatch([1, 2]);
    const errors: unknown[] = [];
    t.messages({ group: 'workers', prefetch: 1 })
      .pipe(
        map(() => {
          throw new Error('boom');
        }),
      )
      .subscribe({ error: (e) => errors.push(e) });
    expect(errors.length).toBe(1);
    const other = t.consumer({ group: 'workers' });
    expect(other.tryRecv()?.value).toBe(2); // never handed downstream: free at once
    vt.advance(1300);
    const back = other.tryRecv();
    expect([back?.value, back?.deliveryCount]).toEqual([1, 2]);
  });
});

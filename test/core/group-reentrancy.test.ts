/**
 * Calls into a group from inside its own callbacks: a seek from a `values()` subscriber, and
 * `deleteGroup` with push members (test/reliability/reentrancy.test.ts fuzzes the whole class).
 */
import { describe, expect, it } from 'vitest';
import { createBus, type Delivery } from '../../src/index.js';

describe('seek from inside a values({ group }) callback', () => {
  it('leaves the replayed offset held by the member that took it again', async () => {
    const t = createBus().topic<number>('t', { groups: ['g'] });
    const seeker = t.consumer({ group: 'g' });
    let first = true;
    t.values({ group: 'g' }).subscribe(() => {
      if (first) {
        first = false;
        seeker.seek(0); // replays the message this callback is handling
      }
    });
    const held: Delivery<number>[] = [];
    t.messages({ group: 'g', prefetch: 1 }).subscribe((d) => held.push(d));
    t.tryPublish(0);

    // the messages() member took offset 0 again; the values() callback's end must not settle it
    const live = held.filter((d) => !d.settled);
    expect(live.map((d) => d.offset)).toEqual([0]);
    expect(t.stats().groups.g).toMatchObject({ committed: 0, next: 1, pending: 1 });
    expect(live[0].nack()).toBe(true);
    expect(live[0].nack()).toBe(false);

    // whoever gets it next acks it: the group drains, and after close a recv settles
    for (const d of held) if (!d.settled) d.ack();
    await t.close();
    for (let d = seeker.tryRecv(); d !== undefined; d = seeker.tryRecv()) d.ack();
    for (const d of held) if (!d.settled) d.ack();
    expect(t.stats().groups.g).toMatchObject({ committed: 1, pending: 0 });
    await expect(seeker.recv()).resolves.toBeUndefined();
  });
});

describe('deleteGroup with push members', () => {
  it('dead-letters nothing: members holding messages are closed, their messages dropped', async () => {
    const bus = createBus();
    const t = bus.topic<number>('t', { maxDeliveries: 2, deadLetter: 'dlq' });
    const dlq = bus.topic<number>('dlq', { groups: ['dead'] });
    const held: Delivery<number>[] = [];
    const completed: number[] = [];
    for (let i = 0; i < 3; i++) t.messages({ group: 'h' }).subscribe({ next: (d) => held.push(d), complete: () => completed.push(i) });
    await t.publishBatch([0, 1, 2]);
    expect(held).toHaveLength(3);

    expect(t.deleteGroup('h')).toBe(true);
    expect(dlq.stats().published).toBe(0);
    expect(completed.sort()).toEqual([0, 1, 2]);
    expect(held.map((d) => d.ack())).toEqual([false, false, false]);
    expect(t.stats().groups.h).toBeUndefined();
  });

  it('a member subscribing from a callback run by deleteGroup joins a fresh group', () => {
    const t = createBus().topic<number>('t', { capacity: 4 });
    const r = t.consumer({ group: 'g' });
    t.tryPublish(0);
    const stale = r.tryRecv() as Delivery<number>;
    let fresh: Delivery<number> | undefined;
    let freshDone = false;
    t.values({ group: 'g' }).subscribe({
      complete: () => {
        // runs while deleteGroup closes the members of the doomed group
        t.messages({ group: 'g' }).subscribe({ next: (d) => (fresh = d), complete: () => (freshDone = true) });
      },
    });
    expect(t.deleteGroup('g')).toBe(true);

    // the new group starts from the earliest retained message and hands offset 0 out again
    expect(fresh?.offset).toBe(0);
    expect(stale.ack()).toBe(false);
    expect(fresh?.ack()).toBe(true);
    expect(t.stats().groups.g).toMatchObject({ members: 1, committed: 1, pending: 0 });
    void t.close();
    expect(freshDone).toBe(true);
  });

  it('a callback run while the delete admits a waiting publisher cannot reach the doomed group', async () => {
    const bus = createBus();
    const t = bus.topic<number>('t', { capacity: 1, deadLetter: 'dlq' });
    const dlq = bus.topic<number>('dlq', { groups: ['dead'] });
    const c = t.consumer({ group: 'g' });
    t.tryPublish(0);
    const held = c.tryRecv(); // g holds back retention: the ring is full
    t.messages({ group: 'g' }).subscribe((d) => d.term('poison')); // dead-letters whatever it gets
    t.values().subscribe(() => c.seek(0)); // a private subscription: it sees offset 1 once admitted
    const waiting = t.publish(1);
    expect(t.stats().waitingPublishers).toBe(1);

    expect(t.deleteGroup('g')).toBe(true); // makes room: publish(1) goes in, the values() callback runs
    await expect(waiting).resolves.toBe(1);
    expect(dlq.stats().published).toBe(0);
    expect(held?.ack()).toBe(false);
  });

  it('a member whose filter settle runs a callback that deletes its group takes nothing more from it', async () => {
    const t = createBus().topic<number>('t', { capacity: 2 });
    t.consumer({ group: 'g' }); // the group exists and holds back retention
    t.tryPublish(1);
    t.tryPublish(2);
    const waiting = t.publish(3); // the ring is full
    t.values().subscribe(() => t.deleteGroup('g')); // a private subscription: sees 3 once admitted
    const got: Delivery<number>[] = [];
    // skipping 1 (odd) makes room: publish(3) goes in and its wake deletes the group mid-take
    t.messages({ group: 'g', filter: (m) => m.value % 2 === 0 }).subscribe((d) => got.push(d));
    await expect(waiting).resolves.toBe(2);
    expect(t.stats().groups.g).toBeUndefined();
    expect(got.filter((d) => !d.settled)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../../src/index.js';
import { virtualTime } from '../../helpers.js';
import type { MakeBus } from './index.js';

function drain<T>(c: { tryRecv(): Delivery<T> | undefined }, ack = true): Delivery<T>[] {
  const out: Delivery<T>[] = [];
  for (let d = c.tryRecv(); d; d = c.tryRecv()) {
    out.push(d);
    if (ack) d.ack();
  }
  return out;
}

export function deliveryInProcess(makeBus: MakeBus): void {
  describe('delivery', () => {
    it('nack with delayMs holds the message back until the delay is over', () => {
      const vt = virtualTime();
      const t = makeBus({ scheduler: vt.scheduler }).topic<string>('t', { groups: ['g'] });
      t.tryPublish('a');
      t.tryPublish('b');
      const c = t.consumer({ group: 'g' });
      c.tryRecv()!.nack({ delayMs: 100 });
      expect(c.tryRecv()?.value).toBe('b');
      expect(c.tryRecv()).toBeUndefined();
      vt.advance(99);
      expect(c.tryRecv()).toBeUndefined();
      vt.advance(1);
      const again = c.tryRecv();
      expect([again?.value, again?.deliveryCount]).toEqual(['a', 2]);
    });

    it('ack timeout redelivers an unsettled delivery (after ackTimeoutMs, within 1.25x); inProgress restarts the timer', () => {
      const vt = virtualTime();
      const t = makeBus({ scheduler: vt.scheduler }).topic<string>('t', { groups: ['g'], ackTimeoutMs: 100 });
      t.tryPublish('slow');
      const c = t.consumer({ group: 'g' });
      const d = c.tryRecv()!;
      vt.advance(80);
      expect(d.inProgress()).toBe(true);
      vt.advance(100); // 180: the first deadline (100..125) has passed, the new one (after 180) has not
      expect(d.settled).toBe(false);
      expect(c.tryRecv()).toBeUndefined();
      vt.advance(25); // 205 = 80 + 1.25 x 100
      expect(d.settled).toBe(true);
      const again = c.tryRecv()!;
      expect([again.value, again.deliveryCount]).toEqual(['slow', 2]);
      expect(d.ack()).toBe(false);
    });

    it('deliveries taken in a row but at different times each time out on their own clock (tryRecv and recvBatch)', async () => {
      for (const later of ['tryRecv', 'recvBatch'] as const) {
        const vt = virtualTime();
        const t = makeBus({ scheduler: vt.scheduler }).topic<number>('t', { groups: ['g'], ackTimeoutMs: 100 });
        await t.publishBatch([0, 1, 2]);
        const c = t.consumer({ group: 'g' });
        const first = c.tryRecv()!;
        vt.advance(60);
        const rest = later === 'tryRecv' ? [c.tryRecv()!] : await c.recvBatch(2);
        vt.advance(70); // 130: past the first one's bound (125), before the others' (160)
        expect(first.settled, later).toBe(true);
        expect(rest.map((d) => d.settled), later).toEqual(rest.map(() => false));
        vt.advance(60); // 190: past theirs (60 + 125)
        expect(rest.map((d) => d.settled), later).toEqual(rest.map(() => true));
        expect(t.stats().groups.g.pending, later).toBe(1 + rest.length); // returned, waiting for redelivery
      }
    });

    it('a delivery acked before its timeout is never returned, however many sweeps pass', () => {
      const vt = virtualTime();
      const t = makeBus({ scheduler: vt.scheduler }).topic<number>('t', { groups: ['g'], ackTimeoutMs: 40 });
      const c = t.consumer({ group: 'g' });
      for (let i = 0; i < 20; i++) {
        t.tryPublish(i);
        const d = c.tryRecv()!;
        vt.advance(39);
        expect(d.ack()).toBe(true);
      }
      vt.advance(1000);
      expect(t.stats().groups.g).toMatchObject({ acked: 20, redelivered: 0, pending: 0 });
    });

    it('ackTimeoutMs Infinity never redelivers', () => {
      const vt = virtualTime();
      const t = makeBus({ scheduler: vt.scheduler }).topic<string>('t', { groups: ['g'], ackTimeoutMs: Infinity });
      t.tryPublish('x');
      const c = t.consumer({ group: 'g' });
      const d = c.tryRecv()!;
      vt.advance(10_000_000);
      expect(d.settled).toBe(false);
      expect(c.tryRecv()).toBeUndefined();
    });

    it('publishing and acking from inside delivery callbacks is safe and does not reorder', async () => {
      const t = makeBus().topic<number>('t', { groups: ['g'], capacity: 16 });
      const seen: number[] = [];
      t.messages({ group: 'g' }).subscribe((d) => {
        seen.push(d.value);
        d.ack();
        if (d.value < 1000) t.tryPublish(d.value + 1);
      });
      t.tryPublish(0);
      expect(seen.length).toBe(1001);
      expect(seen.every((v, i) => v === i)).toBe(true);
    });
  });
}

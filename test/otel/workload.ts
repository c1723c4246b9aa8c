import { createBus } from '../../src/index.js';
import type { Bus } from '../../src/index.js';

/**
 * A bus whose stats have every figure non-zero somewhere: publishes, acks, nacks with
 * redelivery, dead letters, drops and misses (drop-oldest), a waiting publisher, a live member.
 */
export async function busUnderWorkload(): Promise<Bus> {
  const bus = createBus();
  const orders = bus.topic<number>('orders', {
    capacity: 16,
    overflow: 'drop-oldest',
    groups: ['billing', 'audit'],
    maxDeliveries: 2,
    deadLetter: 'orders.dlq',
  });
  bus.topic<number>('orders.dlq', { groups: ['ops'] });
  const billing = orders.consumer({ group: 'billing' });
  for (let i = 0; i < 10; i++) await orders.publish(i);
  for (let round = 0; round < 3; round++) {
    for (;;) {
      const d = billing.tryRecv();
      if (d === undefined) break;
      if (d.value % 3 === 0) d.nack();
      else d.ack();
    }
  }
  // 'audit' never reads: drop-oldest evicts what it still needed.
  for (let i = 10; i < 30; i++) await orders.publish(i);
  // 'idle' has no member, so nothing settles: a third publish waits for room.
  const jobs = bus.topic<number>('jobs', { capacity: 2, overflow: 'block', groups: ['idle'] });
  await jobs.publish(1);
  await jobs.publish(2);
  jobs.publish(3).catch(() => {}); // refused when the bus closes
  const held = billing.tryRecv();
  if (held === undefined) throw new Error('workload: expected a delivery to hold');
  return bus;
}

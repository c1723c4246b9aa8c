/**
 * A work queue on `channel()`: competing workers, a failed job retried, a hung worker whose job
 * comes back after `ackTimeoutMs`, and a sender that blocks while the channel is full.
 *
 * Run: node --conditions=ringbus-source --import tsx examples/work-queue.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { channel, type Receiver } from 'ringbus';

interface Job {
  readonly id: number;
}

// At most 4 unacked jobs in the channel; a job not settled within 50 ms goes back.
const [tx, rx] = channel<Job>(4, { ackTimeoutMs: 50 });

// A worker that takes one job and then hangs (never acks, never closes).
const hung = rx.resubscribe();
await tx.send({ id: 0 });
const stuck = await hung.recv();
console.log(`hung worker took job ${stuck?.value.id} and stopped responding`);

async function worker(name: string, r: Receiver<Job>): Promise<number[]> {
  const done: number[] = [];
  for await (const d of r) {
    if (d.value.id === 3 && d.deliveryCount === 1) {
      console.log(`${name}: job 3 failed, nack -> it comes back before newer jobs`);
      d.nack();
      continue;
    }
    await sleep(2); // the work
    d.ack();
    done.push(d.value.id);
    if (d.redelivered) console.log(`${name}: did job ${d.value.id} (deliveryCount ${d.deliveryCount}, redelivered)`);
  }
  return done;
}

const workers = [worker('w1', rx), worker('w2', rx.resubscribe())];

async function produce(): Promise<number> {
  let blocked = 0;
  for (let id = 1; id <= 10; id++) {
    if (!tx.trySend({ id })) {
      blocked++;
      await tx.send({ id }); // waits until an ack frees room
    }
  }
  return blocked;
}

// Job 0 sits unacked at the head of the channel, so the channel fills up behind it (capacity
// counts from the oldest unacked message) until the ack timeout gives job 0 to another worker.
// The process waits for that timeout: the workers are waiting for what it brings.
const blocked = await produce();
console.log(`sender: 10 jobs sent, ${blocked} of them had to wait for room`);
console.log(`the hung worker's delivery is stale now: ack() returns ${stuck?.ack()}`);

tx.close(); // the receivers drain what is left, then their loops end
const [w1, w2] = await Promise.all(workers);
hung.close();

const all = [...w1, ...w2].sort((a, b) => a - b);
console.log(`w1 did ${JSON.stringify(w1)}`);
console.log(`w2 did ${JSON.stringify(w2)}`);
console.log(`every job exactly once: ${JSON.stringify(all) === JSON.stringify([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])}`);

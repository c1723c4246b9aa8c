/**
 * The NATS engine's own publish and ack paths: PubAcks matched on one inbox (AckedPublisher), and
 * acks sent once per turn (AckBatch) without losing any when the bus closes right after them.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createBus, TimeoutError } from '../../src/index.js';
import { natsEngine } from '../../src/nats/index.js';
import { AckedPublisher } from '../../src/nats/publisher.js';
import { deleteStreams, freshPrefix, NATS_URL, nats } from './service.js';

const prefixes: string[] = [];
afterAll(async () => {
  if (nats.available) for (const p of prefixes) await deleteStreams(p);
});

/** A subject answered by `answer(i, reply)` for the i-th request (a stand-in for a stream). */
function responder(nc: NatsConnection, subject: string, answer: (i: number, reply: string) => void): void {
  let i = 0;
  nc.subscribe(subject, { callback: (_, m) => answer(i++, m.reply!) });
}

describe.skipIf(!nats.available)(`AckedPublisher${nats.available ? '' : ` (${nats.reason})`}`, () => {
  it('resolves each publish to the sequence of its own PubAck, however the answers are ordered', async () => {
    const nc = await connect({ servers: NATS_URL });
    try {
      const subject = `rbt.${freshPrefix()}.acks`;
      const replies: string[] = [];
      responder(nc, subject, (i, reply) => {
        replies.push(reply);
        if (i === 299) for (let k = replies.length - 1; k >= 0; k--) nc.publish(replies[k]!, JSON.stringify({ stream: 's', seq: k + 1 }));
      });
      await nc.flush();
      const p = new AckedPublisher(nc);
      const seqs = await Promise.all(Array.from({ length: 300 }, (_, i) => p.publish(subject, new Uint8Array([i % 256]))));
      expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    } finally {
      await nc.close();
    }
  });

  it("rejects with JetStream's API error and its code, with NoResponders when no stream takes the subject, and with TimeoutError when nobody answers", async () => {
    const nc = await connect({ servers: NATS_URL });
    try {
      const base = `rbt.${freshPrefix()}`;
      responder(nc, `${base}.full`, (_, reply) => nc.publish(reply, JSON.stringify({ error: { code: 400, err_code: 10077, description: 'maximum messages exceeded' } })));
      nc.subscribe(`${base}.silent`, { callback: () => undefined });
      await nc.flush();
      const p = new AckedPublisher(nc, 200);
      await expect(p.publish(`${base}.full`, new Uint8Array(1))).rejects.toMatchObject({ name: 'JetStreamApiError', code: 10077, message: 'maximum messages exceeded' });
      await expect(p.publish(`${base}.nobody`, new Uint8Array(1))).rejects.toMatchObject({ name: 'NoResponders' });
      const started = Date.now();
      const silent = p.publish(`${base}.silent`, new Uint8Array(1));
      await expect(silent).rejects.toBeInstanceOf(TimeoutError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    } finally {
      await nc.close();
    }
  });

  it('rejects what is in flight when the connection closes, and later publishes at once', async () => {
    const nc = await connect({ servers: NATS_URL });
    const subject = `rbt.${freshPrefix()}.never`;
    nc.subscribe(subject, { callback: () => undefined });
    await nc.flush();
    const p = new AckedPublisher(nc);
    const inFlight = p.publish(subject, new Uint8Array(1));
    await nc.close();
    await expect(inFlight).rejects.toMatchObject({ name: 'ClosedConnectionError' });
    await expect(p.publish(subject, new Uint8Array(1))).rejects.toMatchObject({ name: 'ClosedConnectionError' });
  });
});

describe.skipIf(!nats.available)(`acks sent once per turn${nats.available ? '' : ` (${nats.reason})`}`, () => {
  it.each(['servers', 'connection'] as const)('{ %s }: a loop acking every delivery (the acks of a turn go out together), then closing the bus and the connection at once, loses no ack', async (owner) => {
    const prefix = freshPrefix();
    prefixes.push(prefix);
    const N = 600;
    const nc = owner === 'connection' ? await connect({ servers: NATS_URL }) : undefined;
    const a = createBus({ engine: natsEngine(nc === undefined ? { servers: NATS_URL, prefix } : { connection: nc, prefix }) });
    const topic = a.topic<number>('t', { groups: ['g'], capacity: 2 * N, ackTimeoutMs: 30_000 });
    await topic.publishBatch(Array.from({ length: N }, (_, i) => i));
    const seen = new Set<number>();
    for await (const d of topic.consume({ group: 'g', prefetch: 256 })) {
      expect(d.ack()).toBe(true);
      seen.add(d.offset);
      if (seen.size === N) break;
    }
    await a.close();
    await nc?.close();
    const b = createBus({ engine: natsEngine({ servers: NATS_URL, prefix }) });
    try {
      const again = b.topic<number>('t');
      // the server settles acks asynchronously: give it a moment (a lost ack stays pending for the 30 s ack wait)
      for (let i = 0; i < 60 && again.stats().groups.g?.pending !== 0; i++) await new Promise((r) => setTimeout(r, 50));
      const g = again.stats().groups.g;
      expect([g?.pending, g?.committed]).toEqual([0, N]);
    } finally {
      await b.close();
    }
  });
});

/** What the durable-publish cases share, in Node and in the browser cases' page. */
import type { Msg, Sink } from './harness.js';

/** Publishes in flight at once: one batch of promises awaited together, one raw transaction or write. */
export const IN_FLIGHT = 1000;

/** A topic's publish, as the durable cases use it. */
export interface PublishingTopic {
  publish(value: Msg): Promise<number>;
}

/** Publishes n messages, `IN_FLIGHT` at a time (one batch of promises awaited at once). */
export async function publishInFlight(topic: PublishingTopic, n: number, sink: Sink): Promise<void> {
  const batch: Promise<number>[] = [];
  for (let i = 0; i < n; ) {
    const start = i;
    const end = Math.min(n, i + IN_FLIGHT);
    batch.length = 0;
    for (; i < end; i++) batch.push(topic.publish({ id: i, v: 'x' }));
    await Promise.all(batch);
    for (let k = start; k < end; k++) sink.takeId(k);
  }
}

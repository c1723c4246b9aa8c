/**
 * The stream cases' native source (Node and the browser page), and the page's reader loops: the
 * loops the Node cases `ringbus readable() reader ack` and `ReadableStream reader (hwm 1024)` write
 * inline in their timed closures, which stay as they are so that their measured code does not move.
 */
import { CAPACITY, type Msg, type Sink } from './harness.js';

/** A pull source of n fresh messages behind CountQueuingStrategy(1024), closed after the last. */
export function sourceStream(n: number): ReadableStream<Msg> {
  let i = 0;
  return new ReadableStream<Msg>(
    {
      pull(c) {
        while (i < n && (c.desiredSize ?? 0) > 0) c.enqueue({ id: i++, v: 'x' });
        if (i >= n) c.close();
      },
    },
    new CountQueuingStrategy({ highWaterMark: CAPACITY }),
  );
}

/** Reads `reader` to its end, each message into `sink`. */
export async function readAll(reader: ReadableStreamDefaultReader<Msg>, sink: Sink): Promise<void> {
  for (;;) {
    const r = await reader.read();
    if (r.done) return;
    sink.take(r.value);
  }
}

/** Reads `reader` of deliveries to its end, each value into `sink`, then acked. */
export async function readAcked(reader: ReadableStreamDefaultReader<{ readonly value: Msg; ack(): void }>, sink: Sink): Promise<void> {
  for (;;) {
    const r = await reader.read();
    if (r.done) return;
    sink.take(r.value.value);
    r.value.ack();
  }
}

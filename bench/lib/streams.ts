/** The native WHATWG stream the stream peers read (in Node, and in the browser cases' page). */
import { CAPACITY, type Msg } from './harness.js';

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

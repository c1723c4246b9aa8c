/**
 * WHATWG streams: a ReadableStream piped into `topic.writable()` (its backpressure is the ring's
 * room), and `topic.readable()` piped through a TransformStream into a sink that acks.
 *
 * Run: node --conditions=ringbus-source --import tsx examples/web-streams.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createBus, type Delivery } from 'ringbus';

interface Reading {
  readonly sensor: string;
  readonly celsius: number;
}

const bus = createBus();
// Capacity 4 and a durable group: the writer can run at most 4 readings ahead of the dashboard.
const readings = bus.topic<Reading>('readings', { capacity: 4, groups: ['dashboard'] });

// A source producing 10 readings as fast as it is asked.
let produced = 0;
const source = new ReadableStream<Reading>({
  pull(controller) {
    if (produced === 10) {
      controller.close();
      return;
    }
    controller.enqueue({ sensor: `s${produced % 3}`, celsius: 18 + produced });
    produced++;
  },
});

// Write side: pipeTo respects the writable's backpressure (writer.ready waits while the ring is full).
const writing = source.pipeTo(readings.writable({ headers: { unit: 'C' } })).then(() => {
  console.log(`writer: all ${produced} readings written; the topic stays open (closed: ${readings.closed})`);
});

// Read side: a pull-based ReadableStream of deliveries, mapped to text, acked by the sink once
// the line is printed (at-least-once: a delivery the sink never acks is returned on cancel).
const reading = readings
  .readable({ group: 'dashboard', prefetch: 2 })
  .pipeThrough(
    new TransformStream<Delivery<Reading>, { line: string; d: Delivery<Reading> }>({
      transform(d, controller) {
        controller.enqueue({ line: `${d.value.sensor}: ${d.value.celsius} ${d.headers.unit} (offset ${d.offset})`, d });
      },
    }),
  )
  .pipeTo(
    new WritableStream({
      async write({ line, d }) {
        await sleep(2); // a slow display
        console.log(`dashboard ${line}`);
        d.ack();
      },
    }),
  )
  .then(() => console.log('dashboard: readable closed after the topic closed and drained'));

await writing;
await readings.close(); // consumers drain what is retained, then their streams close
await reading;

const g = readings.stats().groups.dashboard;
console.log(`dashboard group: delivered ${g.delivered}, acked ${g.acked}, lag ${g.lag}`);

/**
 * The cost of `ringbus/otel`: the `messages()` ack case with `instrumentBus` attached and an
 * OpenTelemetry SDK collecting every second (one reader per process, running across trials),
 * against the same case without it (target: ≥ 0.97×, bench/targets.ts).
 */
import { InMemoryMetricExporter, AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { CAPACITY, Sink, deferred, type Case, type Msg, type Trial } from '../lib/harness.js';
import { requireRingbus, type Bus, type Delivery, type Topic } from '../lib/ringbus.js';

let provider: MeterProvider | undefined;

/** One SDK per process: a periodic reader exporting to memory every second, for as long as the process runs. */
function meterProvider(): MeterProvider {
  if (provider === undefined) {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    provider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 1000 })] });
  }
  return provider;
}

export const otelCases: Case[] = [
  {
    name: 'ringbus messages() ack + instrumentBus',
    group: 'ringbus',
    note: "as 'ringbus messages() ack', with instrumentBus(bus) attached and the SDK collecting every 1 s",
    async prepare(n): Promise<Trial> {
      const { createBus } = await requireRingbus();
      const { instrumentBus } = (await import(new URL('../../src/otel/index.js', import.meta.url).href)) as typeof import('../../src/otel/index.js');
      const bus: Bus = createBus();
      const topic: Topic<Msg> = bus.topic<Msg>('bench', { capacity: CAPACITY, overflow: 'block', groups: ['g'] });
      const instrumentation = instrumentBus(bus as never, { meter: meterProvider().getMeter('bench') });
      const sink = new Sink();
      const done = deferred();
      const sub = topic.messages({ group: 'g', prefetch: CAPACITY }).subscribe({
        next: (d: Delivery<Msg>) => {
          sink.take(d.value);
          d.ack();
        },
        error: done.reject,
        complete: () => done.resolve(),
      });
      return {
        async run() {
          const producer = (async () => {
            for (let i = 0; i < n; i++) {
              const m = { id: i, v: 'x' };
              if (!topic.tryPublish(m)) await topic.publish(m);
            }
            await topic.close();
          })();
          await Promise.all([producer, done.promise]);
          return sink.result();
        },
        dispose() {
          sub.unsubscribe();
          instrumentation.stop();
        },
      };
    },
  },
];

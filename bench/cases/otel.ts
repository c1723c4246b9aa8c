/**
 * The cost of `ringbus/otel`: the `messages()` ack case with `instrumentBus` attached and an
 * OpenTelemetry SDK collecting every second (one reader per process, running across trials),
 * against the same case without it (target: ≥ 0.97×, bench/targets.ts).
 *
 * It runs the very code of 'ringbus messages() ack' (`pushTrial`, `messagesAck`) with the
 * instrumentation attached to its bus, so the ratio measures the instrumentation alone: a
 * producer loop of its own, made anew in every trial, was OSR-compiled again in every timed
 * trial (`--trace-opt`), where the module-level one keeps its code.
 */
import { InMemoryMetricExporter, AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { Case } from '../lib/harness.js';
import { GROUPED, messagesAck, pushTrial } from './ringbus.js';

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
    async prepare(n) {
      const { instrumentBus } = await import('../../src/otel/index.js'); // a literal: bench/instructions.ts bundles it
      const meter = meterProvider().getMeter('bench');
      return pushTrial(n, GROUPED, messagesAck, (bus) => {
        const instrumentation = instrumentBus(bus as never, { meter });
        return () => instrumentation.stop();
      });
    },
  },
];

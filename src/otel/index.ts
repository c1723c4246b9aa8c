/**
 * `ringbus/otel`: a bus's stats as OpenTelemetry metrics, on the metrics API
 * (`@opentelemetry/api`, an optional peer dependency). {@link instrumentBus} registers observable
 * gauges and counters and reads `bus.stats()` once per collection: nothing runs per message.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * import { createBus } from 'ringbus';
 * import { instrumentBus } from 'ringbus/otel';
 *
 * const bus = createBus();
 * const instrumentation = instrumentBus(bus, { meter: metrics.getMeter('my-service') });
 * // ... later
 * instrumentation.stop();
 * ```
 *
 * @module
 */
import type { Attributes, BatchObservableCallback, Meter, Observable, ObservableCounter, ObservableGauge } from '@opentelemetry/api';
import * as v from '../internal/validate.js';
import { GROUP_FIGURES, TOPIC_FIGURES, type Figure } from '../internal/stat-figures.js';
import type { Bus } from '../types.js';

/** Options of {@link instrumentBus}. */
export interface InstrumentBusOptions {
  /** The meter the instruments are created on, e.g. `metrics.getMeter('my-service')`. Required. */
  readonly meter: Meter;
  /** Attributes added to every observation, e.g. `{ 'service.instance.id': id }`. Default none. */
  readonly attributes?: Attributes;
}

/** What {@link instrumentBus} returns. */
export interface BusInstrumentation {
  /** Removes the collection callback: the bus is no longer observed. Idempotent. */
  stop(): void;
}

/** The instruments {@link instrumentBus} registers: name, kind, unit and description (for docs and dashboards). */
export const OTEL_METRICS: readonly { readonly name: string; readonly kind: 'gauge' | 'counter'; readonly unit: string; readonly description: string }[] = [
  ...TOPIC_FIGURES.map((f) => instrument('topic', f)),
  ...GROUP_FIGURES.map((f) => instrument('group', f)),
];

/** `messaging.system` of every observation. */
export const MESSAGING_SYSTEM = 'ringbus';

function isMeter(u: unknown): u is Meter {
  const m = u as Partial<Meter> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.createObservableGauge === 'function' &&
    typeof m.createObservableCounter === 'function' &&
    typeof m.addBatchObservableCallback === 'function' &&
    typeof m.removeBatchObservableCallback === 'function'
  );
}

function instrument<S>(scope: 'topic' | 'group', f: Figure<S>): { name: string; kind: 'gauge' | 'counter'; unit: string; description: string } {
  return { name: `ringbus.${scope}.${f.key}`, kind: f.kind, unit: f.unit, description: f.help };
}

function create<S>(meter: Meter, scope: 'topic' | 'group', f: Figure<S>): ObservableGauge | ObservableCounter {
  const { name, unit, description } = instrument(scope, f);
  return f.kind === 'gauge' ? meter.createObservableGauge(name, { unit, description }) : meter.createObservableCounter(name, { unit, description });
}

/**
 * Observes a bus's stats as OpenTelemetry metrics: per topic, gauges `ringbus.topic.size`,
 * `.capacity`, `.bytes`, `.subscribers`, `.waiting_publishers`
 * and counters `ringbus.topic.published`, `.rejected`, `.dropped`, `.expired`, …; per group,
 * gauges `ringbus.group.lag`, `.pending`, `.members` and counters `ringbus.group.delivered`,
 * `.acked`, `.nacked`, `.redelivered`, `.dead_lettered`, `.missed`, … (the full list is
 * {@link OTEL_METRICS}). Attributes follow the messaging semantic conventions:
 * `messaging.system` (`'ringbus'`), `messaging.destination.name` (the topic) and
 * `messaging.consumer.group.name` (the group).
 *
 * One batch callback reads `bus.stats()` when the SDK collects; nothing runs per message.
 *
 * @param bus - The bus to observe; topics created later are observed too.
 * @param options - `meter` (required) and `attributes` added to every observation.
 * @returns A handle whose `stop()` removes the callback.
 * @throws ConfigError when `meter` is not an OpenTelemetry `Meter` or an option is unknown.
 * @example
 * ```ts
 * import { MeterProvider, PeriodicExportingMetricReader, ConsoleMetricExporter } from '@opentelemetry/sdk-metrics';
 *
 * const provider = new MeterProvider({
 *   readers: [new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: 10_000 })],
 * });
 * const handle = instrumentBus(bus, { meter: provider.getMeter('orders-service') });
 * ```
 */
export function instrumentBus(bus: Bus, options: InstrumentBusOptions): BusInstrumentation {
  const { meter, attributes = {} } = v.options<InstrumentBusOptions>('instrumentBus options', options, ['meter', 'attributes']);
  if (!isMeter(meter)) v.fail('meter', 'an OpenTelemetry Meter (metrics.getMeter(name))', meter);
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) v.fail('attributes', 'an object of attributes', attributes);
  if (typeof (bus as Partial<Bus> | null)?.stats !== 'function') v.fail('bus', 'a Bus (createBus())', bus);
  const extra: Attributes = { ...attributes };
  const topicInstruments = TOPIC_FIGURES.map((f) => create(meter, 'topic', f));
  const groupInstruments = GROUP_FIGURES.map((f) => create(meter, 'group', f));
  const observables: Observable[] = [...topicInstruments, ...groupInstruments];
  const callback: BatchObservableCallback = (result) => {
    for (const t of Object.values(bus.stats().topics)) {
      const topicAttributes: Attributes = { ...extra, 'messaging.system': MESSAGING_SYSTEM, 'messaging.destination.name': t.name };
      for (let i = 0; i < TOPIC_FIGURES.length; i++) {
        result.observe(topicInstruments[i], TOPIC_FIGURES[i].value(t), topicAttributes);
      }
      for (const [group, g] of Object.entries(t.groups)) {
        const groupAttributes: Attributes = { ...topicAttributes, 'messaging.consumer.group.name': group };
        for (let i = 0; i < GROUP_FIGURES.length; i++) {
          result.observe(groupInstruments[i], GROUP_FIGURES[i].value(g), groupAttributes);
        }
      }
    }
  };
  meter.addBatchObservableCallback(callback, observables);
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      meter.removeBatchObservableCallback(callback, observables);
    },
  };
}

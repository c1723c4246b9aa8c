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
import type { Bus, GroupStats, TopicStats } from '../types.js';

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

interface Figure<S> {
  readonly name: string;
  readonly kind: 'gauge' | 'counter';
  readonly unit: string;
  readonly description: string;
  /** The figure, or `undefined` where this source does not report it. */
  readonly value: (s: S) => number | undefined;
}

function waitingPublishers(t: TopicStats): number | undefined {
  const w = (t as { readonly waitingPublishers?: unknown }).waitingPublishers;
  return typeof w === 'number' ? w : undefined;
}

const TOPIC_FIGURES: readonly Figure<TopicStats>[] = [
  { name: 'ringbus.topic.size', kind: 'gauge', unit: '{message}', description: 'Messages retained now.', value: (t) => t.size },
  { name: 'ringbus.topic.capacity', kind: 'gauge', unit: '{message}', description: 'Messages the topic can retain.', value: (t) => t.capacity },
  { name: 'ringbus.topic.bytes', kind: 'gauge', unit: 'By', description: 'Encoded bytes retained now (0 without a codec).', value: (t) => t.bytes },
  { name: 'ringbus.topic.subscribers', kind: 'gauge', unit: '{consumer}', description: 'Live consumers of every group.', value: (t) => t.subscribers },
  { name: 'ringbus.topic.waiting_publishers', kind: 'gauge', unit: '{publisher}', description: 'Publishers waiting for room (overflow block).', value: waitingPublishers },
  { name: 'ringbus.topic.published', kind: 'counter', unit: '{message}', description: 'Messages published to the topic.', value: (t) => t.published },
  { name: 'ringbus.topic.published_bytes', kind: 'counter', unit: 'By', description: 'Encoded bytes published (0 without a codec).', value: (t) => t.bytesPublished },
  { name: 'ringbus.topic.rejected', kind: 'counter', unit: '{message}', description: 'Publishes refused (overflow reject, or grow at maxCapacity).', value: (t) => t.rejected },
  { name: 'ringbus.topic.dropped', kind: 'counter', unit: '{message}', description: 'Messages evicted by drop-oldest while a group still needed them.', value: (t) => t.dropped },
  { name: 'ringbus.topic.expired', kind: 'counter', unit: '{message}', description: 'Messages that expired (TTL).', value: (t) => t.expired },
  { name: 'ringbus.topic.dead_letter_dropped', kind: 'counter', unit: '{message}', description: 'Dead letters with no dead-letter topic, or that it refused.', value: (t) => t.deadLetterDropped },
];

const GROUP_FIGURES: readonly Figure<GroupStats>[] = [
  { name: 'ringbus.group.lag', kind: 'gauge', unit: '{message}', description: 'Messages published and not yet settled by the group (tail - committed).', value: (g) => g.lag },
  { name: 'ringbus.group.pending', kind: 'gauge', unit: '{message}', description: 'Messages delivered to the group and not yet settled.', value: (g) => g.pending },
  { name: 'ringbus.group.members', kind: 'gauge', unit: '{consumer}', description: 'Connected members of the group.', value: (g) => g.members },
  { name: 'ringbus.group.delivered', kind: 'counter', unit: '{message}', description: 'Deliveries handed out, redeliveries included.', value: (g) => g.delivered },
  { name: 'ringbus.group.acked', kind: 'counter', unit: '{message}', description: 'Deliveries acked.', value: (g) => g.acked },
  { name: 'ringbus.group.nacked', kind: 'counter', unit: '{message}', description: 'Deliveries nacked.', value: (g) => g.nacked },
  { name: 'ringbus.group.redelivered', kind: 'counter', unit: '{message}', description: 'Deliveries after the first of a message.', value: (g) => g.redelivered },
  { name: 'ringbus.group.dead_lettered', kind: 'counter', unit: '{message}', description: 'Messages dead-lettered by the group.', value: (g) => g.deadLettered },
  { name: 'ringbus.group.missed', kind: 'counter', unit: '{message}', description: 'Messages the group never got (evicted by drop-oldest, or skipped by seek).', value: (g) => g.missed },
  { name: 'ringbus.group.filtered', kind: 'counter', unit: '{message}', description: "Messages settled because a consumer's filter rejected them.", value: (g) => g.filtered },
  { name: 'ringbus.group.expired', kind: 'counter', unit: '{message}', description: 'Messages that expired before the group settled them.', value: (g) => g.expired },
];

/** The instruments {@link instrumentBus} registers: name, kind, unit and description (for docs and dashboards). */
export const OTEL_METRICS: readonly { readonly name: string; readonly kind: 'gauge' | 'counter'; readonly unit: string; readonly description: string }[] = [
  ...TOPIC_FIGURES,
  ...GROUP_FIGURES,
].map(({ name, kind, unit, description }) => ({ name, kind, unit, description }));

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

function create<S>(meter: Meter, f: Figure<S>): ObservableGauge | ObservableCounter {
  const opts = { unit: f.unit, description: f.description };
  return f.kind === 'gauge' ? meter.createObservableGauge(f.name, opts) : meter.createObservableCounter(f.name, opts);
}

/**
 * Observes a bus's stats as OpenTelemetry metrics: per topic, gauges `ringbus.topic.size`,
 * `.capacity`, `.bytes`, `.subscribers` (and `.waiting_publishers` where the engine reports it)
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
  const topicInstruments = TOPIC_FIGURES.map((f) => create(meter, f));
  const groupInstruments = GROUP_FIGURES.map((f) => create(meter, f));
  const observables: Observable[] = [...topicInstruments, ...groupInstruments];
  const callback: BatchObservableCallback = (result) => {
    for (const t of Object.values(bus.stats().topics)) {
      const topicAttributes: Attributes = { ...extra, 'messaging.system': MESSAGING_SYSTEM, 'messaging.destination.name': t.name };
      for (let i = 0; i < TOPIC_FIGURES.length; i++) {
        const value = TOPIC_FIGURES[i].value(t);
        if (value !== undefined) result.observe(topicInstruments[i], value, topicAttributes);
      }
      for (const [group, g] of Object.entries(t.groups)) {
        const groupAttributes: Attributes = { ...topicAttributes, 'messaging.consumer.group.name': group };
        for (let i = 0; i < GROUP_FIGURES.length; i++) {
          const value = GROUP_FIGURES[i].value(g);
          if (value !== undefined) result.observe(groupInstruments[i], value, groupAttributes);
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

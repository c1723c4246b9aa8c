/**
 * ringbus: broker semantics in-process — topics with offsets, consumer groups, ack/nack with
 * redelivery, dead letters, TTL and backpressure — as RxJS Observables, web streams and async
 * iterables.
 *
 * @module ringbus
 */
export { channel } from './channel.js';
export type { ChannelOptions, Receiver, Sender } from './channel.js';
export { createBus } from './create-bus.js';
export { memoryEngine } from './internal/memory/engine/memory.js';
export type { MemoryEngineOptions } from './internal/memory/engine/memory.js';
export { portEngine } from './internal/port/client.js';
export type { PortEngineOptions } from './internal/port/client.js';
export type { MessagePortLike } from './internal/port/protocol.js';
export { serveBus } from './internal/port/serve.js';
export type { BusServer, ServeOptions } from './internal/port/serve.js';
export type { DeliveryRecord, Engine, EngineCapabilities, EngineOption, EngineTopicOptions, MemberListener, MemberOptions, MemberPort, PublishEntry, Settlement, TopicBackend } from './engine.js';
export { ClosedError, CodecError, ConfigError, isRingbusError, RingbusError, StorageError, TimeoutError, TopicFullError } from './errors.js';
export type { CodecErrorReason, RingbusErrorCode } from './errors.js';
export { PROMETHEUS_CONTENT_TYPE, PROMETHEUS_METRICS, prometheusText } from './prometheus.js';
export type { BusOptions } from './bus-options.js';
export type { CorruptRecord, GroupEvent, RecoveredTopic, Storage, StoredGroup, StoredMessage, StoreStats, TopicStore } from './storage.js';
export type {
  BatchEntry,
  BatchOptions,
  Bus,
  BusStats,
  Consumer,
  ConsumerOptions,
  Delivery,
  GroupStats,
  Headers,
  Message,
  NackOptions,
  OverflowPolicy,
  PublishOptions,
  StartPosition,
  Topic,
  TopicOptions,
  TopicStats,
  LevelStats,
  WritableOptions,
} from './types.js';

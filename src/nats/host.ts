import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { AckBatch } from './pull.js';

/** What a topic and its members need of the engine that opened them. */
export interface NatsHost {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** The connection's acknowledgements, sent once per turn. */
  readonly acks: AckBatch;
  /** Publishes to a stream's subject; resolves to the stream sequence (see AckedPublisher). */
  publish(subject: string, data: Uint8Array): Promise<number>;
  /** True when the server honours `term(reason)` (2.10 and later). */
  readonly termReason: boolean;
  /** A name no other subscription of any process picks. */
  uniqueId(): string;
  /** The topic `name` if its stream exists (a dead-letter topic), opened as it is. */
  existingTopic(name: string): Promise<DeadLetterSink | undefined>;
  /** Resolves once the server has seen everything sent so far, acknowledgements waiting for the turn's end included. */
  flush(): Promise<void>;
  /** The topic was destroyed. */
  forget(name: string): void;
}

/** A topic as a dead letter reaches it. */
export interface DeadLetterSink {
  readonly closed: boolean;
  /** Publishes one payload, waiting for room as the topic's overflow says; `msgId` makes it idempotent. */
  publishOne(data: Uint8Array, msgId: string | undefined): Promise<number>;
  refresh(): Promise<void>;
}

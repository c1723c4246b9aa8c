import { createFramer, type Framer } from '../../codec/frame.js';
import type { Codec, Compression } from '../../codec/types.js';
import { ConfigError } from '../../errors.js';
import type { Ring } from './ring.js';
import type { PublishSettings } from '../topic-options.js';

/**
 * A topic's codec: encodes at publish (so the caller's later mutations cannot change the
 * message), per-publish overrides included, and decodes a retained frame into a fresh value
 * for each consumer. Topics without a codec have none and pass values by reference.
 */
export class TopicCodec<T> {
  /** Turns a retained frame back into a value; replaced when a new per-publish codec appears. */
  decode: (bytes: unknown) => T;
  bytesPublished = 0;
  private framers: Map<Codec<T>, Map<Compression | undefined, Framer<T>>> | undefined = undefined;
  private readonly base: Framer<T>;

  constructor(
    private readonly codec: Codec<T>,
    private readonly compression: Compression | undefined,
  ) {
    const framer = createFramer<T>({ codec, compression });
    this.base = framer;
    this.decode = (bytes) => framer.decode(bytes as Uint8Array);
  }

  /** Encodes `value` with the topic's codec, or the publish's own `codec`/`compression`. */
  encode(value: T, s: PublishSettings): Uint8Array {
    const framer = s.codec === undefined && s.compression === undefined ? this.base : this.framerFor(s.codec ?? this.codec, s.compression ?? this.compression);
    const bytes = framer.encode(value);
    this.bytesPublished += bytes.length;
    return bytes;
  }

  private framerFor(codec: Codec<T>, compression: Compression | undefined): Framer<T> {
    this.framers ??= new Map();
    let byCompression = this.framers.get(codec);
    if (byCompression === undefined) {
      byCompression = new Map();
      this.framers.set(codec, byCompression);
      // a codec seen for the first time must be readable too
      const decoder = createFramer<T>({ codec: this.codec, compression: this.compression, codecs: [...this.framers.keys()] });
      this.decode = (bytes) => decoder.decode(bytes as Uint8Array);
    }
    let framer = byCompression.get(compression);
    if (framer === undefined) {
      framer = createFramer<T>({ codec, compression });
      byCompression.set(compression, framer);
    }
    return framer;
  }

  /** Encoded bytes retained in `ring` now. */
  retainedBytes(ring: Ring<T>): number {
    let n = 0;
    for (let o = ring.head; o < ring.tail; o++) {
      const v = ring.values[o & ring.mask] as unknown;
      if (v instanceof Uint8Array) n += v.length;
    }
    return n;
  }
}

/** A per-publish codec or compression on a topic without a codec is a mistake. */
export function noCodecError(topic: string, s: PublishSettings): ConfigError {
  const option = s.codec !== undefined ? 'codec' : 'compression';
  return new ConfigError(option, `a per-publish \`${option}\` needs a topic with a \`codec\`; topic \`${topic}\` has none`);
}

/**
 * ringbus/codec cases: encode + decode per message through a framer (the path a topic with a
 * `codec` takes), against the raw @msgpack/msgpack and JSON round trips in peers.ts.
 */
import { Sink, type Case, type Msg } from '../lib/harness.js';

type CodecModule = typeof import('../../src/codec/index.js');

function framed(name: string, note: string, make: (c: CodecModule) => { encode(v: Msg): Uint8Array; decode(b: Uint8Array): Msg }, scale = 1): Case {
  return {
    name,
    group: 'codec',
    note,
    // compression runs ~20x slower than the rest: a twentieth of N keeps its run to seconds
    size: (base) => Math.max(1000, Math.round(base * scale)),
    async prepare(n) {
      const framer = make(await import('../../src/codec/index.js'));
      return {
        run() {
          const sink = new Sink();
          for (let i = 0; i < n; i++) sink.take(framer.decode(framer.encode({ id: i, v: 'x' })));
          return sink.result();
        },
      };
    },
  };
}

export const codecCases: Case[] = [
  framed('ringbus codec msgpack framed', 'createFramer({ codec: msgpack }): encode then decode, frame header included', (c) => c.createFramer<Msg>({ codec: c.msgpack })),
  framed('ringbus codec json framed', 'createFramer({ codec: json }): encode then decode, frame header included', (c) => c.createFramer<Msg>({ codec: c.json })),
  framed('ringbus codec msgpack+gzip framed', 'createFramer({ codec: msgpack, compression: gzip }) with minBytes 0 (every payload compressed)', (c) => c.createFramer<Msg>({ codec: c.msgpack, compression: c.gzip, minBytes: 0 }), 1 / 20),
  framed('ringbus codec msgpack+deflate framed', 'createFramer({ codec: msgpack, compression: deflate }) with minBytes 0', (c) => c.createFramer<Msg>({ codec: c.msgpack, compression: c.deflate, minBytes: 0 }), 1 / 20),
];

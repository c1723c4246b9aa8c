import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus } from '../../src/index.js';
import { fileStorage } from '../../src/node/index.js';
import { main } from '../../src/node/cli.js';
import { cleanTempDirs, tempDir } from './helpers.js';

afterAll(cleanTempDirs);

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

async function cli(args: string[], signal?: AbortSignal): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s), tty: false }, signal);
  return { code, out, err };
}

let dir: string;

beforeAll(async () => {
  dir = tempDir('ringbus-cli-');
  const bus = createBus({ storage: fileStorage(dir, { segmentBytes: 4096 }) });
  const t = bus.topic<{ n: number }>('orders', { groups: ['billing'] });
  await t.publishBatch(Array.from({ length: 200 }, (_, n) => ({ n })));
  await t.publish({ n: 200 }, { key: 'k', headers: { h: 'v' } });
  const c = t.consumer({ group: 'billing' });
  for (let i = 0; i < 10; i++) c.tryRecv()!.ack();
  c.tryRecv(); // delivered, not acked
  await bus.close();
});

describe('ringbus CLI', () => {
  it('inspect lists topics, segments, offsets, sizes, and each group’s committed offset and lag', async () => {
    const { code, out } = await cli(['inspect', dir]);
    expect(code).toBe(0);
    expect(out).toContain('topic "orders"');
    expect(out).toContain('offsets 0..201 (head..tail), 201 retained');
    expect(out).toMatch(/segment 00000000000000000000\.log {2}offsets 0\.\.\d+ {2}\d+ record\(s\)/);
    expect(out).toContain('group "billing"  committed 10  lag 191  unsettled deliveries 1');
    const json = JSON.parse((await cli(['inspect', dir, '--json'])).out);
    expect(json.topics[0]).toMatchObject({ topic: 'orders', head: 0, tail: 201 });
    expect(json.topics[0].segments.length).toBeGreaterThan(1);
  });

  it('tail prints decoded messages as JSON lines, from an offset or a group’s committed offset', async () => {
    const all = (await cli(['tail', dir, 'orders'])).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(all.length).toBe(201);
    expect(all[0]).toMatchObject({ offset: 0, value: { n: 0 }, headers: {} });
    expect(all[200]).toMatchObject({ offset: 200, key: 'k', headers: { h: 'v' }, value: { n: 200 } });
    expect(typeof all[0].timestamp).toBe('string');
    const from = (await cli(['tail', dir, 'orders', '--from', '150'])).out.trim().split('\n');
    expect(JSON.parse(from[0]).offset).toBe(150);
    expect(from.length).toBe(51);
    const group = (await cli(['tail', dir, 'orders', '--group', 'billing'])).out.trim().split('\n');
    expect(JSON.parse(group[0]).offset).toBe(10);
    expect((await cli(['tail', dir, 'orders', '--from', 'latest'])).out).toBe('');
  });

  it('tail --follow prints what is appended later', async () => {
    const stop = new AbortController();
    let out = '';
    const running = main(['tail', dir, 'live', '--follow', '--from', 'earliest'], { out: (s) => (out += s), err: () => {}, tty: false }, stop.signal);
    // the topic does not exist yet: tail says so
    expect(await running).toBe(1);
    const bus = createBus({ storage: fileStorage(dir) });
    const t = bus.topic<string>('live');
    await t.publish('one');
    const follow = main(['tail', dir, 'live', '--follow'], { out: (s) => (out += s), err: () => {}, tty: false }, stop.signal);
    await t.publish('two');
    await new Promise((r) => setTimeout(r, 500));
    stop.abort();
    expect(await follow).toBe(0);
    await bus.close();
    expect(out.trim().split('\n').map((l) => JSON.parse(l).value)).toEqual(['one', 'two']);
  });

  it('bad arguments print the usage and exit 2; a missing directory or group exits 1', async () => {
    expect((await cli(['nope'])).code).toBe(2);
    expect((await cli(['tail', dir])).code).toBe(2);
    expect((await cli(['tail', dir, 'orders', '--from', 'soon'])).err).toContain('--from needs earliest, latest or an offset');
    expect((await cli(['inspect', join(dir, 'missing')])).code).toBe(1);
    expect((await cli(['tail', dir, 'orders', '--group', 'nobody'])).err).toContain('no durable group "nobody"');
  });

  it('npx ringbus runs the CLI from this checkout (bin/ringbus.mjs)', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [join(ROOT, 'bin', 'ringbus.mjs'), 'inspect', dir], { cwd: ROOT }, (e, stdout) => (e ? reject(e) : resolve(stdout))),
    );
    expect(out).toContain('topic "orders"');
  });
});

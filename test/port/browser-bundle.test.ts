import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import { expect, it } from 'vitest';

it('ringbus with serveBus and portEngine bundles for the browser with no node: import, and runs over a MessageChannel with only web globals', async () => {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('./browser-entry.ts', import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'portEntry',
    write: false,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.text;
  expect(code).not.toMatch(/["']node:/);
  expect(code).toMatch(/portEngine/);
  const web = { setTimeout, clearTimeout, setInterval, clearInterval, queueMicrotask, structuredClone, MessageChannel, ReadableStream, WritableStream, TransformStream, CountQueuingStrategy, TextEncoder, TextDecoder, AbortController, AbortSignal, DOMException, console };
  const context: Record<string, unknown> = { ...web };
  context.globalThis = context;
  runInNewContext(code, context);
  const entry = context.portEntry as { run(): Promise<string[]> };
  expect(await entry.run()).toEqual(['got 1,2', 'acked 2']);
  expect('process' in context).toBe(false);
});

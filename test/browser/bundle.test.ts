import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('./entry.ts', import.meta.url));

describe('browser build', () => {
  it('ringbus, ringbus/operators and ringbus/codec bundle for the browser and run with only web globals', async () => {
    const out = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'ringbusEntry',
      write: false,
      logLevel: 'silent',
    });
    const code = out.outputFiles[0].text;
    expect(code).not.toMatch(/require\(["']node:/);
    // a context with the web platform's globals and nothing of Node's (no process, Buffer, require)
    const web = {
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
      queueMicrotask,
      structuredClone,
      ReadableStream,
      WritableStream,
      TransformStream,
      CountQueuingStrategy,
      TextEncoder,
      TextDecoder,
      AbortController,
      AbortSignal,
      DOMException,
      console,
    };
    const context: Record<string, unknown> = { ...web };
    context.globalThis = context;
    runInNewContext(code, context);
    const entryModule = context.ringbusEntry as { run(): Promise<string[]> };
    expect(await entryModule.run()).toEqual(['handled 1,2,3', 'read hello', 'acked 3']);
    expect('process' in context).toBe(false);
  });
});

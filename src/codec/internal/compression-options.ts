import { DEFAULT_MAX_BYTES } from './inflate.js';
import { checkInteger, checkOptions } from './validate.js';

/** The validated `{ level, minBytes, maxBytes }` of a compression factory. */
export function compressionOptions(options: { level?: number; minBytes?: number; maxBytes?: number } | undefined): {
  level: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
  minBytes: number;
  maxBytes: number;
} {
  checkOptions('options', options);
  const { level = 6, minBytes = 0, maxBytes = DEFAULT_MAX_BYTES } = options ?? {};
  checkInteger('level', level, 0, 9);
  checkInteger('minBytes', minBytes, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('maxBytes', maxBytes, 0, Number.MAX_SAFE_INTEGER);
  return { level: level as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9, minBytes, maxBytes };
}

/** The bound a decompression enforces: its own `maxBytes`, or the caller's when smaller. */
export function boundOf(own: number, caller: number | undefined): number {
  return caller === undefined || !(caller < own) ? own : caller;
}

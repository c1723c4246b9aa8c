import { checkInteger, checkOptions } from './validate.js';

/** The validated `{ level, minBytes }` of a compression factory. */
export function compressionOptions(options: { level?: number; minBytes?: number } | undefined): {
  level: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
  minBytes: number;
} {
  checkOptions('options', options);
  const { level = 6, minBytes = 0 } = options ?? {};
  checkInteger('level', level, 0, 9);
  checkInteger('minBytes', minBytes, 0, Number.MAX_SAFE_INTEGER);
  return { level: level as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9, minBytes };
}

/** Shared UTF-8 encoder and strict (fatal) decoder. Both are stateless between calls. */
export const utf8Encoder = new TextEncoder();
/** Throws a `TypeError` on invalid UTF-8; strips a leading BOM. */
export const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** True when `s` has no lone surrogate, i.e. it survives UTF-8 encoding unchanged. */
export const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

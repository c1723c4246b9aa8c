/**
 * A codec may carry, under this key, a faster `encode` returning a view into a buffer
 * it reuses: valid only until its next call. The frame functions copy it at once, so
 * a framed encode makes a single copy. Not part of the public contract.
 */
export const ENCODE_SHARED: unique symbol = Symbol('ringbus.codec.encodeShared');

/** The optional fast path of a codec. */
export interface SharedEncoder {
  [ENCODE_SHARED]?: (value: unknown) => Uint8Array;
}

/**
 * Resolving a promise with an object makes the engine look up `then` on it (is it a thenable?).
 * For a class instance that lookup misses all the way up to `Object.prototype`: a few nanoseconds
 * on every `recv()` that resolves to a delivery, one promise per message. A non-enumerable
 * `then: undefined` on the class's prototype ends the lookup there with the same answer (not
 * callable, so not a thenable): `await`, `Promise.resolve` and RxJS treat the objects exactly as
 * before, and `Object.keys`, `for…in`, JSON and equality checks do not see it. (V8 invalidates its
 * Promise#then protector only for `then` on promises, `Promise.prototype` and `Object.prototype`,
 * none of which this touches.)
 */
export function endThenLookup(proto: object): void {
  Object.defineProperty(proto, 'then', { value: undefined, writable: true, enumerable: false, configurable: true });
}

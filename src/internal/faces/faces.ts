/**
 * The faces a topic offers, one a file. Each consuming face is built only on `ConsumerPort`
 * (./port.ts), so any engine behind that port gets all of them; `writable()` only publishes.
 */
export { consumeFace } from './consume-face.js';
export { messagesFace } from './messages-face.js';
export { readableFace } from './readable-face.js';
export { valuesFace } from './values-face.js';
export { writableFace } from './writable-face.js';

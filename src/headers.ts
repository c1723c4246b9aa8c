/**
 * The headers type, in a file of its own because both the public types (`types.ts`) and the
 * storage seam (`storage.ts`) carry it, and `types.ts` names the storage seam.
 *
 * @module
 */

/** String headers carried by a message. */
export type Headers = Readonly<Record<string, string>>;

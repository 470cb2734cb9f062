/**
 * Imported first by each binary, before anything loads pg. When pg loads, it asks whether it runs
 * in a Cloudflare Worker: it reads `navigator.userAgent`, and where there is no `navigator` (Node 20)
 * it builds a `Response` instead. That first touch of `Response` makes Node load its fetch
 * implementation (undici), about 20 ms of every start, for nothing. Node 21 and later define
 * `navigator` themselves; this defines the same object where it is missing.
 */
if (!('navigator' in globalThis)) {
  Object.defineProperty(globalThis, 'navigator', {
    value: { userAgent: `Node.js/${process.versions.node.split('.')[0] ?? ''}` },
    configurable: true,
    enumerable: true,
    writable: true,
  });
}

export {};

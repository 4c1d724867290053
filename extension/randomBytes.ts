// node:crypto's randomBytes, required on the first call: only a webview nonce needs it (the address map's
// HTML), so activation does not load node:crypto. Same signature and result as node:crypto's.
import type * as NodeCrypto from 'node:crypto';

let crypto: typeof NodeCrypto | undefined;

export function randomBytes(size: number): Buffer {
  crypto ??= require('node:crypto') as typeof NodeCrypto;
  return crypto.randomBytes(size);
}

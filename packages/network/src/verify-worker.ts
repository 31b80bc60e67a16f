/**
 * Source of the signature-checking worker of `VerifierPool`. It is run with
 * `new Worker(source, { eval: true })`, so the same code works from `src/` (vitest, tsx) and
 * from the built `dist/` with no extra build entry and no file to locate. It needs
 * only `node:crypto`: the main thread sends the signed bytes, signature and key of each message.
 *
 * Request: `{ id, buf }`, `buf` an ArrayBuffer of items `[u32 BE length][32-byte key]
 * [64-byte signature][length bytes signed data]`. Reply: `{ id, ok }`, `ok` a Uint8Array of 0/1.
 * @internal
 */
export const VERIFY_WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const keys = new Map();
const MAX_KEYS = 4096;
function keyObject(raw) {
  const id = raw.toString('latin1');
  let k = keys.get(id);
  if (k === undefined) {
    try { k = createPublicKey({ key: Buffer.concat([SPKI, raw]), format: 'der', type: 'spki' }); }
    catch { k = null; }
    if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value);
    keys.set(id, k);
  }
  return k;
}
parentPort.on('message', (req) => {
  const buf = Buffer.from(req.buf);
  const out = new Uint8Array(req.count);
  let p = 0;
  for (let i = 0; i < req.count; i++) {
    const len = buf.readUInt32BE(p);
    const key = keyObject(buf.subarray(p + 4, p + 36));
    const sig = buf.subarray(p + 36, p + 100);
    const data = buf.subarray(p + 100, p + 100 + len);
    let ok = false;
    if (key) { try { ok = verify(null, data, key, sig); } catch { ok = false; } }
    out[i] = ok ? 1 : 0;
    p += 100 + len;
  }
  parentPort.postMessage({ id: req.id, ok: out }, [out.buffer]);
});
`;

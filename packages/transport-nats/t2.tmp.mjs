import { connect, headers } from '@nats-io/transport-node';
const nc = await connect({ servers: 'nats://127.0.0.1:4222', noAsyncTraces: true });
const api = async (s, b) => (await nc.request(`$JS.API.${s}`, JSON.stringify(b))).json();
const storage = process.argv[2] ?? 'file';
const st = 'KVDBG' + Date.now();
await api(`STREAM.CREATE.${st}`, { name: st, subjects: [`${st}.>`], retention: 'limits', storage, max_msgs_per_subject: 1, allow_direct: true, allow_rollup_hdrs: true, discard: 'new', num_replicas: 1 });
const body = new Uint8Array(300);
const put = async (k, exp) => { const h = headers(); if (exp !== undefined) h.set('Nats-Expected-Last-Subject-Sequence', String(exp)); const r = (await nc.request(`${st}.r.${k}`, body, { headers: h, timeout: 5000 })).json(); if (r.error) throw new Error(JSON.stringify(r.error)); return r.seq; };
const N = +(process.argv[3] ?? 20000);
const seqs = [];
for (let i = 0; i < N; i += 64) { const s = await Promise.all(Array.from({ length: Math.min(64, N - i) }, (_, j) => put(`k${i + j}`, 0))); seqs.push(...s); }
async function timeIt(label, keys) {
  const t0 = performance.now(); let i = 0;
  await Promise.all(Array.from({ length: 4 }, async () => { while (i < keys.length) { const k = i++; seqs[keys[k]] = await put(`k${keys[k]}`, seqs[keys[k]]); } }));
  const dt = performance.now() - t0; console.log(storage, label, (keys.length / dt * 1000).toFixed(0), 'puts/s', (dt / keys.length * 4).toFixed(2), 'ms each');
}
await timeIt('old keys (first 2000)', Array.from({ length: 2000 }, (_, i) => i));
await timeIt('recent keys (last 2000)', Array.from({ length: 2000 }, (_, i) => N - 2000 + i));
await timeIt('old keys again', Array.from({ length: 2000 }, (_, i) => 2000 + i));
const t0 = performance.now(); let f = 0;
await Promise.all(Array.from({ length: 4 }, async () => { while (f < 2000) { f++; await put(`n${f}-${Math.random()}`, 0); } }));
console.log(storage, 'new keys', (2000 / (performance.now() - t0) * 1000).toFixed(0), 'puts/s');
await api(`STREAM.DELETE.${st}`, {});
await nc.close();

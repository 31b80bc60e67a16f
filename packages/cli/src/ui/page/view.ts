/// <reference lib="dom" />
import { shortId, type PageModel } from './model.js';

const SVG = 'http://www.w3.org/2000/svg';
const COLORS: Record<string, string> = { pending: '#5b8def', claimed: '#f0b43c', completed: '#5ccf7a', dead: '#ff6b6b' };

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function byId<T extends Element = HTMLElement>(id: string): T {
  return document.getElementById(id) as unknown as T;
}

function setText(id: string, text: string | number): void {
  const e = byId(id);
  if (e.textContent !== String(text)) e.textContent = String(text);
}

/** Draws the model into the page (the elements of `pageHtml`). */
export function render(m: PageModel): void {
  const s = m.state;
  setText('agents-count', m.aliveAgents.length);
  setText('tasks-completed', s?.tasks.completed ?? 0);
  setText('tasks-total', s?.total ?? 0);
  setText('messages-verified', m.verified);
  setText('messages-rejected', m.rejected);
  drawGraph(m);
  drawTasks(m);
  drawLatency(m);
  drawPools(m);
  drawAuctions(m);
  drawLogs(m);
}

function drawGraph(m: PageModel): void {
  const g = byId<SVGSVGElement>('graph');
  g.replaceChildren();
  const agents = [...m.agents.values()].sort((a, b) => (a.role === b.role ? a.id.localeCompare(b.id) : a.role === 'coordinator' ? -1 : 1));
  const pos = new Map<string, { x: number; y: number }>();
  const center = agents.filter((a) => a.role === 'coordinator');
  const ring = agents.filter((a) => a.role !== 'coordinator');
  center.forEach((a, i) => pos.set(a.id, { x: 300 + (i - (center.length - 1) / 2) * 60, y: 180 }));
  ring.forEach((a, i) => {
    const t = (2 * Math.PI * i) / Math.max(1, ring.length) - Math.PI / 2;
    pos.set(a.id, { x: 300 + 250 * Math.cos(t), y: 180 + 150 * Math.sin(t) });
  });
  let max = 1;
  for (const n of m.edges.values()) max = Math.max(max, n);
  for (const [key, n] of m.edges) {
    const [from, to] = key.split('>') as [string, string];
    const a = pos.get(from);
    if (!a) continue;
    const targets = to === '*' ? [...pos.keys()].filter((k) => k !== from) : [to];
    for (const t of targets) {
      const b = pos.get(t);
      if (!b) continue;
      const w = 0.5 + (3.5 * Math.log1p(n)) / Math.log1p(max);
      g.append(svg('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: '#4a6a8a', 'stroke-width': w.toFixed(2), 'stroke-opacity': 0.7 }));
    }
  }
  for (const a of agents) {
    const p = pos.get(a.id)!;
    const node = svg('g', { class: a.alive ? '' : 'gone' });
    node.append(
      svg('circle', {
        cx: p.x,
        cy: p.y,
        r: a.role === 'coordinator' ? 16 : 11,
        fill: a.role === 'coordinator' ? '#c678dd' : '#5b8def',
        stroke: '#0f1419',
        'stroke-width': 2,
      }),
    );
    node.append(
      svg(
        'text',
        { x: p.x, y: p.y + 28, fill: '#9fb0c0', 'font-size': 11, 'text-anchor': 'middle', 'font-family': 'monospace' },
        `${shortId(a.id)}${a.alive ? '' : ' (gone)'}`,
      ),
    );
    g.append(node);
  }
}

function drawTasks(m: PageModel): void {
  const t = m.state?.tasks;
  const bar = byId('task-bar');
  const legend = byId('task-legend');
  bar.replaceChildren();
  legend.replaceChildren();
  if (!t) return;
  const parts: [string, number][] = [
    ['pending', t.pending],
    ['claimed', t.claimed],
    ['completed', t.completed],
    ['dead', t.dead + t.failed + t.cancelled],
  ];
  const total = Math.max(
    1,
    m.state!.total,
    parts.reduce((n, p) => n + p[1], 0),
  );
  for (const [name, n] of parts) {
    const d = el('div');
    d.style.width = `${(100 * n) / total}%`;
    d.style.background = COLORS[name]!;
    bar.append(d);
    const l = el('span');
    const i = el('i');
    i.style.background = COLORS[name]!;
    l.append(i, `${name === 'dead' ? 'dead-lettered/failed' : name} ${n}`);
    legend.append(l);
  }
  legend.append(el('span', `retried ${t.retried}`), el('span', `${m.state!.phase}`));
  const lane = byId('task-lane');
  lane.replaceChildren();
  for (const name of ['pending', 'claimed', 'completed', 'dead'] as const) {
    const col = el('div');
    const h = el('p', name);
    h.style.color = COLORS[name]!;
    col.append(h);
    for (const id of m.lanes[name]) col.append(el('p', id.split(':').pop()));
    lane.append(col);
  }
}

function drawLatency(m: PageModel): void {
  const l = m.state?.latency;
  const g = byId<SVGSVGElement>('latency');
  g.replaceChildren();
  if (!l) return;
  const max = Math.max(1, ...l.counts);
  const w = 340 / l.counts.length;
  l.counts.forEach((n, i) => {
    const h = (120 * n) / max;
    g.append(svg('rect', { x: 10 + i * w, y: 130 - h, width: w - 2, height: h, fill: '#5ccf7a' }));
    const label = i < l.bounds.length ? `≤${l.bounds[i]! >= 1000 ? `${l.bounds[i]! / 1000}s` : l.bounds[i]}` : '>';
    g.append(svg('text', { x: 10 + i * w + w / 2, y: 150, fill: '#6b7b8a', 'font-size': 8, 'text-anchor': 'middle' }, label));
  });
  setText('latency-text', l.count ? `${l.count} tasks · mean ${(l.sumMs / l.count).toFixed(1)} ms · max ${l.maxMs} ms` : 'no task done yet');
}

function drawPools(m: PageModel): void {
  const box = byId('pools');
  box.replaceChildren();
  for (const p of m.state?.pools ?? []) {
    const d = el('div', undefined, 'pool');
    d.append(el('b', `${p.id} `), el('small', `${p.members.length} members `));
    for (const id of p.members) {
      const a = m.agents.get(id);
      d.append(el('span', shortId(id), a && !a.alive ? 'gone' : ''));
    }
    box.append(d);
  }
}

function drawAuctions(m: PageModel): void {
  const body = byId('auctions').querySelector('tbody')!;
  body.replaceChildren();
  const rows = [...m.auctions.values()].reverse().slice(0, 15);
  for (const a of rows) {
    const tr = el('tr');
    const bids = m.bids.get(a.taskId);
    tr.append(
      el('td', a.taskId.split(':').pop()),
      el('td', bids ? `${bids.count} (best ${bids.best})` : '—'),
      el('td', shortId(a.winner)),
      el('td', `${a.price}${a.kind ? ` ${a.kind}` : ''}`),
    );
    body.append(tr);
  }
  if (rows.length === 0) {
    const tr = el('tr');
    tr.append(el('td', `${m.bids.size} auctions with bids, none cleared yet`));
    body.append(tr);
  }
}

function drawLogs(m: PageModel): void {
  const list = byId('messages');
  list.replaceChildren(...m.messages.slice(0, 40).map((x) => el('li', `${shortId(x.sender)} → ${x.recipient ? shortId(x.recipient) : '*'}  ${x.kind}`)));
  const bad = byId('rejected');
  bad.replaceChildren(...m.rejectedList.slice(0, 40).map((x) => el('li', `${x.reason}  from ${shortId(x.sender)}  ${x.id ? shortId(x.id) : ''}`)));
  const r = m.state?.relay;
  setText(
    'relay',
    r
      ? `relay: ${r.tapped} agent messages copied, ${r.dropped} dropped (page behind), ${r.forwarded} forwarded; page skipped ${m.skipped}; run's runtimes rejected ${m.state!.runRejected}`
      : '',
  );
}

// ifmatch console: buckets, objects, versions, the conflict timeline of a key, live outcomes
// (server-sent events) and fault rules. Talks only to /_ifmatch/ endpoints of this server.
'use strict';
const $ = (s) => document.querySelector(s);
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
const api = async (path, opts) => { const r = await fetch('/_ifmatch/' + path, opts); return r.json(); };
const who = (w) => `${w.request_id || '?'} (${w.access_key || 'anonymous'})`;
let current = { bucket: '', key: '' };

function row(cells) { const tr = el('tr'); for (const c of cells) { const td = el('td'); if (c instanceof Node) td.append(c); else td.textContent = c; tr.append(td); } return tr; }

async function loadBuckets() {
  const list = await api('api/buckets'); const ul = $('#buckets'); ul.replaceChildren();
  for (const b of list) { const a = el('a', b.name); a.onclick = () => openBucket(b.name); const li = el('li'); li.append(a); ul.append(li); }
}

async function openBucket(name) {
  current.bucket = name; $('#bucket-name').textContent = name;
  const list = await api('api/objects?bucket=' + encodeURIComponent(name)); const tb = $('#objects tbody'); tb.replaceChildren();
  for (const v of list) { const a = el('a', v.key); a.onclick = () => openKey(name, v.key); tb.append(row([a, v.delete_marker ? '(delete marker)' : v.etag, v.size, v.last_modified, who(v.writer)])); }
}

async function openKey(bucket, key) {
  current = { bucket, key }; $('#key-name').textContent = `${bucket}/${key}`;
  const q = `bucket=${encodeURIComponent(bucket)}&key=${encodeURIComponent(key)}`;
  const [versions, timeline] = await Promise.all([api('api/versions?' + q), api('api/timeline?' + q)]);
  const tb = $('#versions tbody'); tb.replaceChildren();
  for (const v of versions.slice().reverse()) tb.append(row([v.version_id, v.delete_marker ? '(delete marker)' : v.etag, v.size, v.last_modified, who(v.writer)]));
  const ol = $('#timeline'); ol.replaceChildren();
  for (const t of timeline) ol.append(el('li', `${t.time}  ${t.text}`, t.kind));
  if (!timeline.length) ol.append(el('li', 'nothing recorded for this key yet'));
}

function liveLine(e) {
  const conds = Object.entries(e.conditions).map(([k, v]) => `${k}: ${v}`).join(', ') || 'no condition';
  const cur = e.current.state === 'object' ? `current ${e.current.etag} by ${who(e.current.writer)}` : e.current.state;
  return `${e.time} ${e.operation} ${e.bucket}/${e.key} [${conds}] → ${e.status} ${e.code} (${e.failed_condition}); ${cur}`;
}

function startLive() {
  const src = new EventSource('/_ifmatch/events/stream');
  src.onopen = () => { $('#status').textContent = 'live'; };
  src.onerror = () => { $('#status').textContent = 'reconnecting…'; };
  src.addEventListener('outcome', (m) => {
    const e = JSON.parse(m.data); const ol = $('#live');
    ol.prepend(el('li', liveLine(e), e.status === 304 ? 'not-modified' : 'refused'));
    while (ol.children.length > 200) ol.lastChild.remove();
    if (e.bucket === current.bucket && e.key === current.key) openKey(current.bucket, current.key);
  });
}

async function loadFaults() {
  const list = await api('faults'); const ul = $('#faults'); ul.replaceChildren();
  for (const f of list) ul.append(el('li', JSON.stringify(f)));
}

$('#fault-form').onsubmit = async (ev) => {
  ev.preventDefault(); const f = new FormData(ev.target); const rule = { bucket: f.get('bucket'), count: Number(f.get('count')) || 1 };
  if (f.get('key')) rule.key = f.get('key'); if (f.get('operation')) rule.operation = f.get('operation');
  const [kind, arg] = f.get('action').split(':');
  if (kind === 'status') rule.status = Number(arg); else if (kind === 'inject') rule.inject = arg; else rule.delay_ms = Number(f.get('delay_ms'));
  await api('faults', { method: 'POST', body: JSON.stringify(rule) }); loadFaults();
};
$('#clear-faults').onclick = async () => { await api('faults', { method: 'DELETE' }); loadFaults(); };

const params = new URLSearchParams(location.search);
loadBuckets().then(() => { if (params.get('bucket')) { openBucket(params.get('bucket')); if (params.get('key')) openKey(params.get('bucket'), params.get('key')); } });
loadFaults(); startLive();

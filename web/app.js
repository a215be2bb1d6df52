// slicecast web page: upload (parallel, resumable multipart), live processing view,
// library, and an HLS (hls.js / native) + DASH (Shaka Player) player with a quality
// menu, sprite scrubbing previews and subtitle tracks. Plain ES module, no bundler;
// every request goes to the page's own server (the slicecast API).
/* global Hls, shaka */

const SHAKA_SRC = '/web/node_modules/shaka-player/dist/shaka-player.compiled.js';
const HLS_SRC = '/web/node_modules/hls.js/dist/hls.min.js';
const PARALLEL_PARTS = 4;
const PART_TRIES = 4;
const POLL_MS = 1000;
const TRANSCODING_POLL_MS = 4000;
const LS = {
  apiKey: 'slicecast.apiKey',
  uploads: 'slicecast.uploads.v1',
  jobs: 'slicecast.jobs.v1',
  protocol: 'slicecast.protocol',
  volume: 'slicecast.volume',
};

// ------------------------------------------------------------------ helpers
const $ = (sel, root = document) => root.querySelector(sel);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

/** Creates an element: h('div', {class: 'x', dataset: {a: 1}, onclick}, child, 'text', ...). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function icon(name, cls = 'icon') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS(SVG_NS, 'use');
  use.setAttribute('href', `#i-${name}`);
  svg.append(use);
  return svg;
}
function setIcon(button, name) {
  button.querySelector('use')?.setAttribute('href', `#i-${name}`);
}

function fmtBytes(n) {
  if (!Number.isFinite(n)) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

function fmtTime(s) {
  if (!Number.isFinite(s) || s < 0) s = 0;
  s = Math.floor(s);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** A length of media: rounded, and never "0:00" for a non-empty clip. */
const fmtDuration = (d) => fmtTime(d > 0 ? Math.max(1, Math.round(d)) : 0);

function fmtEta(s) {
  if (!Number.isFinite(s) || s < 0) return '';
  if (s < 1) return 'less than a second left';
  if (s < 60) return `${Math.ceil(s)} s left`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s left`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min left`;
}

function fmtAge(iso) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, (Date.now() - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 90) return '1 min ago';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 5400) return '1 h ago';
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 2 * 86400) return 'yesterday';
  if (s < 30 * 86400) return `${Math.round(s / 86400)} days ago`;
  return new Date(t).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

const rungName = (w, h) => (w && h ? `${Math.min(w, h)}p` : h ? `${h}p` : '?');

function readJson(key, fallback) {
  try {
    const v = JSON.parse(localStorage.getItem(key) ?? 'null');
    return v ?? fallback;
  } catch {
    return fallback;
  }
}
function writeJson(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* storage full or blocked */ }
}

const loadedScripts = new Map();
function loadScript(src) {
  if (!loadedScripts.has(src)) {
    loadedScripts.set(src, new Promise((resolve, reject) => {
      const s = h('script', { src });
      s.onload = () => resolve();
      s.onerror = () => { loadedScripts.delete(src); reject(new Error(`could not load ${src}`)); };
      document.head.append(s);
    }));
  }
  return loadedScripts.get(src);
}

// ------------------------------------------------------------------ API
class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

const getApiKey = () => localStorage.getItem(LS.apiKey) ?? '';

/** JSON request to the API. Requests carry the API key when one is set (mutating routes and the resume route need it). */
async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const key = getApiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let res;
  try {
    res = await fetch(path, {
      method, headers, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Is slicecast serve running?');
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    let msg = data?.message || data?.error || `${res.status} ${res.statusText}`;
    if (res.status === 401) {
      msg = key
        ? 'The server refused the API key (401 Unauthorized). Check the key in Settings.'
        : 'This server needs an API key (401 Unauthorized). Enter it in Settings.';
    }
    throw new ApiError(res.status, msg, data);
  }
  return data;
}

/** GET /status/<id>: {code, body}; 200 = manifest, 202 = uploaded, 404 = not found. */
async function fetchStatus(id) {
  const res = await fetch(`/status/${encodeURIComponent(id)}`, { cache: 'no-store', headers: { Accept: 'application/json' } });
  let body = null;
  try { body = await res.json(); } catch { /* empty */ }
  return { code: res.status, body };
}

const streamUrl = (key) => (key ? `/stream/${key}` : null);

// ------------------------------------------------------------------ toasts
function toast(message, { kind = 'info', action = null, timeout } = {}) {
  const box = $('#toasts');
  const close = () => { el.remove(); };
  const el = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': `toast-${kind}` },
    icon(kind === 'error' ? 'alert' : 'check'),
    h('div', { style: 'flex:1;min-width:0' },
      h('p', { text: message }),
      action ? h('button', {
        type: 'button', class: 'button button-ghost button-small toast-action',
        onclick: () => { close(); action.run(); },
      }, action.label) : null),
    h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Dismiss', onclick: close }, icon('close')));
  box.append(el);
  while (box.children.length > 4) box.firstElementChild.remove();
  const ms = timeout ?? (kind === 'error' ? 12000 : 5000);
  if (ms) setTimeout(close, ms);
  return el;
}

function showError(err, prefix = '') {
  const msg = `${prefix}${err?.message ?? err}`;
  const action = err?.status === 401 ? { label: 'Open settings', run: openSettings } : null;
  toast(msg, { kind: 'error', action });
}

// ------------------------------------------------------------------ settings
function renderApiKeyBadge() {
  $('#api-key-badge').hidden = !getApiKey();
}

function openSettings() {
  const dlg = $('#settings-dialog');
  $('#api-key-input').value = getApiKey();
  $('#api-key-input').type = 'password';
  $('#api-key-show').textContent = 'Show';
  $('#api-key-show').setAttribute('aria-pressed', 'false');
  if (!dlg.open) dlg.showModal();
  $('#api-key-input').focus();
}

function initSettings() {
  const dlg = $('#settings-dialog');
  $('#settings-cancel').addEventListener('click', () => dlg.close('cancel'));
  $('#settings-button').addEventListener('click', openSettings);
  $('#api-key-show').addEventListener('click', (e) => {
    const input = $('#api-key-input');
    const show = input.type === 'password';
    input.type = show ? 'text' : 'password';
    e.currentTarget.textContent = show ? 'Hide' : 'Show';
    e.currentTarget.setAttribute('aria-pressed', String(show));
  });
  $('#api-key-clear').addEventListener('click', () => { $('#api-key-input').value = ''; $('#api-key-input').focus(); });
  // On submit (before the dialog closes), so the key is stored by the time it is gone.
  $('#settings-form').addEventListener('submit', (e) => {
    if (e.submitter?.value !== 'save') return;
    const key = $('#api-key-input').value.trim();
    if (key) localStorage.setItem(LS.apiKey, key);
    else localStorage.removeItem(LS.apiKey);
    renderApiKeyBadge();
    toast(key ? 'API key saved in this browser.' : 'API key removed.', { kind: 'ok' });
  });
  renderApiKeyBadge();
}

// ------------------------------------------------------------------ upload
const fingerprint = (f) => `${f.name}\u0000${f.size}\u0000${f.lastModified}`;

function pendingUploads() {
  const week = 7 * 86400e3;
  return readJson(LS.uploads, []).filter((r) => r && r.uploadId && Date.now() - (r.updatedAt ?? 0) < week);
}
function savePending(rec) {
  const list = pendingUploads().filter((r) => r.uploadId !== rec.uploadId);
  rec.updatedAt = Date.now();
  list.unshift(rec);
  writeJson(LS.uploads, list.slice(0, 5));
}
function forgetPending(uploadId) {
  writeJson(LS.uploads, pendingUploads().filter((r) => r.uploadId !== uploadId));
}

const partRange = (n, partSize, fileSize) => [(n - 1) * partSize, Math.min(fileSize, n * partSize)];

class Upload {
  constructor(file, ui) {
    this.file = file;
    this.ui = ui;
    this.cancelled = false;
    this.xhrs = new Set();
    this.inFlight = new Map(); // part -> bytes sent so far
    this.doneBytes = 0;
    this.samples = [];
    this.rec = null;
  }

  get sentBytes() {
    let s = this.doneBytes;
    for (const b of this.inFlight.values()) s += b;
    return Math.min(s, this.file.size);
  }

  /** Bytes per second over the last few seconds of this session. */
  speed() {
    const now = performance.now();
    const sent = this.sentBytes;
    this.samples.push([now, sent]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
    const [t0, b0] = this.samples[0];
    return now - t0 > 400 ? ((sent - b0) * 1000) / (now - t0) : NaN;
  }

  async run() {
    const file = this.file;
    const received = new Map(); // part number -> ETag
    let rec = pendingUploads().find((r) => r.fingerprint === fingerprint(file));
    if (rec) {
      this.ui.status(`Checking what the server already has of ${file.name}…`);
      try {
        const st = await api('GET', `/multipart_upload/${encodeURIComponent(rec.uploadId)}`);
        if (Array.isArray(st.urls) && st.urls.length) rec.urls = st.urls;
        if (st.partSize) rec.partSize = st.partSize;
        for (const p of st.parts ?? []) {
          const [a, b] = partRange(p.PartNumber, rec.partSize, file.size);
          if (p.ETag && (p.Size == null || p.Size === b - a)) received.set(p.PartNumber, p.ETag);
        }
        this.resumed = true;
      } catch (err) {
        if (err.status === 404 || err.status === 400) {
          forgetPending(rec.uploadId); // expired or unknown on the server: start again
          rec = null;
        } else {
          throw err;
        }
      }
    }
    if (this.cancelled) return null;
    if (!rec) {
      this.ui.status('Starting the upload…');
      const r = await api('POST', '/create_multipart_upload', { fileName: file.name, fileSize: file.size });
      rec = {
        uploadId: r.uploadId, key: r.key, partSize: r.partSize, urls: r.urls,
        fileName: file.name, fileSize: file.size, lastModified: file.lastModified,
        fingerprint: fingerprint(file), etags: {}, createdAt: Date.now(),
      };
      savePending(rec);
      if (this.cancelled) { await this.abortOnServer(rec); return null; }
    }
    this.rec = rec;
    const total = rec.urls.length;
    const missing = [];
    for (let n = 1; n <= total; n++) if (!received.has(n)) missing.push(n);
    for (const [n] of received) {
      const [a, b] = partRange(n, rec.partSize, file.size);
      this.doneBytes += b - a;
    }
    this.totalParts = total;
    this.partsDone = received.size;
    this.ui.status(this.resumed
      ? `Resuming: ${received.size} of ${total} parts already on the server`
      : `Uploading ${total} part${total === 1 ? '' : 's'}, ${Math.min(PARALLEL_PARTS, total)} at a time`);
    this.ui.progress(this);

    const queue = [...missing];
    let failure = null;
    const worker = async () => {
      while (queue.length && !failure && !this.cancelled) {
        const n = queue.shift();
        try {
          const etag = await this.sendPart(n);
          received.set(n, etag);
          rec.etags[n] = etag;
          savePending(rec);
          const [a, b] = partRange(n, rec.partSize, file.size);
          this.inFlight.delete(n);
          this.doneBytes += b - a;
          this.partsDone++;
          this.ui.progress(this, true);
        } catch (err) {
          failure ??= err;
          for (const x of this.xhrs) x.abort();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, missing.length) }, worker));
    if (this.cancelled) return null;
    if (failure) throw failure;

    this.ui.status('Finishing the upload…');
    const parts = [...received.entries()].sort((a, b) => a[0] - b[0]).map(([PartNumber, ETag]) => ({ PartNumber, ETag }));
    const done = await api('POST', '/complete_multipart_upload', { fileName: rec.fileName, uploadId: rec.uploadId, parts });
    forgetPending(rec.uploadId);
    return done;
  }

  async sendPart(n) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.putPart(n);
      } catch (err) {
        this.inFlight.set(n, 0);
        if (this.cancelled || err.aborted) throw err;
        const retriable = err.status === 0 || err.status >= 500 || [403, 408, 429].includes(err.status);
        if (!retriable || attempt >= PART_TRIES) {
          throw new ApiError(err.status, `Part ${n} of ${this.totalParts} could not be sent: ${err.message}`);
        }
        if (err.status === 403) {
          // The signed URL expired: ask for fresh ones.
          const st = await api('GET', `/multipart_upload/${encodeURIComponent(this.rec.uploadId)}`);
          if (Array.isArray(st.urls) && st.urls.length) { this.rec.urls = st.urls; savePending(this.rec); }
        }
        await sleep(500 * 2 ** attempt);
      }
    }
  }

  putPart(n) {
    const [a, b] = partRange(n, this.rec.partSize, this.file.size);
    const blob = this.file.slice(a, b);
    const url = this.rec.urls[n - 1];
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      this.xhrs.add(xhr);
      const fail = (status, message, aborted = false) => {
        this.xhrs.delete(xhr);
        const e = new ApiError(status, message);
        e.aborted = aborted;
        reject(e);
      };
      xhr.open('PUT', url);
      xhr.upload.onprogress = (e) => { this.inFlight.set(n, e.loaded); this.ui.progress(this); };
      xhr.onload = () => {
        this.xhrs.delete(xhr);
        if (xhr.status >= 200 && xhr.status < 300) {
          const etag = xhr.getResponseHeader('ETag');
          if (etag) resolve(etag);
          else reject(new ApiError(0, 'the server answered without an ETag header'));
        } else {
          let msg = `${xhr.status} ${xhr.statusText}`;
          try { msg = JSON.parse(xhr.responseText).message || msg; } catch { /* not JSON */ }
          fail(xhr.status, msg);
        }
      };
      xhr.onerror = () => fail(0, 'network error');
      xhr.onabort = () => fail(0, 'aborted', true);
      xhr.send(blob);
    });
  }

  async cancel() {
    this.cancelled = true;
    for (const x of this.xhrs) x.abort();
    if (this.rec) await this.abortOnServer(this.rec);
  }

  async abortOnServer(rec) {
    forgetPending(rec.uploadId);
    try {
      await api('POST', '/abort_multipart_upload', { uploadId: rec.uploadId });
    } catch (err) {
      if (err.status !== 404) showError(err, 'The server did not discard the upload: ');
    }
  }
}

const uploadUi = {
  current: null,
  lastRender: 0,
  init() {
    const input = $('#file-input');
    $('#choose-file').addEventListener('click', () => input.click());
    input.addEventListener('change', () => {
      const f = input.files?.[0];
      input.value = '';
      if (f) this.start(f);
    });
    $('#upload-cancel').addEventListener('click', () => this.cancel());
    $('#upload-retry').addEventListener('click', () => { if (this.file) this.start(this.file); });
    $('#upload-done').addEventListener('click', () => { $('#upload-panel').hidden = true; $('#choose-file').focus(); });

    // Drag and drop anywhere on the page.
    const zone = $('#dropzone');
    const overlay = $('#drop-overlay');
    let depth = 0;
    const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
    window.addEventListener('dragenter', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth++;
      overlay.hidden = false;
      zone.classList.add('dragover');
    });
    window.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (!depth) { overlay.hidden = true; zone.classList.remove('dragover'); }
    });
    window.addEventListener('dragover', (e) => { if (hasFiles(e)) e.preventDefault(); });
    window.addEventListener('drop', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      overlay.hidden = true;
      zone.classList.remove('dragover');
      const f = e.dataTransfer.files?.[0];
      if (f) this.start(f);
    });
    this.renderPending();
  },

  async start(file) {
    if (this.current) {
      toast('An upload is already running. Cancel it first or wait for it to finish.', { kind: 'error' });
      return;
    }
    if (!file.size) {
      toast(`${file.name} is empty (0 bytes).`, { kind: 'error' });
      return;
    }
    this.file = file;
    const up = new Upload(file, this);
    this.current = up;
    const panel = $('#upload-panel');
    panel.hidden = false;
    panel.classList.remove('done', 'error');
    $('#upload-name').textContent = file.name;
    $('#upload-name').title = file.name;
    $('#upload-cancel').hidden = false;
    $('#upload-retry').hidden = true;
    $('#upload-done').hidden = true;
    $('#upload-speed').textContent = '';
    $('#upload-eta').textContent = '';
    this.setPercent(0, file.size);
    $('#choose-file').disabled = true;
    $('#dropzone').classList.add('busy');
    this.renderPending();
    try {
      const done = await up.run();
      if (!done) return; // cancelled
      this.setPercent(file.size, file.size);
      panel.classList.add('done');
      $('#upload-speed').textContent = '';
      $('#upload-eta').textContent = '';
      this.status(done.status === 'processing_complete'
        ? 'Uploaded. These exact bytes were processed before: the video is ready.'
        : 'Uploaded. Processing has started.');
      jobs.add(done.video_id, done.fileName ?? file.name, { own: true, status: done.status });
      if (done.status === 'processing_complete') library.load();
    } catch (err) {
      if (up.cancelled) return;
      panel.classList.add('error');
      this.status(err.message);
      $('#upload-retry').hidden = false;
      $('#upload-speed').textContent = '';
      $('#upload-eta').textContent = '';
      showError(err, err.status === 401 ? '' : 'Upload stopped: ');
    } finally {
      if (this.current === up) this.current = null;
      $('#upload-cancel').hidden = true;
      $('#upload-done').hidden = !panel.classList.contains('done') && !panel.classList.contains('error');
      $('#upload-done').textContent = panel.classList.contains('done') ? 'Upload another' : 'Dismiss';
      $('#choose-file').disabled = false;
      $('#dropzone').classList.remove('busy');
      this.renderPending();
    }
  },

  async cancel() {
    const up = this.current;
    if (!up) return;
    this.current = null;
    $('#upload-cancel').disabled = true;
    await up.cancel();
    $('#upload-cancel').disabled = false;
    $('#upload-panel').hidden = true;
    $('#choose-file').disabled = false;
    $('#dropzone').classList.remove('busy');
    this.renderPending();
    toast(`Upload of ${up.file.name} cancelled.`, { kind: 'ok' });
  },

  status(text) { $('#upload-status').textContent = text; },

  setPercent(sent, size) {
    // 100 % only once every byte is sent.
    const pct = sent >= size ? 100 : Math.min(99, Math.floor((sent / size) * 100));
    $('#upload-percent').textContent = `${pct} %`;
    $('#upload-progress').setAttribute('aria-valuenow', String(pct));
    $('#upload-progress').setAttribute('aria-valuetext', `${pct} percent, ${fmtBytes(sent)} of ${fmtBytes(size)}`);
    $('#upload-bar-fill').style.width = `${(sent / size) * 100}%`;
    $('#upload-bytes').textContent = `${fmtBytes(sent)} of ${fmtBytes(size)}`;
  },

  progress(up, force = false) {
    if (up !== this.current) return;
    const now = performance.now();
    const sent = up.sentBytes;
    const size = up.file.size;
    const speed = up.speed();
    // Throttle text updates to ~8 per second; always draw completion.
    if (!force && now - this.lastRender < 120 && sent < size) return;
    this.lastRender = now;
    this.setPercent(sent, size);
    if (Number.isFinite(speed) && speed > 0) {
      $('#upload-speed').textContent = `${fmtBytes(speed)}/s`;
      $('#upload-eta').textContent = sent < size ? fmtEta((size - sent) / speed) : '';
    }
    if (up.totalParts > 1 && sent < size) {
      this.status(`${up.partsDone} of ${up.totalParts} parts sent${up.resumed ? ' (resumed)' : ''}`);
    }
  },

  renderPending() {
    const box = $('#resume-list');
    box.replaceChildren();
    const current = this.current?.rec?.uploadId;
    for (const rec of pendingUploads()) {
      if (rec.uploadId === current || (this.current && rec.fingerprint === fingerprint(this.current.file))) continue;
      let sent = 0;
      for (const n of Object.keys(rec.etags ?? {})) {
        const [a, b] = partRange(Number(n), rec.partSize, rec.fileSize);
        sent += b - a;
      }
      const pct = Math.floor((sent / rec.fileSize) * 100);
      box.append(h('div', { class: 'resume-item', 'data-testid': 'resume-item', dataset: { uploadId: rec.uploadId } },
        h('p', {},
          'Interrupted upload of ', h('strong', { text: rec.fileName }),
          ` (${pct} % of ${fmtBytes(rec.fileSize)}). Choose the same file to resume.`),
        h('button', { type: 'button', class: 'button button-ghost button-small', onclick: () => $('#file-input').click() }, 'Resume'),
        h('button', {
          type: 'button', class: 'button button-ghost button-small', 'aria-label': `Discard the upload of ${rec.fileName}`,
          onclick: async () => {
            await new Upload({ name: rec.fileName, size: rec.fileSize }, this).abortOnServer(rec);
            this.renderPending();
          },
        }, 'Discard')));
    }
    box.hidden = !box.children.length;
  },
};

// ------------------------------------------------------------------ processing
const STAGES = [
  ['hashing', 'Check'],
  ['probing', 'Probe'],
  ['encoding', 'Encode'],
  ['assembling', 'Package'],
  ['transcribing', 'Subtitles'],
  ['done', 'Ready'],
];
const STAGE_TEXT = {
  hashing: 'Checking the upload',
  probing: 'Reading the source',
  encoding: 'Encoding slices',
  assembling: 'Packaging HLS and DASH',
  transcribing: 'Transcribing subtitles',
  done: 'Done',
};
const FAIL_TEXT = {
  hashing: 'Failed while checking the upload',
  probing: 'Failed while reading the source',
  encoding: 'Failed while encoding',
  assembling: 'Failed while packaging the streams',
  transcribing: 'Failed while transcribing',
};
/** The stage a failed video stopped in (a failed manifest says stage "done"). */
function failedStage(j) {
  if (j.lastActive && j.lastActive !== 'hashing') return j.lastActive;
  const m = j.manifest ?? {};
  const p = m.progress ?? {};
  if (!m.source || !p.slices_total) return m.source ? 'probing' : (j.lastActive ?? 'probing');
  if ((p.slices_done ?? 0) < p.slices_total) return 'encoding';
  return 'assembling';
}
const STATUS_TEXT = {
  uploaded: 'Queued',
  processing: 'Processing',
  processing_complete: 'Ready',
  processing_failed: 'Failed',
};

const jobs = {
  map: new Map(),
  timer: null,
  init() {
    for (const j of readJson(LS.jobs, [])) {
      if (j?.videoId) this.add(j.videoId, j.name, { own: true, status: 'processing', quiet: true });
    }
    this.render();
    this.tick();
    this.pollTranscoding();
  },
  persist() {
    writeJson(LS.jobs, [...this.map.values()]
      .filter((j) => j.own && j.status !== 'processing_complete')
      .map((j) => ({ videoId: j.videoId, name: j.name })));
  },
  add(videoId, name, { own = false, status = 'processing', stage = 'hashing', progress = null, quiet = false } = {}) {
    let j = this.map.get(videoId);
    if (!j) {
      j = { videoId, name, own, status, stage, progress: progress ?? { fraction: 0, slices_done: 0, slices_total: 0 }, seen: new Set([stage]) };
      this.map.set(videoId, j);
    } else {
      j.own ||= own;
      if (name) j.name = name;
      if (status !== 'processing') j.status = status;
    }
    this.persist();
    this.render();
    if (!quiet) this.kick();
    return j;
  },
  remove(videoId) {
    const j = this.map.get(videoId);
    if (!j) return;
    this.map.delete(videoId);
    j.el?.remove();
    this.persist();
    this.render();
  },
  kick() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), 50);
  },
  async tick() {
    clearTimeout(this.timer);
    const active = [...this.map.values()].filter((j) => j.status === 'processing' || j.status === 'uploaded');
    await Promise.all(active.map((j) => this.refresh(j)));
    const delay = document.hidden ? 5000 : POLL_MS;
    this.timer = setTimeout(() => this.tick(), delay);
  },
  async refresh(j) {
    let r;
    try {
      r = await fetchStatus(j.videoId);
    } catch {
      return; // server unreachable for a moment: keep the last state
    }
    if (!this.map.has(j.videoId)) return;
    if (r.code === 404) {
      this.remove(j.videoId);
      if (j.own) toast(`${j.name || j.videoId} is no longer on the server.`, { kind: 'error' });
      return;
    }
    const m = r.body ?? {};
    const before = j.status;
    if (r.code === 202) {
      j.status = 'uploaded';
    } else if (r.code === 200) {
      j.manifest = m;
      j.status = m.status ?? j.status;
      j.stage = m.stage ?? j.stage;
      j.progress = m.progress ?? j.progress;
      j.error = m.error ?? null;
      j.name = m.source?.name || j.name;
      j.seen.add(j.stage);
      if (j.status === 'processing' && j.stage !== 'done') j.lastActive = j.stage;
    }
    this.render();
    if (before !== j.status) {
      // Toasts only for this browser's uploads; others' videos just update their entry
      // (and a finished one leaves the list after a while: it is in the library).
      if (j.status === 'processing_complete') {
        this.persist();
        library.load();
        if (j.own) {
          toast(`${j.name || 'Your video'} is ready to play.`, {
            kind: 'ok', action: { label: 'Play now', run: () => this.play(j) },
          });
        } else {
          setTimeout(() => { if (this.map.get(j.videoId) === j) this.remove(j.videoId); }, 30000);
        }
      } else if (j.status === 'processing_failed') {
        this.persist();
        if (j.own) toast(`${j.name || 'A video'} could not be processed: ${j.error ?? 'unknown error'}`, { kind: 'error' });
      }
    }
  },
  async pollTranscoding() {
    try {
      const list = await api('GET', '/api/transcoding_status');
      for (const t of list ?? []) {
        if (!this.map.has(t.video_id)) {
          this.add(t.video_id, t.file_name ?? t.base_name, { status: t.status, stage: t.stage, progress: t.progress, quiet: true });
        }
      }
    } catch { /* shown by other requests */ }
    setTimeout(() => this.pollTranscoding(), document.hidden ? 15000 : TRANSCODING_POLL_MS);
  },
  play(j) {
    const item = library.items.find((v) => v.video_id === j.videoId) ?? itemFromManifest(j.manifest, j.name);
    if (item) player.open(item);
  },
  render() {
    const list = $('#jobs');
    $('#jobs-empty').hidden = this.map.size > 0;
    for (const j of this.map.values()) {
      if (!j.el) {
        j.el = this.build(j);
        list.prepend(j.el);
      }
      this.update(j);
    }
  },
  build(j) {
    const el = h('li', { class: 'job', 'data-testid': 'processing-job', dataset: { videoId: j.videoId } },
      h('div', { class: 'job-head' },
        h('span', { class: 'job-name' }),
        h('span', { class: 'pill job-status', 'data-testid': 'processing-status' })),
      h('ol', { class: 'stages', 'aria-hidden': 'true' }),
      h('div', { class: 'bar', role: 'progressbar', 'aria-label': 'Processing progress', 'aria-valuemin': 0, 'aria-valuemax': 100, 'data-testid': 'processing-progress' },
        h('div', { class: 'bar-fill' })),
      h('div', { class: 'slices', 'aria-hidden': 'true' }),
      h('div', { class: 'job-meta' },
        h('span', { 'data-testid': 'processing-stage' }),
        h('span', { 'data-testid': 'processing-slices' }),
        h('span', { 'data-testid': 'processing-percent' }),
        h('span', { class: 'job-source' })),
      h('p', { class: 'job-error', 'data-testid': 'processing-error', hidden: true }, icon('alert'), h('span')),
      h('div', { class: 'job-head job-footer', style: 'margin-top:10px' },
        h('span', { class: 'grow' }),
        h('span', { class: 'job-actions' },
          h('button', { type: 'button', class: 'button button-primary button-small', 'data-testid': 'processing-play', hidden: true, onclick: () => this.play(j) },
            icon('play'), 'Play'),
          h('button', { type: 'button', class: 'button button-ghost button-small', 'data-testid': 'processing-dismiss', onclick: () => this.remove(j.videoId) },
            'Dismiss'))));
    return el;
  },
  update(j) {
    const el = j.el;
    const status = j.status;
    el.dataset.status = status;
    el.dataset.stage = j.stage;
    $('.job-name', el).textContent = j.name || j.videoId;
    $('.job-name', el).title = j.name || j.videoId;
    $('.job-status', el).textContent = STATUS_TEXT[status] ?? status;

    const stages = STAGES.filter(([k]) => k !== 'transcribing' || j.seen.has('transcribing'));
    const failedAt = status === 'processing_failed' ? failedStage(j) : null;
    const idx = status === 'processing_complete' ? stages.length : stages.findIndex(([k]) => k === (failedAt ?? j.stage));
    const ol = $('.stages', el);
    ol.replaceChildren(...stages.map(([, label], i) =>
      h('li', { class: i < idx ? 'done' : i === idx ? 'current' : '' }, label)));

    const p = j.progress ?? {};
    const frac = status === 'processing_complete' ? 1 : clamp(Number(p.fraction) || 0, 0, 1);
    const pct = Math.round(frac * 100);
    $('.bar-fill', el).style.width = `${frac * 100}%`;
    $('.bar', el).setAttribute('aria-valuenow', String(pct));
    $('[data-testid="processing-percent"]', el).textContent = status === 'processing_failed' ? '' : `${pct} %`;
    const total = p.slices_total || 0;
    const doneSlices = p.slices_done || 0;
    el.dataset.slicesDone = doneSlices;
    el.dataset.slicesTotal = total;
    $('[data-testid="processing-slices"]', el).textContent = total ? `${doneSlices} of ${total} slice${total === 1 ? "" : "s"} encoded` : '';
    const slices = $('.slices', el);
    const shown = Math.min(total, 64);
    if (slices.children.length !== shown) slices.replaceChildren(...Array.from({ length: shown }, () => h('span')));
    [...slices.children].forEach((s, i) => s.classList.toggle('done', i < Math.round((doneSlices / total) * shown)));

    let stageText = STAGE_TEXT[j.stage] ?? j.stage;
    if (status === 'uploaded') stageText = 'Waiting to start';
    else if (status === 'processing_complete') stageText = 'Ready to play';
    else if (status === 'processing_failed') stageText = FAIL_TEXT[failedAt] ?? 'Failed';
    el.dataset.failedStage = failedAt ?? '';
    $('[data-testid="processing-stage"]', el).textContent = stageText;
    const src = j.manifest?.source;
    $('.job-source', el).textContent = src?.width ? `${src.width}×${src.height} · ${fmtDuration(src.duration_s)}` : '';

    const err = $('.job-error', el);
    err.hidden = status !== 'processing_failed';
    $('span', err).textContent = j.error || 'Processing failed.';
    $('[data-testid="processing-play"]', el).hidden = status !== 'processing_complete';
    $('[data-testid="processing-dismiss"]', el).hidden = status === 'processing' || status === 'uploaded';
    $('.job-footer', el).hidden = status === 'processing' || status === 'uploaded';
  },
};

// ------------------------------------------------------------------ library
function itemFromManifest(m, name) {
  if (!m?.assets) return null;
  const fileName = m.source?.name || name || m.video_id;
  return {
    video_id: m.video_id,
    base_name: fileName.replace(/\.[^.]+$/, ''),
    file_name: fileName,
    hls_url: streamUrl(m.assets.hls_master),
    dash_url: streamUrl(m.assets.dash_mpd),
    thumbnail_url: streamUrl(m.assets.poster),
    sprite: streamUrl(m.assets.thumbnails_vtt),
    presets: (m.rungs ?? []).map((r) => r.name),
    duration: m.duration_s ?? m.source?.duration_s,
    uploaded_at: m.created_ms ? new Date(m.created_ms).toISOString() : null,
    width: m.source?.width,
    height: m.source?.height,
    subtitles: subtitleItems(m.subtitles),
    transcription_status: m.transcription_status ?? 'not_requested',
    transcription_error: m.transcription?.error ?? null,
  };
}

/** The manifest's subtitle tracks ({lang, name, vtt, srt} keys) as list items ({lang, name, url}). */
function subtitleItems(list) {
  return (list ?? []).map((s) => ({ lang: s.lang, name: s.name, url: s.url ?? streamUrl(s.vtt), srt_url: s.srt_url ?? streamUrl(s.srt) }));
}

/** Transcription still to come: the player keeps asking /status until it settles. */
const SUBTITLES_COMING = new Set(['pending', 'in_progress']);

const library = {
  items: [],
  cards: new Map(),
  loaded: false,
  init() {
    $('#library-refresh').addEventListener('click', () => this.load(true));
    setInterval(() => this.updateAges(), 30000);
    setInterval(() => { if (!document.hidden) this.load(); }, 60000);
    return this.load();
  },
  async load(manual = false) {
    try {
      const list = await api('GET', '/api/videos');
      this.items = Array.isArray(list) ? list : [];
      $('#library-error').hidden = true;
      this.render();
      if (manual) toast('Library refreshed.', { kind: 'ok', timeout: 2000 });
    } catch (err) {
      $('#library-error').hidden = false;
      $('#library-error').textContent = `The library could not be loaded: ${err.message}`;
    }
    this.loaded = true;
  },
  render() {
    const list = $('#library-list');
    const ids = new Set(this.items.map((v) => v.video_id));
    for (const [id, el] of this.cards) {
      if (!ids.has(id)) { el.remove(); this.cards.delete(id); }
    }
    let prev = null;
    for (const item of this.items) {
      let el = this.cards.get(item.video_id);
      if (!el) {
        el = this.build(item);
        this.cards.set(item.video_id, el);
      }
      const want = prev ? prev.nextElementSibling : list.firstElementChild;
      if (want !== el) {
        if (prev) prev.after(el);
        else list.prepend(el);
      }
      prev = el;
    }
    $('#library-count').textContent = this.items.length ? String(this.items.length) : '';
    $('#library-empty').hidden = this.items.length > 0;
    this.markPlaying();
  },
  build(item) {
    const name = item.base_name || item.file_name || item.video_id;
    const res = item.width && item.height ? `${item.width}×${item.height}` : '';
    const el = h('li', { class: 'video-card', 'data-testid': 'library-item', dataset: { videoId: item.video_id } },
      h('button', {
        type: 'button', class: 'thumb', 'data-testid': 'library-play', 'aria-label': `Play ${name}`,
        onclick: () => player.open(item),
      },
      item.thumbnail_url
        ? h('img', { src: item.thumbnail_url, alt: '', loading: 'lazy', decoding: 'async' })
        : h('span', { class: 'no-poster' }, icon('film')),
      h('span', { class: 'thumb-play' }, icon('play')),
      item.duration ? h('span', { class: 'duration-badge' }, fmtDuration(item.duration)) : null),
      h('div', { class: 'card-body' },
        h('div', { class: 'card-text' },
          h('h3', { class: 'card-title-text', title: item.file_name || name, 'data-testid': 'library-title' }, name),
          h('p', { class: 'card-meta' },
            h('time', { datetime: item.uploaded_at ?? '', 'data-testid': 'library-age' }, fmtAge(item.uploaded_at)),
            res ? ` · ${res}` : ''),
          h('ul', { class: 'rungs', 'aria-label': 'Renditions' }, (item.presets ?? []).map((p) => h('li', {}, p)))),
        h('button', {
          type: 'button', class: 'icon-button danger', 'data-testid': 'delete-button', 'aria-label': `Delete ${name}`, title: 'Delete',
          onclick: () => this.confirmDelete(item),
        }, icon('trash'))));
    const img = $('img', el);
    if (img) img.addEventListener('error', () => img.replaceWith(h('span', { class: 'no-poster' }, icon('film'))), { once: true });
    return el;
  },
  updateAges() {
    for (const t of document.querySelectorAll('[data-testid="library-age"]')) t.textContent = fmtAge(t.getAttribute('datetime'));
  },
  markPlaying() {
    for (const [id, el] of this.cards) el.classList.toggle('playing', id === player.item?.video_id);
  },
  async confirmDelete(item) {
    const name = item.base_name || item.file_name || item.video_id;
    const ok = await confirmDialog(`“${name}”, its HLS and DASH streams, thumbnails and the uploaded file will be removed from the server. This cannot be undone.`);
    if (!ok) return;
    try {
      await api('DELETE', `/api/video/${encodeURIComponent(item.video_id)}`);
    } catch (err) {
      if (err.status !== 404) { showError(err, err.status === 401 ? '' : 'Delete failed: '); return; }
    }
    if (player.item?.video_id === item.video_id) player.close({ restoreFocus: false });
    jobs.remove(item.video_id);
    const card = this.cards.get(item.video_id);
    const next = card?.nextElementSibling ?? card?.previousElementSibling;
    this.items = this.items.filter((v) => v.video_id !== item.video_id);
    if (card) {
      card.classList.add('removing');
      await sleep(180);
    }
    this.render();
    // Keep keyboard focus in the library: on the neighbouring video, or on the heading.
    ($('[data-testid="library-play"]', next ?? document.createElement('i')) ?? $('#library-heading')).focus();
    toast(`Deleted ${name}.`, { kind: 'ok' });
  },
};

function confirmDialog(text) {
  const dlg = $('#confirm-dialog');
  $('#confirm-text').textContent = text;
  dlg.returnValue = '';
  dlg.showModal();
  $('#confirm-cancel').focus();
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
  });
}

// ------------------------------------------------------------------ thumbnails VTT
function parseVttTime(s) {
  const m = /^(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)$/.exec(s.trim());
  if (!m) return NaN;
  return (Number(m[1] ?? 0) * 3600) + Number(m[2]) * 60 + Number(m[3]);
}

/** Cues of a thumbnails track: [{start, end, url, x, y, w, h}], URLs resolved against the VTT's. */
function parseThumbnailsVtt(text, vttUrl) {
  const base = new URL(vttUrl, location.href);
  const cues = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.includes('-->')) continue;
    const [a, b] = line.split('-->');
    const start = parseVttTime(a);
    const end = parseVttTime(b.trim().split(/\s+/)[0]);
    const payload = (lines[i + 1] ?? '').trim();
    if (!Number.isFinite(start) || !Number.isFinite(end) || !payload) continue;
    const [path, frag = ''] = payload.split('#');
    const xywh = /xywh=(\d+),(\d+),(\d+),(\d+)/.exec(frag);
    cues.push({
      start, end,
      url: new URL(path, base).href,
      ...(xywh ? { x: +xywh[1], y: +xywh[2], w: +xywh[3], h: +xywh[4] } : {}),
    });
  }
  return cues;
}

// ------------------------------------------------------------------ player engines
// Each engine: {name, version, levels: [{id, width, height, bitrate, name}], setLevel(id),
// isAuto(), current(): level|null, destroy(): Promise}. Level id -1 = automatic.

function createHlsJs(video, url, startTime, events) {
  return new Promise((resolve, reject) => {
    const hls = new Hls({ startPosition: startTime > 0 ? startTime : -1, capLevelToPlayerSize: false });
    let ready = false;
    let mediaRecoveries = 0;
    const engine = {
      name: 'hls.js', version: Hls.version, hls,
      get levels() {
        return hls.levels.map((l, id) => ({ id, width: l.width, height: l.height, bitrate: l.bitrate, name: rungName(l.width, l.height) }));
      },
      setLevel(id) { hls.currentLevel = id; }, // immediate switch (flushes the buffer); -1 = auto
      isAuto: () => hls.autoLevelEnabled,
      current() {
        const i = hls.currentLevel >= 0 ? hls.currentLevel : hls.loadLevel;
        return engine.levels[i] ?? null;
      },
      destroy: async () => hls.destroy(),
    };
    hls.on(Hls.Events.MANIFEST_PARSED, () => { ready = true; resolve(engine); });
    hls.on(Hls.Events.LEVEL_SWITCHED, () => events.onLevel());
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, () => events.onSubtitles());
    hls.on(Hls.Events.ERROR, (_e, d) => {
      if (!d.fatal) return;
      if (d.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries++ < 2) {
        hls.recoverMediaError();
        return;
      }
      const err = new Error(`HLS playback failed (${d.details}${d.response?.code ? `, HTTP ${d.response.code}` : ''}).`);
      if (ready) events.onError(err);
      else reject(err);
    });
    hls.loadSource(url);
    hls.attachMedia(video);
  });
}

function createNativeHls(video, url, startTime) {
  video.src = url;
  if (startTime > 0) video.addEventListener('loadedmetadata', () => { video.currentTime = startTime; }, { once: true });
  return {
    name: 'native HLS', version: '', levels: [],
    setLevel() {}, isAuto: () => true, current: () => null,
    destroy: async () => { video.removeAttribute('src'); video.load(); },
  };
}

let shakaInstalled = false;
async function createShaka(video, url, startTime, events) {
  await loadScript(SHAKA_SRC);
  if (!shakaInstalled) { shaka.polyfill.installAll(); shakaInstalled = true; }
  if (!shaka.Player.isBrowserSupported()) throw new Error('This browser cannot play DASH (no Media Source Extensions).');
  const p = new shaka.Player();
  p.configure({ abr: { enabled: true } });
  const videoTracks = () => {
    const byHeight = new Map();
    for (const t of p.getVariantTracks()) {
      if (!t.height) continue;
      const k = `${t.width}x${t.height}`;
      const prev = byHeight.get(k);
      if (!prev || t.active || (!prev.active && t.bandwidth > prev.bandwidth)) byHeight.set(k, t);
    }
    return [...byHeight.values()].sort((a, b) => b.height - a.height || b.bandwidth - a.bandwidth);
  };
  const engine = {
    name: 'Shaka Player', version: shaka.Player.version, player: p,
    get levels() {
      return videoTracks().map((t) => ({ id: t.id, width: t.width, height: t.height, bitrate: t.videoBandwidth || t.bandwidth, name: rungName(t.width, t.height) }));
    },
    setLevel(id) {
      if (id === -1) {
        p.configure({ abr: { enabled: true } });
        return;
      }
      const t = p.getVariantTracks().find((v) => v.id === id);
      if (!t) return;
      p.configure({ abr: { enabled: false } });
      p.selectVariantTrack(t, true);
    },
    isAuto: () => p.getConfiguration().abr.enabled,
    current() {
      const t = p.getVariantTracks().find((v) => v.active);
      return t ? { id: t.id, width: t.width, height: t.height, bitrate: t.bandwidth, name: rungName(t.width, t.height) } : null;
    },
    destroy: () => p.destroy(),
  };
  await p.attach(video);
  try {
    await p.load(url, startTime > 0 ? startTime : null);
  } catch (err) {
    await p.destroy().catch(() => {});
    throw err;
  }
  p.addEventListener('adaptation', events.onLevel);
  p.addEventListener('variantchanged', events.onLevel);
  p.addEventListener('error', (ev) => {
    const e = ev.detail;
    if (e?.severity === 2) events.onError(new Error(`DASH playback failed (Shaka error ${e.code}).`));
  });
  return engine;
}

const shakaCode = (err) => (err && typeof err.code === 'number' ? err.code : null);

// ------------------------------------------------------------------ player
const player = {
  item: null,
  engine: null,
  token: 0,
  cues: [],
  sprites: new Map(), // url -> {img, loaded}
  protocol: localStorage.getItem(LS.protocol) === 'dash' ? 'dash' : 'hls',
  scrubbing: false,
  scrubTime: 0,
  hoverTime: null,
  idleTimer: null,
  keyPreviewTimer: null,

  init() {
    const v = (this.video = $('#video'));
    this.el = $('#player');
    this.seek = $('#seek-bar');
    v.volume = clamp(Number(localStorage.getItem(LS.volume) ?? 1) || 0, 0, 1);
    $('#volume').value = String(v.volume);

    $('#play-button').addEventListener('click', () => this.toggle());
    v.addEventListener('click', () => this.toggle());
    v.addEventListener('dblclick', () => this.fullscreen());
    $('#mute-button').addEventListener('click', () => { v.muted = !v.muted; });
    $('#volume').addEventListener('input', (e) => { v.volume = Number(e.target.value); v.muted = v.volume === 0; });
    $('#fullscreen-button').addEventListener('click', () => this.fullscreen());
    $('#player-close').addEventListener('click', () => this.close());
    $('#speed-menu').addEventListener('change', (e) => { v.playbackRate = Number(e.target.value); });
    $('#quality-menu').addEventListener('change', (e) => this.setLevel(Number(e.target.value)));
    $('#subtitles-menu').addEventListener('change', (e) => this.setSubtitle(e.target.value));
    for (const r of document.querySelectorAll('input[name="protocol"]')) {
      r.checked = r.value === this.protocol;
      r.addEventListener('change', () => { if (r.checked) this.switchProtocol(r.value); });
    }

    const sync = () => this.syncState();
    for (const ev of ['play', 'pause', 'playing', 'waiting', 'canplay', 'seeking', 'seeked', 'ended', 'emptied', 'loadstart']) v.addEventListener(ev, sync);
    v.addEventListener('timeupdate', () => this.drawTime());
    v.addEventListener('durationchange', () => this.drawTime());
    v.addEventListener('progress', () => this.drawBuffered());
    v.addEventListener('resize', () => this.drawLevel());
    v.addEventListener('volumechange', () => {
      setIcon($('#mute-button'), v.muted || v.volume === 0 ? 'muted' : 'volume');
      $('#mute-button').setAttribute('aria-label', v.muted ? 'Unmute' : 'Mute');
      if (!v.muted) $('#volume').value = String(v.volume);
      try { localStorage.setItem(LS.volume, String(v.volume)); } catch { /* ignore */ }
    });
    v.addEventListener('ratechange', () => {
      const opt = [...$('#speed-menu').options].find((o) => Number(o.value) === v.playbackRate);
      if (opt) $('#speed-menu').value = opt.value;
    });
    v.addEventListener('error', () => {
      if (this.engine?.name === 'native HLS' && v.error) this.showError(`The video cannot be played (${v.error.message || `media error ${v.error.code}`}).`);
    });
    v.textTracks.addEventListener('addtrack', () => this.drawSubtitles());
    v.textTracks.addEventListener('removetrack', () => this.drawSubtitles());

    this.initSeek();
    this.initKeys();
    this.el.addEventListener('pointermove', () => this.wake());
    this.el.addEventListener('pointerleave', () => { if (!v.paused) this.el.classList.add('idle'); });
    document.addEventListener('fullscreenchange', () => {
      $('#fullscreen-button').setAttribute('aria-label', document.fullscreenElement ? 'Exit full screen' : 'Full screen');
    });
  },

  wake() {
    this.el.classList.remove('idle');
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => { if (!this.video.paused && !this.scrubbing) this.el.classList.add('idle'); }, 2500);
  },

  async open(item, { autoplay = true, time = 0 } = {}) {
    this.item = item;
    const section = $('#player-section');
    section.hidden = false;
    $('#player-title').textContent = item.base_name || item.file_name || item.video_id;
    this.drawMeta();
    this.el.dataset.videoId = item.video_id;
    const dash = $('#protocol-dash');
    dash.disabled = !item.dash_url;
    if (!item.dash_url && this.protocol === 'dash') this.protocol = 'hls';
    if (!item.hls_url && item.dash_url) this.protocol = 'dash';
    $('#protocol-hls').disabled = !item.hls_url;
    for (const r of document.querySelectorAll('input[name="protocol"]')) r.checked = r.value === this.protocol;
    history.replaceState(null, '', `#v=${encodeURIComponent(item.video_id)}`);
    library.markPlaying();
    section.scrollIntoView({ behavior: 'smooth', block: 'start' });
    this.el.focus({ preventScroll: true });

    this.cues = [];
    this.setTracks(item.subtitles ?? []);
    this.loadThumbnails(item);
    this.loadDetails(item);
    await this.load(time, autoplay);
  },

  drawMeta() {
    const item = this.item;
    if (!item) return;
    const bits = [];
    if (item.duration) bits.push(fmtDuration(item.duration));
    if (item.width && item.height) bits.push(`${item.width}×${item.height}`);
    if (item.presets?.length) bits.push(item.presets.join(' · '));
    if (item.uploaded_at) bits.push(`uploaded ${fmtAge(item.uploaded_at)}`);
    const ts = item.transcription_status;
    if (SUBTITLES_COMING.has(ts)) bits.push('subtitles on the way…');
    else if (ts === 'failed') bits.push(`no subtitles: ${item.transcription_error ?? 'transcription failed'}`);
    else if (ts === 'completed' && !(item.subtitles ?? []).length) bits.push('no speech heard for subtitles');
    $('#player-meta').textContent = bits.join('  ·  ');
  },

  /** Manifest details the list lacks (slice seams; subtitles that arrived since the list was read). */
  async loadDetails(item) {
    try {
      const r = await fetchStatus(item.video_id);
      if (r.code !== 200 || this.item !== item) return;
      this.manifest = r.body;
      this.el.dataset.sliceStarts = (r.body.slice_starts_s ?? []).join(',');
      this.takeSubtitles(item, r.body);
      // Subtitles come after the video is playable: ask again until they settle.
      if (SUBTITLES_COMING.has(item.transcription_status)) {
        clearTimeout(this.subtitleTimer);
        this.subtitleTimer = setTimeout(() => { if (this.item === item) this.loadDetails(item); }, 3000);
      }
    } catch { /* optional */ }
  },

  takeSubtitles(item, m) {
    item.transcription_status = m.transcription_status ?? item.transcription_status;
    item.transcription_error = m.transcription?.error ?? null;
    const extra = subtitleItems(m.subtitles).filter((s) => !(item.subtitles ?? []).some((t) => t.lang === s.lang));
    if (extra.length) {
      item.subtitles = [...(item.subtitles ?? []), ...extra];
      this.setTracks(item.subtitles);
    }
    this.el.dataset.transcription = item.transcription_status ?? '';
    this.drawMeta();
  },

  async loadThumbnails(item) {
    this.el.dataset.thumbnails = 'loading';
    if (!item.sprite) { this.el.dataset.thumbnails = 'none'; return; }
    try {
      const res = await fetch(item.sprite, { cache: 'force-cache' });
      if (!res.ok) throw new Error(String(res.status));
      const cues = parseThumbnailsVtt(await res.text(), item.sprite);
      if (this.item !== item) return;
      this.cues = cues;
      for (const url of new Set(cues.map((c) => c.url))) {
        if (this.sprites.has(url)) continue;
        const img = new Image();
        const entry = { img, loaded: false };
        img.onload = () => { entry.loaded = true; if (this.hoverTime != null) this.drawPreview(this.hoverTime); };
        img.src = url;
        this.sprites.set(url, entry);
      }
      this.el.dataset.thumbnails = String(cues.length);
    } catch {
      this.el.dataset.thumbnails = 'error';
    }
  },

  /** The video's subtitle files (one per language); shown as <track>s unless the player has them. */
  setTracks(subs) {
    const byLang = new Map();
    for (const s of subs ?? []) if (!byLang.has(s.lang)) byLang.set(s.lang, s);
    this.subs = [...byLang.values()];
    this.syncSidecars();
  },

  // Our <track>s (data-slicecast; hls.js adds <track>s of its own) are attached only while the
  // engine does not read the tracks from the playlist itself, so no language is offered twice.
  syncSidecars() {
    const v = this.video;
    this.subtitle = 'off';
    this.removeSidecars();
    const playerHas = this.engine?.hls?.subtitleTracks?.length > 0;
    if (this.engine && !playerHas) {
      for (const s of this.subs ?? []) {
        const src = s.url ?? streamUrl(s.vtt ?? s.key);
        if (!src) continue;
        v.append(h('track', { kind: 'subtitles', src, srclang: s.lang ?? '', label: s.label ?? s.name ?? languageName(s.lang), 'data-slicecast': '' }));
      }
    }
    this.drawSubtitles();
  },

  /** The TextTracks of our own <track>s. */
  sidecarTracks() {
    return new Set([...this.video.querySelectorAll('track[data-slicecast]')].map((e) => e.track));
  },

  removeSidecars() {
    for (const t of [...this.video.querySelectorAll('track[data-slicecast]')]) t.remove();
  },

  // hls.js's own tracks when the master playlist has a SUBTITLES group (it loads the segmented
  // WebVTT); otherwise the whole-file <track>s from the video's `subtitles` (Shaka, native HLS,
  // and a master read before the subtitles arrived). Tracks a destroyed hls.js left on the
  // <video> (they cannot be removed) are never offered.
  subtitleTracks() {
    const text = [...this.video.textTracks].filter((t) => (t.kind === 'subtitles' || t.kind === 'captions') && !/shaka/i.test(t.label));
    const sidecar = this.sidecarTracks();
    const fromPlayer = this.engine?.hls?.subtitleTracks?.length ? text.filter((t) => !sidecar.has(t)) : [];
    return fromPlayer.length ? fromPlayer : text.filter((t) => sidecar.has(t));
  },

  drawSubtitles() {
    const tracks = this.subtitleTracks();
    const sidecar = this.sidecarTracks();
    this.el.dataset.subtitleTracks = String(tracks.length);
    this.el.dataset.subtitleFiles = String(sidecar.size);
    this.el.dataset.playerSubtitles = String(this.engine?.hls?.subtitleTracks?.length ?? 0);
    this.el.dataset.subtitleSource = tracks.length === 0 ? 'none' : (tracks.some((t) => sidecar.has(t)) ? 'file' : 'player');
    const menu = $('#subtitles-menu');
    const showing = tracks.findIndex((t) => t.mode !== 'disabled' && String(tracks.indexOf(t)) === this.subtitle);
    menu.replaceChildren(h('option', { value: 'off' }, 'Subtitles off'),
      ...tracks.map((t, i) => h('option', { value: String(i) }, t.label || languageName(t.language) || `Track ${i + 1}`)));
    menu.value = showing >= 0 ? String(showing) : 'off';
    $('#subtitles-wrap').hidden = tracks.length === 0;
  },

  // The chosen track is 'hidden' (loaded, not drawn by the browser) and its cues are drawn in
  // #subtitle-overlay, above the controls instead of under them.
  setSubtitle(value) {
    this.subtitleTracks().forEach((t, i) => {
      const on = String(i) === value;
      t.mode = on ? 'hidden' : 'disabled';
      if (on && !t.__slicecast) {
        t.__slicecast = true;
        t.addEventListener('cuechange', () => this.drawCues());
      }
    });
    this.subtitle = value;
    this.drawCues();
  },

  drawCues() {
    const box = $('#subtitle-overlay');
    const track = this.subtitleTracks()[Number(this.subtitle)];
    const cues = track && track.mode !== 'disabled' ? [...(track.activeCues ?? [])] : [];
    box.replaceChildren(...cues.map((c) => h('span', {}, typeof c.getCueAsHTML === 'function' ? c.getCueAsHTML() : c.text)));
    box.hidden = cues.length === 0;
  },

  async destroyEngine() {
    const e = this.engine;
    this.engine = null;
    if (e) await e.destroy().catch(() => {});
  },

  async load(startTime = 0, autoplay = true) {
    const token = ++this.token;
    const item = this.item;
    const v = this.video;
    this.hideError();
    await this.destroyEngine();
    this.removeSidecars();
    if (token !== this.token) return;
    this.el.classList.add('loading');
    this.drawLevels([]);
    this.drawTime();
    const url = this.protocol === 'dash' ? item.dash_url : item.hls_url;
    const events = {
      onLevel: () => { if (token === this.token) this.drawLevel(); },
      onError: (err) => { if (token === this.token) this.showError(err.message); },
      onSubtitles: () => { if (token === this.token) this.syncSidecars(); },
    };
    let engine;
    try {
      if (this.protocol === 'dash') {
        engine = await createShaka(v, url, startTime, events);
      } else {
        if (!window.Hls) await loadScript(HLS_SRC);
        if (window.Hls?.isSupported()) engine = await createHlsJs(v, url, startTime, events);
        else if (v.canPlayType('application/vnd.apple.mpegurl')) engine = createNativeHls(v, url, startTime);
        else throw new Error('This browser can play neither HLS nor Media Source Extensions.');
      }
    } catch (err) {
      if (token !== this.token || shakaCode(err) === 7000) return; // superseded / interrupted
      this.el.classList.remove('loading');
      this.showError(err.message || `Playback failed (error ${shakaCode(err) ?? 'unknown'}).`);
      return;
    }
    if (token !== this.token) { await engine.destroy().catch(() => {}); return; }
    this.engine = engine;
    this.syncSidecars();
    this.el.dataset.engine = engine.name;
    this.el.dataset.protocol = this.protocol;
    $('#engine-label').textContent = `${engine.name}${engine.version ? ` ${engine.version}` : ''}`;
    this.drawLevels(engine.levels);
    this.drawLevel();
    const rate = Number($('#speed-menu').value) || 1;
    v.playbackRate = rate;
    if (autoplay) this.play();
    this.syncState();
  },

  play() {
    const p = this.video.play();
    p?.catch((err) => {
      if (err?.name === 'NotAllowedError') {
        // Autoplay with sound refused: the user presses play.
        this.syncState();
      }
    });
  },
  toggle() {
    if (!this.engine) return;
    if (this.video.paused || this.video.ended) this.play();
    else this.video.pause();
  },
  fullscreen() {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else this.el.requestFullscreen?.().catch(() => {});
  },

  async switchProtocol(proto) {
    if (proto === this.protocol || !this.item) return;
    this.protocol = proto;
    try { localStorage.setItem(LS.protocol, proto); } catch { /* ignore */ }
    const v = this.video;
    const t = v.currentTime;
    const wasPlaying = !v.paused && !v.ended;
    await this.load(t, wasPlaying);
  },

  setLevel(id) {
    if (!this.engine) return;
    this.engine.setLevel(id);
    this.el.dataset.levelRequest = String(id);
    this.drawLevel();
  },

  drawLevels(levels) {
    const menu = $('#quality-menu');
    const sorted = [...levels].sort((a, b) => b.height - a.height || b.bitrate - a.bitrate);
    menu.replaceChildren(h('option', { value: '-1' }, 'Auto'),
      ...sorted.map((l) => h('option', { value: String(l.id), dataset: { height: l.height } }, l.name)));
    menu.value = '-1';
    menu.disabled = sorted.length < 2;
  },

  drawLevel() {
    const e = this.engine;
    const v = this.video;
    const cur = e?.current();
    const auto = e ? e.isAuto() : true;
    const name = cur?.name ?? (v.videoHeight ? rungName(v.videoWidth, v.videoHeight) : '');
    const badge = $('#current-quality');
    badge.textContent = name;
    badge.title = name ? `Playing ${name}${auto ? ' (chosen automatically)' : ''}` : '';
    badge.dataset.level = cur ? String(cur.id) : '';
    badge.dataset.height = String(cur?.height ?? v.videoHeight ?? '');
    badge.dataset.videoHeight = String(v.videoHeight || '');
    const menu = $('#quality-menu');
    const autoOpt = menu.options[0];
    if (autoOpt) autoOpt.textContent = auto && cur ? `Auto (${cur.name})` : 'Auto';
    if (auto) menu.value = '-1';
    else if (cur && [...menu.options].some((o) => o.value === String(cur.id))) menu.value = String(cur.id);
  },

  syncState() {
    const v = this.video;
    const paused = v.paused || v.ended;
    this.el.classList.toggle('paused', paused);
    setIcon($('#play-button'), paused ? 'play' : 'pause');
    $('#play-button').setAttribute('aria-label', paused ? 'Play' : 'Pause');
    const waiting = !!this.engine && !paused && v.readyState < 3;
    const loading = this.el.classList.contains('loading') && !this.engine;
    $('#player-spinner').hidden = !(waiting || loading || v.seeking);
    if (this.engine) this.el.classList.remove('loading');
    if (paused) this.el.classList.remove('idle');
    else this.wake();
    if (!paused) this.raf();
  },

  raf() {
    if (this.rafId) return;
    const step = () => {
      this.rafId = null;
      this.drawTime();
      if (!this.video.paused && !this.video.ended) this.rafId = requestAnimationFrame(step);
    };
    this.rafId = requestAnimationFrame(step);
  },

  duration() {
    const d = this.video.duration;
    return Number.isFinite(d) && d > 0 ? d : (this.item?.duration ?? 0);
  },

  drawTime() {
    const d = this.duration();
    const t = this.scrubbing ? this.scrubTime : this.video.currentTime;
    const frac = d ? clamp(t / d, 0, 1) : 0;
    $('#seek-played').style.width = `${frac * 100}%`;
    $('#seek-knob').style.left = `${frac * 100}%`;
    $('#time-current').textContent = fmtTime(t);
    $('#time-duration').textContent = fmtDuration(d);
    const s = this.seek;
    s.setAttribute('aria-valuemax', String(Math.round(d * 10) / 10));
    s.setAttribute('aria-valuenow', String(Math.round(t * 10) / 10));
    s.setAttribute('aria-valuetext', `${fmtTime(t)} of ${fmtTime(d)}`);
  },

  drawBuffered() {
    const v = this.video;
    const d = this.duration();
    let end = 0;
    for (let i = 0; i < v.buffered.length; i++) {
      if (v.buffered.start(i) <= v.currentTime + 0.5) end = Math.max(end, v.buffered.end(i));
    }
    $('#seek-buffered').style.width = d ? `${clamp(end / d, 0, 1) * 100}%` : '0';
  },

  timeAt(clientX) {
    const r = $('.seek-track', this.seek).getBoundingClientRect();
    return clamp((clientX - r.left) / r.width, 0, 1) * this.duration();
  },

  cueAt(t) {
    const cues = this.cues;
    let lo = 0;
    let hi = cues.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (t < cues[mid].start) hi = mid - 1;
      else if (t >= cues[mid].end) lo = mid + 1;
      else return cues[mid];
    }
    return cues.length ? cues[clamp(lo, 0, cues.length - 1)] : null;
  },

  drawPreview(t) {
    const box = $('#seek-preview');
    const img = $('#seek-preview-img');
    const d = this.duration();
    if (!d) { box.hidden = true; return; }
    box.hidden = false;
    $('#seek-preview-time').textContent = fmtTime(t);
    box.dataset.time = String(Math.round(t * 100) / 100);
    const cue = this.cueAt(t);
    const sprite = cue && this.sprites.get(cue.url);
    if (cue && cue.w) {
      img.style.width = `${cue.w}px`;
      img.style.height = `${cue.h}px`;
      img.style.backgroundImage = `url("${cue.url}")`;
      img.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
      box.classList.remove('no-image');
      box.dataset.sprite = cue.url;
      box.dataset.loaded = String(!!sprite?.loaded);
      box.dataset.xywh = `${cue.x},${cue.y},${cue.w},${cue.h}`;
    } else {
      box.classList.add('no-image');
      box.dataset.sprite = '';
      box.dataset.loaded = 'false';
    }
    const r = this.seek.getBoundingClientRect();
    const half = (cue?.w ?? 40) / 2 + 2;
    const x = clamp((t / d) * r.width, half, Math.max(half, r.width - half));
    box.style.left = `${x}px`;
    $('#seek-hover').style.width = `${(t / d) * 100}%`;
  },

  hidePreview() {
    $('#seek-preview').hidden = true;
    this.hoverTime = null;
  },

  initSeek() {
    const s = this.seek;
    s.addEventListener('pointermove', (e) => {
      const t = this.timeAt(e.clientX);
      this.hoverTime = t;
      if (this.scrubbing) {
        this.scrubTime = t;
        this.drawTime();
      }
      this.drawPreview(t);
    });
    s.addEventListener('pointerleave', () => { if (!this.scrubbing) this.hidePreview(); });
    s.addEventListener('pointerdown', (e) => {
      if (e.button !== 0 || !this.engine) return;
      e.preventDefault();
      s.setPointerCapture(e.pointerId);
      this.scrubbing = true;
      s.classList.add('dragging');
      this.scrubTime = this.timeAt(e.clientX);
      this.hoverTime = this.scrubTime;
      this.drawTime();
      this.drawPreview(this.scrubTime);
      s.focus({ preventScroll: true });
    });
    const end = (e) => {
      if (!this.scrubbing) return;
      this.scrubbing = false;
      s.classList.remove('dragging');
      const t = e.type === 'pointercancel' ? this.video.currentTime : this.timeAt(e.clientX);
      this.seekTo(t);
      const r = s.getBoundingClientRect();
      const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
      if (!inside || e.pointerType !== 'mouse') this.hidePreview();
    };
    s.addEventListener('pointerup', end);
    s.addEventListener('pointercancel', end);
    s.addEventListener('keydown', (e) => {
      const d = this.duration();
      if (!d || !this.engine) return;
      const t = this.video.currentTime;
      const step = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5, PageDown: -d / 10, PageUp: d / 10 }[e.key];
      let to = null;
      if (step != null) to = t + step;
      else if (e.key === 'Home') to = 0;
      else if (e.key === 'End') to = d - 0.1;
      if (to == null) return;
      e.preventDefault();
      e.stopPropagation();
      to = clamp(to, 0, d - 0.05);
      this.seekTo(to);
      // Show where the key took us for a moment.
      this.drawPreview(to);
      clearTimeout(this.keyPreviewTimer);
      this.keyPreviewTimer = setTimeout(() => { if (!this.scrubbing && this.hoverTime == null) $('#seek-preview').hidden = true; }, 900);
    });
    s.addEventListener('blur', () => { if (this.hoverTime == null) $('#seek-preview').hidden = true; });
  },

  seekTo(t) {
    const v = this.video;
    const d = this.duration();
    v.currentTime = clamp(t, 0, Math.max(0, d - 0.05));
    this.drawTime();
    this.drawBuffered();
  },

  initKeys() {
    this.el.addEventListener('keydown', (e) => {
      if (e.target.closest('select, input, dialog') || e.altKey || e.ctrlKey || e.metaKey) return;
      const onButton = e.target.closest('button');
      switch (e.key) {
        case ' ':
        case 'k':
          if (onButton && e.key === ' ') return; // the button's own action
          e.preventDefault();
          this.toggle();
          break;
        case 'm': this.video.muted = !this.video.muted; break;
        case 'f': this.fullscreen(); break;
        case 'ArrowLeft': e.preventDefault(); this.seekTo(this.video.currentTime - 5); break;
        case 'ArrowRight': e.preventDefault(); this.seekTo(this.video.currentTime + 5); break;
        default: return;
      }
      this.wake();
    });
  },

  showError(msg) {
    const el = $('#player-error');
    el.textContent = msg;
    el.hidden = false;
    this.el.dataset.error = msg;
  },
  hideError() {
    $('#player-error').hidden = true;
    delete this.el.dataset.error;
  },

  async close({ restoreFocus = true } = {}) {
    this.token++;
    const closed = this.item;
    this.item = null;
    this.video.pause();
    await this.destroyEngine();
    this.setTracks([]);
    this.cues = [];
    this.hidePreview();
    $('#player-section').hidden = true;
    delete this.el.dataset.videoId;
    delete this.el.dataset.engine;
    $('#current-quality').textContent = '';
    history.replaceState(null, '', location.pathname + location.search);
    library.markPlaying();
    if (restoreFocus && closed) $('[data-testid="library-play"]', library.cards.get(closed.video_id) ?? document.createElement('i'))?.focus();
  },
};

function languageName(code) {
  if (!code) return '';
  try {
    return new Intl.DisplayNames([navigator.language || 'en'], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

// ------------------------------------------------------------------ start
async function main() {
  initSettings();
  player.init();
  uploadUi.init();
  jobs.init();
  await library.init();
  const m = /^#v=([0-9a-zA-Z._-]+)/.exec(location.hash);
  if (m) {
    const item = library.items.find((v) => v.video_id === decodeURIComponent(m[1]));
    if (item) player.open(item, { autoplay: false });
  }
  document.documentElement.dataset.ready = 'true';
}

main().catch((err) => showError(err, 'The page failed to start: '));

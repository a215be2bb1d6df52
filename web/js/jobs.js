// The processing view: one entry per video being processed (this browser's uploads, and
// others' from /api/transcoding_status), polled from /status/<id>.
import { api, fetchStatus } from './api.js';
import { fmtDuration } from './format.js';
import { itemFromManifest } from './items.js';
import { library } from './library.js';
import { player } from './player/index.js';
import { failedStage, progressTexts, stageLine, STAGES, STATUS_TEXT } from './stages.js';
import { toast } from './toast.js';
import { $, h, icon, LS, readJson, writeJson } from './util.js';

const POLL_MS = 1000;
const TRANSCODING_POLL_MS = 4000;

export const jobs = {
  map: new Map(),
  timer: null,
  /** Called with each job as it is drawn (the upload panel follows its own upload). */
  onUpdate() {},
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
      if (!quiet && j.status === 'processing_failed') {
        // Uploaded again after it failed (Retry): followed afresh, and a new failure is told.
        Object.assign(j, { status, stage, progress: { fraction: 0, slices_done: 0, slices_total: 0 }, error: null, manifest: null, playable: false, lastActive: null, seen: new Set([stage]) });
        writeJson(LS.announced, readJson(LS.announced, []).filter((id) => id !== videoId));
      } else if (status !== 'processing') {
        j.status = status;
      }
    }
    this.persist();
    this.render();
    if (!quiet) this.kick();
    return j;
  },
  /** Drops a video from the view; `gone`: from the server too (its library card goes as well). */
  remove(videoId, { gone = false } = {}) {
    const j = this.map.get(videoId);
    if (!j) return;
    this.map.delete(videoId);
    j.el?.remove();
    this.persist();
    this.render();
    library.dropJob(videoId, { gone });
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
      this.remove(j.videoId, { gone: true });
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
    const playable = j.status === 'processing' && !!m.playable;
    if (playable && !j.playable) {
      // Its start plays now: the library lists it (marked as still encoding).
      library.load();
      if (j.own) toast(`${j.name || 'Your video'} can be watched now; the rest is still encoding.`, { kind: 'ok', action: { label: 'Watch now', run: () => this.play(j) } });
    }
    j.playable = playable;
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
        // Said once per video, not again after each reload.
        const told = readJson(LS.announced, []);
        if (j.own && !told.includes(j.videoId)) {
          writeJson(LS.announced, [...told, j.videoId].slice(-100));
          toast(`${j.name || 'A video'} could not be processed: ${j.error ?? 'unknown error'}`, { kind: 'error' });
        }
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
        h('span', { 'data-testid': 'processing-elapsed' }),
        h('span', { 'data-testid': 'processing-eta' }),
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
    const pt = progressTexts(p, status);
    $('.bar-fill', el).style.width = `${pt.fraction * 100}%`;
    $('.bar', el).setAttribute('aria-valuenow', String(pt.percent));
    $('.bar', el).setAttribute('aria-valuetext', [`${pt.percent} percent`, pt.slices, pt.left].filter(Boolean).join(', '));
    $('[data-testid="processing-percent"]', el).textContent = status === 'processing_failed' ? '' : `${pt.percent} %`;
    $('[data-testid="processing-elapsed"]', el).textContent = pt.elapsed;
    $('[data-testid="processing-eta"]', el).textContent = pt.left;
    const total = p.slices_total || 0;
    const doneSlices = p.slices_done || 0;
    el.dataset.slicesDone = doneSlices;
    el.dataset.slicesTotal = total;
    $('[data-testid="processing-slices"]', el).textContent = pt.slices;
    const slices = $('.slices', el);
    const shown = Math.min(total, 64);
    if (slices.children.length !== shown) slices.replaceChildren(...Array.from({ length: shown }, () => h('span')));
    [...slices.children].forEach((s, i) => s.classList.toggle('done', i < Math.round((doneSlices / total) * shown)));

    el.dataset.failedStage = failedAt ?? '';
    $('[data-testid="processing-stage"]', el).textContent = stageLine({
      status, stage: j.stage, playable: j.playable, readyUntil: j.manifest?.ready_until_s, failedAt,
    });
    const src = j.manifest?.source;
    $('.job-source', el).textContent = src?.width ? `${src.width}×${src.height} · ${fmtDuration(src.duration_s)}` : '';

    const err = $('.job-error', el);
    err.hidden = status !== 'processing_failed';
    $('span', err).textContent = j.error || 'Processing failed.';
    const play = $('[data-testid="processing-play"]', el);
    play.hidden = status !== 'processing_complete' && !j.playable;
    play.lastChild.textContent = status === 'processing_complete' ? 'Play' : 'Watch now';
    el.dataset.playable = String(status === 'processing_complete' || !!j.playable);
    const busy = status === 'processing' || status === 'uploaded';
    $('[data-testid="processing-dismiss"]', el).hidden = busy;
    $('.job-footer', el).hidden = busy && !j.playable;
    library.showJob(j);
    this.onUpdate(j);
  },
};

// The library: one card per video, whatever its state. A card appears as soon as an upload
// starts ("Uploading n %"), follows the video through processing (its stage, progress bar and
// percent; "Watch now" once its start plays) and ends as the ready card from /api/videos
// (poster, name, duration, renditions, age; play and delete) or as a failed one (the reason,
// Delete, and Retry while the page still holds the file). Videos processing come from the
// processing view (jobs.js calls showJob), failures of this browser's uploads from
// /status/<id> of the ids it remembers.
import { api, fetchStatus } from './api.js';
import { fmtAge, fmtDuration } from './format.js';
import { cardState, isGrowing, itemFromManifest } from './items.js';
import { player } from './player/index.js';
import { showError } from './settings.js';
import { plainReason, progressTexts, stageLine } from './stages.js';
import { toast } from './toast.js';
import { $, h, icon, LS, readJson, sleep, writeJson } from './util.js';

/** How many of this browser's uploads are remembered (to find their failures after a reload). */
const REMEMBERED = 50;

/** How often the list is read again while a listed video is still encoding. */
const GROWING_POLL_MS = 4000;

export const library = {
  items: [],
  /** The cards shown, by key (a video id, or `upload-N` for an upload that has none yet). */
  cards: new Map(),
  /**
   * What the page follows of videos not (yet) ready, by the same key: `{key, videoId, name,
   * t, upload: {sent, size} | null, uploadError, job: {status, stage, progress, playable,
   * error, manifest} | null}`.
   */
  live: new Map(),
  /** The files uploaded in this session, by video id (Retry sends them again). */
  files: new Map(),
  /** Remembered ids already asked about in this session. */
  asked: new Set(),
  uploads: 0,
  loaded: false,
  growTimer: null,
  /** Called with a deleted video's id (main.js drops it from the processing view). */
  onDeleted() {},
  /** Called by a failed card's Retry with the file and the card's key (main.js starts the upload). */
  onRetry() {},
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
      clearTimeout(this.growTimer);
      if (this.items.some(isGrowing)) this.growTimer = setTimeout(() => this.load(), GROWING_POLL_MS);
      if (manual) toast('Library refreshed.', { kind: 'ok', timeout: 2000 });
      this.askRemembered();
    } catch (err) {
      $('#library-error').hidden = false;
      $('#library-error').textContent = `The library could not be loaded: ${err.message}`;
    }
    this.loaded = true;
  },
  render() {
    const list = $('#library-list');
    const listed = new Map(this.items.map((v) => [v.video_id, v]));
    // Videos not listed yet (uploading, processing, failed) first, newest first; then the list.
    const extra = [...this.live.values()].filter((e) => !listed.has(e.key)).sort((a, b) => b.t - a.t);
    const shown = [...extra.map((e) => [e.key, null]), ...this.items.map((v) => [v.video_id, v])];
    const keys = new Set(shown.map(([k]) => k));
    for (const [key, el] of this.cards) {
      if (!keys.has(key)) { el.remove(); this.cards.delete(key); }
    }
    let prev = null;
    for (const [key, item] of shown) {
      const live = this.live.get(key);
      const state = cardState(live, item);
      let el = this.cards.get(key);
      // A new state, a list entry that finished encoding, or a start that plays now: a new
      // card (a ready one gains its poster, a playable one its play button).
      const stale = el && (el.dataset.state !== state || (item && el.dataset.status !== item.status)
        || (state === 'processing' && el.dataset.playable !== String(playableNow(item, live))));
      if (stale) {
        const fresh = this.build(key, state, item, live);
        el.replaceWith(fresh);
        el = fresh;
      } else if (el) {
        this.update(el, state, item, live);
      }
      if (!el) el = this.build(key, state, item, live);
      this.cards.set(key, el);
      const want = prev ? prev.nextElementSibling : list.firstElementChild;
      if (want !== el) {
        if (prev) prev.after(el);
        else list.prepend(el);
      }
      prev = el;
    }
    // With videos listed, the upload area shrinks so that the library shows without scrolling.
    document.body.classList.toggle('has-library', this.cards.size > 0);
    $('#library-count').textContent = this.cards.size ? String(this.cards.size) : '';
    $('#library-empty').hidden = this.cards.size > 0;
    this.markPlaying();
  },
  /** A card for `key` in `state`: the ready card from its list item, or one of the others. */
  build(key, state, item, live) {
    const el = state === 'ready' ? this.buildReady(item) : this.buildLive(key, state, item, live);
    el.dataset.state = state;
    el.dataset.name = item?.file_name || live?.name || '';
    this.update(el, state, item, live);
    return el;
  },
  /** Draws what changes in a card without rebuilding it (progress, the badge, buttons). */
  update(el, state, item, live) {
    if (state === 'uploading') {
      const { sent = 0, size = 0 } = live.upload;
      // 100 % only once every byte is sent.
      const pct = size && sent >= size ? 100 : Math.min(99, Math.floor((sent / (size || 1)) * 100));
      $('[data-testid="library-stage"]', el).textContent = `Uploading ${pct} %`;
      drawBar(el, sent / (size || 1), pct, `${pct} percent uploaded`);
    } else if (state === 'processing') {
      const job = live?.job ?? { status: item?.status, stage: 'encoding', progress: {}, playable: isGrowing(item) };
      const ready = Number(job.manifest?.ready_until_s ?? item?.ready_until_s) || 0;
      const playable = playableNow(item, live);
      const pt = progressTexts(job.progress ?? {}, job.status);
      $('[data-testid="library-stage"]', el).textContent = stageLine({ status: job.status, stage: job.stage });
      drawBar(el, pt.fraction, pt.percent, [`${pt.percent} percent`, pt.slices, pt.left].filter(Boolean).join(', '));
      $('[data-testid="library-percent"]', el).textContent = `${pt.percent} %`;
      $('[data-testid="library-elapsed"]', el).textContent = pt.elapsed;
      $('[data-testid="library-eta"]', el).textContent = pt.left;
      $('[data-testid="library-watch"]', el).hidden = !playable;
      el.dataset.playable = String(playable);
      if (live?.videoId) el.dataset.videoId = live.videoId;
      if (item) el.dataset.status = item.status ?? '';
      else el.dataset.status = job.status ?? '';
      const badge = $('[data-testid="library-encoding"]', el);
      if (badge) badge.textContent = `Encoding · ${fmtDuration(ready)} ready`;
      if (badge) badge.title = 'The start plays now; the rest is still encoding.';
      el.dataset.readyUntil = String(ready);
    } else if (state === 'failed') {
      $('[data-testid="library-retry"]', el).hidden = !this.fileOf(live);
    } else if (state === 'ready') {
      // A new playback token (signed playback) in the list: the poster's URL follows.
      const img = $('img', el);
      if (img && item?.thumbnail_url && img.getAttribute('src') !== item.thumbnail_url) img.src = item.thumbnail_url;
    }
  },
  buildReady(item) {
    const name = item.base_name || item.file_name || item.video_id;
    const res = item.width && item.height ? `${item.width}×${item.height}` : '';
    const el = h('li', { class: 'video-card', 'data-testid': 'library-item', dataset: { videoId: item.video_id, status: item.status ?? '' } },
      // The badges sit beside the play button, not in it: its name is "Play <name>" alone.
      h('div', { class: 'thumb-wrap' },
        h('button', {
          type: 'button', class: 'thumb', 'data-testid': 'library-play', 'aria-label': `Play ${name}`,
          // The list's latest entry: its URLs carry the newest playback token.
          onclick: () => player.open(this.items.find((v) => v.video_id === item.video_id) ?? item),
        },
        item.thumbnail_url
          ? h('img', { src: item.thumbnail_url, alt: '', loading: 'lazy', decoding: 'async' })
          : h('span', { class: 'no-poster' }, icon('film')),
        h('span', { class: 'thumb-play' }, icon('play'))),
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
    posterFallback(el);
    return el;
  },
  /** The card of a video uploading, processing or failed. */
  buildLive(key, state, item, live) {
    const name = displayName(item, live);
    const videoId = live?.videoId ?? item?.video_id;
    const poster = state === 'processing' && item?.thumbnail_url;
    const playable = state === 'processing' && playableNow(item, live);
    const picture = poster
      ? h('img', { src: item.thumbnail_url, alt: '', loading: 'lazy', decoding: 'async' })
      : h('span', { class: 'no-poster' }, icon(state === 'failed' ? 'alert' : state === 'uploading' ? 'upload' : 'film'));
    const el = h('li', { class: `video-card live ${state}`, 'data-testid': 'library-item', dataset: { key, ...(videoId ? { videoId } : {}) } },
      h('div', { class: 'thumb-wrap' },
        playable
          ? h('button', { type: 'button', class: 'thumb', 'data-testid': 'library-play', 'aria-label': `Play ${name}`, onclick: () => this.watch(key) },
            picture, h('span', { class: 'thumb-play' }, icon('play')))
          : h('div', { class: 'thumb' }, picture),
        playable ? h('span', { class: 'encoding-badge', 'data-testid': 'library-encoding' }) : null),
      h('div', { class: 'card-body' },
        h('div', { class: 'card-text' },
          h('h3', { class: 'card-title-text', title: item?.file_name || live?.name || name, 'data-testid': 'library-title' }, name),
          state === 'failed'
            ? h('p', { class: 'card-error', 'data-testid': 'library-error' }, icon('alert'), h('span', {}, this.reason(live)))
            : h('p', { class: 'card-meta', 'data-testid': 'library-stage' }),
          state === 'failed' ? null : h('div', {
            class: 'bar card-bar', role: 'progressbar', 'aria-label': state === 'uploading' ? `Uploading ${name}` : `Processing ${name}`,
            'aria-valuemin': 0, 'aria-valuemax': 100, 'data-testid': 'library-progress',
          }, h('div', { class: 'bar-fill' })),
          state === 'processing' ? h('p', { class: 'card-numbers' },
            h('span', { 'data-testid': 'library-percent' }),
            h('span', { 'data-testid': 'library-elapsed' }),
            h('span', { 'data-testid': 'library-eta' })) : null,
          state === 'processing' ? h('div', { class: 'card-actions' },
            h('button', { type: 'button', class: 'button button-primary button-small', 'data-testid': 'library-watch', hidden: true, onclick: () => this.watch(key) },
              icon('play'), 'Watch now')) : null,
          state === 'failed' ? h('div', { class: 'card-actions' },
            h('button', { type: 'button', class: 'button button-ghost button-small', 'data-testid': 'library-retry', 'aria-label': `Retry ${name}`, onclick: () => this.retry(key) },
              icon('refresh'), 'Retry'),
            h('button', { type: 'button', class: 'button button-ghost button-small button-delete', 'data-testid': 'library-delete', 'aria-label': `Delete ${name}`, onclick: () => this.deleteFailed(key) },
              icon('trash'), 'Delete')) : null),
        state === 'processing' && videoId ? h('button', {
          type: 'button', class: 'icon-button danger', 'data-testid': 'delete-button', 'aria-label': `Delete ${name}`, title: 'Delete',
          onclick: () => this.confirmDelete({ video_id: videoId, base_name: name }),
        }, icon('trash')) : null));
    posterFallback(el);
    return el;
  },
  /** The failure of a card in plain words. */
  reason(live) {
    if (live?.uploadError) return `The upload stopped: ${live.uploadError}`;
    return plainReason(live?.job?.error);
  },
  fileOf(live) {
    return live ? (this.files.get(live.videoId) ?? live.file ?? null) : null;
  },
  updateAges() {
    for (const t of document.querySelectorAll('[data-testid="library-age"]')) t.textContent = fmtAge(t.getAttribute('datetime'));
  },
  markPlaying() {
    for (const [id, el] of this.cards) el.classList.toggle('playing', id === player.item?.video_id);
  },
  /** Focuses the play button of a video's card, if it has one. */
  focusCard(videoId) {
    $('[data-testid="library-play"]', this.cards.get(videoId) ?? document.createElement('i'))?.focus();
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
    await this.removeCard(item.video_id, name);
  },
  /** A deleted video's card leaves; the focus goes to its neighbour (or the heading). */
  async removeCard(videoId, name) {
    this.onDeleted(videoId);
    this.forget(videoId);
    const card = this.cards.get(videoId);
    const next = card?.nextElementSibling ?? card?.previousElementSibling;
    this.items = this.items.filter((v) => v.video_id !== videoId);
    this.live.delete(videoId);
    if (card) {
      card.classList.add('removing');
      await sleep(180);
    }
    this.render();
    // Keep keyboard focus in the library: on the neighbouring video, or on the heading.
    const to = next?.isConnected ? next.querySelector('button') : null;
    (to ?? $('#library-heading')).focus();
    toast(`Deleted ${name}.`, { kind: 'ok' });
  },
  /** A failed card's Delete: the video leaves the server (no question: nothing of it plays). */
  async deleteFailed(key) {
    const live = this.live.get(key);
    if (!live) return;
    const name = displayName(null, live);
    if (live.videoId) {
      try {
        await api('DELETE', `/api/video/${encodeURIComponent(live.videoId)}`);
      } catch (err) {
        // 404: already gone.
        if (err.status !== 404) { showError(err, err.status === 401 ? '' : 'Delete failed: '); return; }
      }
    }
    this.files.delete(live.videoId);
    await this.removeCard(key, name);
  },
  /** A failed card's Retry: the same file once more (its card shows the new upload). */
  retry(key) {
    const file = this.fileOf(this.live.get(key));
    if (file) this.onRetry(file, key);
  },
  /** Opens a video still processing whose start plays. */
  watch(key) {
    const live = this.live.get(key);
    const item = this.items.find((v) => v.video_id === key) ?? itemFromManifest(live?.job?.manifest, live?.name);
    if (item) player.open(item);
  },

  // ------------------------------------------------ uploads (called by upload-ui.js)
  /** A card for an upload starting now; `key`: the card it replaces (Retry). Returns the card's key. */
  uploadStarted(file, key = null) {
    const live = (key && this.live.get(key)) || { key: `upload-${++this.uploads}`, videoId: null, job: null };
    Object.assign(live, { name: file.name, file, t: Date.now(), upload: { sent: 0, size: file.size }, uploadError: null });
    this.live.set(live.key, live);
    this.render();
    return live.key;
  },
  uploadProgress(key, sent, size) {
    const live = this.live.get(key);
    if (!live?.upload) return;
    live.upload = { sent, size };
    const el = this.cards.get(key);
    if (el) this.update(el, 'uploading', null, live);
  },
  /** The upload is complete: its card is now the video's (processing). */
  uploadDone(key, videoId, name) {
    const live = this.live.get(key) ?? { t: Date.now(), job: null };
    this.live.delete(key);
    const had = this.live.get(videoId);
    Object.assign(live, { key: videoId, videoId, name: name || live.name, upload: null, uploadError: null });
    // The same bytes failed before (Retry): followed afresh.
    if (had?.job?.status === 'processing_failed' || live.job?.status === 'processing_failed') live.job = null;
    else live.job = had?.job ?? live.job;
    live.job ??= { status: 'uploaded', stage: 'hashing', progress: {} };
    this.live.set(videoId, live);
    if (live.file) this.files.set(videoId, live.file);
    this.remember(videoId, live.name);
    this.render();
  },
  uploadFailed(key, message) {
    const live = this.live.get(key);
    if (!live) return;
    Object.assign(live, { upload: null, uploadError: message });
    this.render();
  },
  uploadCancelled(key) {
    const live = this.live.get(key);
    if (!live) return;
    live.upload = null;
    // A retried failure shows its failure again; a new upload leaves no card.
    if (!live.videoId && !live.uploadError) this.live.delete(key);
    this.render();
  },

  // ------------------------------------------------ processing (called by jobs.js)
  /** The processing view drew a video: its card follows. */
  showJob(j) {
    let live = this.live.get(j.videoId);
    if (!live) {
      live = { key: j.videoId, videoId: j.videoId, name: j.name, t: j.manifest?.created_ms ?? Date.now(), upload: null, job: null };
      this.live.set(j.videoId, live);
    }
    if (live.upload) return; // uploaded again: the new upload's card shows
    const before = cardState(live, this.items.find((v) => v.video_id === j.videoId));
    live.name = j.name || live.name;
    live.job = { status: j.status, stage: j.stage, progress: j.progress, playable: !!j.playable, error: j.error ?? null, manifest: j.manifest ?? null };
    const el = this.cards.get(j.videoId);
    const item = this.items.find((v) => v.video_id === j.videoId);
    const same = el && cardState(live, item) === before && el.dataset.state === before
      && (before !== 'processing' || el.dataset.playable === String(playableNow(item, live)));
    if (same) this.update(el, before, item, live);
    else this.render();
  },
  /** The processing view let go of a video; `gone`: it is no longer on the server. */
  dropJob(videoId, { gone = false } = {}) {
    const live = this.live.get(videoId);
    if (gone) this.forget(videoId);
    // A failure stays in the library (Dismissed in the processing view) until deleted here.
    if (!live || live.upload || (!gone && live.job?.status === 'processing_failed')) return;
    this.live.delete(videoId);
    this.render();
  },

  // ------------------------------------------------ this browser's uploads
  remember(videoId, name) {
    const list = readJson(LS.mine, []).filter((r) => r?.videoId && r.videoId !== videoId);
    writeJson(LS.mine, [...list, { videoId, name }].slice(-REMEMBERED));
  },
  forget(videoId) {
    writeJson(LS.mine, readJson(LS.mine, []).filter((r) => r?.videoId !== videoId));
  },
  /**
   * Remembered uploads neither listed nor followed: a failed one is in no list, so its
   * /status tells (once per page load). Gone ones are forgotten.
   */
  async askRemembered() {
    const listed = new Set(this.items.map((v) => v.video_id));
    const ask = readJson(LS.mine, []).filter((r) => r?.videoId && !listed.has(r.videoId) && !this.live.has(r.videoId) && !this.asked.has(r.videoId));
    for (const r of ask) this.asked.add(r.videoId);
    const answers = await Promise.all(ask.map((r) => fetchStatus(r.videoId).then((a) => [r, a], () => [r, null])));
    let changed = false;
    for (const [r, a] of answers) {
      if (a?.code === 404) this.forget(r.videoId);
      if (a?.code !== 200 || a.body?.status !== 'processing_failed' || this.live.has(r.videoId)) continue;
      const m = a.body;
      this.live.set(r.videoId, {
        key: r.videoId, videoId: r.videoId, name: m.source?.name || r.name, t: m.created_ms ?? 0, upload: null,
        job: { status: m.status, stage: m.stage, progress: m.progress, playable: false, error: m.error ?? null, manifest: m },
      });
      changed = true;
    }
    if (changed) this.render();
  },
};

/** Whether the start of a video still processing plays already. */
function playableNow(item, live) {
  return !!live?.job?.playable || isGrowing(item);
}

/** The name a card shows: the list's name without extension, or the file's name. */
function displayName(item, live) {
  return item?.base_name || item?.file_name || live?.name || live?.videoId || 'Video';
}

/** A card's progress bar at `fraction`, with its value for assistive technology. */
function drawBar(el, fraction, percent, text) {
  const bar = $('[data-testid="library-progress"]', el);
  $('.bar-fill', bar).style.width = `${Math.min(1, Math.max(0, fraction)) * 100}%`;
  bar.setAttribute('aria-valuenow', String(percent));
  bar.setAttribute('aria-valuetext', text);
}

/** A poster that does not load gives way to the film icon. */
function posterFallback(el) {
  const img = $('img', el);
  if (img) img.addEventListener('error', () => img.replaceWith(h('span', { class: 'no-poster' }, icon('film'))), { once: true });
}

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

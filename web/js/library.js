// The library: the videos from /api/videos as cards (poster, name, duration, renditions,
// age), with play and delete. A video still encoding whose start already plays is listed
// too, marked with how much of it is ready, and is asked for again until it is complete.
import { api } from './api.js';
import { fmtAge, fmtDuration } from './format.js';
import { isGrowing } from './items.js';
import { player } from './player/index.js';
import { showError } from './settings.js';
import { toast } from './toast.js';
import { $, h, icon, sleep } from './util.js';

/** How often the list is read again while a listed video is still encoding. */
const GROWING_POLL_MS = 4000;

export const library = {
  items: [],
  cards: new Map(),
  loaded: false,
  growTimer: null,
  /** Called with a deleted video's id (main.js drops it from the processing view). */
  onDeleted() {},
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
      if (el && el.dataset.status !== item.status) {
        // Finished encoding: the card gains its poster and loses its badge.
        const fresh = this.build(item);
        el.replaceWith(fresh);
        el = fresh;
      } else if (el && isGrowing(item)) {
        this.drawReady(el, item);
      }
      if (!el) el = this.build(item);
      this.cards.set(item.video_id, el);
      const want = prev ? prev.nextElementSibling : list.firstElementChild;
      if (want !== el) {
        if (prev) prev.after(el);
        else list.prepend(el);
      }
      prev = el;
    }
    // With videos listed, the upload area shrinks so that the library shows without scrolling.
    document.body.classList.toggle('has-library', this.items.length > 0);
    $('#library-count').textContent = this.items.length ? String(this.items.length) : '';
    $('#library-empty').hidden = this.items.length > 0;
    this.markPlaying();
  },
  build(item) {
    const name = item.base_name || item.file_name || item.video_id;
    const res = item.width && item.height ? `${item.width}×${item.height}` : '';
    const growing = isGrowing(item);
    const el = h('li', { class: `video-card${growing ? ' growing' : ''}`, 'data-testid': 'library-item', dataset: { videoId: item.video_id, status: item.status ?? '' } },
      // The badges sit beside the play button, not in it: its name is "Play <name>" alone.
      h('div', { class: 'thumb-wrap' },
        h('button', {
          type: 'button', class: 'thumb', 'data-testid': 'library-play', 'aria-label': `Play ${name}`,
          onclick: () => player.open(item),
        },
        item.thumbnail_url
          ? h('img', { src: item.thumbnail_url, alt: '', loading: 'lazy', decoding: 'async' })
          : h('span', { class: 'no-poster' }, icon('film')),
        h('span', { class: 'thumb-play' }, icon('play'))),
        growing ? h('span', { class: 'encoding-badge', 'data-testid': 'library-encoding' }) : null,
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
    if (growing) this.drawReady(el, item);
    const img = $('img', el);
    if (img) img.addEventListener('error', () => img.replaceWith(h('span', { class: 'no-poster' }, icon('film'))), { once: true });
    return el;
  },
  /** The badge of a card still encoding: how much of it plays so far. */
  drawReady(el, item) {
    const badge = $('[data-testid="library-encoding"]', el);
    if (!badge) return;
    const ready = Number(item.ready_until_s) || 0;
    badge.textContent = `Encoding · ${fmtDuration(ready)} ready`;
    badge.title = 'The start plays now; the rest is still encoding.';
    el.dataset.readyUntil = String(ready);
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
    this.onDeleted(item.video_id);
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

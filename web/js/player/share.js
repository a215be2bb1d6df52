// The player's Share panel, mixed into `player`: the HLS and DASH URLs, the embed code and a
// link to this page with the video open, each with a Copy button. Also its Download panel: a
// link to each file the video downloads as (an MP4, an M4A), the button hidden when none.
import { downloadLinks, shareLinks } from '../share.js';
import { h, icon } from '../util.js';

/** Puts `text` on the clipboard (the Clipboard API, else a selected textarea and execCommand). */
async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.cssText = 'position:fixed;opacity:0;left:0;top:0';
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { /* not allowed */ }
    ta.remove();
    return ok;
  }
}

const WHAT = { hls: 'HLS URL', dash: 'DASH URL', embed: 'Embed code', link: 'Link' };

export const share = {
  initShare() {
    this.sharePanel = document.querySelector('#share-panel');
    this.shareButton = document.querySelector('#share-button');
    this.shareButton.addEventListener('click', () => this.toggleShare());
    for (const b of this.sharePanel.querySelectorAll('[data-copy]')) {
      b.addEventListener('click', () => this.copyShare(b.dataset.copy, b));
    }
    this.downloadPanel = document.querySelector('#download-panel');
    this.downloadButton = document.querySelector('#download-button');
    this.downloadButton.addEventListener('click', () => this.toggleDownloads());
  },

  /** Opens or closes (`open` omitted: toggles) the Download panel. */
  toggleDownloads(open = this.downloadPanel.hidden) {
    this.downloadPanel.hidden = !open;
    this.downloadButton.setAttribute('aria-expanded', String(open));
  },

  /** The Download button and panel for the video open now (both hidden when it has no downloads). */
  drawDownloads() {
    const links = this.item ? downloadLinks(this.item) : [];
    document.querySelector('#download-list').replaceChildren(...links.map((l) => h('li', {},
      h('a', {
        class: 'button button-ghost', href: l.href, download: l.name, type: l.kind === 'm4a' ? 'audio/mp4' : 'video/mp4',
        dataset: { testid: `download-${l.kind}`, kind: l.kind, bytes: l.bytes },
      }, icon('download'), l.label))));
    this.downloadButton.hidden = !links.length;
    if (!links.length) this.toggleDownloads(false);
  },

  /** Opens or closes (`open` omitted: toggles) the Share panel. */
  toggleShare(open = this.sharePanel.hidden) {
    this.sharePanel.hidden = !open;
    this.shareButton.setAttribute('aria-expanded', String(open));
    if (open) this.drawShare();
  },

  drawShare() {
    if (!this.item) return;
    this.links = shareLinks(location.origin, this.item);
    for (const k of Object.keys(WHAT)) {
      const v = this.links[k];
      document.querySelector(`#share-${k}`).textContent = v ?? 'not available';
      const row = document.querySelector(`[data-copy="${k}"]`);
      row.disabled = !v;
    }
    document.querySelector('#share-status').textContent = '';
  },

  async copyShare(kind, button) {
    const text = this.links?.[kind];
    if (!text) return;
    const ok = await copyText(text);
    const status = document.querySelector('#share-status');
    status.textContent = ok ? `${WHAT[kind]} copied.` : `Could not copy: select the text above and copy it.`;
    if (ok) {
      button.textContent = 'Copied';
      clearTimeout(button.resetTimer);
      button.resetTimer = setTimeout(() => { button.textContent = 'Copy'; }, 2000);
    }
  },
};

// Subtitles of the player: the subtitles menu, the video's WebVTT files as <track>s where the
// engine does not bring its own tracks, and the chosen track's cues drawn in #subtitle-overlay.
// Methods of `player` (index.js mixes them in): `this` is the player.
import { streamUrl } from '../api.js';
import { languageName } from '../format.js';
import { $, h } from '../util.js';

export const subtitles = {
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
        const src = s.url ?? streamUrl(s.vtt ?? s.key, this.streamBase());
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
};

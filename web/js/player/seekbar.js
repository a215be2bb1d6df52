// The seek bar of the player: time and buffered range, scrubbing with the pointer, keys
// (arrows, Page Up/Down, Home/End), and previews from the sprite thumbnails track. While the
// video still encodes, the bar spans the whole video, the part not yet encoded is hatched,
// and seeks stop short of it.
// Methods and state of `player` (index.js mixes them in): `this` is the player.
import { fmtDuration, fmtTime } from '../format.js';
import { isGrowing, seekLimit } from '../items.js';
import { $, clamp } from '../util.js';
import { cueAt, parseThumbnailsVtt } from '../vtt.js';

export const seekBar = {
  cues: [],
  sprites: new Map(), // url -> {img, loaded}
  scrubbing: false,
  scrubTime: 0,
  hoverTime: null,
  keyPreviewTimer: null,

  async loadThumbnails(item) {
    this.el.dataset.thumbnails = 'loading';
    if (!item.sprite) { this.el.dataset.thumbnails = 'none'; return; }
    try {
      // Revalidated: the track grows while a video encodes (its sheets never change).
      const res = await fetch(item.sprite, { cache: 'no-cache' });
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

  duration() {
    const d = this.video.duration;
    // A growing playlist's duration is what is ready so far: the bar shows the whole video.
    if (isGrowing(this.item) && this.item.duration > 0) return Math.max(this.item.duration, Number.isFinite(d) ? d : 0);
    return Number.isFinite(d) && d > 0 ? d : (this.item?.duration ?? 0);
  },

  /** The hatched part of the bar: what is still encoding. */
  drawPending() {
    const el = $('#seek-pending');
    const growing = isGrowing(this.item);
    const d = this.duration();
    el.hidden = !growing || !d;
    if (el.hidden) { delete this.seek.dataset.readyUntil; return; }
    const ready = clamp(Number(this.item.ready_until_s) || 0, 0, d);
    el.style.left = `${(ready / d) * 100}%`;
    this.seek.dataset.readyUntil = String(Math.round(ready * 100) / 100);
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
    this.drawPending();
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

  drawPreview(t) {
    const box = $('#seek-preview');
    const img = $('#seek-preview-img');
    const d = this.duration();
    if (!d) { box.hidden = true; return; }
    box.hidden = false;
    $('#seek-preview-time').textContent = fmtTime(t);
    box.dataset.time = String(Math.round(t * 100) / 100);
    const cue = cueAt(this.cues, t);
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
    v.currentTime = clamp(t, 0, Math.max(0, seekLimit(this.item, d - 0.05)));
    this.drawTime();
    this.drawBuffered();
  },

};

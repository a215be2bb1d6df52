// The player: opens a library item with an engine (engines.js) for HLS or DASH, with its
// controls (play, volume, speed, quality, full screen, keys). The seek bar (seekbar.js) and
// subtitles (subtitles.js) are mixed into the same object.
import { EXPIRED_MESSAGE, fetchStatus, SIGNED_ONLY_MESSAGE, streamBase, urlToken } from '../api.js';
import { fmtAge, fmtDuration, namePieces, rungName } from '../format.js';
import { downloadItems, isGrowing, itemFromManifest, SUBTITLES_COMING, subtitleItems, URL_FIELDS } from '../items.js';
import { $, clamp, h, LS, setIcon, setName } from '../util.js';
import { createEngine, httpStatus, shakaCode } from './engines.js';
import { layout } from './layout.js';
import { seekBar } from './seekbar.js';
import { share } from './share.js';
import { subtitles } from './subtitles.js';

/** How often the manifest of a video still encoding is read while it plays. */
const GROWING_POLL_MS = 2000;

/** A stream refused (403) is retried with a fresh playback grant at most this often. */
const GRANT_RETRY_MS = 20000;

export const player = {
  ...seekBar,
  ...layout,
  ...share,
  ...subtitles,
  item: null,
  engine: null,
  token: 0,
  protocol: localStorage.getItem(LS.protocol) === 'dash' ? 'dash' : 'hls',
  /** The rung height picked in the quality menu (null = automatic); kept across HLS/DASH. */
  wantHeight: null,
  idleTimer: null,
  // Set by main.js (the library imports the player, not the other way round).
  /** Called when the video shown changes (opened or closed). */
  onItemChange() {},
  /** Called by close() to put the focus back on the closed video's card. */
  focusCard() {},

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
    v.addEventListener('error', () => this.nativeError());
    v.textTracks.addEventListener('addtrack', () => this.drawSubtitles());
    v.textTracks.addEventListener('removetrack', () => this.drawSubtitles());

    this.initSeek();
    this.initKeys();
    this.initMenu();
    this.initShare();
    this.el.addEventListener('pointermove', () => this.wake());
    this.el.addEventListener('pointerleave', () => { if (!v.paused && this.menuPanel.hidden) this.el.classList.add('idle'); });
    document.addEventListener('fullscreenchange', () => {
      $('#fullscreen-button').setAttribute('aria-label', document.fullscreenElement ? 'Exit full screen' : 'Full screen');
    });
  },

  wake() {
    this.el.classList.remove('idle');
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => { if (!this.video.paused && !this.scrubbing && this.menuPanel.hidden) this.el.classList.add('idle'); }, 2500);
  },

  async open(item, { autoplay = true, time = 0 } = {}) {
    const opening = (this.opening = (this.opening ?? 0) + 1);
    // Signed playback: the item's URLs (from a list read a while ago) get a fresh grant first,
    // so a player opened now never starts on a token about to expire.
    const fresh = urlToken(item.hls_url ?? item.dash_url) ? await this.refreshGrant(item) : null;
    if (opening !== this.opening) return; // another video opened meanwhile
    this.item = item;
    const section = $('#player-section');
    section.hidden = false;
    const title = item.base_name || item.file_name || item.video_id;
    setName($('#player-title'), namePieces(title), title);
    this.drawMeta();
    if (!this.sharePanel.hidden) this.drawShare();
    this.drawDownloads();
    this.el.dataset.videoId = item.video_id;
    // Its poster until it plays (a deep link opens it paused), not a black box.
    this.setPoster(item.thumbnail_url);
    this.setAspect(item.width, item.height);
    this.el.dataset.growing = String(isGrowing(item));
    const dash = $('#protocol-dash');
    dash.disabled = !item.dash_url;
    if (!item.dash_url && this.protocol === 'dash') this.protocol = 'hls';
    if (!item.hls_url && item.dash_url) this.protocol = 'dash';
    $('#protocol-hls').disabled = !item.hls_url;
    for (const r of document.querySelectorAll('input[name="protocol"]')) r.checked = r.value === this.protocol;
    history.replaceState(null, '', `#v=${encodeURIComponent(item.video_id)}`);
    this.onItemChange();
    section.scrollIntoView({ behavior: 'smooth', block: 'start' });
    this.el.focus({ preventScroll: true });

    this.cues = [];
    this.setTracks(item.subtitles ?? []);
    this.loadThumbnails(item);
    this.loadDetails(item, fresh);
    await this.load(time, autoplay);
  },

  /**
   * Reads the video's /status again and takes the stream URLs of its playback grant (signed
   * playback: a fresh token) into `item`. Returns the /status answer (null when unreachable).
   */
  async refreshGrant(item) {
    let r;
    try {
      r = await fetchStatus(item.video_id);
    } catch {
      return null;
    }
    const fresh = r.code === 200 ? itemFromManifest(r.body, item.file_name) : null;
    if (!fresh) return r;
    for (const k of URL_FIELDS) {
      const v = fresh[k];
      if (v == null || (Array.isArray(v) && !v.length)) continue;
      item[k] = v;
    }
    return r;
  },

  /** The prefix of the open video's asset keys (its playback grant's, or `/stream/`). */
  streamBase() {
    return streamBase(this.manifest?.video_id === this.item?.video_id ? this.manifest : null);
  },

  /** The picture shown before playback (none: the attribute goes). */
  setPoster(url) {
    if (url) this.video.poster = url;
    else this.video.removeAttribute('poster');
  },

  drawMeta() {
    const item = this.item;
    if (!item) return;
    const bits = [];
    if (isGrowing(item)) bits.push(`encoding: ${fmtDuration(Number(item.ready_until_s) || 0)} of ${fmtDuration(item.duration ?? 0)} ready`);
    else if (item.duration) bits.push(fmtDuration(item.duration));
    if (item.width && item.height) bits.push(`${item.width}×${item.height}`);
    if (item.presets?.length) bits.push(item.presets.join(' · '));
    if (item.uploaded_at) bits.push(`uploaded ${fmtAge(item.uploaded_at)}`);
    const ts = item.transcription_status;
    if (SUBTITLES_COMING.has(ts)) bits.push('subtitles on the way…');
    else if (ts === 'failed') bits.push(`no subtitles: ${item.transcription_error ?? 'transcription failed'}`);
    else if (ts === 'completed' && !(item.subtitles ?? []).length) bits.push('no speech heard for subtitles');
    $('#player-meta').textContent = bits.join('  ·  ');
  },

  /**
   * Manifest details the list lacks: slice seams; subtitles that arrived since the list was
   * read; for a video still encoding, how much is ready and, at the end, the rest of it.
   */
  async loadDetails(item, answer = null) {
    let again = isGrowing(item) ? GROWING_POLL_MS : 0;
    try {
      const r = answer ?? await fetchStatus(item.video_id);
      if (r.code !== 200 || this.item !== item) return;
      this.manifest = r.body;
      if (!item.width) this.setAspect(r.body.source?.width, r.body.source?.height);
      this.el.dataset.sliceStarts = (r.body.slice_starts_s ?? []).join(',');
      if (isGrowing(item)) this.takeProgress(item, r.body);
      this.takeSubtitles(item, r.body);
      if (!item.downloads?.length && r.body.downloads?.length) {
        item.downloads = downloadItems(r.body.downloads, streamBase(r.body));
        this.drawDownloads();
      }
      // Subtitles come after the video is playable: ask again until they settle.
      again = isGrowing(item) ? GROWING_POLL_MS : SUBTITLES_COMING.has(item.transcription_status) ? 3000 : 0;
    } catch { /* optional; a growing video asks again */ }
    if (!again) return;
    clearTimeout(this.detailsTimer);
    this.detailsTimer = setTimeout(() => { if (this.item === item) this.loadDetails(item); }, again);
  },

  /**
   * A video still encoding: how much of it is ready now, and once it is complete, what
   * only a finished video has (DASH, thumbnails). The engine plays on undisturbed: the
   * playlists it follows end (VOD) at the same URLs.
   */
  takeProgress(item, m) {
    item.ready_until_s = m.ready_until_s ?? item.ready_until_s;
    const sheets = m.assets?.sprites?.length ?? 0;
    if (m.status === 'processing' && m.assets?.thumbnails_vtt && sheets !== item.sheetsShown) {
      // More sprite sheets filled: previews reach further.
      item.sheetsShown = sheets;
      item.sprite = itemFromManifest(m, item.file_name)?.sprite ?? item.sprite;
      this.loadThumbnails(item);
    }
    if (m.status === 'processing_complete') {
      const done = itemFromManifest(m, item.file_name) ?? {};
      for (const k of ['status', 'ready_until_s', 'dash_url', 'thumbnail_url', 'sprite', 'duration', 'presets', 'downloads']) item[k] = done[k] ?? item[k];
      this.drawDownloads();
      this.setPoster(item.thumbnail_url);
      $('#protocol-dash').disabled = !item.dash_url;
      this.loadThumbnails(item);
      this.onItemChange();
    } else if (m.status === 'processing_failed') {
      item.status = m.status;
      this.showError(`The rest of this video could not be encoded: ${m.error ?? 'processing failed'}`);
    }
    this.el.dataset.growing = String(isGrowing(item));
    this.drawPending();
    this.drawMeta();
  },

  takeSubtitles(item, m) {
    item.transcription_status = m.transcription_status ?? item.transcription_status;
    item.transcription_error = m.transcription?.error ?? null;
    const extra = subtitleItems(m.subtitles, streamBase(m)).filter((s) => !(item.subtitles ?? []).some((t) => t.lang === s.lang));
    if (extra.length) {
      item.subtitles = [...(item.subtitles ?? []), ...extra];
      this.setTracks(item.subtitles);
    }
    this.el.dataset.transcription = item.transcription_status ?? '';
    this.drawMeta();
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
    this.loadArgs = { startTime, autoplay };
    const events = {
      onLevel: () => { if (token === this.token) this.drawLevel(); },
      onError: (err) => { if (token === this.token) this.playbackFailed(err); },
      onSubtitles: () => { if (token === this.token) this.syncSidecars(); },
    };
    let engine;
    try {
      engine = await createEngine(this.protocol, v, url, startTime, events);
    } catch (err) {
      if (token !== this.token || shakaCode(err) === 7000) return; // superseded / interrupted
      this.el.classList.remove('loading');
      this.playbackFailed(err);
      return;
    }
    if (token !== this.token) { await engine.destroy().catch(() => {}); return; }
    this.engine = engine;
    this.syncSidecars();
    this.el.dataset.engine = engine.name;
    this.el.dataset.protocol = this.protocol;
    $('#engine-label').textContent = `${engine.name}${engine.version ? ` ${engine.version}` : ''}`;
    this.drawLevels(engine.levels);
    // The rung picked before (in the other format, or before a reload of the engine).
    const want = this.wantHeight != null ? engine.levels.find((l) => l.height === this.wantHeight) : null;
    if (want) {
      engine.setLevel(want.id);
      this.el.dataset.levelRequest = String(want.id);
    }
    this.drawLevel();
    const rate = Number($('#speed-menu').value) || 1;
    v.playbackRate = rate;
    if (autoplay) this.play();
    this.syncState();
  },

  /**
   * The engine gave up. A stream refused with 403 (signed playback: the token expired, or the
   * page has none) is tried once more with a fresh grant from /status, from where it stopped;
   * if that does not help, the player says so in a sentence. Other errors are shown as they are.
   */
  async playbackFailed(err) {
    const item = this.item;
    const msg = err?.message || `Playback failed (error ${shakaCode(err) ?? 'unknown'}).`;
    if (!item || httpStatus(err) !== 403) { this.showError(msg); return; }
    const token = this.token;
    const was = this.protocol === 'dash' ? item.dash_url : item.hls_url;
    const v = this.video;
    // Where to go on: the position reached, or where the failed load was to start.
    const at = this.engine ? v.currentTime : (this.loadArgs?.startTime ?? 0);
    const playing = this.engine ? !v.paused : (this.loadArgs?.autoplay ?? false);
    const now = Date.now();
    if (now - (item.grantRetryAt ?? 0) > GRANT_RETRY_MS) {
      item.grantRetryAt = now;
      const r = await this.refreshGrant(item);
      if (this.item !== item || token !== this.token) return; // closed or reloaded meanwhile
      const url = this.protocol === 'dash' ? item.dash_url : item.hls_url;
      // A grant (a token just issued), or other URLs: worth another try.
      if (r?.code === 200 && url && (url !== was || urlToken(url))) {
        this.setPoster(item.thumbnail_url);
        this.drawDownloads();
        if (!this.sharePanel.hidden) this.drawShare();
        this.el.dataset.grantRetries = String(Number(this.el.dataset.grantRetries ?? 0) + 1);
        await this.load(at, playing);
        return;
      }
    }
    this.el.classList.remove('loading');
    this.showError(urlToken(was) ? EXPIRED_MESSAGE : SIGNED_ONLY_MESSAGE);
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
    this.wantHeight = id === -1 ? null : this.engine.levels.find((l) => l.id === id)?.height ?? null;
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
    const picked = this.wantHeight != null ? [...menu.options].find((o) => Number(o.dataset.height) === this.wantHeight) : null;
    if (auto) menu.value = '-1';
    else if (picked) menu.value = picked.value;
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

  /**
   * The browser's own HLS failed: the media element does not tell an HTTP status, so the
   * master is asked again to tell a refused (403) stream from one that does not play.
   */
  async nativeError() {
    const v = this.video;
    if (this.engine?.name !== 'native HLS' || !v.error) return;
    const token = this.token;
    const err = new Error(`The video cannot be played (${v.error.message || `media error ${v.error.code}`}).`);
    if (v.error.code === 2 || v.error.code === 4) { // MEDIA_ERR_NETWORK, MEDIA_ERR_SRC_NOT_SUPPORTED
      try {
        const res = await fetch(this.item?.hls_url, { cache: 'no-store' });
        err.status = res.status;
      } catch { /* the error as it is */ }
    }
    if (token === this.token) this.playbackFailed(err);
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
    this.opening = (this.opening ?? 0) + 1; // an open still waiting for its grant stays closed
    const closed = this.item;
    this.item = null;
    this.video.pause();
    await this.destroyEngine();
    this.setTracks([]);
    this.cues = [];
    this.hidePreview();
    this.toggleMenu(false);
    this.toggleShare(false);
    this.toggleDownloads(false);
    $('#player-section').hidden = true;
    this.setPoster(null);
    delete this.el.dataset.videoId;
    delete this.el.dataset.engine;
    $('#current-quality').textContent = '';
    history.replaceState(null, '', location.pathname + location.search);
    this.onItemChange();
    if (restoreFocus && closed) this.focusCard(closed.video_id);
  },
};

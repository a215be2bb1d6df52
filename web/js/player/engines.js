// Player engines: hls.js, the browser's own HLS, and Shaka Player for DASH. Each engine:
// {name, version, levels: [{id, width, height, bitrate, name}], setLevel(id), isAuto(),
// current(): level|null, destroy(): Promise}. Level id -1 = automatic.
/* global Hls, shaka */
import { rungName } from '../format.js';
import { loadScript } from '../util.js';

const SHAKA_SRC = '/web/node_modules/shaka-player/dist/shaka-player.compiled.js';
const HLS_SRC = '/web/node_modules/hls.js/dist/hls.min.js';

/**
 * The engine for `protocol` ('hls' or 'dash') playing `url` in `video` from `startTime`;
 * `events` gets onLevel(), onError(err) and onSubtitles() while it plays.
 */
export async function createEngine(protocol, video, url, startTime, events) {
  if (protocol === 'dash') return createShaka(video, url, startTime, events);
  if (!window.Hls) await loadScript(HLS_SRC);
  if (window.Hls?.isSupported()) return createHlsJs(video, url, startTime, events);
  if (video.canPlayType('application/vnd.apple.mpegurl')) return createNativeHls(video, url, startTime);
  throw new Error('This browser can play neither HLS nor Media Source Extensions.');
}

function createHlsJs(video, url, startTime, events) {
  return new Promise((resolve, reject) => {
    // From the start (or startTime) also on a growing (EVENT) playlist, which hls.js would
    // otherwise join near its end like a live stream.
    const hls = new Hls({ startPosition: Math.max(0, startTime), capLevelToPlayerSize: false });
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
      if (d.response?.code) err.status = d.response.code;
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
    if (e?.severity !== 2) return;
    const err = new Error(`DASH playback failed (Shaka error ${e.code}${httpStatus(e) ? `, HTTP ${httpStatus(e)}` : ''}).`);
    err.status = httpStatus(e);
    events.onError(err);
  });
  return engine;
}

/** The code of a Shaka Player error (7000 = load interrupted); null for other errors. */
export const shakaCode = (err) => (err && typeof err.code === 'number' ? err.code : null);

/**
 * The HTTP status behind a playback error: `status` (set on the engines' own errors), or a
 * Shaka BAD_HTTP_STATUS error's (code 1001, data [uri, status, …]); null when none.
 */
export function httpStatus(err) {
  if (typeof err?.status === 'number') return err.status;
  if (shakaCode(err) === 1001 && typeof err.data?.[1] === 'number') return err.data[1];
  return null;
}


// The embed player (embed.html, served at /embed/<id>): the video's HLS master with hls.js
// (the browser's own HLS where Media Source Extensions are missing), its poster, or a plain
// sentence when the video is not there or not ready. With signed playback the streams need a
// token: the /status answer's grant when the server gives one, else the embed link's `?t=`.
/* global Hls */
import { fetchStatus, urlToken } from './api.js';
import { embedId, embedState, embedToken } from './share.js';

/** Said when the server refuses the stream (403): the link's token expired (or is not valid). */
const EXPIRED = 'This playback link has expired. Ask whoever shared the video for a new link.';
/** Said when the server refuses a stream without a token (signed playback, a link without `?t=`). */
const SIGNED_ONLY = 'This video plays only through a signed link. Ask whoever shared the video for a new link.';

const video = document.querySelector('#video');
const message = document.querySelector('#message');

function say(text) {
  video.hidden = true;
  message.hidden = false;
  message.textContent = text;
  document.documentElement.dataset.state = 'message';
}

/** The /status answer for the video: what to play, or a sentence (said here: null). */
async function ask(id, token) {
  let r;
  try {
    r = await fetchStatus(id);
  } catch {
    say('The video server cannot be reached.');
    return null;
  }
  const state = embedState(r.code, r.body, id, token);
  if (state.message) {
    say(state.message);
    return null;
  }
  return state.play;
}

async function main() {
  const id = embedId(location.pathname);
  if (!id) {
    say('This embed link names no video.');
    return;
  }
  const token = embedToken(location.search);
  const play = await ask(id, token);
  if (!play) return;
  const { src, poster, title } = play;
  if (title) {
    document.title = title;
    document.querySelector('#title').textContent = title;
  }
  if (poster) video.poster = poster;
  video.hidden = false;
  if (window.Hls?.isSupported()) {
    let retried = false;
    const start = (url, at) => {
      const hls = new Hls({ startPosition: at });
      hls.on(Hls.Events.ERROR, async (_e, d) => {
        if (!d.fatal) return;
        if (d.response?.code !== 403) { say('The video cannot be played here.'); return; }
        // Refused: once more with what /status gives now (a fresh grant where the server
        // hands one to this viewer), from where it stopped.
        const t = video.currentTime;
        hls.destroy();
        const first = !retried;
        retried = true;
        const again = first ? await ask(id, token) : null; // null from ask: it said why
        if (again && again.src !== url) start(again.src, t);
        else if (again || !first) say(urlToken(url) ? EXPIRED : SIGNED_ONLY);
      });
      hls.loadSource(url);
      hls.attachMedia(video);
      window.__hls = hls;
    };
    start(src, 0);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = src;
    video.addEventListener('error', async () => {
      const res = await fetch(src, { cache: 'no-store' }).catch(() => null);
      if (res?.status === 403) say(urlToken(src) ? EXPIRED : SIGNED_ONLY);
      else say('The video cannot be played here.');
    });
  } else {
    say('This browser cannot play the video (no HLS support).');
    return;
  }
  document.documentElement.dataset.state = 'ready';
}

main();

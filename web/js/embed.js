// The embed player (embed.html, served at /embed/<id>): the video's HLS master with hls.js
// (the browser's own HLS where Media Source Extensions are missing), its poster, or a plain
// sentence when the video is not there or not ready.
/* global Hls */
import { fetchStatus } from './api.js';
import { embedId, embedState } from './share.js';

const video = document.querySelector('#video');
const message = document.querySelector('#message');

function say(text) {
  video.hidden = true;
  message.hidden = false;
  message.textContent = text;
  document.documentElement.dataset.state = 'message';
}

async function main() {
  const id = embedId(location.pathname);
  if (!id) {
    say('This embed link names no video.');
    return;
  }
  let r;
  try {
    r = await fetchStatus(id);
  } catch {
    say('The video server cannot be reached.');
    return;
  }
  const state = embedState(r.code, r.body, id);
  if (state.message) {
    say(state.message);
    return;
  }
  const { src, poster, title } = state.play;
  if (title) {
    document.title = title;
    document.querySelector('#title').textContent = title;
  }
  if (poster) video.poster = poster;
  video.hidden = false;
  if (window.Hls?.isSupported()) {
    const hls = new Hls({ startPosition: 0 });
    hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) say('The video cannot be played here.'); });
    hls.loadSource(src);
    hls.attachMedia(video);
    window.__hls = hls;
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = src;
  } else {
    say('This browser cannot play the video (no HLS support).');
    return;
  }
  document.documentElement.dataset.state = 'ready';
}

main();

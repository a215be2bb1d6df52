// slicecast web page: upload (parallel, resumable multipart), live processing view,
// library, and an HLS (hls.js / native) + DASH (Shaka Player) player with a quality
// menu, sprite scrubbing previews and subtitle tracks. Native ES modules, no bundler;
// every request goes to the page's own server (the slicecast API).
//
// Modules import one way: upload-ui -> jobs -> library -> player; the way back (the
// library marks the video playing, the processing view forgets a deleted video) is wired
// here with callbacks.
import { fetchStatus } from './api.js';
import { itemFromManifest } from './items.js';
import { jobs } from './jobs.js';
import { library } from './library.js';
import { player } from './player/index.js';
import { initSettings, showError } from './settings.js';
import { uploadUi } from './upload-ui.js';

async function main() {
  player.onItemChange = () => library.markPlaying();
  player.focusCard = (videoId) => library.focusCard(videoId);
  library.onDeleted = (videoId) => jobs.remove(videoId);
  library.onRetry = (file, key) => uploadUi.start(file, key);

  initSettings();
  player.init();
  uploadUi.init();
  jobs.init();
  await library.init();
  await openDeepLink();
  document.documentElement.dataset.ready = 'true';
}

/**
 * `#v=<id>`: that video in the player, paused on its poster; a video whose start plays while
 * it still encodes is opened from its manifest.
 */
async function openDeepLink() {
  const m = /^#v=([0-9a-zA-Z._-]+)/.exec(location.hash);
  if (!m) return;
  const id = decodeURIComponent(m[1]);
  let item = library.items.find((v) => v.video_id === id);
  if (!item) {
    const r = await fetchStatus(id).catch(() => null);
    if (r?.code === 200 && (r.body.status === 'processing_complete' || r.body.playable)) item = itemFromManifest(r.body);
  }
  if (item) player.open(item, { autoplay: false });
}

main().catch((err) => showError(err, 'The page failed to start: '));

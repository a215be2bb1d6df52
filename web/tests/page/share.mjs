// page.mjs's share steps: each Copy button of the player's Share panel puts the right text on
// the clipboard, and the embed player at /embed/<id> plays the video (or says it is missing).
// With --signed the HLS and DASH URLs carry the video's playback token and the embed link passes
// it on (`/embed/<id>?t=<token>`).
import { CheckError, round, waitFor } from '../../../tests/harness/chromium.mjs';
import { expectStream, streamPath, tokenOf } from './signed.mjs';

/** The Share panel's copies, then the embed page (when the server has the /embed route). */
export async function shareSteps({ page, opts, result, step, manifest }) {
  const id = result.videoId;
  const want = {
    hls: manifest.assets.hls_master,
    dash: manifest.assets.dash_mpd ?? null,
    link: `${opts.base}/#v=${id}`,
  };
  result.share = {};
  await step('Share: each Copy button puts its URL or snippet on the clipboard', async () => {
    if (await page.isHidden('#share-panel')) await page.click('#share-button');
    await page.waitForSelector('#share-panel', { state: 'visible', timeout: 3000 });
    const got = {};
    for (const kind of ['hls', 'dash', 'embed', 'link']) {
      if (kind === 'dash' && !want.dash) continue;
      await page.evaluate(() => navigator.clipboard.writeText('-'));
      await page.click(`[data-testid="copy-${kind}"]`);
      got[kind] = await waitFor(page, `${kind} on the clipboard`, () => navigator.clipboard.readText(), null, (t) => t !== '-', { timeout: 3000 });
    }
    // The stream URLs: on this server, the video's keys; with --signed, with its token.
    for (const k of ['hls', 'dash']) if (want[k]) expectStream(opts, got[k], want[k], `Copy ${k}`);
    if (got.link !== want.link) throw new CheckError(`Copy link gave ${JSON.stringify(got.link)}, expected ${want.link}`);
    // With --signed the embed link passes the token of the copied URLs on as ?t=.
    const token = opts.signed ? tokenOf(got.hls) : null;
    const src = `src="${opts.base}/embed/${id}${token ? `?t=${token}` : ''}"`;
    if (!/^<iframe [^>]*><\/iframe>$/.test(got.embed) || !got.embed.includes(src)) {
      throw new CheckError(`the embed code is ${JSON.stringify(got.embed)}, expected an <iframe ${src}>`);
    }
    const status = await page.textContent('#share-status');
    result.share.copied = got;
    return { ...got, status };
  });

  await step('embed page plays the video', async () => {
    const probe = await fetch(`${opts.base}/embed/${id}`);
    if (!probe.ok) throw new CheckError(`/embed/<id> answers ${probe.status}`);
    const html = await probe.text();
    if (!html.includes('js/embed.js')) throw new CheckError('/embed/<id> does not serve web/embed.html');
    const embed = await page.context().newPage();
    const errors = [];
    embed.on('pageerror', (e) => errors.push(e.message));
    embed.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    try {
      await embed.goto(`${opts.base}/embed/${id}`, { waitUntil: 'load' });
      await embed.waitForSelector('html[data-state]', { timeout: 10000 });
      await embed.evaluate(() => { const v = document.querySelector('video'); v.muted = true; return v.play().catch(() => {}); });
      const s = await waitFor(embed, 'the embed player plays', () => {
        const v = document.querySelector('video');
        return { state: document.documentElement.dataset.state, t: v.currentTime, w: v.videoWidth, poster: v.getAttribute('poster'), title: document.title, message: document.querySelector('#message').textContent };
      }, null, (x) => x.state === 'message' || (x.t > 0.5 && x.w > 0), { timeout: 20000 });
      if (s.state === 'message') throw new CheckError(`the embed page says: ${s.message}`);
      if (manifest.assets.poster && streamPath(s.poster) !== `/stream/${manifest.assets.poster}`) throw new CheckError(`embed poster is ${s.poster}`);
      if (manifest.assets.poster) expectStream(opts, s.poster, manifest.assets.poster, 'the embed poster');
      // A video that is not there (a well-formed id; others are 404): a sentence, no player.
      await embed.goto(`${opts.base}/embed/${'f'.repeat(32)}`, { waitUntil: 'load' });
      const missing = await waitFor(embed, 'the embed page for a missing video', () => ({
        state: document.documentElement.dataset.state, message: document.querySelector('#message').textContent,
        videoHidden: document.querySelector('video').hidden,
      }), null, (x) => x.state === 'message', { timeout: 10000 });
      if (!missing.videoHidden) throw new CheckError('the embed page shows a player for a missing video');
      const pageErrors = errors.filter((e) => !/status of 404/.test(e));
      if (pageErrors.length) throw new CheckError(`embed page errors: ${pageErrors.join('; ')}`);
      result.share.embedPage = { route: true, playedTo: round(s.t, 2), video: s.w, poster: s.poster, title: s.title, missing: missing.message };
      return result.share.embedPage;
    } finally {
      await embed.close();
    }
  });
}

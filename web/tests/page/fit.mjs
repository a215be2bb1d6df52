// page.mjs's layout checks of the open player: at a laptop's and a phone's viewport, the box
// has the video's shape (no black bars over 2 px), the controls are touch-sized on the phone,
// the quality label is not cut and the duration shows.
import path from 'node:path';
import { CheckError, sleep } from '../../../tests/harness/chromium.mjs';

export const VIEWPORTS = [{ width: 1366, height: 800 }, { width: 390, height: 844 }];
/** The viewport the rest of page.mjs runs at. */
export const DEFAULT_VIEWPORT = { width: 1280, height: 800 };

/** What the page shows of the player's box, its controls and labels (runs in the page). */
function measure() {
  const p = document.querySelector('#player');
  const v = document.querySelector('#video');
  const r = p.getBoundingClientRect();
  const ar = v.videoWidth / v.videoHeight;
  // The picture inside the box (object-fit: contain).
  const picW = Math.min(r.width, r.height * ar);
  const picH = Math.min(r.height, r.width / ar);
  const visible = (el) => {
    if (!el) return false;
    const b = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    return b.width > 0 && b.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none';
  };
  const controls = [...p.querySelectorAll('.control-row button, .control-row select, #player-advanced')]
    .filter(visible)
    .map((el) => {
      const b = (el.closest('.ctl-select') ?? el).getBoundingClientRect();
      return { id: el.id, w: Math.round(b.width), h: Math.round(b.height) };
    });
  // The quality label: the chosen option's text against the select's room for it.
  const q = document.querySelector('#quality-menu');
  const cs = getComputedStyle(q);
  const probe = document.createElement('span');
  probe.style.cssText = `position:absolute;visibility:hidden;white-space:nowrap;font:${cs.font};letter-spacing:${cs.letterSpacing}`;
  probe.textContent = q.selectedOptions[0]?.textContent ?? '';
  document.body.append(probe);
  const textW = probe.getBoundingClientRect().width;
  probe.remove();
  const room = q.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  const dur = document.querySelector('#time-duration');
  // Every control inside the box (not clipped by it).
  const shown = [...p.querySelectorAll('.control-row > *')].filter(visible).map((el) => el.getBoundingClientRect());
  const row = {
    left: Math.min(...shown.map((b) => b.left)), right: Math.max(...shown.map((b) => b.right)),
    bottom: Math.max(...shown.map((b) => b.bottom)),
  };
  return {
    box: { w: round2(r.width), h: round2(r.height) },
    video: `${v.videoWidth}x${v.videoHeight}`,
    picture: { w: round2(picW), h: round2(picH) },
    bars: round2((r.width - picW) + (r.height - picH)),
    overflowX: document.documentElement.scrollWidth > innerWidth,
    rowOverflows: row.right > r.right + 0.5 || row.left < r.left - 0.5 || row.bottom > r.bottom + 0.5,
    controls,
    quality: { text: probe.textContent, textW: round2(textW), room: round2(room), cut: textW > room + 0.5 },
    duration: { text: dur.textContent, visible: visible(dur) },
  };
  function round2(x) { return Math.round(x * 100) / 100; }
}

/** The fit checks at each viewport; screenshots into `opts.artifacts` when given. */
export async function checkFit({ page, opts, result, step }) {
  await step('the player fits the video at 1366x800 and 390x844', async () => {
    const out = {};
    // Paused meanwhile: a short clip at 4x would end before the steps after this one.
    const wasPlaying = await page.evaluate(() => { const v = document.querySelector('#video'); const p = !v.paused; v.pause(); return p; });
    for (const vp of VIEWPORTS) {
      await page.setViewportSize(vp);
      await page.evaluate(() => document.querySelector('#player-section').scrollIntoView({ block: 'start' }));
      await page.hover('#player');
      await sleep(400);
      const m = await page.evaluate(measure);
      const key = `${vp.width}x${vp.height}`;
      out[key] = m;
      if (m.bars > 2) throw new CheckError(`${key}: black bars of ${m.bars} px (box ${m.box.w}x${m.box.h}, video ${m.video})`);
      if (m.overflowX) throw new CheckError(`${key}: the page scrolls sideways`);
      if (m.rowOverflows) throw new CheckError(`${key}: the control row spills out of the player`);
      if (m.quality.cut) throw new CheckError(`${key}: the quality label "${m.quality.text}" is cut (${m.quality.textW} px in ${m.quality.room} px)`);
      if (!m.duration.visible || m.duration.text === '0:00') throw new CheckError(`${key}: the duration is not shown (${JSON.stringify(m.duration)})`);
      if (vp.width < 600) {
        const small = m.controls.filter((c) => c.w < 44 || c.h < 44);
        if (small.length) throw new CheckError(`${key}: controls under 44 px: ${JSON.stringify(small)}`);
      }
      if (opts.artifacts) {
        const file = path.join(opts.artifacts, `player-${key}.png`);
        await page.screenshot({ path: file });
        result.screenshots[`player-${key}`] = file;
      }
    }
    await page.setViewportSize(DEFAULT_VIEWPORT);
    if (wasPlaying) await page.evaluate(() => document.querySelector('#video').play());
    result.fit = out;
    return Object.fromEntries(Object.entries(out).map(([k, m]) => [k, { box: m.box, video: m.video, bars: m.bars, quality: m.quality.text }]));
  });
}

/** Opens the player's Advanced menu (speed, streaming format) if it is closed. */
export async function openAdvanced(page) {
  if (await page.isHidden('#advanced-panel')) {
    await page.hover('#player');
    await page.click('#player-advanced');
    await page.waitForSelector('#advanced-panel', { state: 'visible', timeout: 3000 });
  }
}

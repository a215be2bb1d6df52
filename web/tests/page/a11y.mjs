// page.mjs's accessibility checks: axe-core (web/node_modules/axe-core, pinned in
// package.json) run in the page in a given state, in the light and the dark theme (the page
// follows prefers-color-scheme, emulated here). Any violation fails the step; each is printed.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckError, sleep } from '../../../tests/harness/chromium.mjs';

const AXE = fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url));
export const THEMES = ['light', 'dark'];

/** axe's violations in the page now: [{id, impact, help, nodes: [{target, summary}]}]. */
async function violations(page) {
  if (!(await page.evaluate(() => !!window.axe))) await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 8).map((n) => ({ target: n.target.join(' '), summary: (n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 300) })),
    }));
  });
}

/**
 * Runs axe on the page in state `state` in both themes; screenshots (a11y-STATE-THEME.png, the
 * state's words joined by dashes)
 * into `opts.artifacts` when given. Throws with every violation found.
 */
export async function axeState({ page, opts, result }, state) {
  const found = {};
  const slug = state.replace(/[^a-z0-9]+/gi, '-');
  try {
    for (const theme of THEMES) {
      await page.emulateMedia({ colorScheme: theme });
      await sleep(150); // transitions of the theme's colours
      const v = await violations(page);
      found[theme] = v;
      if (opts.artifacts) {
        const file = path.join(opts.artifacts, `a11y-${slug}-${theme}.png`);
        await page.screenshot({ path: file });
        result.screenshots[`a11y-${slug}-${theme}`] = file;
      }
    }
  } finally {
    await page.emulateMedia({ colorScheme: null });
  }
  result.a11y = { ...result.a11y, [state]: Object.fromEntries(THEMES.map((t) => [t, found[t].length])) };
  const all = THEMES.flatMap((t) => found[t].map((v) => ({ theme: t, ...v })));
  if (all.length) {
    for (const v of all) {
      console.error(`axe [${state}, ${v.theme}] ${v.id} (${v.impact}): ${v.help}`);
      for (const n of v.nodes) console.error(`    ${n.target}: ${n.summary}`);
    }
    throw new CheckError(`${all.length} axe violation(s) ${state}: ${all.map((v) => `${v.id} (${v.theme}) at ${v.nodes[0]?.target}`).join('; ')}`);
  }
  return result.a11y[state];
}

/** A step that runs `axeState`. */
export function a11yStep(t, state, prepare) {
  return t.step(`accessibility (axe, light and dark): ${state}`, async () => {
    if (prepare) await prepare();
    return axeState(t, state);
  });
}

// DOM and storage helpers shared by the page's modules. Nothing here touches the DOM until
// it is called, so node can import this module.

/** localStorage keys of the page. */
export const LS = {
  apiKey: 'slicecast.apiKey',
  uploads: 'slicecast.uploads.v1',
  jobs: 'slicecast.jobs.v1',
  protocol: 'slicecast.protocol',
  volume: 'slicecast.volume',
  announced: 'slicecast.announced.v1',
  mine: 'slicecast.mine.v1',
};

export const $ = (sel, root = document) => root.querySelector(sel);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

/** Creates an element: h('div', {class: 'x', dataset: {a: 1}, onclick}, child, 'text', ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An icon of the page's sprite (`<symbol id="i-NAME">` in index.html). */
export function icon(name, cls = 'icon') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS(SVG_NS, 'use');
  use.setAttribute('href', `#i-${name}`);
  svg.append(use);
  return svg;
}

/** Fills `el` with a file name that may break after its separators (`<wbr>`), with the name as its title. */
export function setName(el, pieces, name) {
  el.replaceChildren(...pieces.flatMap((p, i) => (i ? [document.createElement('wbr'), p] : [p])));
  el.title = name;
}

/** Points a button's icon at another symbol of the sprite. */
export function setIcon(button, name) {
  button.querySelector('use')?.setAttribute('href', `#i-${name}`);
}

/** The JSON value stored under `key`, or `fallback` when there is none or it does not parse. */
export function readJson(key, fallback) {
  try {
    const v = JSON.parse(localStorage.getItem(key) ?? 'null');
    return v ?? fallback;
  } catch {
    return fallback;
  }
}

export function writeJson(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* storage full or blocked */ }
}

const loadedScripts = new Map();

/** Loads a classic script once; a failed load may be tried again. */
export function loadScript(src) {
  if (!loadedScripts.has(src)) {
    loadedScripts.set(src, new Promise((resolve, reject) => {
      const s = h('script', { src });
      s.onload = () => resolve();
      s.onerror = () => { loadedScripts.delete(src); reject(new Error(`could not load ${src}`)); };
      document.head.append(s);
    }));
  }
  return loadedScripts.get(src);
}

// Toasts: short messages in the corner (#toasts), at most 4 at a time.
import { $, h, icon } from './util.js';

/** Shows a toast; `action` ({label, run}) adds a button that closes it and runs. */
export function toast(message, { kind = 'info', action = null, timeout } = {}) {
  const box = $('#toasts');
  const close = () => { el.remove(); };
  const el = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': `toast-${kind}` },
    icon(kind === 'error' ? 'alert' : 'check'),
    h('div', { style: 'flex:1;min-width:0' },
      h('p', { text: message }),
      action ? h('button', {
        type: 'button', class: 'button button-ghost button-small toast-action',
        onclick: () => { close(); action.run(); },
      }, action.label) : null),
    h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Dismiss', onclick: close }, icon('close')));
  box.append(el);
  while (box.children.length > 4) box.firstElementChild.remove();
  const ms = timeout ?? (kind === 'error' ? 12000 : 5000);
  if (ms) setTimeout(close, ms);
  return el;
}

// The Settings dialog (the API key, kept in localStorage) and errors shown as toasts, which
// offer the dialog when the server refused the key.
import { getApiKey } from './api.js';
import { toast } from './toast.js';
import { $, LS } from './util.js';

function renderApiKeyBadge() {
  $('#api-key-badge').hidden = !getApiKey();
}

export function openSettings() {
  const dlg = $('#settings-dialog');
  $('#api-key-input').value = getApiKey();
  $('#api-key-input').type = 'password';
  $('#api-key-show').textContent = 'Show';
  $('#api-key-show').setAttribute('aria-pressed', 'false');
  if (!dlg.open) dlg.showModal();
  $('#api-key-input').focus();
}

/** An error toast; a 401 gets an "Open settings" button. */
export function showError(err, prefix = '') {
  const msg = `${prefix}${err?.message ?? err}`;
  const action = err?.status === 401 ? { label: 'Open settings', run: openSettings } : null;
  toast(msg, { kind: 'error', action });
}

export function initSettings() {
  const dlg = $('#settings-dialog');
  $('#settings-cancel').addEventListener('click', () => dlg.close('cancel'));
  $('#settings-button').addEventListener('click', openSettings);
  $('#api-key-show').addEventListener('click', (e) => {
    const input = $('#api-key-input');
    const show = input.type === 'password';
    input.type = show ? 'text' : 'password';
    e.currentTarget.textContent = show ? 'Hide' : 'Show';
    e.currentTarget.setAttribute('aria-pressed', String(show));
  });
  $('#api-key-clear').addEventListener('click', () => { $('#api-key-input').value = ''; $('#api-key-input').focus(); });
  // On submit (before the dialog closes), so the key is stored by the time it is gone.
  $('#settings-form').addEventListener('submit', (e) => {
    if (e.submitter?.value !== 'save') return;
    const key = $('#api-key-input').value.trim();
    if (key) localStorage.setItem(LS.apiKey, key);
    else localStorage.removeItem(LS.apiKey);
    renderApiKeyBadge();
    toast(key ? 'API key saved in this browser.' : 'API key removed.', { kind: 'ok' });
  });
  renderApiKeyBadge();
}

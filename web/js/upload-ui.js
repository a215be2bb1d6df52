// The upload panel: file input, drag and drop anywhere on the page, progress, cancel/retry,
// and the list of interrupted uploads that can be resumed.
import { fmtBytes, fmtEta } from './format.js';
import { jobs } from './jobs.js';
import { library } from './library.js';
import { showError } from './settings.js';
import { refusal, sniff, SNIFF_BYTES } from './sniff.js';
import { afterUploadText } from './stages.js';
import { toast } from './toast.js';
import { fingerprint, partRange, pendingUploads, Upload } from './upload.js';
import { namePieces } from './format.js';
import { $, h, setName } from './util.js';

export const uploadUi = {
  current: null,
  lastRender: 0,
  init() {
    const input = $('#file-input');
    $('#choose-file').addEventListener('click', () => input.click());
    input.addEventListener('change', () => {
      const f = input.files?.[0];
      input.value = '';
      if (f) this.start(f);
    });
    $('#upload-cancel').addEventListener('click', () => this.cancel());
    $('#upload-retry').addEventListener('click', () => { if (this.file) this.start(this.file, this.cardKey); });
    $('#upload-done').addEventListener('click', () => { this.doneId = null; $('#upload-panel').hidden = true; $('#choose-file').focus(); });
    // Once uploaded, the panel's line follows the video (processing, ready, failed).
    jobs.onUpdate = (j) => {
      if (j.videoId !== this.doneId || this.current) return;
      this.status(afterUploadText({ status: j.status, stage: j.stage, error: j.error, playable: j.playable }));
    };

    // Drag and drop anywhere on the page.
    const zone = $('#dropzone');
    const overlay = $('#drop-overlay');
    let depth = 0;
    const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
    window.addEventListener('dragenter', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth++;
      overlay.hidden = false;
      zone.classList.add('dragover');
    });
    window.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (!depth) { overlay.hidden = true; zone.classList.remove('dragover'); }
    });
    window.addEventListener('dragover', (e) => { if (hasFiles(e)) e.preventDefault(); });
    window.addEventListener('drop', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      overlay.hidden = true;
      zone.classList.remove('dragover');
      const f = e.dataTransfer.files?.[0];
      if (f) this.start(f);
    });
    this.renderPending();
  },

  /** Uploads `file`; `cardKey`: the library card it goes on (a failed one's Retry), else a new one. */
  async start(file, cardKey = null) {
    if (this.current) {
      toast('An upload is already running. Cancel it first or wait for it to finish.', { kind: 'error' });
      return;
    }
    this.refuse(null);
    if (!file.size) {
      this.refuse(`“${file.name}” is empty (0 bytes), so it was not uploaded.`);
      return;
    }
    // Clearly not a video (text, a picture, a PDF, an archive): said here, nothing is sent.
    let head;
    try {
      head = new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer());
    } catch {
      head = new Uint8Array(0); // unreadable here: the server's probe decides
    }
    const no = refusal(file.name, sniff(head));
    if (no) {
      this.refuse(no);
      return;
    }
    if (this.current) return; // another file was picked while this one was read
    this.file = file;
    this.doneId = null;
    const up = new Upload(file, this);
    this.current = up;
    const key = library.uploadStarted(file, cardKey);
    this.cardKey = key;
    const panel = $('#upload-panel');
    panel.hidden = false;
    panel.classList.remove('done', 'error');
    $('#upload-name').textContent = file.name;
    $('#upload-name').title = file.name;
    $('#upload-cancel').hidden = false;
    $('#upload-retry').hidden = true;
    $('#upload-done').hidden = true;
    $('#upload-speed').textContent = '';
    $('#upload-eta').textContent = '';
    this.setPercent(0, file.size);
    $('#choose-file').disabled = true;
    $('#dropzone').classList.add('busy');
    this.renderPending();
    try {
      const done = await up.run();
      if (!done) return; // cancelled
      this.setPercent(file.size, file.size);
      panel.classList.add('done');
      $('#upload-speed').textContent = '';
      $('#upload-eta').textContent = '';
      this.doneId = done.video_id;
      this.status(done.status === 'processing_complete'
        ? 'Uploaded. These exact bytes were processed before: the video is ready.'
        : afterUploadText({ status: done.status === 'uploaded' ? 'uploaded' : 'processing', stage: 'hashing' }));
      library.uploadDone(key, done.video_id, done.fileName ?? file.name);
      jobs.add(done.video_id, done.fileName ?? file.name, { own: true, status: done.status });
      if (done.status === 'processing_complete') library.load();
    } catch (err) {
      if (up.cancelled) return;
      library.uploadFailed(key, err.message);
      panel.classList.add('error');
      this.status(err.message);
      $('#upload-retry').hidden = false;
      $('#upload-speed').textContent = '';
      $('#upload-eta').textContent = '';
      showError(err, err.status === 401 ? '' : 'Upload stopped: ');
    } finally {
      if (this.current === up) this.current = null;
      $('#upload-cancel').hidden = true;
      $('#upload-done').hidden = !panel.classList.contains('done') && !panel.classList.contains('error');
      $('#upload-done').textContent = panel.classList.contains('done') ? 'Upload another' : 'Dismiss';
      $('#choose-file').disabled = false;
      $('#dropzone').classList.remove('busy');
      this.renderPending();
    }
  },

  async cancel() {
    const up = this.current;
    if (!up) return;
    this.current = null;
    $('#upload-cancel').disabled = true;
    await up.cancel();
    library.uploadCancelled(this.cardKey);
    $('#upload-cancel').disabled = false;
    $('#upload-panel').hidden = true;
    $('#choose-file').disabled = false;
    $('#dropzone').classList.remove('busy');
    this.renderPending();
    toast(`Upload of ${up.file.name} cancelled.`, { kind: 'ok' });
  },

  status(text) { $('#upload-status').textContent = text; },

  /** Says why a chosen file was not uploaded (null hides it). */
  refuse(text) {
    const el = $('#upload-refusal');
    el.hidden = !text;
    $('span', el).textContent = text ?? '';
  },

  setPercent(sent, size) {
    // 100 % only once every byte is sent.
    const pct = sent >= size ? 100 : Math.min(99, Math.floor((sent / size) * 100));
    $('#upload-percent').textContent = `${pct} %`;
    $('#upload-progress').setAttribute('aria-valuenow', String(pct));
    $('#upload-progress').setAttribute('aria-valuetext', `${pct} percent, ${fmtBytes(sent)} of ${fmtBytes(size)}`);
    $('#upload-bar-fill').style.width = `${(sent / size) * 100}%`;
    $('#upload-bytes').textContent = `${fmtBytes(sent)} of ${fmtBytes(size)}`;
    library.uploadProgress(this.cardKey, sent, size);
  },

  progress(up, force = false) {
    if (up !== this.current) return;
    const now = performance.now();
    const sent = up.sentBytes;
    const size = up.file.size;
    const speed = up.speed();
    // Throttle text updates to ~8 per second; always draw completion.
    if (!force && now - this.lastRender < 120 && sent < size) return;
    this.lastRender = now;
    this.setPercent(sent, size);
    if (Number.isFinite(speed) && speed > 0) {
      $('#upload-speed').textContent = `${fmtBytes(speed)}/s`;
      $('#upload-eta').textContent = sent < size ? fmtEta((size - sent) / speed) : '';
    }
    if (up.totalParts > 1 && sent < size) {
      this.status(`${up.partsDone} of ${up.totalParts} parts sent${up.resumed ? ' (resumed)' : ''}`);
    }
  },

  renderPending() {
    const box = $('#resume-list');
    box.replaceChildren();
    const current = this.current?.rec?.uploadId;
    for (const rec of pendingUploads()) {
      if (rec.uploadId === current || (this.current && rec.fingerprint === fingerprint(this.current.file))) continue;
      let sent = 0;
      for (const n of Object.keys(rec.etags ?? {})) {
        const [a, b] = partRange(Number(n), rec.partSize, rec.fileSize);
        sent += b - a;
      }
      const pct = Math.floor((sent / rec.fileSize) * 100);
      box.append(h('div', { class: 'resume-item', 'data-testid': 'resume-item', dataset: { uploadId: rec.uploadId } },
        h('p', {},
          'Interrupted upload of ', nameEl('strong', rec.fileName),
          ` (${pct} % of ${fmtBytes(rec.fileSize)}). Choose the same file to resume.`),
        h('button', { type: 'button', class: 'button button-ghost button-small', onclick: () => $('#file-input').click() }, 'Resume'),
        h('button', {
          type: 'button', class: 'button button-ghost button-small', 'aria-label': `Discard the upload of ${rec.fileName}`,
          onclick: async () => {
            await new Upload({ name: rec.fileName, size: rec.fileSize }, this).abortOnServer(rec);
            this.renderPending();
          },
        }, 'Discard')));
    }
    box.hidden = !box.children.length;
  },
};

/** An element holding a file name that wraps at its separators. */
function nameEl(tag, name) {
  const el = h(tag);
  setName(el, namePieces(name), name);
  return el;
}

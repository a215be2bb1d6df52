// A parallel, resumable multipart upload (the Upload class) and the uploads remembered in
// localStorage so that a reload can resume them. Touches no DOM; its UI is upload-ui.js.
import { api, ApiError } from './api.js';
import { showError } from './settings.js';
import { LS, readJson, sleep, writeJson } from './util.js';

const PARALLEL_PARTS = 4;
const PART_TRIES = 4;

/** Identifies a file across page loads (name, size, modification time). */
export const fingerprint = (f) => `${f.name}\u0000${f.size}\u0000${f.lastModified}`;

/** Byte range [start, end) of part `n` (1-based); the last part is short. */
export const partRange = (n, partSize, fileSize) => [(n - 1) * partSize, Math.min(fileSize, n * partSize)];

/** Uploads started in this browser in the last week and not finished, newest first. */
export function pendingUploads() {
  const week = 7 * 86400e3;
  return readJson(LS.uploads, []).filter((r) => r && r.uploadId && Date.now() - (r.updatedAt ?? 0) < week);
}

function savePending(rec) {
  const list = pendingUploads().filter((r) => r.uploadId !== rec.uploadId);
  rec.updatedAt = Date.now();
  list.unshift(rec);
  writeJson(LS.uploads, list.slice(0, 5));
}

function forgetPending(uploadId) {
  writeJson(LS.uploads, pendingUploads().filter((r) => r.uploadId !== uploadId));
}

/** One file's upload. `ui` gets `status(text)` and `progress(upload, force)`. */
export class Upload {
  constructor(file, ui) {
    this.file = file;
    this.ui = ui;
    this.cancelled = false;
    this.xhrs = new Set();
    this.inFlight = new Map(); // part -> bytes sent so far
    this.doneBytes = 0;
    this.samples = [];
    this.rec = null;
  }

  get sentBytes() {
    let s = this.doneBytes;
    for (const b of this.inFlight.values()) s += b;
    return Math.min(s, this.file.size);
  }

  /** Bytes per second over the last few seconds of this session. */
  speed() {
    const now = performance.now();
    const sent = this.sentBytes;
    this.samples.push([now, sent]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
    const [t0, b0] = this.samples[0];
    return now - t0 > 400 ? ((sent - b0) * 1000) / (now - t0) : NaN;
  }

  async run() {
    const file = this.file;
    const received = new Map(); // part number -> ETag
    let rec = pendingUploads().find((r) => r.fingerprint === fingerprint(file));
    if (rec) {
      this.ui.status(`Checking what the server already has of ${file.name}…`);
      try {
        const st = await api('GET', `/multipart_upload/${encodeURIComponent(rec.uploadId)}`);
        if (Array.isArray(st.urls) && st.urls.length) rec.urls = st.urls;
        if (st.partSize) rec.partSize = st.partSize;
        for (const p of st.parts ?? []) {
          const [a, b] = partRange(p.PartNumber, rec.partSize, file.size);
          if (p.ETag && (p.Size == null || p.Size === b - a)) received.set(p.PartNumber, p.ETag);
        }
        this.resumed = true;
      } catch (err) {
        if (err.status === 404 || err.status === 400) {
          forgetPending(rec.uploadId); // expired or unknown on the server: start again
          rec = null;
        } else {
          throw err;
        }
      }
    }
    if (this.cancelled) return null;
    if (!rec) {
      this.ui.status('Starting the upload…');
      const r = await api('POST', '/create_multipart_upload', { fileName: file.name, fileSize: file.size });
      rec = {
        uploadId: r.uploadId, key: r.key, partSize: r.partSize, urls: r.urls,
        fileName: file.name, fileSize: file.size, lastModified: file.lastModified,
        fingerprint: fingerprint(file), etags: {}, createdAt: Date.now(),
      };
      savePending(rec);
      if (this.cancelled) { await this.abortOnServer(rec); return null; }
    }
    this.rec = rec;
    const total = rec.urls.length;
    const missing = [];
    for (let n = 1; n <= total; n++) if (!received.has(n)) missing.push(n);
    for (const [n] of received) {
      const [a, b] = partRange(n, rec.partSize, file.size);
      this.doneBytes += b - a;
    }
    this.totalParts = total;
    this.partsDone = received.size;
    this.ui.status(this.resumed
      ? `Resuming: ${Math.floor((this.doneBytes / file.size) * 100)} % was already on the server`
      : 'Uploading…');
    this.ui.progress(this);

    const queue = [...missing];
    let failure = null;
    const worker = async () => {
      while (queue.length && !failure && !this.cancelled) {
        const n = queue.shift();
        try {
          const etag = await this.sendPart(n);
          received.set(n, etag);
          rec.etags[n] = etag;
          savePending(rec);
          const [a, b] = partRange(n, rec.partSize, file.size);
          this.inFlight.delete(n);
          this.doneBytes += b - a;
          this.partsDone++;
          this.ui.progress(this, true);
        } catch (err) {
          failure ??= err;
          for (const x of this.xhrs) x.abort();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, missing.length) }, worker));
    if (this.cancelled) return null;
    if (failure) throw failure;

    this.ui.status('Finishing the upload…');
    const parts = [...received.entries()].sort((a, b) => a[0] - b[0]).map(([PartNumber, ETag]) => ({ PartNumber, ETag }));
    const done = await api('POST', '/complete_multipart_upload', { fileName: rec.fileName, uploadId: rec.uploadId, parts });
    forgetPending(rec.uploadId);
    return done;
  }

  async sendPart(n) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.putPart(n);
      } catch (err) {
        this.inFlight.set(n, 0);
        if (this.cancelled || err.aborted) throw err;
        const retriable = err.status === 0 || err.status >= 500 || [403, 408, 429].includes(err.status);
        if (!retriable || attempt >= PART_TRIES) {
          throw new ApiError(err.status, `Part ${n} of ${this.totalParts} could not be sent: ${err.message}`);
        }
        if (err.status === 403) {
          // The signed URL expired: ask for fresh ones.
          const st = await api('GET', `/multipart_upload/${encodeURIComponent(this.rec.uploadId)}`);
          if (Array.isArray(st.urls) && st.urls.length) { this.rec.urls = st.urls; savePending(this.rec); }
        }
        await sleep(500 * 2 ** attempt);
      }
    }
  }

  putPart(n) {
    const [a, b] = partRange(n, this.rec.partSize, this.file.size);
    const blob = this.file.slice(a, b);
    const url = this.rec.urls[n - 1];
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      this.xhrs.add(xhr);
      const fail = (status, message, aborted = false) => {
        this.xhrs.delete(xhr);
        const e = new ApiError(status, message);
        e.aborted = aborted;
        reject(e);
      };
      xhr.open('PUT', url);
      xhr.upload.onprogress = (e) => { this.inFlight.set(n, e.loaded); this.ui.progress(this); };
      xhr.onload = () => {
        this.xhrs.delete(xhr);
        if (xhr.status >= 200 && xhr.status < 300) {
          const etag = xhr.getResponseHeader('ETag');
          if (etag) resolve(etag);
          else reject(new ApiError(0, 'the server answered without an ETag header'));
        } else {
          let msg = `${xhr.status} ${xhr.statusText}`;
          try { msg = JSON.parse(xhr.responseText).message || msg; } catch { /* not JSON */ }
          fail(xhr.status, msg);
        }
      };
      xhr.onerror = () => fail(0, 'network error');
      xhr.onabort = () => fail(0, 'aborted', true);
      xhr.send(blob);
    });
  }

  async cancel() {
    this.cancelled = true;
    for (const x of this.xhrs) x.abort();
    if (this.rec) await this.abortOnServer(this.rec);
  }

  async abortOnServer(rec) {
    forgetPending(rec.uploadId);
    try {
      await api('POST', '/abort_multipart_upload', { uploadId: rec.uploadId });
    } catch (err) {
      if (err.status !== 404) showError(err, 'The server did not discard the upload: ');
    }
  }
}

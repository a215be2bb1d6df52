// The player's box and its Advanced menu (speed, streaming format, engine), mixed into
// `player`: the box takes the video's own aspect ratio (no black bars) and, where the window
// is too short for the full width, narrows instead.

/** `{ratio: 'W / H', n: W/H}` for a frame of `w`×`h`; null when either is unknown. */
export function aspectOf(w, h) {
  const W = Number(w);
  const H = Number(h);
  if (!(W > 0 && H > 0)) return null;
  return { ratio: `${W} / ${H}`, n: W / H };
}

export const layout = {
  /** Gives the player box the aspect ratio of a `w`×`h` frame (unknown: kept as it is). */
  setAspect(w, h) {
    const a = aspectOf(w, h);
    if (!a) return;
    this.aspect = a;
    this.el.style.setProperty('--ar', a.ratio);
    this.el.style.setProperty('--ar-n', String(a.n));
    this.el.dataset.aspect = a.n.toFixed(4);
  },

  /**
   * The frame the decoder shows, when its shape differs from the one the box has (a source
   * with non-square pixels): the box follows the picture.
   */
  fitToVideo() {
    const v = this.video;
    const a = aspectOf(v.videoWidth, v.videoHeight);
    if (a && (!this.aspect || Math.abs(a.n - this.aspect.n) / this.aspect.n > 0.01)) this.setAspect(v.videoWidth, v.videoHeight);
  },

  initMenu() {
    const button = document.querySelector('#player-advanced');
    const panel = document.querySelector('#advanced-panel');
    this.menuPanel = panel;
    this.menuButton = button;
    button.addEventListener('click', () => this.toggleMenu());
    // Outside the menu and its button: a press closes it.
    document.addEventListener('pointerdown', (e) => {
      if (!panel.hidden && !panel.contains(e.target) && !button.contains(e.target)) this.toggleMenu(false);
    });
    panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        this.toggleMenu(false);
        button.focus();
      }
    });
    this.video.addEventListener('loadedmetadata', () => this.fitToVideo());
    this.video.addEventListener('resize', () => this.fitToVideo());
  },

  /** Opens or closes (`open` omitted: toggles) the Advanced menu. */
  toggleMenu(open = this.menuPanel.hidden) {
    this.menuPanel.hidden = !open;
    this.menuButton.setAttribute('aria-expanded', String(open));
    this.el.classList.toggle('menu-open', open);
    if (open) {
      this.el.classList.remove('idle');
      this.menuPanel.querySelector('input:checked, select')?.focus();
    }
  },
};

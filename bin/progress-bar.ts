/**
 * A one-line progress bar redrawn in place on a terminal stream. Callers
 * only create one when the stream is a TTY, so pipes and logs stay clean.
 */

const WIDTH = 30;
const REDRAW_MS = 100;

export class ProgressBar {
  private fraction = 0;
  private label = '';
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.timer = setInterval(() => this.draw(), REDRAW_MS);
    this.timer.unref();
  }

  /** Sets how far along the whole run is (0..1) and what is happening now. */
  update(fraction: number, label: string): void {
    this.fraction = Math.max(0, Math.min(1, fraction));
    this.label = label;
  }

  /** Erases the bar and stops redrawing. */
  done(): void {
    clearInterval(this.timer);
    this.stream.write('\r\x1b[K');
  }

  private draw(): void {
    const filled = Math.round(this.fraction * WIDTH);
    const bar = '#'.repeat(filled) + '-'.repeat(WIDTH - filled);
    const percent = String(Math.floor(this.fraction * 100)).padStart(3);
    this.stream.write(`\r\x1b[K[${bar}] ${percent}%  ${this.label}`);
  }
}

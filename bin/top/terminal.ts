/**
 * The terminal side of `pixl-ipc top`, with raw ANSI sequences: the
 * alternate screen (the shell's screen comes back on exit), a hidden cursor,
 * keys read one at a time, and redraws on resize. Everything is undone on
 * exit, whatever the exit path.
 */

export type KeyAction = 'quit' | 'next' | 'previous' | 'reverse' | 'focus';

const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';

/** Maps what a key press sends to an action (arrows arrive as escape sequences). */
export function keyAction(input: string): KeyAction | null {
  switch (input) {
    case 'q': case 'Q': case '\x03': case '\x04': return 'quit';
    case 's': case '>': case '.': case '\x1b[C': case '\x1bOC': return 'next';
    case 'S': case '<': case ',': case '\x1b[D': case '\x1bOD': return 'previous';
    case 'r': case 'R': return 'reverse';
    case '\t': case '\x1b[Z': return 'focus';
    default: return null;
  }
}

export class Screen {
  private active = false;
  private readonly restore = () => this.leave();

  constructor(private readonly output: NodeJS.WriteStream, private readonly input: NodeJS.ReadStream) {}

  get width(): number {
    return this.output.columns || 80;
  }

  get height(): number {
    return this.output.rows || 24;
  }

  /** Whether keys can be read (stdin is a terminal). */
  get interactive(): boolean {
    return this.input.isTTY === true;
  }

  /** Switches to the alternate screen; `onKey` gets each key action, `onResize` each size change. */
  enter(onKey: (action: KeyAction) => void, onResize: () => void): void {
    this.active = true;
    this.output.write(ENTER);
    process.on('exit', this.restore);
    this.output.on('resize', onResize);
    if (this.interactive) {
      this.input.setRawMode(true);
      this.input.setEncoding('utf8');
      this.input.on('data', (chunk: string) => {
        // A paste or a burst may bring several keys at once; escape sequences stay whole.
        for (const key of chunk.match(/\x1b\[[0-9;]*[A-Za-z~]|\x1bO[A-Za-z]|[\s\S]/g) ?? []) {
          const action = keyAction(key);
          if (action) onKey(action);
        }
      });
      this.input.resume();
    }
  }

  /** Replaces the screen's content with `lines` in one write (no flicker). */
  draw(lines: string[]): void {
    if (!this.active) return;
    this.output.write('\x1b[H' + lines.map((line) => line + '\x1b[K').join('\r\n') + '\x1b[J');
  }

  /** Back to the shell's screen, cursor shown, keys cooked. Safe to call twice. */
  leave(): void {
    if (!this.active) return;
    this.active = false;
    process.off('exit', this.restore);
    if (this.interactive) {
      this.input.setRawMode(false);
      this.input.pause();
    }
    this.output.write(LEAVE);
  }
}

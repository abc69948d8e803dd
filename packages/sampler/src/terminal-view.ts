// Live view of the denoising in a terminal: the current block is redrawn in place after every step
// (masks as a dim ░, tokens committed at this step in green, rewritten ones in yellow), and replaced
// by its final text when the block is done. Without a TTY it prints one line per step instead.
import type { DecodeEvent } from './events';

export interface ViewStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const DIM = '\x1b[2m';
const GREEN = '\x1b[1;32m';
const YELLOW = '\x1b[1;33m';
const RESET = '\x1b[0m';
export const MASK_GLYPH = '░';

/** Single-line form of a token's text: newlines and tabs shown as visible glyphs. */
export function visible(s: string): string {
  let out = '';
  for (const ch of s.replace(/\r\n/g, '\n')) {
    const c = ch.charCodeAt(0);
    // Control characters would move the cursor and break the in-place redraw.
    out += ch === '\n' ? '↵' : ch === '\t' ? '→' : c < 0x20 || c === 0x7f ? '·' : ch;
  }
  return out;
}

export interface RenderOptions {
  maskId: number;
  decodeToken: (id: number) => string;
  color: boolean;
}

/**
 * One line of text for a block state: `fresh` / `edited` are block indices to highlight.
 * Returns the string and its visible width (characters, ANSI codes excluded).
 */
export function renderBlock(
  canvas: ArrayLike<number>,
  fresh: ReadonlySet<number>,
  edited: ReadonlySet<number>,
  o: RenderOptions,
): { text: string; width: number } {
  let text = '';
  let width = 0;
  for (let i = 0; i < canvas.length; i++) {
    if (canvas[i] === o.maskId) {
      text += o.color ? `${DIM}${MASK_GLYPH}${RESET}` : MASK_GLYPH;
      width += 1;
      continue;
    }
    const s = visible(o.decodeToken(canvas[i]));
    width += [...s].length;
    const c = edited.has(i) ? YELLOW : fresh.has(i) ? GREEN : '';
    text += o.color && c ? `${c}${s}${RESET}` : s;
  }
  return { text, width };
}

/**
 * Draws decode events on a stream. On a TTY the block being denoised is rewritten in place after the
 * text already printed; at block_end the final text is printed. `writeText` is how final text gets
 * out (the caller may also be streaming it); the view only erases and redraws its live region.
 */
export class TerminalView {
  private column = 0; // cursor column after the final text printed so far
  private liveRows = 0; // rows below the start row that the live block occupies
  private liveShown = false;
  private skipPrefix = 0; // prompt-tail positions of the current block (already printed as prompt)

  constructor(
    private readonly out: ViewStream,
    private readonly o: RenderOptions,
  ) {}

  /** Tells the view where the cursor is after text printed by someone else (the prompt). */
  printed(text: string): void {
    const nl = text.lastIndexOf('\n');
    this.column = nl >= 0 ? [...text.slice(nl + 1)].length : this.column + [...text].length;
  }

  readonly listener = (e: DecodeEvent): void => this.onEvent(e);

  onEvent(e: DecodeEvent): void {
    if (e.type === 'block_start') {
      this.skipPrefix = e.fixed.reduce((n, f) => n + f, 0);
      this.draw(e.canvas, new Set(), new Set(), `block ${e.block} start`);
    } else if (e.type === 'step') {
      const fresh = new Set(e.committed.map((c) => c.index));
      const edited = new Set(e.rewritten.map((r) => r.index));
      this.draw(e.canvas, fresh, edited, `block ${e.block} step ${e.step} (${e.phase}, ${e.masked} masked)`);
    } else if (e.type === 'block_end') {
      this.erase();
    }
  }

  /** Erases the live block (call before printing final text). */
  erase(): void {
    if (!this.out.isTTY || !this.liveShown) return;
    this.out.write(this.home() + '\x1b[J');
    this.liveShown = false;
    this.liveRows = 0;
  }

  private home(): string {
    let s = this.liveRows > 0 ? `\x1b[${this.liveRows}A` : '';
    s += '\r';
    if (this.column > 0) s += `\x1b[${this.column}C`;
    return s;
  }

  private draw(canvas: Int32Array, fresh: Set<number>, edited: Set<number>, label: string): void {
    const shown = canvas.subarray(this.skipPrefix);
    const shift = (s: Set<number>) => new Set([...s].map((i) => i - this.skipPrefix));
    if (!this.out.isTTY) {
      const { text } = renderBlock(shown, shift(fresh), shift(edited), { ...this.o, color: false });
      this.out.write(`${label}: ${text}\n`);
      return;
    }
    const { text, width } = renderBlock(shown, shift(fresh), shift(edited), this.o);
    const cols = this.out.columns || 80; // 0 or unknown (e.g. a pty without a size): assume 80
    this.out.write((this.liveShown ? this.home() : '') + '\x1b[J' + text);
    this.liveShown = true;
    // Rows the cursor moved down: a line that exactly fills the width leaves the cursor pending on it.
    this.liveRows = Math.floor(Math.max(0, this.column + width - 1) / cols);
  }
}

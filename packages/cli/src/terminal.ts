/**
 * Text from the workspace made safe to print on a terminal, and measured as a terminal shows it.
 *
 * Anything an agent wrote (a title, a note, a name, an artifact's content) may hold bytes a
 * terminal obeys: ESC and CSI/OSC sequences (colour, cursor moves, OSC 52 clipboard writes,
 * OSC 8 hyperlinks), CR and other C0/C1 controls, bidi overrides and isolates that reorder
 * what is shown, zero-width and tag characters that hide text. {@link visible} shows each of
 * them as a `\uXXXX` escape instead — the same spelling JSON uses, so JSON text stays valid
 * JSON with the same strings after it.
 */

/**
 * The characters a terminal could act on or hide: C0 controls but newline and tab, DEL, C1
 * controls, every Unicode format character (bidi marks, overrides and isolates, zero-width
 * space/joiners, word joiner, invisible operators, BOM, Mongolian vowel separator, tags …),
 * the line and paragraph separators, unassigned tag code points, the invisible Hangul fillers,
 * and lone surrogates.
 */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters looked for
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\p{Cf}\u2028\u2029\u115f\u1160\u3164\uffa0\u{e0000}-\u{e007f}\p{Cs}]/gu;
const PICTOGRAPH = /\p{Extended_Pictographic}/u;
const ZWJ = '\u200d';

/** `\uXXXX` for one character (a pair of escapes beyond the BMP, as JSON writes them). */
function escapeChar(ch: string): string {
  let out = '';
  for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/**
 * `text` with every control and formatting character shown as `\uXXXX`. Newlines and tabs
 * stay (multi-line content reads as written); so does a zero-width joiner between two
 * pictographs, which only joins an emoji sequence (👩‍💻).
 *
 * @param options.oneLine - Show newline and tab as `\n` and `\t` too: for a value in one
 *   line or one table cell, which must not start another. Defaults to `false`.
 */
export function visible(text: string, options: { oneLine?: boolean } = {}): string {
  let out = text.replace(UNSAFE, (ch, at: number, whole: string) => {
    if (ch === ZWJ && joinsEmoji(whole, at)) return ch;
    return escapeChar(ch);
  });
  if (options.oneLine) out = out.replace(/[\n\t]/g, (c) => (c === '\n' ? '\\n' : '\\t'));
  return out;
}

/** Whether the joiner at `at` sits between two pictographs (skin tones and VS16 allowed before it). */
function joinsEmoji(text: string, at: number): boolean {
  let i = at;
  let cp = 0;
  do {
    const low = text.charCodeAt(i - 1);
    i -= low >= 0xdc00 && low <= 0xdfff && i >= 2 ? 2 : 1;
    cp = i >= 0 ? (text.codePointAt(i) ?? 0) : 0;
  } while (i > 0 && (cp === 0xfe0f || (cp >= 0x1f3fb && cp <= 0x1f3ff)));
  const next = text.codePointAt(at + 1) ?? 0;
  return PICTOGRAPH.test(String.fromCodePoint(cp)) && PICTOGRAPH.test(String.fromCodePoint(next));
}

/**
 * Code point ranges a terminal shows two columns wide (East Asian Wide and Fullwidth): Hangul
 * Jamo, CJK radicals to Yi, Hangul syllables, CJK compatibility, vertical and small forms,
 * fullwidth forms, and the supplementary ideographic planes.
 */
const WIDE: readonly [number, number][] = [
  [0x1100, 0x115f],
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x23f0, 0x23f0],
  [0x23f3, 0x23f3],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
];
const EMOJI_PRESENTATION = /\p{Emoji_Presentation}/u;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function wide(cp: number): boolean {
  let lo = 0;
  let hi = WIDE.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = WIDE[mid]!;
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return true;
  }
  return false;
}

/**
 * How many terminal columns `text` takes: each grapheme (a character with its combining
 * marks, or a whole emoji sequence) counts 2 when wide (CJK, fullwidth, emoji), 0 when only
 * combining or format characters, else 1. Colour codes count nothing.
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const { segment } of segmenter.segment(text)) {
    const cp = segment.codePointAt(0)!;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) continue;
    if (ZERO_WIDTH.test(segment)) continue;
    if (wide(cp) || EMOJI_PRESENTATION.test(String.fromCodePoint(cp)) || segment.includes('\ufe0f'))
      width += 2;
    else width += 1;
  }
  return width;
}

import { describe, expect, it } from 'vitest';
import { displayWidth, visible } from '../src/terminal.js';

describe('visible', () => {
  it.each([
    ['ESC and a CSI colour', 'a\u001b[31mred', 'a\\u001b[31mred'],
    ['an OSC 52 clipboard write', '\u001b]52;c;ZXZpbA==\u0007', '\\u001b]52;c;ZXZpbA==\\u0007'],
    ['CR, BEL and backspace', 'x\ry\u0007\u0008', 'x\\u000dy\\u0007\\u0008'],
    ['C1 controls (CSI, NEL)', '\u009b2J\u0085', '\\u009b2J\\u0085'],
    ['a bidi override and isolates', 'abc\u202edef\u2066\u2069', 'abc\\u202edef\\u2066\\u2069'],
    [
      'zero-width and invisible characters',
      '\u200b\u200c\u200f\u2060\u2064\ufeff\u180e',
      '\\u200b\\u200c\\u200f\\u2060\\u2064\\ufeff\\u180e',
    ],
    ['a tag character', 'a\u{e0041}', 'a\\udb40\\udc41'],
  ])('shows %s as \\u escapes', (_, text, shown) => {
    expect(visible(text)).toBe(shown);
  });

  it('keeps newlines and tabs in content, and shows them in one-line values', () => {
    expect(visible('one\n\ttwo')).toBe('one\n\ttwo');
    expect(visible('one\n\ttwo\r', { oneLine: true })).toBe('one\\n\\ttwo\\u000d');
  });

  it('keeps plain text, CJK, emoji and emoji joined by a zero-width joiner as they are', () => {
    for (const s of [
      'Launch post',
      'café',
      '漢字のタイトル',
      '🎉 done',
      '👩‍💻 and 👨‍👩‍👧',
      '✓ → ·',
    ])
      expect(visible(s)).toBe(s);
  });

  it('shows a zero-width joiner that joins no emoji', () => {
    expect(visible('pay\u200dpal')).toBe('pay\\u200dpal');
  });

  it('leaves JSON text valid JSON holding the same strings', () => {
    const value = { title: 'a\u202eb\u200b\u2028c\u{e0041}', note: 'x\u001by' };
    const json = visible(JSON.stringify(value));
    expect(json).not.toMatch(/[\u202e\u200b\u2028]/u);
    expect(JSON.parse(json)).toEqual(value);
  });
});

describe('displayWidth', () => {
  it.each([
    ['ASCII', 'abc', 3],
    ['CJK', '漢字', 4],
    ['Hangul', '한국', 4],
    ['fullwidth forms', 'ＡＢ', 4],
    ['an emoji', '🎉', 2],
    ['an emoji sequence joined by ZWJ', '👩‍💻', 2],
    ['a flag', '🇫🇷', 2],
    ['a heart with VS16', '❤️', 2],
    ['combining marks', 'e\u0301', 1],
    ['mixed', 'Plan 計画 🚀', 12],
  ])('counts %s as the terminal shows it', (_, text, width) => {
    expect(displayWidth(text)).toBe(width);
  });
});

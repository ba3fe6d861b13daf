/**
 * displayText over wide inputs: whatever AWS hands back (any code unit, lone surrogates included), the text a
 * person reads holds no control, bidi or zero-width character, is bounded, says what was cut, and leaves
 * safe printable text exactly as it was.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutMarker, displayText, isDisplaySafe, terminalJson } from '../../functions/domain/display-text.ts';

/** The code points the issue names: C0, DEL, C1, bidi marks/overrides/isolates, zero-width characters. */
const HOSTILE = [
  ...Array.from({ length: 0x20 }, (_, i) => i),
  0x7f,
  ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
  0x061c,
  0x200b,
  0x200c,
  0x200d,
  0x200e,
  0x200f,
  0x2028,
  0x2029,
  0x202a,
  0x202b,
  0x202c,
  0x202d,
  0x202e,
  0x2060,
  0x2066,
  0x2067,
  0x2068,
  0x2069,
  0xfeff,
  0xe0041,
];

function hostileIn(text: string): number[] {
  const found: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (HOSTILE.includes(cp) || (cp >= 0xd800 && cp <= 0xdfff)) found.push(cp);
  }
  return found;
}

/** No lone surrogate: every one is paired, so UTF-8 (SNS, Security Hub) can carry the text. */
const wellFormed = (text: string) => !/\p{Cs}/u.test(text);

/** Any UTF-16 units, weighted towards the hostile ones and lone surrogates. */
const anyText = fc
  .array(
    fc.oneof(
      fc.constantFrom(...HOSTILE).map((cp) => String.fromCodePoint(cp)),
      fc.constantFrom('\ud800', '\udfff', '\udbff', '\udc00'),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      fc.string(),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

/** Printable text in many scripts, emoji and astral characters included, none of them neutralised. */
const safeText = fc.string({ unit: 'grapheme' }).filter(isDisplaySafe);

describe('displayText', () => {
  it('never lets a control, bidi or zero-width character or a lone surrogate through', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const shown = displayText(text);
        expect(hostileIn(shown)).toEqual([]);
        expect(isDisplaySafe(shown)).toBe(true);
        // Valid Unicode: every surrogate is paired, so UTF-8 (SNS, Security Hub) can carry it.
        expect(wellFormed(shown)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('is bounded by max, and says how many characters it cut', () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: 0, max: 120 }), (text, max) => {
        const shown = displayText(text, { max });
        expect(shown.length).toBeLessThanOrEqual(max);
        expect(hostileIn(shown)).toEqual([]);
        expect(wellFormed(shown)).toBe(true);
        if (displayText(text).length <= max) expect(shown).toBe(displayText(text));
        else if (max >= cutMarker([...text].length).length)
          expect(shown).toMatch(/… \[\d+ more characters\]$/);
      }),
      { numRuns: 500 },
    );
  });

  it('is the identity on safe printable text within the bound', () => {
    fc.assert(
      fc.property(safeText, (text) => {
        expect(displayText(text)).toBe(text);
        expect(displayText(text, { max: text.length })).toBe(text);
      }),
    );
  });

  it('replaces rather than deletes: each neutralised character leaves a visible escape', () => {
    expect(displayText('a\x1b[2Jb')).toBe('a\\x1b[2Jb');
    expect(displayText('x\r\nall VPCs ENFORCED')).toBe('x\\x0d\\x0aall VPCs ENFORCED');
    expect(displayText('nul\0')).toBe('nul\\x00');
    expect(displayText('\u202egnp.exe')).toBe('\\u{202e}gnp.exe');
    expect(displayText('zero\u200bwidth\ufeff')).toBe('zero\\u{200b}width\\u{feff}');
    expect(displayText('c1\u009b31m')).toBe('c1\\x9b31m');
    expect(displayText('lone \ud800 surrogate')).toBe('lone \\u{d800} surrogate');
    expect(displayText('\x1b]8;;https://evil.example\x07click\x1b]8;;\x07')).toBe(
      '\\x1b]8;;https://evil.example\\x07click\\x1b]8;;\\x07',
    );
    expect(displayText('prod-vpc 🔒 zahlungsverkehr é')).toBe('prod-vpc 🔒 zahlungsverkehr é');
  });

  it('cuts a 1 MB value to its bound, without splitting an escape or a surrogate pair', () => {
    const shown = displayText('x'.repeat(1_000_000), { max: 200 });
    expect(shown.length).toBeLessThanOrEqual(200);
    expect(shown).toMatch(/^x+… \[\d+ more characters\]$/);
    const omitted = Number(/\[(\d+) more/.exec(shown)?.[1]);
    expect(shown.length - cutMarker(omitted).length + omitted).toBe(1_000_000);
    expect(displayText(`${'a'.repeat(20)}\x1b\x1b`, { max: 42 })).not.toMatch(/\\x1?$|\\$|\\x1b\\x1?…/);
    expect(wellFormed(displayText('😀'.repeat(100), { max: 60 }))).toBe(true);
  });
});

describe('terminalJson', () => {
  const value = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      anyText,
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('node'), { maxLength: 4 }),
      fc.dictionary(anyText, tie('node'), { maxKeys: 4 }),
    ),
  })).node;

  it('is the same JSON value, with nothing a terminal acts on outside its own line breaks', () => {
    fc.assert(
      fc.property(value, fc.constantFrom(undefined, 2), (v, space) => {
        const text = terminalJson(v, space);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
        expect(hostileIn(text).filter((cp) => cp !== 0x0a)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

import { quoteCharacterString, txtRdata } from './master-file-text';

describe('master-file character strings (RFC 1035 §5.1)', () => {
  it.each([
    ['plain text', 'v=spf1 -all', '"v=spf1 -all"'],
    ['empty', '', '""'],
    ['quote and backslash', 'say "hi" \\ bye', '"say \\"hi\\" \\\\ bye"'],
    ['CR LF and a directive after it', 'x\r\n$INCLUDE /etc/passwd', '"x\\013\\010$INCLUDE /etc/passwd"'],
    ['NUL, TAB and DEL', '\u0000\t\u007f', '"\\000\\009\\127"'],
    ['semicolon and parentheses stay inside the quotes', 'a;(b)', '"a;(b)"'],
    ['non-ASCII UTF-8 as octets', 'é', '"\\195\\169"'],
  ])('%s', (_label, value, expected) => {
    expect(txtRdata(value)).toBe(expected);
  });

  it('splits long values into 255-octet strings without breaking an escape', () => {
    const value = 'a'.repeat(254) + 'é' + 'b';
    expect(txtRdata(value)).toBe(`"${'a'.repeat(254)}\\195" "\\169b"`);
  });

  it('never writes a raw control character or an unescaped quote', () => {
    for (let b = 0; b < 256; b++) {
      const quoted = quoteCharacterString(Uint8Array.of(b));
      expect(quoted).toMatch(/^"(?:[\x20-\x21\x23-\x5b\x5d-\x7e]|\\["\\]|\\\d{3})"$/);
    }
  });
});

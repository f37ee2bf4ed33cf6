// node bench/lib/same-tokens.cjs DIR_A DIR_B : compares every .js file under DIR_A with the file of
// the same path under DIR_B as token streams (TypeScript's scanner; whitespace, line breaks and
// comments ignored, the text of every token, string literals included, compared exactly). Prints a
// JSON summary and exits 1 when a file is missing or its tokens differ.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

function files(dir, base = dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) files(p, base, out);
    else if (e.name.endsWith('.js')) out.push(path.relative(base, p));
  }
  return out.sort();
}

function tokens(text) {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, /* skipTrivia */ true, ts.LanguageVariant.Standard, text);
  const out = [];
  // Braces opened by `${` in a template literal: their `}` continues the template, which the
  // scanner reads only when asked to re-scan.
  const braces = [];
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if (kind === ts.SyntaxKind.OpenBraceToken) braces.push('{');
    else if (kind === ts.SyntaxKind.TemplateHead) braces.push('${');
    else if (kind === ts.SyntaxKind.CloseBraceToken) {
      if (braces.pop() === '${') {
        kind = scanner.reScanTemplateToken(false);
        if (kind === ts.SyntaxKind.TemplateMiddle) braces.push('${');
      }
    } else if (kind === ts.SyntaxKind.SlashToken || kind === ts.SyntaxKind.SlashEqualsToken) {
      // A slash after something that ends an expression divides; anywhere else it opens a regular expression.
      const prev = out[out.length - 1] ?? '';
      const endsExpression = /^([\w$)\]}'"`]|\d)/.test(prev) && !/^(return|typeof|case|do|else|in|of|new|delete|void|throw|instanceof|yield|await)$/.test(prev);
      if (!endsExpression) scanner.reScanSlashToken();
    }
    out.push(scanner.getTokenText());
  }
  return out;
}

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: same-tokens.cjs DIR_A DIR_B');
  process.exit(2);
}
const summary = { files: 0, byteIdentical: 0, sameTokens: 0, different: [], missing: [] };
for (const rel of files(a)) {
  summary.files++;
  const other = path.join(b, rel);
  if (!fs.existsSync(other)) {
    summary.missing.push(rel);
    continue;
  }
  const x = fs.readFileSync(path.join(a, rel), 'utf8');
  const y = fs.readFileSync(other, 'utf8');
  if (x === y) {
    summary.byteIdentical++;
    continue;
  }
  const tx = tokens(x);
  const ty = tokens(y);
  const i = tx.findIndex((t, k) => t !== ty[k]);
  if (i === -1 && tx.length === ty.length) summary.sameTokens++;
  else summary.different.push({ file: rel, token: i === -1 ? Math.min(tx.length, ty.length) : i, a: tx.slice(Math.max(0, i - 5), i + 5).join(' '), b: ty.slice(Math.max(0, i - 5), i + 5).join(' ') });
}
console.log(JSON.stringify(summary, null, 2));
process.exit(summary.different.length || summary.missing.length ? 1 : 0);

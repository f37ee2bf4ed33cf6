// Jest transformer: the tests run on the compiler's own output, not on a second transpiler's.
//
// test/global-setup.js compiles the whole project (tsconfig.json: src, test, migrations, bench)
// into dist/ with the same compiler and options as `npm run build`, before any test starts. For a
// .ts file Jest asks for, this hands back the JavaScript that compile emitted (dist/<path>.js) and
// its source map, so what the suite exercises is byte for byte what `npm start` and the image run:
// decorator metadata included, which Nest's dependency injection reads.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const DIST = path.join(ROOT, 'dist');
// Bump when the way output is produced changes, so Jest's transform cache is not reused across it.
const VERSION = '1';

function emitted(sourcePath) {
  const rel = path.relative(ROOT, sourcePath);
  const js = path.join(DIST, rel.replace(/\.ts$/, '.js'));
  let code;
  try {
    code = fs.readFileSync(js, 'utf8');
  } catch {
    throw new Error(
      `${rel} has no compiled output at ${path.relative(ROOT, js)}: is it inside tsconfig.json's "include", ` +
        'and did test/global-setup.js (the compile before the suite) run?',
    );
  }
  let map = null;
  try {
    map = JSON.parse(fs.readFileSync(js + '.map', 'utf8'));
  } catch {
    /* no map: stack traces show the emitted JavaScript's lines */
  }
  return { code, map };
}

module.exports = {
  canInstrument: false,

  getCacheKey(sourceText, sourcePath) {
    const { code, map } = emitted(sourcePath);
    return crypto
      .createHash('sha256')
      .update(VERSION)
      .update('\0')
      .update(sourcePath)
      .update('\0')
      .update(code)
      .update('\0')
      .update(map ? JSON.stringify(map) : '')
      .digest('hex');
  },

  process(sourceText, sourcePath) {
    const { code, map } = emitted(sourcePath);
    // Jest runs the code under the .ts file's own path, so the map's sources (written relative to
    // dist/) are made absolute, and the emitted sourceMappingURL comment (relative to dist/) goes.
    if (map) {
      map.sources = [sourcePath];
      delete map.sourceRoot;
    }
    return { code: code.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'), map };
  },
};

// Jest transformer, for two kinds of files.
//
// TypeScript: the tests run on the compiler's own output, not on a second transpiler's.
// test/global-setup.js compiles the whole project (tsconfig.json: src, test, migrations, bench)
// into dist/ with the same compiler and options as `npm run build`, before any test starts. For a
// .ts file Jest asks for, this hands back the JavaScript that compile emitted (dist/<path>.js) and
// its source map, so what the suite exercises is byte for byte what `npm start` and the image run:
// decorator metadata included, which Nest's dependency injection reads.
//
// ES modules in node_modules: NestJS 12 publishes its packages as ES modules only. Node (20.19+)
// lets our CommonJS require() them, but Jest on Node 20 cannot (it can from Node 24.9), so each
// JavaScript file that Node would load as an ES module ("type": "module" in its package.json, or
// .mjs) is turned into CommonJS with swc: import/export become require/exports, import() becomes
// a require() behind a promise, import.meta.url the file's URL. Every other file passes unchanged.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const DIST = path.join(ROOT, 'dist');
let swc = null; // loaded on first use: a run that meets no ES module never pays for it
// Bump when the way output is produced changes, so Jest's transform cache is not reused across it.
const VERSION = '2';

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

// Whether Node would load this .js/.mjs/.cjs file as an ES module: by extension, else by the
// "type" of the nearest package.json (none, or no "type": CommonJS). Cached per directory.
const typeOfDir = new Map();
function dirIsModule(dir) {
  const known = typeOfDir.get(dir);
  if (known !== undefined) return known;
  let result;
  const pkg = path.join(dir, 'package.json');
  if (fs.existsSync(pkg)) {
    try {
      result = JSON.parse(fs.readFileSync(pkg, 'utf8')).type === 'module';
    } catch {
      result = false;
    }
  } else {
    const parent = path.dirname(dir);
    result = parent === dir ? false : dirIsModule(parent);
  }
  typeOfDir.set(dir, result);
  return result;
}
function isEsModule(file) {
  if (file.endsWith('.mjs')) return true;
  if (file.endsWith('.cjs')) return false;
  return dirIsModule(path.dirname(file));
}

// Where Jest loads a file as an ES module itself (it asks with supportsStaticESM, which it does
// when Node lets it evaluate ES modules synchronously, 24.9+ with vm modules), it stays one.
function convertsToCommonJs(sourcePath, options) {
  return isEsModule(sourcePath) && !(options && options.supportsStaticESM);
}

function esmToCommonJs(sourceText, sourcePath) {
  swc ??= require('@swc/core');
  const out = swc.transformSync(sourceText, {
    filename: sourcePath,
    swcrc: false,
    configFile: false,
    isModule: true,
    sourceMaps: true,
    jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' },
    module: { type: 'commonjs', ignoreDynamic: false },
  });
  return { code: out.code, map: out.map ? JSON.parse(out.map) : null };
}

function hash(...parts) {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

module.exports = {
  canInstrument: false,

  getCacheKey(sourceText, sourcePath, options) {
    if (sourcePath.endsWith('.ts')) {
      const { code, map } = emitted(sourcePath);
      return hash(VERSION, 'ts', sourcePath, code, map ? JSON.stringify(map) : '');
    }
    const kind = convertsToCommonJs(sourcePath, options) ? `esm swc ${require('@swc/core/package.json').version}` : 'as-is';
    return hash(VERSION, kind, sourcePath, sourceText);
  },

  process(sourceText, sourcePath, options) {
    if (sourcePath.endsWith('.ts')) {
      const { code, map } = emitted(sourcePath);
      // Jest runs the code under the .ts file's own path, so the map's sources (written relative to
      // dist/) are made absolute, and the emitted sourceMappingURL comment (relative to dist/) goes.
      if (map) {
        map.sources = [sourcePath];
        delete map.sourceRoot;
      }
      return { code: code.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'), map };
    }
    if (convertsToCommonJs(sourcePath, options)) return esmToCommonJs(sourceText, sourcePath);
    return { code: sourceText };
  },
};

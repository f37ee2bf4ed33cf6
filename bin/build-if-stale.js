#!/usr/bin/env node
// npm start's prestart: runs `npm run build` only when something it compiles may have changed.
//
// A successful build leaves dist/.build-ok, dated when that build started. The build runs again
// when that file is missing (no build yet, or the last one failed: a type error keeps stopping
// `npm start` as before) or when anything the compiler reads is newer: a .ts file or a folder (a
// file added, removed or renamed) under src/, migrations/ or bench/, the tsconfig files,
// package.json or package-lock.json (another compiler or other type definitions). Otherwise it
// exits at once, where the compiler would still spend seconds finding that nothing changed.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const STAMP = path.join(ROOT, 'dist', '.build-ok');
const ENTRY = path.join(ROOT, 'dist', 'src', 'main.js');
const INPUT_DIRS = ['src', 'migrations', 'bench'];
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
const SKIP_DIRS = new Set([path.join(ROOT, 'bench', 'out')]);

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/** The newest modification time of a folder, its subfolders and the .ts files in them. */
function newestIn(dir) {
  let newest = mtime(dir);
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return newest;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(p)) newest = Math.max(newest, newestIn(p));
    } else if (e.name.endsWith('.ts')) {
      newest = Math.max(newest, mtime(p));
    }
  }
  return newest;
}

function newestInput() {
  let newest = -1;
  for (const d of INPUT_DIRS) newest = Math.max(newest, newestIn(path.join(ROOT, d)));
  for (const f of INPUT_FILES) newest = Math.max(newest, mtime(path.join(ROOT, f)));
  return newest;
}

// The native UDP addon (a no-op when it is up to date; never fails: DNS falls back to node:dgram).
spawnSync(process.execPath, [path.join(__dirname, 'build-native.js')], { cwd: ROOT, stdio: 'inherit' });

const stamp = mtime(STAMP);
if (stamp >= 0 && fs.existsSync(ENTRY) && newestInput() < stamp) process.exit(0);

fs.rmSync(STAMP, { force: true });
// The stamp is dated when the build starts, so a file saved while it runs is seen as newer next time.
const started = new Date();
const npm = process.env.npm_execpath;
const res = npm
  ? spawnSync(process.execPath, [npm, 'run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' })
  : spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
if (res.error) throw res.error;
if (res.status !== 0) process.exit(res.status ?? 1);
fs.writeFileSync(STAMP, '');
fs.utimesSync(STAMP, started, started);

#!/usr/bin/env node
// Builds the native addons of native/binding.gyp into native/build/Release/:
// - udp_batch.node lets the DNS server read and send datagrams in batches (src/dns/udp-batch.ts);
// - mapped_file.node maps the GeoIP database files read-only so every process shares their pages
//   (src/geo/mapped-file.ts);
// - cpu_slice.node asks the kernel for a short CPU slice for the threads that answer DNS
//   (src/common/cpu-slice.ts).
// Run by npm's `install` (so `npm ci` builds them), by `npm run build` and by `npm start`'s
// prestart.
//
// Linux only. Skipped when every addon is newer than their sources. It compiles against the headers
// of the running Node.js (npm's nodedir setting, else <prefix>/include/node), so nothing is
// downloaded. A missing toolchain (python3, make, a C compiler) or any other failure never fails
// the install: one line says why; DNS_UDP_IO=auto then uses node:dgram, the GeoIP database is
// read into each process's memory (fs.readFile), and the DNS threads keep the kernel's slice.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const DIR = path.join(ROOT, 'native');
const ADDONS = ['udp_batch.node', 'mapped_file.node', 'cpu_slice.node'].map((f) => path.join(DIR, 'build', 'Release', f));
const SOURCES = ['udp_batch.c', 'mapped_file.c', 'cpu_slice.c', 'errno_error.h', 'binding.gyp'].map((f) => path.join(DIR, f));

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

function skip(reason) {
  console.log(`georoute: native addons not built (${reason}); DNS over UDP will use node:dgram, the GeoIP database is read into memory, DNS threads keep the kernel's CPU slice`);
  process.exit(0);
}

if (process.platform !== 'linux') skip(`batched UDP needs Linux, this is ${process.platform}`);
if (SOURCES.some((f) => mtime(f) < 0)) skip('native/ sources missing');
const built = Math.min(...ADDONS.map(mtime));
if (built >= 0 && SOURCES.every((f) => mtime(f) <= built)) process.exit(0);

/** node-gyp: the one npm passes to scripts, else the one bundled with npm beside this Node.js. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  if (process.env.npm_execpath) candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => c && fs.existsSync(c)) ?? null;
}

const gyp = findNodeGyp();
if (gyp === null) skip('node-gyp not found (it comes with npm)');
// configure + build, not rebuild: a failed build must not delete an addon that is already there.
const args = [gyp, 'configure', 'build', `--directory=${DIR}`];
const ownHeaders = path.resolve(path.dirname(process.execPath), '..');
if (process.env.npm_config_nodedir) args.push(`--nodedir=${process.env.npm_config_nodedir}`);
else if (fs.existsSync(path.join(ownHeaders, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${ownHeaders}`);
const res = spawnSync(process.execPath, args, { cwd: DIR, encoding: 'utf8' });
if (res.error || res.status !== 0) {
  const out = `${res.error ? res.error.message : ''}\n${res.stderr ?? ''}\n${res.stdout ?? ''}`;
  // The most telling line: a missing tool or the compiler's first error.
  const line =
    out.split('\n').find((l) => /not found|No such file|Can't find Python|error:|ENOENT/i.test(l) && !/^gyp info/.test(l)) ??
    `node-gyp exited with ${res.status}`;
  skip(line.replace(/^(gyp ERR! )?(stack )?(Error: )?/, '').trim().slice(0, 300));
}
// make relinks only an addon whose own source changed; date both now so the check above holds.
const now = new Date();
for (const a of ADDONS) if (mtime(a) >= 0) fs.utimesSync(a, now, now);
console.log(`georoute: built the native addons ${ADDONS.map((a) => path.relative(ROOT, a)).join(', ')}`);

// CI step "Node.js floor". The container image runs the current Node.js LTS while CI runs the
// oldest release line package.json's "engines" allows (Node.js 20), so nothing may need a Node.js
// newer than that floor. This checks what can be checked without running an older Node:
//   1. this Node.js satisfies "engines" (CI tests a version we claim to support);
//   2. @types/node is of the floor's major: the type check that follows this script in .ci/run
//      then rejects any Node.js API added after that major (e.g. one new in Node.js 22);
//   3. the Dockerfile's Node.js major is one "engines" allows;
//   4. every installed package's own "engines" (recorded in package-lock.json) admits the floor
//      and the image's Node.js major, except the few listed below with the reason it does not
//      matter to us.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const semver = require('semver');

const ROOT = path.resolve(__dirname, '..');
// Packages whose declared Node.js range excludes the floor, and why that is safe.
const ALLOWED = {
  'file-type':
    '@nestjs/common imports it only inside FileTypeValidator (upload validation by magic number), which georoute does not use',
};

const problems = [];
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const range = pkg.engines && pkg.engines.node;
if (!range || !semver.validRange(range)) {
  console.error(`node-floor: package.json has no valid engines.node (${range})`);
  process.exit(1);
}
const floor = semver.minVersion(range);
console.log(`engines.node "${range}": floor ${floor}; running ${process.version}`);

if (!semver.satisfies(process.version, range)) problems.push(`this Node.js ${process.version} is outside engines.node "${range}"`);

const typesVersion = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/@types/node/package.json'), 'utf8')).version;
console.log(`@types/node ${typesVersion}`);
if (semver.major(typesVersion) !== floor.major) {
  problems.push(`@types/node ${typesVersion} is not of the floor's major ${floor.major}: the type check would allow newer APIs`);
}

const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const images = [...new Set([...dockerfile.matchAll(/^FROM\s+(node:\S+)/gm)].map((m) => m[1]))];
if (images.length === 0) problems.push('the Dockerfile names no node:<major> image');
const imageMajors = new Set();
for (const image of images) {
  const major = (image.match(/^node:(\d+)/) || [])[1];
  console.log(`Dockerfile: ${image}`);
  if (!major) problems.push(`Dockerfile image ${image} does not name a Node.js major`);
  else if (!semver.intersects(`^${major}`, range)) problems.push(`Dockerfile image ${image} is outside engines.node "${range}"`);
  else imageMajors.add(major);
}

const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
let checked = 0;
for (const [where, entry] of Object.entries(lock.packages || {})) {
  if (where === '' || !entry.engines || Array.isArray(entry.engines) || typeof entry.engines.node !== 'string') continue;
  const name = where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const wants = entry.engines.node;
  checked++;
  if (!semver.validRange(wants)) continue;
  const excluded = [];
  if (!semver.satisfies(floor, wants)) excluded.push(`the floor ${floor}`);
  for (const major of imageMajors) if (!semver.intersects(`^${major}`, wants)) excluded.push(`the image's Node.js ${major}`);
  if (excluded.length === 0) continue;
  if (ALLOWED[name]) console.log(`allowed: ${name}@${entry.version} wants node "${wants}": ${ALLOWED[name]}`);
  else problems.push(`${name}@${entry.version} (${where}) wants node "${wants}", which excludes ${excluded.join(' and ')}`);
}
console.log(`${checked} installed packages declare a Node.js range`);

if (problems.length) {
  for (const p of problems) console.error(`node-floor: ${p}`);
  process.exit(1);
}
console.log('node-floor: ok');

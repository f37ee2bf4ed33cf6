// Compiles the whole project (tsconfig.json: src, test, migrations, bench) into dist/ once before
// the suite, with the compiler `npm run build` uses. The tests run on that output
// (test/support/jest-transformer.js hands Jest the emitted JavaScript of each .ts file), the
// embedded database runs as a child process from dist/src/database/pglite-server.js, and the
// start-up tests run dist/src/main.js. The native UDP addon is built too when its sources changed. Type errors do not stop the tests here (tsc still emits);
// `npm run build` in CI is the type check.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  const root = path.resolve(__dirname, '..');
  const res = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript-7/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
  if (res.error) throw res.error;
  if (res.status !== 0) process.stderr.write(`\n(tsc reported type errors; tests run on the emitted JavaScript)\n${res.stdout}${res.stderr}`);
  // The native UDP addon, rebuilt when native/ changed (a no-op otherwise; never fails: without it
  // DNS runs on node:dgram and src/dns/udp-batch.spec.ts says so).
  const native = spawnSync(process.execPath, [path.join(root, 'bin', 'build-native.js')], { cwd: root, encoding: 'utf8' });
  if (native.stdout) process.stderr.write(native.stdout);
};

// Compiles the whole project (tsconfig.json: src, test, migrations, bench) into dist/ once before
// the suite, with the compiler `npm run build` uses. The tests run on that output
// (test/support/jest-transformer.js hands Jest the emitted JavaScript of each .ts file), the
// embedded database runs as a child process from dist/src/database/pglite-server.js, and the
// start-up tests run dist/src/main.js. Type errors do not stop the tests here (tsc still emits);
// `npm run build` in CI is the type check.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  const root = path.resolve(__dirname, '..');
  const res = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript-7/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
  if (res.error) throw res.error;
  if (res.status !== 0) process.stderr.write(`\n(tsc reported type errors; tests run on the emitted JavaScript)\n${res.stdout}${res.stderr}`);
};

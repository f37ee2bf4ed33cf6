// Preload (node -r bench/lib/profile-hook.cjs ...) that profiles a window chosen from outside:
// the first SIGWINCH starts V8's CPU profiler (the one behind node --cpu-prof), the second stops
// it and writes the profile to $CPU_PROFILE_OUT. SIGWINCH is ignored by default and is not one of
// the signals Nest's shutdown hooks act on (SIGUSR2 is). Lets a benchmark profile exactly its load run, not
// start-up. Benchmark tooling only; georoute itself does not handle SIGWINCH.
'use strict';
const inspector = require('node:inspector');
const fs = require('node:fs');

let session = null;
process.on('SIGWINCH', () => {
  if (session === null) {
    session = new inspector.Session();
    session.connect();
    session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 500 }, () => session.post('Profiler.start')));
    return;
  }
  const s = session;
  session = null;
  s.post('Profiler.stop', (err, result) => {
    const out = process.env.CPU_PROFILE_OUT || 'georoute.cpuprofile';
    if (!err) {
      fs.writeFileSync(`${out}.tmp`, JSON.stringify(result.profile));
      fs.renameSync(`${out}.tmp`, out); // appears complete or not at all
    }
    s.disconnect();
  });
});

import * as fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium package; playwright-core drives it (no browser download). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches headless Chromium with a fresh temporary profile (playwright-core makes one per launch
 * and deletes it on close). Throws, so the tests fail rather than skip, when Chromium is missing.
 */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} is missing: the dashboard test needs Debian's Chromium. Install it with ` +
        '`apt-get update && apt-get install -y chromium` (CI does this before npm test).',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, timeout: 30_000 });
}

// The headless browser of the browser tests (test/*.browser.test.ts): Debian's chromium package, which
// scripts/install.sh installs when it is missing, driven by playwright-core (a browser download does not work
// on the machines this is built on).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/** Fails at once, with what to do, when Chromium is not installed: a browser test must not pass without one. */
export function assertChromiumInstalled(): void {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the browser tests need it. Run scripts/install.sh as root, ` +
        'or: apt-get update && apt-get install -y chromium',
    );
}

export function launchChromium(): Promise<Browser> {
  assertChromiumInstalled();
  // No sandbox: CI and these machines run as root; /dev/shm is small in containers.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

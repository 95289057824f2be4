import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

/** Debian's `chromium` package, or CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless Chromium, driven by puppeteer-core (no browser download). Missing, it fails, saying
 * how to install it: a report nobody opened in a browser is not tested.
 */
export async function launchChromium(executablePath = CHROMIUM_PATH): Promise<Browser> {
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: install Debian's package (sudo apt-get install -y chromium; .ci/run does it when missing) or set CHROMIUM_PATH to a Chromium binary`);
  }
  return puppeteer.launch({
    executablePath,
    headless: true,
    // --no-sandbox: CI containers run as root; the page is our own file.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    protocolTimeout: 120_000,
    timeout: 60_000,
  });
}

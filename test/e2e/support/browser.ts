import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from '../../support/processes';

/** Debian's chromium, no browser download; flags keep it off the network and quiet in CI. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const SCREENSHOT_DIR = path.join(ROOT, 'test-output', 'screenshots');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** What a page did wrong while it ran: uncaught errors and Content-Security-Policy violations. */
export interface PageProblems {
  errors: string[];
  cspViolations(): Promise<string[]>;
  /** Sum of layout-shift scores since the last reset (the CLS metric, without the session windows). */
  layoutShift(): Promise<number>;
  resetLayoutShift(): Promise<void>;
}

type Window = {
  __csp: string[];
  __shift: number;
};

/** Watches a page from its first script on: CSP violations and layout shifts are recorded in the page. */
export async function watchPage(page: Page): Promise<PageProblems> {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.addInitScript(() => {
    const w = window as unknown as Window;
    w.__csp = [];
    w.__shift = 0;
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as unknown as { value: number; hadRecentInput: boolean }[]) {
        if (!entry.hadRecentInput) w.__shift += entry.value;
      }
    }).observe({ type: 'layout-shift', buffered: true });
  });
  return {
    errors,
    cspViolations: () => page.evaluate(() => (window as unknown as Window).__csp),
    layoutShift: () => page.evaluate(() => (window as unknown as Window).__shift),
    resetLayoutShift: () => page.evaluate(() => void ((window as unknown as Window).__shift = 0)),
  };
}

export const DOCS_IMAGE_DIR = path.join(ROOT, 'docs', 'images');

/**
 * The console as the README shows it (docs/images/, committed). Written when missing or when
 * UPDATE_DOCS_SCREENSHOTS=1 (after a change to the console), so ordinary runs leave the tree clean.
 */
export async function docsScreenshot(page: Page, name: string): Promise<boolean> {
  const file = path.join(DOCS_IMAGE_DIR, `${name}.png`);
  if (existsSync(file) && process.env.UPDATE_DOCS_SCREENSHOTS !== '1') return false;
  mkdirSync(DOCS_IMAGE_DIR, { recursive: true });
  await page.screenshot({ path: file });
  return true;
}

// Shared set-up for the console's browser tests: the app under test, a fresh
// organization per test, and Debian's Chromium driven by playwright-core.
//
// The app is found through the environment (run.sh starts `idp-sync-local`
// and fills it in; point it at `spin up` or any deployment the same way):
//   IDP_SYNC_URL, IDP_SYNC_OPERATOR_TOKEN, IDP_SYNC_TENANT_ID,
//   IDP_SYNC_CLIENT_ID, IDP_SYNC_CLIENT_SECRET, and IDP_SYNC_SIM_URL (optional:
//   the simulated tenant, whose fault knobs the progress test turns)
// IDP_SYNC_SCREENSHOTS=1 also writes docs/screenshots/*.png.

import { chromium } from 'playwright-core';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through tests/browser/run.sh`);
  return value;
};

export const baseUrl = () => env('IDP_SYNC_URL').replace(/\/$/, '');
export const tenant = () => ({
  tenant_id: env('IDP_SYNC_TENANT_ID'),
  client_id: env('IDP_SYNC_CLIENT_ID'),
  client_secret: env('IDP_SYNC_CLIENT_SECRET'),
});

const SCREENSHOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');
export const screenshotsWanted = process.env.IDP_SYNC_SCREENSHOTS === '1';
/** How long a click, a navigation or a wait for an element may take. */
export const ACTION_TIMEOUT_MS = 60_000;

/** Calls the API directly (for set-up the test is not about). */
export async function api(method, urlPath, { token, body } = {}) {
  const response = await fetch(`${baseUrl()}${urlPath}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(`${method} ${urlPath}: ${response.status} ${text}`);
  return data;
}

/**
 * Posts `body` to the simulated tenant's admin endpoint `/_sim/{what}`;
 * returns false (and does nothing) when the tenant is not the simulator.
 */
async function simPost(what, body) {
  const sim = process.env.IDP_SYNC_SIM_URL;
  if (!sim) return false;
  const response = await fetch(`${sim.replace(/\/$/, '')}/_sim/${what}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`simulator ${what}: ${response.status} ${await response.text()}`);
  return true;
}

/** Sets fault-injection knobs of the simulated tenant (`POST /_sim/faults`). */
export const simFaults = (knobs) => simPost('faults', knobs);

/** Applies data changes to the simulated tenant (`POST /_sim/changes`: one operation or an array). */
export const simChanges = (changes) => simPost('changes', changes);

let orgCount = 0;
/** A new organization: `{ id, token }`. */
export async function createOrg(name = `Test org ${++orgCount}`) {
  const data = await api('POST', '/api/v1/orgs', { token: env('IDP_SYNC_OPERATOR_TOKEN'), body: { name } });
  const { org } = data;
  return { id: org.id, name, token: data.admin_token };
}

/** Connects the demo tenant to `org` through the API; returns the directory id. */
export async function connectTenant(org, name = 'Contoso Entra ID') {
  const data = await api('POST', `/api/v1/orgs/${org.id}/directories`, { token: org.token, body: { name, ...tenant() } });
  return data.directory.id;
}

/** A browser with a fresh profile; `close()` removes the profile too. */
export async function launchBrowser() {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'idp-sync-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
  });
  // Generous: the suite also runs on small CI machines busy compiling Rust.
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  return {
    context,
    async page(viewport) {
      const page = await context.newPage();
      if (viewport) await page.setViewportSize(viewport);
      const errors = [];
      page.on('pageerror', (error) => errors.push(error));
      // Server-side failures explain most test failures: show them in the test output.
      page.on('response', async (response) => {
        if (response.status() >= 500) {
          console.error(`# ${response.request().method()} ${response.url()} -> ${response.status()} ${await response.text().catch(() => '')}`);
        }
      });
      page.errors = errors;
      return page;
    },
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Opens the console and signs in with the org's admin token. */
export async function signIn(page, org) {
  await page.goto(`${baseUrl()}/`);
  await page.getByLabel('Admin token').fill(org.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Writes docs/screenshots/<name>.png when screenshots are wanted. */
export async function screenshot(page, name) {
  if (!screenshotsWanted) return;
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

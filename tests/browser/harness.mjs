// Helpers for browser tests: free ports, child processes, local OIDC provider,
// Chromium (Debian's, via playwright-core), axe-core checks, OIDC dev login.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import axe from 'axe-core';

const here = fileURLToPath(new URL('.', import.meta.url));
const running = new Set(); // child processes and browsers to clean up

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Spawn `cmd args` and resolve once its stdout matches `readyPattern`.
 * Resolves { proc, match, output(), stop() }; rejects (with all output so far)
 * if the process exits first or after `timeoutMs`. stdout+stderr are collected;
 * set env BROWSER_TEST_VERBOSE=1 to also echo them.
 */
export function startProcess(cmd, args = [], { env = {}, readyPattern, cwd, timeoutMs = 30_000 } = {}) {
  // Own process group, so stop() also reaches grandchildren (e.g. `cargo run` -> binary).
  const proc = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let stdout = '';
  const output = () => out;
  const verbose = process.env.BROWSER_TEST_VERBOSE;
  const handle = { proc, output, stop: () => stopProcess(proc) };
  running.add(handle);
  return new Promise((resolve, reject) => {
    let ready = false;
    const done = (match) => { ready = true; clearTimeout(timer); resolve({ ...handle, match }); };
    const fail = (why) => {
      if (ready) return;
      clearTimeout(timer);
      handle.stop();
      reject(new Error(`${cmd} ${args.join(' ')}: ${why}\n--- output ---\n${out}`));
    };
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    proc.stdout.on('data', (d) => {
      out += d; stdout += d;
      if (verbose) process.stderr.write(d);
      if (ready || !readyPattern) return;
      // Only complete lines, so a URL split across two chunks is not matched half-way.
      const match = stdout.slice(0, stdout.lastIndexOf('\n') + 1).match(readyPattern);
      if (match) done(match);
    });
    proc.stderr.on('data', (d) => { out += d; if (verbose) process.stderr.write(d); });
    proc.on('error', (e) => fail(`spawn failed: ${e.message}`));
    proc.on('exit', (code, sig) => { running.delete(handle); fail(`exited (code ${code}, signal ${sig}) before ready`); });
    if (!readyPattern) done(null);
  });
}

function stopProcess(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = (sig) => { try { process.kill(-proc.pid, sig); } catch { /* already gone */ } };
    const hard = setTimeout(() => kill('SIGKILL'), 3000);
    proc.once('exit', () => { clearTimeout(hard); resolve(); });
    kill('SIGTERM');
  });
}

/** Stop every process and browser started through this module. Use as `after(stopAll)`. */
export async function stopAll() {
  const all = [...running];
  running.clear();
  await Promise.all(all.map((h) => h.stop().catch(() => {})));
}

// Safety net: never leave children behind when the test process exits.
process.on('exit', () => {
  for (const h of running) if (h.proc) try { process.kill(-h.proc.pid, 'SIGKILL'); } catch { /* gone */ }
});

/**
 * Start oidc-provider.mjs on a free port. `redirect`: callback URL (or array of them);
 * `postLogoutRedirect`: same for RP-initiated logout; `host`: default 127.0.0.1.
 * Returns { issuer, port, stop, output }. Client: paraaf / paraaf-test-secret-0123456789.
 */
export async function startOidc({ redirect, postLogoutRedirect, host, port } = {}) {
  port ??= await freePort();
  const join = (v) => [v ?? []].flat().join(' ');
  const env = { OIDC_PORT: String(port), OIDC_REDIRECT: join(redirect), OIDC_POST_LOGOUT_REDIRECT: join(postLogoutRedirect) };
  if (host) env.OIDC_HOST = host;
  const p = await startProcess(process.execPath, [`${here}oidc-provider.mjs`], {
    env, readyPattern: /oidc provider listening on (http:\/\/\S+)/,
  });
  return { issuer: p.match[1], port, stop: p.stop, output: p.output };
}

/** Headless Debian Chromium (env CHROMIUM overrides the path). Closed by stopAll(). */
export async function launchBrowser(options = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // No calls home (update, sync, QUIC, field trials): the machine has no network for them.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ...options,
  });
  const handle = { stop: () => browser.close() };
  running.add(handle);
  browser.on('disconnected', () => running.delete(handle));
  return browser;
}

/**
 * Run axe-core on the current page; return violations of impact serious/critical
 * as [{ id, impact, help, targets: [selector, ...] }] (so: assert.deepEqual(v, [])).
 * axe is injected with page.evaluate (DevTools Runtime.evaluate), which a page's
 * CSP `script-src 'self'` does not block, so no bypassCSP context is needed
 * (page.addScriptTag would insert an inline <script>, which that CSP blocks).
 * `options` go to axe.run (e.g. { rules: { 'color-contrast': { enabled: false } } }).
 */
export async function axeSerious(page, options = {}) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(`${axe.source}\n;undefined`);
  }
  return page.evaluate(async (opts) => {
    const { violations } = await window.axe.run(document, opts);
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  }, options);
}

/**
 * Complete the provider's dev interactions: the page must be on (or heading to)
 * its login form. Fills `login` (becomes the `sub`) and any password, submits,
 * confirms consent if asked, and waits until the browser has left the provider.
 */
export async function oidcLogin(page, login, { password = 'any-password', timeout = 15_000 } = {}) {
  try {
    await page.locator('input[name="login"]').waitFor({ timeout });
    const op = new URL(page.url()).origin;
    const left = (url) => url.origin !== op;
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', password);
    await page.click('button[type="submit"]');
    // Consent form (same /interaction/<uid> URL) unless a grant already exists.
    const consent = page.locator('form:has(input[name="prompt"][value="consent"]) button[type="submit"]');
    await Promise.race([page.waitForURL(left, { timeout }), consent.waitFor({ timeout })]);
    if (!left(new URL(page.url()))) {
      await consent.click();
      await page.waitForURL(left, { timeout });
    }
  } catch (e) {
    const body = await page.locator('body').innerText({ timeout: 1000 }).catch(() => '');
    e.message += `\n at ${page.url()}\n${body.slice(0, 1500)}`;
    throw e;
  }
}

// The signers' web app in a real browser (Debian's Chromium through playwright-core):
// `paraaf serve --demo examples/aalst` with the development login, and once through a
// local OpenID Connect provider. What the issue asks, as a signer would do it, plus
// axe-core on every page and a phone-sized screen.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startProcess, startOidc, launchBrowser, axeSerious, oidcLogin, stopAll } from '../harness.mjs';

const here = import.meta.dirname;
const root = path.resolve(here, '../../..');
const bin = process.env.PARAAF_BIN || path.join(root, 'target/debug/paraaf');
const shots = process.env.SCREENSHOTS || path.join(here, '../screenshots');
fs.mkdirSync(shots, { recursive: true });

// Demo documents (seeded in this order, written d-1..d-16 here; their real ids are random
// and `serve --demo` lists them: `demo document N: ID TITLE`, read by `doc(N)`): d-1..d-12
// college decisions at the mayor's and the general director's signature, d-13 laptops
// (12 000 EUR), d-14 chairs (4 000 EUR), d-15 a performance review of Jan Cools, d-16 a
// social-service file.
function demoDocs(output) {
  const ids = {};
  for (const m of output.matchAll(/^demo document (\d+): (\S+)/gm)) ids[m[1]] = m[2];
  assert.equal(Object.keys(ids).length, 16, output);
  return (n) => ids[n];
}
async function serve(extra = [], env = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paraaf-web-'));
  const port = await freePort();
  const p = await startProcess(bin, ['serve', '--demo', path.join(root, 'examples/aalst'),
    '--db', path.join(dir, 'demo.db'), '--addr', `127.0.0.1:${port}`, ...extra], {
    env: { PARAAF_LOG: 'warn', ...env },
    readyPattern: /web app: (http:\/\/\S+)/,
  });
  return { base: `http://127.0.0.1:${port}`, port, stop: p.stop, output: p.output, doc: demoDocs(p.output()) };
}

let browser;
before(async () => { browser = await launchBrowser(); });
after(stopAll);

async function signIn(context, base, person) {
  const page = await context.newPage();
  await page.goto(`${base}/app`);
  assert.match(page.url(), /\/app\/login$/);
  await page.selectOption('#person', person);
  await page.click('#dev-login');
  await page.waitForURL(`${base}/app`);
  return page;
}

async function noSerious(page, what) {
  assert.deepEqual(await axeSerious(page), [], `axe on ${what}`);
}

async function signOut(page) {
  await page.click('#logout');
  await page.waitForURL(/\/app\/login\?bye=1$/);
}

describe('signing in the browser', () => {
  let app;
  before(async () => { app = await serve(); });

  test('English on request, usable on a phone, screenshots for the README (first: nothing signed yet)', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await signIn(ctx, app.base, 'ruben-van-damme');
    await page.screenshot({ path: path.join(shots, 'inbox.png') });
    await page.goto(`${app.base}/app/documents/${app.doc(5)}`);
    // Chromium's PDF viewer draws the content a moment after the page loads.
    await page.waitForTimeout(2500);
    await page.screenshot({ path: path.join(shots, 'document.png'), fullPage: true });
    await page.goto(`${app.base}/app/documents`);
    await noSerious(page, 'my documents');
    await page.click('a[hreflang="en"]');
    await page.waitForURL(`${app.base}/app/documents`);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.match(await page.textContent('h1'), /Documents/);
    await ctx.close();
    const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const small = await signIn(phone, app.base, 'ruben-van-damme');
    for (const url of ['/app', `/app/documents/${app.doc(5)}`, '/app/absences']) {
      await small.goto(`${app.base}${url}`);
      const wide = await small.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= 376, `${url} is ${wide}px wide on a 375px screen`);
      await noSerious(small, `${url} on a phone`);
    }
    await small.goto(`${app.base}/app`);
    await small.screenshot({ path: path.join(shots, 'inbox-phone.png') });
    await phone.close();
  });

  test('a head of service signs; the financial visum appears only above 8 500 EUR', async () => {
    const ctx = await browser.newContext();
    const page = await signIn(ctx, app.base, 'dirk-lambert');
    await noSerious(page, 'the inbox');
    for (const id of [`${app.doc(13)}`, `${app.doc(14)}`]) {
      await page.goto(`${app.base}/app/documents/${id}`);
      await noSerious(page, `document ${id}`);
      await page.click('#sign');
      assert.match(await page.textContent('#question'), /ondertekenen\?/);
      await noSerious(page, 'the confirmation');
      await page.click('#confirm');
      await page.waitForURL(`${app.base}/app`);
      assert.match(await page.textContent('.flash'), /^Ondertekend: /);
    }
    await page.goto(`${app.base}/app/documents/${app.doc(13)}`);
    const laptops = await page.textContent('#route');
    assert.match(laptops, /visum\s+financieel-directeur: wacht op Griet Vermeulen/);
    await page.goto(`${app.base}/app/documents/${app.doc(14)}`);
    const chairs = await page.textContent('#route');
    assert.match(chairs, /visum\s+niet nodig/);
    assert.doesNotMatch(chairs, /Griet Vermeulen/);
    assert.match(await page.textContent('#history'), /Ondertekend door Dirk Lambert/);
    await ctx.close();
  });

  test('the mayor is absent and his substitute signs for him', async () => {
    const ctx = await browser.newContext();
    let page = await signIn(ctx, app.base, 'ruben-van-damme');
    await page.goto(`${app.base}/app/absences`);
    await noSerious(page, 'the absences');
    assert.match(await page.textContent('#takes-over'), /Als burgemeester: Jan Desmet/);
    const today = new Date().toISOString().slice(0, 10);
    const later = new Date(Date.now() + 14 * 86400e3).toISOString().slice(0, 10);
    await page.fill('#from', today);
    await page.fill('#to', later);
    await page.click('#add-absence');
    await page.click('#confirm');
    await page.waitForURL(`${app.base}/app/absences`);
    assert.match(await page.textContent('.flash'), /afwezigheid is opgeslagen/);
    assert.equal((await page.locator('#absences li').count()), 1);
    await signOut(page);
    page = await signIn(ctx, app.base, 'jan-desmet');
    const row = page.locator(`tr[data-doc="${app.doc(12)}"]`);
    assert.match(await row.textContent(), /voor Ruben Van Damme/);
    await row.locator('a').click();
    assert.match(await page.textContent('#my-task'), /voor Ruben Van Damme/);
    await page.click('#sign');
    await page.click('#confirm');
    await page.waitForURL(`${app.base}/app`);
    assert.match(await page.textContent('.flash'), /^Ondertekend: /);
    await page.goto(`${app.base}/app/documents/${app.doc(12)}`);
    assert.match(await page.textContent('#route'), /ondertekend door Jan Desmet voor Ruben Van Damme/);
    await ctx.close();
  });

  test('a colleague cannot open a performance review', async () => {
    const ctx = await browser.newContext();
    const page = await signIn(ctx, app.base, 'eline-dubois');
    const res = await page.goto(`${app.base}/app/documents/${app.doc(15)}`);
    assert.equal(res.status(), 404);
    assert.match(await page.textContent('#error-message'), /bestaat niet, of u mag het niet zien/);
    await noSerious(page, 'the 404 page');
    const missing = await page.goto(`${app.base}/app/documents/d-4711`);
    assert.equal(missing.status(), 404);
    await ctx.close();
  });

  test('the general director cannot open a social-service file, not even by its URL', async () => {
    const ctx = await browser.newContext();
    const page = await signIn(ctx, app.base, 'hans-de-backer');
    for (const url of [`/app/documents/${app.doc(16)}`, `/app/documents/${app.doc(16)}/content`]) {
      const res = await page.goto(`${app.base}${url}`);
      assert.equal(res.status(), 404, url);
      assert.doesNotMatch(await page.content(), /Leefloon|SD-2026-0117/);
    }
    await page.goto(`${app.base}/app/documents?scope=visible&q=leefloon`);
    assert.match(await page.textContent('#count'), /^0 documenten/);
    await ctx.close();
    // Inside the social service the same URL opens.
    const inside = await browser.newContext();
    const coach = await signIn(inside, app.base, 'dirk-claes');
    const res = await coach.goto(`${app.base}/app/documents/${app.doc(16)}`);
    assert.equal(res.status(), 200);
    assert.match(await coach.textContent('#doc-title'), /Leefloon/);
    await inside.close();
  });

  test('bulk signing of 10 documents', async () => {
    const ctx = await browser.newContext();
    const page = await signIn(ctx, app.base, 'hans-de-backer');
    const boxes = page.locator('input[name="doc"]');
    assert.ok((await boxes.count()) >= 10);
    for (let i = 0; i < 10; i += 1) await boxes.nth(i).check();
    await page.click('#bulk-sign');
    assert.match(await page.textContent('#question'), /deze 10 documenten/);
    assert.equal(await page.locator('.details li').count(), 10);
    await page.click('#confirm');
    await page.waitForURL(`${app.base}/app`);
    assert.match(await page.textContent('.flash'), /10 documenten ondertekend/);
    await ctx.close();
  });

  test('forms without the session token, and cross-site posts, are refused', async () => {
    const ctx = await browser.newContext();
    const page = await signIn(ctx, app.base, 'ruben-van-damme');
    const forged = await page.request.post(`${app.base}/app/documents/${app.doc(3)}/sign`, {
      form: { confirm: 'yes', idem: 'x', csrf: 'forged' },
    });
    assert.equal(forged.status(), 403);
    assert.match(await forged.text(), /Het formulier is verlopen/);
    const cross = await page.request.post(`${app.base}/app/documents/${app.doc(3)}/sign`, {
      form: { confirm: 'yes', idem: 'y', csrf: 'forged' }, headers: { origin: 'https://evil.example' },
    });
    assert.equal(cross.status(), 403);
    await page.goto(`${app.base}/app/documents/${app.doc(3)}`);
    // Nothing was signed (the mayor is away since an earlier test: his substitute waits).
    assert.match(await page.textContent('#route'), /burgemeester: wacht op /);
    await ctx.close();
  });

  test('the login page is accessible and keyboard-first', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${app.base}/app/login`);
    await noSerious(page, 'the login page');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
    await ctx.close();
  });
});

test('a session expires after the idle time', async () => {
  const app = await serve(['--session-idle', '2']);
  const ctx = await browser.newContext();
  const page = await signIn(ctx, app.base, 'ruben-van-damme');
  await new Promise((r) => setTimeout(r, 3000));
  await page.reload();
  assert.match(page.url(), /\/app\/login\?expired=1$/);
  assert.match(await page.textContent('#login-message'), /Uw sessie is verlopen/);
  await ctx.close();
  await app.stop();
});

test('sign in through the city identity provider (OpenID Connect)', async () => {
  const port = await freePort();
  const oidc = await startOidc({ redirect: `http://127.0.0.1:${port}/app/auth/callback` });
  const secret = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paraaf-oidc-')), 'secret');
  fs.writeFileSync(secret, 'paraaf-test-secret-0123456789\n');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paraaf-web-'));
  const app = await startProcess(bin, ['serve', '--db', path.join(dir, 'oidc.db'),
    '--demo', path.join(root, 'examples/aalst'), '--addr', `127.0.0.1:${port}`,
    '--oidc-issuer', oidc.issuer, '--oidc-client-id', 'paraaf', '--oidc-client-secret-file', secret,
    '--oidc-claim', 'preferred_username'], { env: { PARAAF_LOG: 'warn' }, readyPattern: /web app: (http:\/\/\S+)/ });
  const base = `http://127.0.0.1:${port}`;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${base}/app`);
  await page.click('#oidc-login');
  await oidcLogin(page, 'ruben-van-damme');
  await page.waitForURL(`${base}/app`);
  assert.match(await page.textContent('#signed-in-as'), /Ruben Van Damme/);
  assert.match(await page.textContent('#count'), /12 taken/);
  // Someone the provider knows but the organogram does not: refused with the reason.
  const other = await browser.newContext();
  const p2 = await other.newPage();
  await p2.goto(`${base}/app/login`);
  await p2.click('#oidc-login');
  await oidcLogin(p2, 'onbekende-gebruiker');
  await p2.waitForURL(/\/app\/login\?error=/);
  assert.match(await p2.textContent('#login-message'), /hoort bij niemand in het organogram/);
  await ctx.close();
  await other.close();
  await app.stop();
  await oidc.stop();
});

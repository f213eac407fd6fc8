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
    assert.match(laptops, /visum\s+Financieel Directeur: wacht op Griet Vermeulen/);
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
    assert.match(await page.textContent('#takes-over'), /Als Burgemeester: Jan Desmet/);
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
    assert.match(await page.textContent('#route'), /Burgemeester: wacht op /);
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

// Issue #26 (item 4): the web app on the runtime's clock and in the city's words, and the
// usability findings, each as a signer meets it.
describe('on the runtime clock, in the city words', () => {
  let app;
  // Nine days after the demo's documents arrived, on the server's own clock (`--now`): the
  // college decisions' five workdays have passed (their escalation after ten not yet).
  const month = new Date(Date.now() + 9 * 86400e3);
  before(async () => { app = await serve(['--now', month.toISOString()]); });

  test('overdue tasks say so in words, on the server clock, in Brussels dates', async () => {
    const ctx = await browser.newContext();
    const page = await signIn(ctx, app.base, 'ruben-van-damme');
    const rows = page.locator('#inbox tbody tr');
    assert.equal(await rows.count(), 12);
    for (let i = 0; i < 12; i += 1) {
      const due = rows.nth(i).locator('td').last();
      assert.match(await due.textContent(), /^\d\d\/\d\d\/\d{4} \(Te laat\)$/);
    }
    await page.selectOption('#f-due', 'overdue');
    await page.click('.filters button');
    assert.match(await page.textContent('#count'), /^12 taken/);
    // The first day an absence may start is the server's day.
    await page.goto(`${app.base}/app/absences`);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Brussels' }).format(month);
    assert.equal(await page.getAttribute('#from', 'value'), today);
    await noSerious(page, 'the absences on the server clock');
    await ctx.close();
  });

  test('roles, amounts and names as the city writes them', async () => {
    const ctx = await browser.newContext();
    const page = await signIn(ctx, app.base, 'dirk-lambert');
    await page.goto(`${app.base}/app/documents/${app.doc(13)}`);
    assert.match(await page.textContent('#my-task'), /^U tekent als Diensthoofd Bevolking$/);
    const fields = (await page.textContent('#fields')).replace(/\u00a0/g, ' ');
    assert.match(fields, /€ 12 000,00/);
    assert.match(fields, /Bevolking/);
    assert.doesNotMatch(fields, /bevolking|12000/);
    const inbox = await signIn(await browser.newContext(), app.base, 'hans-de-backer');
    assert.match(await inbox.textContent('#inbox'), /Algemeen Directeur/);
    assert.doesNotMatch(await inbox.textContent('#inbox'), /algemeen-directeur/);
    await ctx.close();
  });

  test('a stale confirmation, a bulk failure and an unknown page answer in Dutch', async () => {
    const ctx = await browser.newContext();
    const first = await signIn(ctx, app.base, 'ruben-van-damme');
    // Two tabs open the same confirmation; the first signs.
    const second = await ctx.newPage();
    for (const tab of [first, second]) {
      await tab.goto(`${app.base}/app/documents/${app.doc(1)}`);
      await tab.click('#sign');
    }
    await first.click('#confirm');
    await first.waitForURL(`${app.base}/app`);
    const [stale] = await Promise.all([
      second.waitForResponse((r) => r.request().method() === 'POST'),
      second.click('#confirm'),
    ]);
    await second.waitForLoadState();
    assert.equal(stale.status(), 403);
    assert.equal(await second.getAttribute('html', 'lang'), 'nl');
    const said = await second.textContent('#error-message');
    assert.match(said, /u hebt geen open taak \(meer\)/);
    assert.doesNotMatch(said, /not allowed/);
    await noSerious(second, 'the refusal page');
    // Bulk: one of the two was signed meanwhile in another tab.
    await first.goto(`${app.base}/app`);
    await first.check(`#sel-${app.doc(2)}`);
    await first.check(`#sel-${app.doc(3)}`);
    await first.click('#bulk-sign');
    await second.goto(`${app.base}/app/documents/${app.doc(2)}`);
    await second.click('#sign');
    await second.click('#confirm');
    await first.click('#confirm');
    await first.waitForURL(`${app.base}/app`);
    const flash = await first.textContent('.flash');
    assert.match(flash, /1 document ondertekend/);
    assert.match(flash, /Niet ondertekend: .*u hebt geen open taak \(meer\)/);
    assert.doesNotMatch(flash, /not allowed/);
    const nope = await first.goto(`${app.base}/app/geen/pagina`);
    assert.equal(nope.status(), 404);
    assert.match(await first.textContent('h1'), /Pagina niet gevonden/);
    assert.doesNotMatch(await first.textContent('main'), /Dit document bestaat niet/);
    await ctx.close();
  });

  test('a link to a document survives signing in; the session cookie is __Host-', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const target = `${app.base}/app/documents/${app.doc(13)}`;
    await page.goto(target);
    assert.match(page.url(), /\/app\/login$/);
    await page.selectOption('#person', 'dirk-lambert');
    await page.click('#dev-login');
    await page.waitForURL(target);
    assert.match(await page.textContent('#doc-title'), /laptops/);
    const cookies = await ctx.cookies(app.base);
    const session = cookies.find((c) => c.name.includes('paraaf_session'));
    assert.equal(session.name, '__Host-paraaf_session');
    assert.equal(session.path, '/');
    assert.ok(session.secure && session.httpOnly);
    assert.ok(!cookies.some((c) => c.name === 'paraaf_next'), 'the kept link is used once');
    // Only pages of the app: a link elsewhere, slipped into the cookie, goes to the inbox.
    const other = await browser.newContext();
    await other.addCookies([{ name: 'paraaf_next', value: '//evil.example/x', url: `${app.base}/app` }]);
    const p2 = await signIn(other, app.base, 'dirk-lambert');
    assert.equal(p2.url(), `${app.base}/app`);
    await other.close();
    await ctx.close();
  });

  test('on a phone: select all shown and usable, tap targets of 24 px', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const page = await signIn(phone, app.base, 'hans-de-backer');
    const all = page.locator('#select-all');
    assert.ok(await all.isVisible(), 'select all is shown on a phone');
    for (const box of await page.locator('input[type="checkbox"]').all()) {
      const b = await box.boundingBox();
      assert.ok(b && b.width >= 24 && b.height >= 24, `a ${b && b.width}×${b && b.height} checkbox`);
    }
    await all.tap();
    const boxes = page.locator('input[name="doc"]');
    const n = await boxes.count();
    assert.ok(n > 0);
    for (let i = 0; i < n; i += 1) assert.ok(await boxes.nth(i).isChecked());
    // Keyboard focus reaches only what is shown.
    for (let i = 0; i < 40; i += 1) {
      await page.keyboard.press('Tab');
      const hidden = await page.evaluate(() => {
        const e = document.activeElement;
        const r = e.getBoundingClientRect();
        return e !== document.body && (r.width === 0 || r.height === 0 || e.closest('[hidden]') !== null);
      });
      assert.ok(!hidden, 'focus on something not shown');
    }
    await noSerious(page, 'the inbox on a phone');
    await phone.close();
    // Without scripts the select-all box is not there to focus at all.
    const noscript = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 375, height: 740 } });
    const p2 = await signIn(noscript, app.base, 'hans-de-backer');
    assert.ok(!(await p2.locator('#select-all').isVisible()));
    await noscript.close();
  });

  test('Documenten opens on what the mayor may see', async () => {
    const ctx = await browser.newContext();
    const page = await signIn(ctx, app.base, 'ruben-van-damme');
    await page.click('nav a[href="/app/documents"]');
    await page.waitForURL(`${app.base}/app/documents`);
    assert.doesNotMatch(await page.textContent('#count'), /^0 /);
    assert.ok((await page.locator('#documents tbody tr').count()) > 0);
    assert.equal(await page.getAttribute('.tabs a[aria-current="page"]', 'href'), '/app/documents?scope=visible');
    await noSerious(page, 'Documenten');
    await ctx.close();
  });
});

// Issue #26 (items 1 and 6): an absence entered ahead of time takes effect while the server
// runs. The server's clock is a test clock the test moves (`--test-clock-token-file`,
// `POST /test/clock`): no restart, no sleeping through a night.
describe('an absence set in advance, with the server keeping time', () => {
  let app;
  const token = 'browser-test-clock';
  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paraaf-clock-'));
    const file = path.join(dir, 'clock-token');
    fs.writeFileSync(file, token);
    app = await serve(['--test-clock-token-file', file]);
  });

  const brusselsDate = (d) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Brussels' }).format(d);
  // The instant `seconds` after midnight at the start of `date` (YYYY-MM-DD) in Brussels.
  function brusselsMidnight(date, seconds) {
    const guess = new Date(`${date}T00:00:00Z`);
    const offset = new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Brussels', timeZoneName: 'shortOffset' })
      .formatToParts(guess).find((p) => p.type === 'timeZoneName').value; // "GMT+1"
    const hours = Number(offset.replace('GMT', '') || 0);
    return new Date(guess.getTime() - hours * 3600e3 + seconds * 1000);
  }
  async function moveClock(when) {
    const res = await fetch(`${app.base}/test/clock`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ now: when.toISOString() }),
    });
    assert.equal(res.status, 200, await res.text());
  }
  async function substituteRow(ctx) {
    const page = await signIn(ctx, app.base, 'jan-desmet');
    const rows = await page.locator(`tr[data-doc="${app.doc(12)}"]`).count();
    await signOut(page);
    await page.close();
    return rows;
  }

  test('the substitute takes over at midnight in Brussels, without a restart', async () => {
    const ctx = await browser.newContext();
    const tomorrow = brusselsDate(new Date(Date.now() + 86400e3));
    const later = brusselsDate(new Date(Date.now() + 15 * 86400e3));
    const page = await signIn(ctx, app.base, 'ruben-van-damme');
    await page.goto(`${app.base}/app/absences`);
    await page.fill('#from', tomorrow);
    await page.fill('#to', later);
    await page.click('#add-absence');
    await page.click('#confirm');
    await page.waitForURL(`${app.base}/app/absences`);
    assert.match(await page.textContent('.flash'), /afwezigheid is opgeslagen/);
    await noSerious(page, 'an absence in advance');
    await signOut(page);
    // Today the mayor still signs himself.
    assert.equal(await substituteRow(ctx), 0, 'the substitute has the task before the absence starts');
    await moveClock(brusselsMidnight(tomorrow, -30));
    assert.equal(await substituteRow(ctx), 0, 'the substitute has the task at 23:59:30');
    // Half a minute after midnight in Brussels the substitute holds the mayor's tasks.
    await moveClock(brusselsMidnight(tomorrow, 30));
    const sub = await signIn(ctx, app.base, 'jan-desmet');
    const row = sub.locator(`tr[data-doc="${app.doc(12)}"]`);
    assert.match(await row.textContent(), /voor Ruben Van Damme/);
    await ctx.close();
  });
});

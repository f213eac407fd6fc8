// Proves the browser-test infrastructure without Paraaf: Chromium, axe-core under
// a strict CSP, and an OIDC authorization-code round trip via the local provider.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import { freePort, startOidc, launchBrowser, axeSerious, oidcLogin, stopAll } from '../harness.mjs';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; frame-ancestors 'none'";
const CLIENT = { id: 'paraaf', secret: 'paraaf-test-secret-0123456789' };
const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>${title}</title></head><body><main>${body}</main></body></html>`;
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const b64json = (s) => JSON.parse(Buffer.from(s, 'base64url').toString());

let rp; let base; let oidc; let browser;
const pending = new Map(); // state -> { nonce, verifier }

// Minimal relying party, the way `paraaf serve` will do it.
async function handle(req, res) {
  const url = new URL(req.url, base);
  const send = (status, html, headers = {}) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP, ...headers });
    res.end(html);
  };
  const discovery = () => fetch(`${oidc.issuer}/.well-known/openid-configuration`).then((r) => r.json());
  switch (url.pathname) {
    case '/good': // the inline script must be blocked by the CSP
      return send(200, page('Good', `<h1>Good page</h1><p id="csp">inline scripts blocked</p>
        <script>document.getElementById('csp').textContent = 'INLINE SCRIPT RAN'</script>
        <form><label for="who">Name</label><input id="who" name="who"><button>Send</button></form>
        <a href="/login">Log in</a>`));
    case '/bad':
      return send(200, page('Bad', '<h1>Bad page</h1><img src="/x.png"><form><input name="q"></form>'));
    case '/login': {
      const d = await discovery();
      const state = crypto.randomBytes(16).toString('base64url');
      const nonce = crypto.randomBytes(16).toString('base64url');
      const verifier = crypto.randomBytes(32).toString('base64url');
      pending.set(state, { nonce, verifier });
      const auth = new URL(d.authorization_endpoint);
      auth.search = new URLSearchParams({
        client_id: CLIENT.id, redirect_uri: `${base}/callback`, response_type: 'code',
        scope: 'openid profile email', state, nonce,
        code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      });
      return send(302, '', { location: auth.href });
    }
    case '/callback': {
      const p = pending.get(url.searchParams.get('state'));
      if (!p) return send(400, page('Error', '<h1>unknown state</h1>'));
      pending.delete(url.searchParams.get('state'));
      const d = await discovery();
      const tok = await fetch(d.token_endpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}` },
        body: new URLSearchParams({
          grant_type: 'authorization_code', code: url.searchParams.get('code'),
          redirect_uri: `${base}/callback`, code_verifier: p.verifier,
        }),
      }).then((r) => r.json());
      if (!tok.id_token) return send(502, page('Error', `<h1>token error</h1><pre>${esc(JSON.stringify(tok))}</pre>`));
      // Verify the RS256 signature against the provider's JWKS, then iss/aud/nonce.
      const [h, b, sig] = tok.id_token.split('.');
      const { keys } = await fetch(d.jwks_uri).then((r) => r.json());
      const jwk = keys.find((k) => k.kid === b64json(h).kid);
      const ok = crypto.verify('RSA-SHA256', Buffer.from(`${h}.${b}`), crypto.createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(sig, 'base64url'));
      const claims = b64json(b);
      if (!ok || claims.iss !== oidc.issuer || claims.aud !== CLIENT.id || claims.nonce !== p.nonce) {
        return send(502, page('Error', '<h1>bad id token</h1>'));
      }
      return send(200, page('Signed in', `<h1>Signed in</h1><p>sub: <span id="sub">${esc(claims.sub)}</span></p>
        <p>email: <span id="email">${esc(claims.email)}</span></p>`));
    }
    default:
      return send(404, page('Not found', '<h1>Not found</h1>'));
  }
}

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  rp = http.createServer((req, res) => handle(req, res).catch((e) => { res.statusCode = 500; res.end(String(e.stack)); }));
  await new Promise((r) => rp.listen(port, '127.0.0.1', r));
  [oidc, browser] = await Promise.all([startOidc({ redirect: `${base}/callback` }), launchBrowser()]);
});

after(async () => {
  rp?.closeAllConnections();
  rp?.close();
  await stopAll();
});

test('Chromium opens a page served with a strict CSP', async () => {
  const p = await browser.newPage();
  const res = await p.goto(`${base}/good`);
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['content-security-policy'], CSP);
  assert.equal(await p.title(), 'Good');
  assert.equal(await p.textContent('#csp'), 'inline scripts blocked');
  await p.close();
});

test('axeSerious: [] for a well-formed page, violations for a broken one', async () => {
  const p = await browser.newPage(); // no bypassCSP: injection works despite the CSP
  await p.goto(`${base}/good`);
  assert.deepEqual(await axeSerious(p), []);
  await p.goto(`${base}/bad`);
  const v = await axeSerious(p);
  const ids = v.map((x) => x.id);
  assert.ok(ids.includes('image-alt'), JSON.stringify(v));
  assert.ok(ids.includes('label'), JSON.stringify(v));
  assert.deepEqual(v.find((x) => x.id === 'image-alt').targets, ['img']);
  await p.close();
});

test('OIDC authorization-code round trip through the local provider', async () => {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  await p.goto(`${base}/good`);
  await p.click('text=Log in');
  await oidcLogin(p, 'ruben-van-damme');
  assert.match(p.url(), new RegExp(`^${base}/callback\\?`));
  assert.equal(await p.textContent('#sub'), 'ruben-van-damme');
  assert.equal(await p.textContent('#email'), 'ruben-van-damme@aalst.example');
  // A second login in the same context reuses the provider session: no form shown.
  await p.goto(`${base}/login`);
  await p.waitForURL(new RegExp(`^${base}/callback`));
  assert.equal(await p.textContent('#sub'), 'ruben-van-damme');
  await ctx.close();
});

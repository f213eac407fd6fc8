// Local OpenID Connect provider for browser tests (plain http on 127.0.0.1).
//   OIDC_PORT=4010 OIDC_REDIRECT=http://127.0.0.1:18080/app/auth/callback node oidc-provider.mjs
// Port may also be argv[2]. OIDC_REDIRECT may list several URIs (comma/space separated).
// Optional: OIDC_POST_LOGOUT_REDIRECT (same format), OIDC_HOST (default 127.0.0.1;
// e.g. 127.0.0.2 makes the provider cross-site to an app on 127.0.0.1).
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT || process.argv[2]);
if (!port) throw new Error('set OIDC_PORT (or pass the port as first argument)');
const list = (v) => (v || '').split(/[\s,]+/).filter(Boolean);
const redirectUris = list(process.env.OIDC_REDIRECT);
if (!redirectUris.length) throw new Error('set OIDC_REDIRECT to the relying party callback URL');

const host = process.env.OIDC_HOST || '127.0.0.1';
const issuer = `http://${host}:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'paraaf',
    client_secret: 'paraaf-test-secret-0123456789',
    redirect_uris: redirectUris,
    post_logout_redirect_uris: list(process.env.OIDC_POST_LOGOUT_REDIRECT),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // Registered as client_secret_basic; the token endpoint accepts client_secret_post too.
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  // Any login name becomes the subject; the dev login form accepts any password.
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, name: sub, email: `${sub}@aalst.example`, preferred_username: sub };
      },
    };
  },
  scopes: ['openid', 'profile', 'email'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
  },
  // Put the scope claims in the ID token too (default: only via userinfo).
  conformIdTokenClaims: false,
  // PKCE: optional for this confidential client; when sent it must be S256.
  pkce: { required: () => false },
  features: {
    devInteractions: { enabled: true }, // built-in login + consent pages
  },
  cookies: {
    // Cookies ignore ports: provider and app share the host 127.0.0.1, so use names
    // the app will not use (defaults are `_session`, `_interaction`, `_interaction_resume`).
    names: { session: '_op_session', interaction: '_op_interaction', resume: '_op_resume' },
    // Keys => signed cookies (`<name>.sig`); without keys they are unsigned (works too).
    keys: ['paraaf-oidc-test-cookie-key'],
    // Leave long/short at their defaults (httpOnly, sameSite 'lax', no `secure`): over
    // http ctx.secure is false, and forcing `secure: true` makes koa throw
    // "Cannot send secure cookie over unencrypted connection".
  },
});
// No reverse proxy in front: leave provider.proxy = false (X-Forwarded-* ignored).

// Dev-only warnings (in-memory adapter, dev keys, devInteractions) go to stderr; fine for tests.
provider.listen(port, host, () => {
  console.log(`oidc provider listening on ${issuer}`);
});

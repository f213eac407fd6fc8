//! Sign-in through the city's identity provider: OpenID Connect authorization code flow
//! with PKCE and a nonce, through the `openidconnect` crate. The provider is discovered
//! once at start (`/.well-known/openid-configuration`); the ID token's signature,
//! issuer, audience, expiry and nonce are checked by the crate. A claim of the token
//! (`email` by default) names the person in the organogram.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};

/// How the server reaches the identity provider.
#[derive(Clone, Debug)]
pub struct OidcConfig {
    /// The issuer, e.g. `https://login.microsoftonline.com/<tenant>/v2.0`.
    pub issuer: String,
    /// This app's client id at the provider.
    pub client_id: String,
    /// This app's client secret.
    pub client_secret: String,
    /// Where the provider sends the browser back: `<public address>/app/auth/callback`.
    pub redirect_url: String,
    /// The claim naming the person: `email` (matched to the organogram's e-mail
    /// addresses), `preferred_username` or `sub` (matched to person ids).
    pub claim: String,
}

/// What the provider said about who signed in.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    /// `sub`.
    pub subject: String,
    /// `email`, if given.
    pub email: Option<String>,
    /// `preferred_username`, if given.
    pub preferred_username: Option<String>,
}

/// A discovered provider.
pub struct Oidc {
    config: OidcConfig,
    metadata: CoreProviderMetadata,
    http: ureq::Agent,
}

/// A sign-in to start: send the browser to `url`; keep `state`, `nonce`, `verifier`.
pub struct Start {
    /// The provider's authorization URL.
    pub url: String,
    /// The `state` parameter (also bound to the browser by a cookie).
    pub state: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier.
    pub verifier: String,
}

impl Oidc {
    /// Discovers the provider (blocking; at start).
    pub fn discover(config: OidcConfig) -> Result<Oidc, String> {
        // No redirects: the provider's endpoints are called as discovered, nowhere else.
        let http = ureq::AgentBuilder::new()
            .redirects(0)
            .timeout(std::time::Duration::from_secs(10))
            .build();
        let issuer = IssuerUrl::new(config.issuer.clone())
            .map_err(|e| format!("the issuer `{}` is not a URL: {e}", config.issuer))?;
        let metadata = CoreProviderMetadata::discover(&issuer, &http).map_err(|e| {
            format!(
                "cannot discover the identity provider at {}: {e}",
                config.issuer
            )
        })?;
        RedirectUrl::new(config.redirect_url.clone())
            .map_err(|e| format!("the redirect URL is not a URL: {e}"))?;
        Ok(Oidc {
            config,
            metadata,
            http,
        })
    }

    /// The claim that names the person.
    pub fn claim(&self) -> &str {
        &self.config.claim
    }

    fn client(
        &self,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        String,
    > {
        Ok(CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        )
        .set_redirect_uri(
            RedirectUrl::new(self.config.redirect_url.clone()).map_err(|e| e.to_string())?,
        ))
    }

    /// Starts a sign-in.
    pub fn start(&self) -> Result<Start, String> {
        let client = self.client()?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Start {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        })
    }

    /// Finishes a sign-in (blocking): exchanges `code`, checks the ID token.
    pub fn finish(&self, code: &str, nonce: &str, verifier: &str) -> Result<Identity, String> {
        let client = self.client()?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| e.to_string())?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()))
            .request(&self.http)
            .map_err(|e| format!("the provider refused the code: {e}"))?;
        let id_token = token.id_token().ok_or("the provider gave no ID token")?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(nonce.to_string()))
            .map_err(|e| format!("the ID token is not valid: {e}"))?;
        Ok(Identity {
            subject: claims.subject().as_str().to_string(),
            email: claims.email().map(|e| e.as_str().to_string()),
            preferred_username: claims.preferred_username().map(|u| u.as_str().to_string()),
        })
    }
}

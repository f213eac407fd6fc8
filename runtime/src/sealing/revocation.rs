//! Long-term validation of seals (PAdES B-LT, B-LTA; #28): the `[seal.revocation]`
//! settings and the HTTP client that fetches CRLs at sealing time (and for
//! `paraaf verify` when a file holds none).

use paraaf_seal::revocation::Fetch;
use serde::Deserialize;
use std::io::Read;
use std::time::Duration;

/// How long a CRL download may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The largest CRL accepted (a city CA's CRL is kilobytes; a QTSP's a few megabytes).
const MAX_CRL: u64 = 32 * 1024 * 1024;

/// `[seal.revocation]` in the seal configuration: embed the revocation data of the
/// seal's and the TSA's certificates (B-LT) and close the file with a document time
/// stamp (B-LTA).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationSection {
    /// Fetch the CRLs and embed them in a DSS (default true when the table is present).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// CRL URLs to use instead of the distribution points the certificates name.
    #[serde(default)]
    pub crl_urls: Vec<String>,
    /// Add a document time stamp after the DSS (B-LTA; needs `tsa_url`; default true).
    #[serde(default = "yes")]
    pub archive_timestamp: bool,
}

fn yes() -> bool {
    true
}

/// Fetches CRLs over HTTP(S) with the runtime's client (ureq, as the TSA client).
pub struct HttpFetch;

impl Fetch for HttpFetch {
    fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        let agent = ureq::AgentBuilder::new().timeout(TIMEOUT).build();
        let resp = agent
            .get(url)
            .set("Accept", "application/pkix-crl")
            .call()
            .map_err(|e| format!("{url} is unreachable: {e}"))?;
        let mut body = Vec::new();
        resp.into_reader()
            .take(MAX_CRL)
            .read_to_end(&mut body)
            .map_err(|e| format!("{url}: {e}"))?;
        Ok(body)
    }
}

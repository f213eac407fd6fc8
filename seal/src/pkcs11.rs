//! The seal's key on a PKCS#11 token (a city's HSM; SoftHSM2 in tests), through the
//! `cryptoki` crate: the key never leaves the token, which signs with CKM_SHA256_RSA_PKCS.
//! The certificate chain comes from a PEM file (tokens often hold only the key).

use crate::SealError;
use crate::keys::SealKey;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use std::path::Path;
use std::sync::Mutex;
use x509_cert::Certificate;

/// A seal key on a PKCS#11 token.
pub struct Pkcs11Key {
    session: Mutex<Session>,
    key: ObjectHandle,
    chain: Vec<Certificate>,
    // Kept alive as long as the session.
    _context: Pkcs11,
}

fn p11(what: &'static str) -> impl Fn(cryptoki::error::Error) -> SealError {
    move |e| SealError::Key(format!("PKCS#11 {what}: {e}"))
}

impl Pkcs11Key {
    /// Opens the token labelled `token` through the PKCS#11 `module` (a `.so`), logs in
    /// with `pin`, and finds the private key labelled `key_label`; `chain_pem` holds the
    /// seal's certificate first, then its issuers.
    pub fn open(
        module: &Path,
        token: &str,
        key_label: &str,
        pin: &str,
        chain_pem: &[u8],
    ) -> Result<Pkcs11Key, SealError> {
        let chain = Certificate::load_pem_chain(chain_pem)
            .map_err(|e| SealError::Key(format!("the seal's certificate chain (PEM): {e}")))?;
        if chain.is_empty() {
            return Err(SealError::Key(
                "the seal's certificate chain is empty".into(),
            ));
        }
        let context = Pkcs11::new(module).map_err(|e| {
            SealError::Key(format!(
                "cannot load the PKCS#11 module {}: {e}",
                module.display()
            ))
        })?;
        // A second key from the same module in one process finds it initialised already.
        match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(())
            | Err(cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::CryptokiAlreadyInitialized,
                _,
            )) => {}
            Err(e) => return Err(p11("initialize")(e)),
        }
        let slot = context
            .get_slots_with_token()
            .map_err(p11("slots"))?
            .into_iter()
            .find(|s| {
                context
                    .get_token_info(*s)
                    .is_ok_and(|i| i.label().trim() == token)
            })
            .ok_or_else(|| SealError::Key(format!("no PKCS#11 token labelled `{token}`")))?;
        let session = context.open_ro_session(slot).map_err(p11("session"))?;
        // Logins are per application: a second session of this process is logged in.
        match session.login(UserType::User, Some(&AuthPin::new(pin.into()))) {
            Ok(())
            | Err(cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::UserAlreadyLoggedIn,
                _,
            )) => {}
            Err(e) => return Err(p11("login (check the PIN)")(e)),
        }
        let key = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Label(key_label.as_bytes().to_vec()),
            ])
            .map_err(p11("find the key"))?
            .into_iter()
            .next()
            .ok_or_else(|| {
                SealError::Key(format!(
                    "no private key labelled `{key_label}` on token `{token}`"
                ))
            })?;
        Ok(Pkcs11Key {
            session: Mutex::new(session),
            key,
            chain,
            _context: context,
        })
    }
}

impl SealKey for Pkcs11Key {
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    fn sign_sha256(&self, data: &[u8]) -> Result<Vec<u8>, SealError> {
        let session = self
            .session
            .lock()
            .map_err(|_| SealError::Key("the PKCS#11 session is unusable".into()))?;
        session
            .sign(&Mechanism::Sha256RsaPkcs, self.key, data)
            .map_err(p11("sign"))
    }
}

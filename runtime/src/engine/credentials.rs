//! Which credential still counts for a person who left and came back. A bearer token
//! carries the number of times its person had returned when it was issued (`pf_…` for
//! none, `pf_r2_…` after a second return); the fold counts returns per HR key
//! ([`OrgInForce::returns`](super::OrgInForce::returns)). A token from before the person
//! left therefore stays refused when their key comes back: `paraaf admin token add`
//! issues them a new one. The count is covered by the token's hash, so it cannot be
//! changed without the token becoming unknown.

use super::State;

/// The start of a new token for someone who has come back `returns` times: `pf_`, or
/// `pf_r{returns}_` after a return.
pub fn token_prefix(returns: u32) -> String {
    if returns == 0 {
        "pf_".to_string()
    } else {
        format!("pf_r{returns}_")
    }
}

/// The return count a token was issued under (see [`token_prefix`]); 0 for a token
/// without one (issued before any return, or written by hand).
pub fn token_returns(token: &str) -> u32 {
    token
        .strip_prefix("pf_r")
        .and_then(|rest| rest.split_once('_'))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0)
}

impl State {
    /// How many times `person` (an id in force, or renamed to one) came back after
    /// leaving; 0 before any organogram is in force.
    pub fn returns_of(&self, person: &str) -> u32 {
        let Some(o) = &self.organogram else {
            return 0;
        };
        o.identities
            .get(person)
            .and_then(|who| o.returns.get(who))
            .copied()
            .unwrap_or(0)
    }

    /// The id the bearer of `token`, issued to `person`, acts as now ([`State::person_now`]),
    /// or `None`: the person left, or left and came back after the token was issued (a
    /// token is revoked for good at the deployment that removes its person).
    pub fn token_holder(&self, person: &str, token: &str) -> Option<String> {
        let now = self.person_now(person)?;
        (token_returns(token) == self.returns_of(&now)).then_some(now)
    }
}

#[cfg(test)]
mod tests {
    use super::{token_prefix, token_returns};

    #[test]
    fn a_token_tells_the_return_count_it_was_issued_under() {
        assert_eq!(token_returns(&format!("{}ab12", token_prefix(0))), 0);
        assert_eq!(token_returns(&format!("{}ab12", token_prefix(3))), 3);
        assert_eq!(token_returns("pf_0123456789abcdef"), 0);
        assert_eq!(token_returns("pf_rx_ab"), 0);
        assert_eq!(token_returns("a plain token of an operator"), 0);
    }
}

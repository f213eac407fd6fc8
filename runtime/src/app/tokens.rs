//! `paraaf admin token add` as a service: a new bearer token for a person in the
//! organogram in force (or for a monitoring system), kept in the tokens file only as its
//! SHA-256 hash.

use super::AppError;
use crate::engine::State;
use std::path::Path;

/// `Ok` with how many times `person` came back after leaving (their token carries it,
/// `engine::credentials`) when they are in the organogram in force in `state` (the
/// store `shown`: a file's path, or a city on PostgreSQL as messages name it); otherwise
/// why not, and what to do. Nothing is written.
pub fn person_in_force(state: &State, shown: &str, person: &str) -> Result<u32, AppError> {
    let Some(org) = &state.organogram else {
        return Err(AppError::Input(format!(
            "nothing is deployed in {shown} yet: deploy the project first (`paraaf deploy`); a token is for a person in its organogram"
        )));
    };
    let refused = match state.person_now(person) {
        Some(now) if now == person => return Ok(state.returns_of(person)),
        Some(now) => format!(
            "`{person}` is `{now}` now (the same person under a new id, organogram version {}); give the token to `{now}`",
            org.version
        ),
        None if org.identities.contains_key(person) => format!(
            "`{person}` is not in the organogram in force (organogram version {}): they left, so they get no token (and their tokens stopped working); nothing was written",
            org.version
        ),
        None => format!(
            "`{person}` is not a person in the organogram in force (organogram version {}); check the id (`paraaf org diff` lists people); nothing was written",
            org.version
        ),
    };
    Err(AppError::Input(refused))
}

/// Gives `name` a new token in the tokens file `tokens` (created when missing; readable
/// by its owner only): under `[tokens]` for a person, `[monitoring]` for a monitoring
/// system. A previous token of `name` stops working. `returns`: how many times the
/// person came back after leaving ([`person_in_force`]; 0 for a monitoring system).
/// Returns the token, which is kept nowhere.
pub fn add(
    tokens: &Path,
    name: &str,
    monitoring: bool,
    returns: u32,
    city: Option<&str>,
) -> Result<String, AppError> {
    let kind = if monitoring { "monitoring" } else { "tokens" };
    let random = crate::checkpoint::random_bytes()?;
    let token = format!(
        "{}{}",
        crate::engine::credentials::token_prefix(returns),
        crate::sha256_hex(&random)
    );
    let text = std::fs::read_to_string(tokens).unwrap_or_default();
    let mut table: toml::Table = toml::from_str(&text).map_err(|e| {
        AppError::Input(format!(
            "{} is not a tokens file: {}",
            tokens.display(),
            e.message()
        ))
    })?;
    // A city in PostgreSQL binds the file to it (`city = "…"`): `paraaf serve --city`
    // refuses a tokens file of another city.
    if let Some(city) = city {
        check_city(
            tokens,
            table.get("city").and_then(|c| c.as_str()),
            city,
            true,
        )
        .map_err(AppError::Input)?;
        table.insert("city".into(), toml::Value::String(city.to_string()));
    }
    let section = table
        .entry(kind)
        .or_insert_with(|| toml::Value::Table(Default::default()));
    let Some(section) = section.as_table_mut() else {
        return Err(AppError::Input(format!(
            "{}: `{kind}` is not a table",
            tokens.display()
        )));
    };
    section.insert(
        name.to_string(),
        toml::Value::String(format!("sha256:{}", crate::sha256_hex(token.as_bytes()))),
    );
    let out = toml::to_string(&table).map_err(|e| AppError::Input(e.to_string()))?;
    let tmp = tokens.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        use std::io::Write as _;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        // Readable by its owner only: it names who may act, and may still hold plain
        // tokens of older entries.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        f.write_all(out.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, tokens)
    };
    write().map_err(|e| AppError::Input(format!("cannot write {}: {e}", tokens.display())))?;
    Ok(token)
}

/// Whether the tokens file at `tokens`, bound to `bound` (its `city = "…"`), may serve
/// `city`: a file of another city never does (its people's tokens would read and write
/// this city); a file bound to none is refused too, unless `unbound_ok` (`token add`
/// binds it).
pub fn check_city(
    tokens: &Path,
    bound: Option<&str>,
    city: &str,
    unbound_ok: bool,
) -> Result<(), String> {
    match bound {
        Some(b) if b == city => Ok(()),
        Some(b) => Err(format!(
            "{} is the tokens file of city {b}, not of city {city}: its tokens are {b}'s people's; give city {city}'s own tokens file (check --city and --tokens)",
            tokens.display()
        )),
        None if unbound_ok => Ok(()),
        None => Err(format!(
            "{} names no city, so nothing says its tokens are city {city}'s: if they are, add the line `city = \"{city}\"` at its top (or make a token with `paraaf admin token add PERSON --city {city} --tokens {}`, which adds it)",
            tokens.display(),
            tokens.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_tokens_file_is_bound_to_its_city() {
        let dir = std::env::temp_dir().join(format!("paraaf-tokens-city-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("tokens.toml");
        let _ = std::fs::remove_file(&file);
        super::add(&file, "jan-cools", false, 0, Some("aalst")).unwrap();
        let table: toml::Table = toml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(table["city"].as_str(), Some("aalst"));
        // Another city's token never goes into it.
        let e = super::add(&file, "jan-cools", false, 0, Some("gent")).unwrap_err();
        assert!(e.to_string().contains("tokens file of city aalst"), "{e}");
        // The server of another city, or one whose file names none, refuses it.
        assert!(super::check_city(&file, Some("aalst"), "aalst", false).is_ok());
        let e = super::check_city(&file, Some("aalst"), "gent", false).unwrap_err();
        assert!(e.contains("not of city gent"), "{e}");
        let e = super::check_city(&file, None, "gent", false).unwrap_err();
        assert!(e.contains("city = \"gent\""), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_token_is_kept_only_as_its_hash_and_replaces_the_previous_one() {
        let dir = std::env::temp_dir().join(format!("paraaf-tokens-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("tokens.toml");
        let first = super::add(&file, "dirk-lambert", false, 0, None).unwrap();
        let second = super::add(&file, "dirk-lambert", false, 0, None).unwrap();
        let zabbix = super::add(&file, "zabbix", true, 0, None).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains(&first) && !text.contains(&second), "{text}");
        let table: toml::Table = toml::from_str(&text).unwrap();
        let kept = |kind: &str, name: &str| table[kind][name].as_str().unwrap().to_string();
        let hash = |t: &str| format!("sha256:{}", crate::sha256_hex(t.as_bytes()));
        assert_eq!(kept("tokens", "dirk-lambert"), hash(&second));
        assert_eq!(kept("monitoring", "zabbix"), hash(&zabbix));
        std::fs::write(&file, "tokens = 1\n").unwrap();
        let err = super::add(&file, "dirk-lambert", false, 0, None).unwrap_err();
        assert!(err.to_string().contains("`tokens` is not a table"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

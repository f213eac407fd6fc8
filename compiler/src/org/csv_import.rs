//! Import of the spreadsheet HR keeps: one row per person and position.
//!
//! Columns (header required, any order): `id, name, email, department, service, team,
//! function, mandate`, and `personeelsnummer` (the HR key; `key` is read too). Units are
//! built from the department → service → team columns; a function is held in the
//! deepest unit given. A function held in more than one unit becomes a per-unit function
//! (like `diensthoofd`).
//!
//! Files as offices export them: the delimiter (`,`, `;` as a Belgian Excel writes, or a
//! tab) is read off the header line; quoted fields and CRLF are the `csv` crate's.
//!
//! **Identity.** A person is their HR key, never their name: rows with one key are one
//! person. Without a key column the e-mail address stands in (a fallback, with a
//! warning). Ids are labels chosen once: imported against the organogram in force
//! ([`import_csv_against`]), a person keeps the id their key had (a marriage changes the
//! name, not the id), and an id once given to one person is never given to another — a
//! newcomer called like someone who left gets `jan-cools-2`, and everyone who left is
//! kept under `[retired]`. Ids are transliterated to ASCII (`Ayşe Yıldız` → `ayse-yildiz`).

use super::toml_file::*;
use std::collections::BTreeMap;

/// A row that could not be imported, with its 1-based line number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// Line in the CSV file (the header is line 1).
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Turns a display name into a kebab-case ASCII id, transliterating every script
/// (`Sociale Zaken` → `sociale-zaken`, `Émile Vandeput` → `emile-vandeput`,
/// `Ayşe Yıldız` → `ayse-yildiz`).
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in deunicode::deunicode(name.trim()).chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "n-");
    }
    out
}

const COLUMNS: &[&str] = &[
    "personeelsnummer",
    "id",
    "name",
    "email",
    "department",
    "service",
    "team",
    "function",
    "mandate",
];

/// An imported organogram and what the importer noticed on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    /// The organogram as TOML text.
    pub toml: String,
    /// Rows imported with an assumption the office should check (same-name people).
    pub warnings: Vec<RowError>,
}

/// The delimiter of the header line: the most frequent of `,`, `;` and tab outside quotes.
fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    let mut counts = [(b',', 0), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in &mut counts {
                if b == *d {
                    *n += 1;
                }
            }
        }
    }
    counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(d, _)| *d)
}

/// Imports the CSV text on its own (no organogram before it). Returns the organogram as
/// TOML text, or every bad row.
pub fn import_csv(city: &str, text: &str) -> Result<Imported, Vec<RowError>> {
    import_csv_against(city, text, None)
}

/// Imports the CSV text against the organogram in force (`previous`): every person keeps
/// the id their HR key had, new people get ids nobody ever had, and people who left are
/// recorded under `[retired]` with their key. Returns the organogram as TOML text, or
/// every bad row.
pub fn import_csv_against(
    city: &str,
    text: &str,
    previous: Option<&super::Organogram>,
) -> Result<Imported, Vec<RowError>> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    // Line numbers count `\n`; Excel ends lines with CRLF.
    let text = &text.replace("\r\n", "\n");
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .delimiter(sniff_delimiter(text))
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h
            .iter()
            .map(|s| s.trim_matches('\u{FEFF}').to_ascii_lowercase())
            .collect(),
        Err(e) => {
            return Err(vec![RowError {
                line: 1,
                message: format!("cannot read the header: {e}"),
            }]);
        }
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let missing: Vec<&str> = ["id", "name", "email", "department", "function", "mandate"]
        .into_iter()
        .filter(|c| col(c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(vec![RowError {
            line: 1,
            message: format!(
                "the header lacks the column(s) {}; expected columns: {}",
                missing.join(", "),
                COLUMNS.join(", ")
            ),
        }]);
    }
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut clashes = Vec::new();
    // Every id with the kind it names and the line that introduced it: one id, one meaning.
    let mut first_seen: BTreeMap<String, (&'static str, u64)> = BTreeMap::new();
    let mut units: BTreeMap<String, UnitRow<String>> = BTreeMap::new();
    let mut functions: BTreeMap<String, (String, std::collections::BTreeSet<String>)> =
        BTreeMap::new();
    let mut mandates: BTreeMap<String, String> = BTreeMap::new();
    let mut people: Vec<PersonRow<String>> = Vec::new();
    let mut person_index: BTreeMap<String, usize> = BTreeMap::new();
    // Lower-cased e-mail address → (id, name, line) of the person who has it.
    let mut emails: BTreeMap<String, (String, String, u64)> = BTreeMap::new();
    // Identity → id, of everyone the organogram in force has or had; every id ever given.
    let mut known: BTreeMap<String, String> = BTreeMap::new();
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    if let Some(prev) = previous {
        for p in &prev.people {
            known.insert(p.identity(), p.id.clone());
            taken.insert(p.id.clone(), p.identity());
        }
        // Someone who left gets back the id they left with, not an older one of theirs
        // (from before a marriage with a new id).
        for (who, id) in &prev.left {
            known.entry(who.clone()).or_insert_with(|| id.clone());
        }
        for (id, who) in &prev.retired {
            known.entry(who.clone()).or_insert_with(|| id.clone());
            taken.insert(id.clone(), who.clone());
        }
    }
    // Identity → id given in this file.
    let mut this_file: BTreeMap<String, String> = BTreeMap::new();
    let has_key = col("personeelsnummer").or(col("key")).is_some();
    if !has_key {
        warnings.push(RowError {
            line: 1,
            message: "no `personeelsnummer` column: people are told apart by their e-mail address, a fallback that fails when an address changes or is reused; add HR's personnel number as a column".into(),
        });
    }
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError {
                    line,
                    message: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let get = |name: &str| {
            col(name)
                .and_then(|i| record.get(i))
                .unwrap_or("")
                .to_string()
        };
        let mut bad = |message: String| errors.push(RowError { line, message });
        let (id, name, email) = (get("id"), get("name"), get("email"));
        let (dept, service, team) = (get("department"), get("service"), get("team"));
        let (function, mandate) = (get("function"), get("mandate"));
        if record.iter().all(str::is_empty) {
            continue;
        }
        if name.is_empty() {
            bad("the name is empty".into());
            continue;
        }
        let key = get("personeelsnummer");
        let key = if key.is_empty() { get("key") } else { key };
        let who =
            (!key.is_empty() || !email.is_empty()).then(|| super::identity(Some(&key), &email, ""));
        let given_id = !id.is_empty();
        let id = if given_id {
            if let (Some(owner), Some(w)) = (taken.get(&id), &who)
                && owner != w
            {
                bad(format!(
                    "the id `{id}` belongs to another person (key `{owner}`); an id is never given to someone else: leave the id column empty and let the import choose one"
                ));
                continue;
            }
            id
        } else if let Some(found) = who
            .as_ref()
            .and_then(|w| this_file.get(w).or_else(|| known.get(w)))
        {
            // This key had an id before (in the organogram in force, or an earlier row):
            // the person keeps it, whatever their name is now.
            let left = previous.is_some_and(|p| {
                p.retired.contains_key(found) && p.people.iter().all(|q| &q.id != found)
            });
            if left && !key.is_empty() && !this_file.values().any(|v| v == found) {
                warnings.push(RowError {
                    line,
                    message: format!(
                        "{name} carries the personnel number {key} of someone who left (`{found}`) and gets that id back, with the leaver's past files, whatever the name and e-mail address: `org deploy` refuses it until the return is confirmed; if it is the same person coming back, deploy with `--returning {key}`; if HR gave the number to someone new, ask HR for the newcomer's own number"
                    ),
                });
            }
            found.clone()
        } else {
            let base = slug(&name);
            // Without key or e-mail only the id tells who was who (organograms of before).
            let legacy =
                who.is_none() && taken.get(&base).is_some_and(|w| *w == format!("id:{base}"));
            let free = |c: &str| {
                !person_index.contains_key(c) && (!taken.contains_key(c) || (legacy && c == base))
            };
            match person_index.get(&base) {
                // The same name and the same e-mail, no key: the same person.
                Some(&i)
                    if key.is_empty()
                        && !email.is_empty()
                        && people[i].email.eq_ignore_ascii_case(&email) =>
                {
                    base
                }
                _ if free(&base) => base,
                _ => {
                    let mut n = 2;
                    while !free(&format!("{base}-{n}")) {
                        n += 1;
                    }
                    let new = format!("{base}-{n}");
                    let earlier = if taken.contains_key(&base) {
                        "someone in the organogram now or before"
                    } else {
                        "an earlier row"
                    };
                    warnings.push(RowError {
                        line,
                        message: format!(
                            "{name} is another person than {earlier} with the id `{base}`: imported as `{new}`"
                        ),
                    });
                    new
                }
            }
        };
        if let Some(w) = &who {
            this_file.entry(w.clone()).or_insert_with(|| id.clone());
        }
        if !is_kebab_id(&id) {
            bad(format!(
                "`{id}` is not a valid id (lower-case letters, digits and dashes, like `an-peeters`)"
            ));
            continue;
        }
        let looks_like_email =
            email.contains('@') && !email.starts_with('@') && !email.ends_with('@');
        if !email.is_empty() && !looks_like_email {
            bad(format!("`{email}` is not an e-mail address"));
            continue;
        }
        if function.is_empty() == mandate.is_empty() {
            bad("give either a function or a mandate (one position per row)".into());
            continue;
        }
        if (!service.is_empty() && dept.is_empty()) || (!team.is_empty() && service.is_empty()) {
            bad("a team needs its service and a service needs its department".into());
            continue;
        }
        let mut position = PositionRow {
            function: None,
            unit: None,
            mandate: None,
        };
        if !function.is_empty() {
            if dept.is_empty() {
                bad(format!(
                    "the function `{function}` has no department, service or team"
                ));
                continue;
            }
            let mut parent: Option<String> = None;
            for (uname, kind) in [
                (&dept, "department"),
                (&service, "service"),
                (&team, "team"),
            ] {
                if uname.is_empty() {
                    break;
                }
                let uid = slug(uname);
                claim(&mut first_seen, &mut clashes, &uid, "unit", line);
                let entry = units.entry(uid.clone()).or_insert_with(|| UnitRow {
                    id: uid.clone(),
                    name: uname.clone(),
                    kind: kind.into(),
                    parent: parent.clone(),
                });
                if entry.parent != parent {
                    bad(format!(
                        "the unit `{uname}` appears under two different parents ({} and {})",
                        entry.parent.as_deref().unwrap_or("none"),
                        parent.as_deref().unwrap_or("none")
                    ));
                }
                parent = Some(uid);
            }
            let fid = slug(&function);
            claim(&mut first_seen, &mut clashes, &fid, "function", line);
            let unit = parent.unwrap_or_default();
            functions
                .entry(fid.clone())
                .or_insert_with(|| (function.clone(), Default::default()))
                .1
                .insert(unit.clone());
            position.function = Some(fid);
            position.unit = Some(unit);
        } else {
            let mid = slug(&mandate);
            claim(&mut first_seen, &mut clashes, &mid, "mandate", line);
            mandates.entry(mid.clone()).or_insert(mandate.clone());
            position.mandate = Some(mid);
        }
        match person_index.get(&id) {
            Some(&i) => {
                let p = &mut people[i];
                if p.name != name || (!email.is_empty() && p.email != email) {
                    bad(format!(
                        "`{id}` appears earlier with another name or e-mail ({}, {})",
                        p.name, p.email
                    ));
                    continue;
                }
                if p.positions.iter().any(|q| {
                    q.function == position.function
                        && q.unit == position.unit
                        && q.mandate == position.mandate
                }) {
                    bad(format!("duplicate row: `{id}` already holds this position"));
                    continue;
                }
                p.positions.push(position);
            }
            None => {
                // One address, one person (case-insensitive): mails and the sign-in by
                // e-mail would otherwise reach the other one.
                let address = email.trim().to_lowercase();
                if let Some((other, other_name, other_line)) = (!address.is_empty())
                    .then(|| emails.get(&address))
                    .flatten()
                {
                    bad(format!(
                        "{name} (`{id}`) has the same e-mail address `{email}` as {other_name} (`{other}`, line {other_line}); an address belongs to one person: correct it in HR's export"
                    ));
                    continue;
                }
                if !address.is_empty() {
                    emails.insert(address, (id.clone(), name.clone(), line));
                }
                claim(&mut first_seen, &mut clashes, &id, "person", line);
                person_index.insert(id.clone(), people.len());
                people.push(PersonRow {
                    id,
                    name,
                    email,
                    key: (!key.is_empty()).then_some(key),
                    positions: vec![position],
                });
            }
        }
    }
    errors.extend(clashes);
    // Every id the organogram in force has or had that this file does not use stays its
    // owner's: the ids of people who left, and the old id of someone HR gave a new one
    // (a marriage) — else a namesake would get it and `org deploy` would refuse the file.
    let mut retired: BTreeMap<String, String> =
        previous.map(|p| p.retired.clone()).unwrap_or_default();
    for (id, who) in &taken {
        if !person_index.contains_key(id) {
            retired.insert(id.clone(), who.clone());
        }
    }
    // Who leaves with this file, with the id they leave with; who returns is no longer
    // one who left.
    let mut left: BTreeMap<String, String> = previous.map(|p| p.left.clone()).unwrap_or_default();
    for p in previous.iter().flat_map(|p| &p.people) {
        let who = p.identity();
        if !this_file.contains_key(&who) {
            left.insert(who, p.id.clone());
        }
    }
    left.retain(|who, _| !this_file.contains_key(who));
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(errors);
    }
    let file = OrgFile::<String> {
        city: city.to_string(),
        units: units.into_values().collect(),
        functions: functions
            .into_iter()
            .map(|(id, (name, units))| FunctionRow {
                id,
                name,
                per_unit: units.len() > 1,
            })
            .collect(),
        mandates: mandates
            .into_iter()
            .map(|(id, name)| MandateRow { id, name })
            .collect(),
        people,
        retired,
        left,
    };
    let toml = toml::to_string(&file).map_err(|e| {
        vec![RowError {
            line: 0,
            message: format!("cannot write TOML: {e}"),
        }]
    })?;
    Ok(Imported { toml, warnings })
}

/// Records that `id` names a `kind` from `line`; the same id naming another kind is an
/// error (a service called like a function would break every flow that names either).
fn claim(
    seen: &mut BTreeMap<String, (&'static str, u64)>,
    errors: &mut Vec<RowError>,
    id: &str,
    kind: &'static str,
    line: u64,
) {
    match seen.get(id) {
        Some((k, first)) if *k != kind => errors.push(RowError {
            line,
            message: format!(
                "`{id}` would be both a {k} (line {first}) and a {kind}; every id has one meaning: rename one of them in the spreadsheet"
            ),
        }),
        Some(_) => {}
        None => {
            seen.insert(id.to_string(), (kind, line));
        }
    }
}

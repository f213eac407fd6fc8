//! Import of the spreadsheet HR keeps: one row per person and position.
//!
//! Columns (header required, any order): `id, name, email, department, service, team,
//! function, mandate`. Units are built from the department → service → team columns;
//! a function is held in the deepest unit given. A function held in more than one unit
//! becomes a per-unit function (like `diensthoofd`).

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

/// Turns a display name into a kebab-case id (`Sociale Zaken` → `sociale-zaken`).
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        let c = match c {
            'à' | 'á' | 'â' | 'ä' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c => c.to_ascii_lowercase(),
        };
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
    "id",
    "name",
    "email",
    "department",
    "service",
    "team",
    "function",
    "mandate",
];

/// Imports the CSV text. Returns the organogram as TOML text, or every bad row.
pub fn import_csv(city: &str, text: &str) -> Result<String, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.to_ascii_lowercase()).collect(),
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
    let mut units: BTreeMap<String, UnitRow<String>> = BTreeMap::new();
    let mut functions: BTreeMap<String, (String, std::collections::BTreeSet<String>)> =
        BTreeMap::new();
    let mut mandates: BTreeMap<String, String> = BTreeMap::new();
    let mut people: Vec<PersonRow<String>> = Vec::new();
    let mut person_index: BTreeMap<String, usize> = BTreeMap::new();
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
        let id = if id.is_empty() { slug(&name) } else { id };
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
                person_index.insert(id.clone(), people.len());
                people.push(PersonRow {
                    id,
                    name,
                    email,
                    positions: vec![position],
                });
            }
        }
    }
    if !errors.is_empty() {
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
    };
    toml::to_string(&file).map_err(|e| {
        vec![RowError {
            line: 0,
            message: format!("cannot write TOML: {e}"),
        }]
    })
}

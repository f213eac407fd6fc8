//! Diagnostics for CI: SARIF 2.1.0 (code scanning, with the rules of the code registry
//! and their documentation pages) and GitHub workflow commands (`::error file=…`).
//! Both are made from the JSON rendering, so every format shows the same locations.

use super::{Code, Diagnostic, render_json};
use serde_json::{Value, json};

/// `path` inside the repository: the project folder as given, then the file.
pub fn repo_path(prefix: &str, file: &str) -> String {
    let prefix = prefix.trim_start_matches("./").trim_end_matches('/');
    if prefix.is_empty() || prefix == "." {
        file.to_string()
    } else {
        format!("{prefix}/{file}")
    }
}

/// Where the documentation is published when `PARAAF_DOCS_URL` does not say.
pub const DEFAULT_DOCS_URL: &str = "https://paraaf.be/docs/";

/// The absolute address of `page` (relative to `docs/`) in the documentation: under
/// `PARAAF_DOCS_URL` when it is an `http(s)://` address (a city that publishes the
/// documentation itself), else under [`DEFAULT_DOCS_URL`]. SARIF wants absolute URIs.
pub fn docs_url(page: &str) -> String {
    let base = std::env::var("PARAAF_DOCS_URL")
        .ok()
        .filter(|b| b.starts_with("https://") || b.starts_with("http://"))
        .unwrap_or_else(|| DEFAULT_DOCS_URL.to_string());
    format!("{}/{page}", base.trim_end_matches('/'))
}

fn region(loc: &Value, end: Option<(u64, u64)>) -> Value {
    // Columns count characters (the run says `unicodeCodePoints`), as the text output.
    let mut r = json!({
        "startLine": loc["line"],
        "startColumn": loc["column"],
    });
    if let Some((l, c)) = end {
        r["endLine"] = json!(l);
        r["endColumn"] = json!(c);
    }
    r
}

/// SARIF 2.1.0. `prefix` is the project folder relative to the repository root, so
/// that code scanning finds the files.
pub fn render_sarif<'a>(
    diags: &[Diagnostic],
    source: impl Fn(&str) -> Option<&'a str>,
    prefix: &str,
) -> String {
    let items: Vec<Value> = serde_json::from_str(&render_json(diags, source)).unwrap_or_default();
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "name": c.title(),
                "shortDescription": {"text": c.title()},
                "helpUri": docs_url(&format!("diagnostics/{}.md", c.as_str())),
                "help": {
                    "text": format!("See docs/diagnostics/{}.md or run `paraaf explain {}`.", c.as_str(), c.as_str()),
                    "markdown": c.doc(),
                },
                "defaultConfiguration": {"level": match c.severity() {
                    super::Severity::Error => "error",
                    super::Severity::Warning => "warning",
                }},
            })
        })
        .collect();
    let results: Vec<Value> = items
        .iter()
        .map(|d| {
            let code = d["code"].as_str().unwrap_or("");
            let mut message = d["message"].as_str().unwrap_or("").to_string();
            if let Some(h) = d["help"].as_str() {
                message.push_str("\nhelp: ");
                message.push_str(h);
            }
            let location = |loc: &Value| {
                json!({"physicalLocation": {
                    "artifactLocation": {"uri": repo_path(prefix, loc["file"].as_str().unwrap_or(""))},
                    "region": region(loc, None),
                }})
            };
            let mut r = json!({
                "ruleId": code,
                "ruleIndex": Code::ALL.iter().position(|c| c.as_str() == code).unwrap_or(0),
                "level": if d["severity"] == "error" { "error" } else { "warning" },
                "message": {"text": message},
                "locations": [location(&d["location"])],
            });
            let related: Vec<Value> = d["labels"]
                .as_array()
                .map(|ls| {
                    ls.iter()
                        .enumerate()
                        .map(|(i, l)| {
                            let mut v = location(&l["location"]);
                            v["id"] = json!(i + 1);
                            v["message"] = json!({"text": l["message"]});
                            v
                        })
                        .collect()
                })
                .unwrap_or_default();
            if !related.is_empty() {
                r["relatedLocations"] = json!(related);
            }
            r
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "paraaf",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/paraaf",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

/// Escapes workflow-command data (`%`, CR, LF) and, in properties, `:` and `,`.
fn escape(s: &str, property: bool) -> String {
    let mut out = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

/// GitHub workflow commands: one `::error` or `::warning` line per diagnostic, shown on
/// the pull request's diff.
pub fn render_github<'a>(
    diags: &[Diagnostic],
    source: impl Fn(&str) -> Option<&'a str>,
    prefix: &str,
) -> String {
    let items: Vec<Value> = serde_json::from_str(&render_json(diags, source)).unwrap_or_default();
    let mut out = String::new();
    for d in &items {
        let loc = &d["location"];
        let code = d["code"].as_str().unwrap_or("");
        let title = Code::ALL
            .iter()
            .find(|c| c.as_str() == code)
            .map_or(code.to_string(), |c| format!("{code} {}", c.title()));
        let mut message = d["message"].as_str().unwrap_or("").to_string();
        if let Some(h) = d["help"].as_str() {
            message.push_str("\nhelp: ");
            message.push_str(h);
        }
        out.push_str(&format!(
            "::{} file={},line={},col={},title={}::{}\n",
            if d["severity"] == "error" {
                "error"
            } else {
                "warning"
            },
            escape(&repo_path(prefix, loc["file"].as_str().unwrap_or("")), true),
            loc["line"],
            loc["column"],
            escape(&title, true),
            escape(&message, false)
        ));
    }
    out
}

/// A finding of a CI command other than `check` (a failing scenario, a change in who
/// sees or signs): one SARIF result or one GitHub annotation.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The rule it breaks, e.g. `scenario-failed`, `shielded-widened`.
    pub rule: String,
    /// `error`, `warning` or `note`.
    pub level: &'static str,
    /// Title of the annotation.
    pub title: String,
    /// What happened.
    pub message: String,
    /// Repository-relative file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
}

/// SARIF 2.1.0 for `findings`; `rules` are `(id, description)` of every rule the tool
/// can report, so code scanning can describe them.
pub fn render_findings_sarif(tool: &str, rules: &[(&str, &str)], findings: &[Finding]) -> String {
    let rule_list: Vec<Value> = rules
        .iter()
        .map(|(id, text)| {
            json!({
                "id": id,
                "shortDescription": {"text": text},
                "helpUri": docs_url("ci.md"),
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule,
                "ruleIndex": rules.iter().position(|(id, _)| *id == f.rule).unwrap_or(0),
                "level": f.level,
                "message": {"text": format!("{}\n{}", f.title, f.message)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f.file},
                    "region": {"startLine": f.line.max(1)},
                }}],
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": tool,
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/paraaf",
                "rules": rule_list,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

/// GitHub workflow commands for `findings`: `::error`, `::warning` or `::notice` lines.
pub fn render_findings_github(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let command = match f.level {
            "error" => "error",
            "warning" => "warning",
            _ => "notice",
        };
        out.push_str(&format!(
            "::{command} file={},line={},title={}::{}\n",
            escape(&f.file, true),
            f.line.max(1),
            escape(&f.title, true),
            escape(&f.message, false)
        ));
    }
    out
}

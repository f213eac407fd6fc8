//! The evidence page: who signed, for whom, in which role, when (Europe/Brussels), under
//! which flow version and rule, the document's and the log's hashes, and the
//! verification code, in Dutch with the English headings beside them.

use crate::text::{BOLD, REGULAR, show, wrap};
use chrono::{DateTime, Utc};
use chrono_tz::Europe::Brussels;
use lopdf::content::Operation;
use serde::{Deserialize, Serialize};

/// One signature given in the flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignatureLine {
    /// The step (`visum`, `handtekening`).
    pub step: String,
    /// Who signed, by name.
    pub signer: String,
    /// For whom, by name, when a substitute signed.
    pub for_whom: Option<String>,
    /// The role: function of unit (`diensthoofd van Burgerzaken`) or mandate.
    pub role: String,
    /// When (the server's clock).
    pub at: DateTime<Utc>,
}

/// What the evidence page states. Names, not ids: the page is read by people.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The city (`Stad Aalst`).
    pub city: String,
    /// The document's title.
    pub title: String,
    /// The document's public id.
    pub document: String,
    /// The document kind.
    pub kind: String,
    /// The flow and its project version.
    pub flow: String,
    /// The project version the document ran on.
    pub version: u32,
    /// The rule that started the flow, when a rule did.
    pub rule: Option<String>,
    /// Who submitted it, by name.
    pub submitted_by: String,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// When its flow completed.
    pub completed_at: DateTime<Utc>,
    /// Every signature, in order.
    pub signatures: Vec<SignatureLine>,
    /// SHA-256 (hex) of the document as submitted (the original bytes of this file).
    pub document_sha256: String,
    /// The log event that completed the document: its sequence number.
    pub log_seq: u64,
    /// The hash of that event in the log's chain (hex).
    pub log_sha256: String,
    /// The verification code printed on every page.
    pub code: String,
    /// Where anyone can check the code (`https://paraaf.aalst.be/verify`), if public.
    pub verify_url: Option<String>,
}

/// Brussels time as people read it: `7 december 2026, 14:05 (CET)`.
pub fn brussels(at: DateTime<Utc>) -> String {
    const MONTHS: [&str; 12] = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    use chrono::Datelike;
    let local = at.with_timezone(&Brussels);
    format!(
        "{} {} {}, {} ({})",
        local.day(),
        MONTHS[local.month0() as usize % 12],
        local.year(),
        local.format("%H:%M:%S"),
        local.format("%Z")
    )
}

/// The line printed at the foot of every page: the verification code and where to check
/// it.
pub fn footer(evidence: &Evidence) -> String {
    match &evidence.verify_url {
        Some(url) => format!(
            "Verificatiecode {} · controleer op {url} · {}",
            evidence.code, evidence.city
        ),
        None => format!(
            "Verificatiecode {} · elektronisch verzegeld door {}",
            evidence.code, evidence.city
        ),
    }
}

/// One line of the page: font, size, indentation and text.
struct Line {
    bold: bool,
    size: f32,
    indent: f32,
    text: String,
}

fn lines(e: &Evidence) -> Vec<Line> {
    let mut out = Vec::new();
    let mut push = |bold: bool, size: f32, indent: f32, text: String, width: usize| {
        for t in wrap(&text, width) {
            out.push(Line {
                bold,
                size,
                indent,
                text: t,
            });
        }
    };
    push(
        true,
        15.0,
        0.0,
        "Bewijsstuk van ondertekening / Evidence of signing".into(),
        70,
    );
    push(false, 10.0, 0.0, e.city.clone(), 95);
    push(false, 4.0, 0.0, String::new(), 95);
    push(true, 11.0, 0.0, e.title.clone(), 80);
    let mut facts = vec![
        ("Document", format!("{} ({})", e.document, e.kind)),
        ("Stroom / flow", format!("{}, versie {}", e.flow, e.version)),
    ];
    if let Some(rule) = &e.rule {
        facts.push(("Gestart door regel / rule", rule.clone()));
    }
    facts.push((
        "Ingediend door / submitted by",
        format!("{}, {}", e.submitted_by, brussels(e.submitted_at)),
    ));
    facts.push(("Afgerond / completed", brussels(e.completed_at)));
    for (label, value) in facts {
        push(false, 9.0, 0.0, format!("{label}: {value}"), 100);
    }
    push(false, 6.0, 0.0, String::new(), 95);
    push(true, 11.0, 0.0, "Handtekeningen / signatures".into(), 80);
    for (i, s) in e.signatures.iter().enumerate() {
        let who = match &s.for_whom {
            Some(f) => format!("{} voor {} (vervanger / substitute)", s.signer, f),
            None => s.signer.clone(),
        };
        push(true, 9.5, 0.0, format!("{}. {who}", i + 1), 95);
        push(
            false,
            9.0,
            14.0,
            format!("als {} · stap {} · {}", s.role, s.step, brussels(s.at)),
            95,
        );
    }
    if e.signatures.is_empty() {
        push(
            false,
            9.0,
            0.0,
            "Geen handtekeningen (de stroom vroeg er geen).".into(),
            95,
        );
    }
    push(false, 6.0, 0.0, String::new(), 95);
    push(true, 11.0, 0.0, "Integriteit / integrity".into(), 80);
    push(
        false,
        8.5,
        0.0,
        format!("SHA-256 van het ingediende document: {}", e.document_sha256),
        110,
    );
    push(
        false,
        8.5,
        0.0,
        format!(
            "Auditlog: gebeurtenis {} met hash {}",
            e.log_seq, e.log_sha256
        ),
        110,
    );
    push(
        false,
        9.0,
        0.0,
        "De oorspronkelijke pagina's zijn ongewijzigd; dit bewijsstuk en het elektronisch zegel van de stad (PAdES) zijn eraan toegevoegd. Elke wijziging na het verzegelen maakt het zegel ongeldig.".into(),
        100,
    );
    push(false, 6.0, 0.0, String::new(), 95);
    push(true, 12.0, 0.0, format!("Verificatiecode: {}", e.code), 80);
    out
}

/// The page size of appended pages (A4, points).
pub(crate) const PAGE: (f32, f32) = (595.0, 842.0);
/// Where the seal's visible block goes on the last appended page: x, y, width, height.
pub(crate) const SEAL_BOX: (f32, f32, f32, f32) = (50.0, 70.0, 300.0, 60.0);
const TOP: f32 = 790.0;
const BOTTOM: f32 = 150.0;
const LEFT: f32 = 50.0;

/// Whether every line of the evidence pages can be set in WinAnsi Helvetica.
pub(crate) fn win_ansi_only(e: &Evidence) -> bool {
    lines(e)
        .iter()
        .all(|l| crate::unicode_font::win_ansi_shows(&l.text))
}

/// The content of the evidence pages (one or more, when many signed), each with the
/// footer and its page number among the appended pages.
/// A line WinAnsi cannot show in full is set in `unicode` (the embedded font) when given.
pub(crate) fn pages(
    e: &Evidence,
    mut unicode: Option<&mut crate::unicode_font::UnicodeFont>,
) -> Vec<Vec<Operation>> {
    let mut pages: Vec<Vec<Operation>> = vec![Vec::new()];
    let mut y = TOP;
    for line in lines(e) {
        let step = line.size * 1.45;
        if y - step < BOTTOM {
            pages.push(Vec::new());
            y = TOP;
        }
        y -= step;
        if !line.text.is_empty() {
            let font = if line.bold { BOLD } else { REGULAR };
            let ops = match unicode.as_deref_mut() {
                Some(u) if !crate::unicode_font::win_ansi_shows(&line.text) => {
                    u.show(line.size, LEFT + line.indent, y, &line.text)
                }
                _ => show(font, line.size, LEFT + line.indent, y, &line.text),
            };
            if let Some(page) = pages.last_mut() {
                page.extend(ops);
            }
        }
    }
    let total = pages.len();
    let foot = footer(e);
    for (i, page) in pages.iter_mut().enumerate() {
        page.extend(show(
            REGULAR,
            7.5,
            LEFT,
            30.0,
            &format!("{foot} · bewijsstuk {}/{}", i + 1, total),
        ));
    }
    pages
}

/// The seal's visible block (the widget's appearance), in its own coordinates.
pub(crate) fn seal_block(e: &Evidence) -> Vec<Operation> {
    use lopdf::Object;
    let (_, _, w, h) = SEAL_BOX;
    let mut ops = vec![
        Operation::new("q", vec![]),
        Operation::new("RG", vec![0.1.into(), 0.3.into(), 0.6.into()]),
        Operation::new("w", vec![1.2.into()]),
        Operation::new(
            "re",
            vec![
                Object::Real(1.0),
                Object::Real(1.0),
                (w - 2.0).into(),
                (h - 2.0).into(),
            ],
        ),
        Operation::new("S", vec![]),
        Operation::new("Q", vec![]),
    ];
    ops.extend(show(
        BOLD,
        10.0,
        8.0,
        h - 18.0,
        &format!("Elektronisch zegel van {}", e.city),
    ));
    ops.extend(show(
        REGULAR,
        8.5,
        8.0,
        h - 32.0,
        &format!(
            "Verzegeld na de laatste handtekening: {}",
            brussels(e.completed_at)
        ),
    ));
    ops.extend(show(
        REGULAR,
        8.5,
        8.0,
        h - 46.0,
        &format!("Verificatiecode {}", e.code),
    ));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brussels_time_is_local_with_its_zone() {
        let winter: DateTime<Utc> = "2026-12-07T13:05:00Z".parse().unwrap();
        assert_eq!(brussels(winter), "7 december 2026, 14:05:00 (CET)");
        let summer: DateTime<Utc> = "2026-07-21T08:00:00Z".parse().unwrap();
        assert_eq!(brussels(summer), "21 juli 2026, 10:00:00 (CEST)");
    }
}

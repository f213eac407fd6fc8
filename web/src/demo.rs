//! A demo database a newcomer can sign in to at once (`paraaf serve --demo PROJECT`): the
//! project deployed and documents waiting for the people of its organogram (a pile of
//! college decisions for the mayor, two purchases for a head of service, one above the
//! financial visum threshold, a performance review and a social-service file), each
//! with a small PDF to read. Only a database without events is seeded.

use paraaf_runtime::Runtime;
use paraaf_runtime::engine::{RuntimeError, Submission};
use std::path::Path;

/// A one-page PDF showing `title` and `body` (Helvetica, ASCII; other characters
/// become `?`).
pub fn pdf(title: &str, body: &str) -> Vec<u8> {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                '(' | ')' | '\\' => ' ',
                c if c.is_ascii() && !c.is_control() => c,
                'é' | 'è' | 'ë' | 'ê' => 'e',
                _ => '?',
            })
            .collect()
    };
    let stream = format!(
        "BT /F1 20 Tf 72 760 Td ({}) Tj ET\nBT /F1 12 Tf 72 730 Td ({}) Tj ET\nBT /F1 10 Tf 72 60 Td (Stad Aalst - voorbeelddocument van Paraaf) Tj ET\n",
        clean(title),
        clean(body)
    );
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{stream}endstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

struct Doc {
    kind: &'static str,
    uploader: &'static str,
    title: String,
    fields: Vec<(&'static str, String)>,
    /// Signed at seeding by these people, in order (to get it to a later step).
    signed_by: Vec<&'static str>,
}

fn documents() -> Vec<Doc> {
    let mut docs = Vec::new();
    let decisions = [
        "Subsidie jeugdhuis Zuidkant",
        "Verlenging parkeerreglement Stationsplein",
        "Toelage zomerschool 2027",
        "Aanstelling jobstudenten zwembad",
        "Gebruik stadhuis voor huwelijken op zaterdag",
        "Markt op 11 juli in de Kerkstraat",
        "Herstelling dak bibliotheek",
        "Aankoop bureaustoelen burgerzaken",
        "Samenwerking met de politiezone",
        "Erkenning sportvereniging FC Hofstade",
        "Tarieven cultuurcentrum 2027",
        "Verkeersplan carnaval 2027",
    ];
    for (i, t) in decisions.iter().enumerate() {
        docs.push(Doc {
            kind: "besluit",
            uploader: "jan-cools",
            title: format!("Collegebesluit: {t}"),
            fields: vec![
                ("dienst", "bevolking".into()),
                ("bron", "notula".into()),
                ("titel", t.to_string()),
                ("bedrag", format!("{}", 500 + 250 * i)),
            ],
            signed_by: vec!["dirk-lambert"],
        });
    }
    docs.push(Doc {
        kind: "besluit",
        uploader: "jan-cools",
        title: "Collegebesluit: Aankoop laptops voor het onthaal".into(),
        fields: vec![
            ("dienst", "bevolking".into()),
            ("bron", "notula".into()),
            ("titel", "Aankoop laptops voor het onthaal".into()),
            ("bedrag", "12000".into()),
        ],
        signed_by: vec![],
    });
    docs.push(Doc {
        kind: "besluit",
        uploader: "jan-cools",
        title: "Collegebesluit: Aankoop wachtzaalstoelen".into(),
        fields: vec![
            ("dienst", "bevolking".into()),
            ("bron", "notula".into()),
            ("titel", "Aankoop wachtzaalstoelen".into()),
            ("bedrag", "4000".into()),
        ],
        signed_by: vec![],
    });
    docs.push(Doc {
        kind: "evaluatie",
        uploader: "dirk-lambert",
        title: "Evaluatiegesprek Jan Cools 2026".into(),
        fields: vec![
            ("dienst", "bevolking".into()),
            ("medewerker", "jan-cools".into()),
        ],
        signed_by: vec![],
    });
    docs.push(Doc {
        kind: "sociaal-dossier",
        uploader: "dirk-claes",
        title: "Leefloon: dossier SD-2026-0117".into(),
        fields: vec![
            ("team", "inkomen".into()),
            ("dossiernummer", "SD-2026-0117".into()),
        ],
        signed_by: vec![],
    });
    docs
}

/// Seeds `runtime` (a store without events; `db` is where it lies, a
/// [`paraaf_runtime::reads::Reads`] or a SQLite file's path) with `project` and the demo
/// documents. Returns how many documents it submitted (0 when the store was not empty).
pub fn seed(
    runtime: &mut Runtime,
    db: impl Into<paraaf_runtime::reads::Reads>,
    project: &Path,
) -> Result<usize, String> {
    let db = db.into();
    if runtime.state().last_seq > 0 {
        return Ok(0);
    }
    let loaded = paraaf_compiler::load::load(project).map_err(|e| e.to_string())?;
    let compiled = loaded.compiled().ok_or_else(|| {
        format!(
            "{} has errors; `paraaf check {}` shows them",
            project.display(),
            project.display()
        )
    })?;
    let now = chrono::Utc::now();
    runtime
        .execute(now, |e| e.deploy(compiled))
        .map_err(|e| e.to_string())?;
    let docs = documents();
    let n = docs.len();
    for d in docs {
        let body = pdf(
            &d.title,
            &format!("Ingediend door {} ({})", d.uploader, d.kind),
        );
        let sha = paraaf_runtime::contents::put(&db, d.uploader, "application/pdf", &body)
            .map_err(|e| e.to_string())?;
        let signed_by = d.signed_by.clone();
        let sub = Submission {
            kind: d.kind.into(),
            uploader: d.uploader.into(),
            fields: d
                .fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
                .collect(),
            content_sha256: sha,
            title: d.title,
            flow: None,
        };
        runtime
            .execute(now, move |e| {
                let id = e.submit(sub)?;
                for who in signed_by {
                    e.sign(&id, who)?;
                }
                Ok::<_, RuntimeError>(id)
            })
            .map_err(|e| format!("demo document: {e}"))?;
    }
    Ok(n)
}

//! Signature blocks at template markers (#28): a template may reserve the place of a
//! step's signature with the text `{{paraaf:handtekening:STEP}}` (STEP the step's name
//! in the flow, e.g. `{{paraaf:handtekening:visum}}`), written in one piece (one text
//! string, as a word processor or reportlab's `drawString` writes it). The seal then
//! draws that step's signature block (who signed, for whom, in which role, when) at the
//! marker's place, over a white box that hides the marker; the evidence page lists
//! every signature as always. A marker of a step nobody signed stays as it is.

use crate::evidence::{SignatureLine, brussels};
use crate::text::show;
use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, ObjectId};

/// What a marker starts with; the step's name follows, then `}}`.
pub const MARKER_PREFIX: &str = "{{paraaf:handtekening:";

/// A marker found on a page: the step, where its text starts (default user space of
/// the page) and its font size there.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// The step's name.
    pub step: String,
    /// The x of the marker's first character's origin.
    pub x: f32,
    /// The y of its baseline.
    pub y: f32,
    /// Its font size (scaled by the text and graphics matrices).
    pub size: f32,
    /// How many characters the marker has (to cover it).
    pub chars: usize,
}

/// The most decompressed content a page may have for its markers to be looked for (a
/// page beyond it, or a decompression bomb, is sealed without blocks at markers).
const MAX_CONTENT: usize = 64 * 1024 * 1024;

type Matrix = [f32; 6];

const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `a` then `b` (PDF row-vector convention: a point p maps to p·a·b).
fn mul(a: &Matrix, b: &Matrix) -> Matrix {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]
}

fn nums(ops: &[Object]) -> Vec<f32> {
    ops.iter().filter_map(|o| o.as_float().ok()).collect()
}

fn matrix(ops: &[Object]) -> Option<Matrix> {
    let n = nums(ops);
    (n.len() == 6).then(|| [n[0], n[1], n[2], n[3], n[4], n[5]])
}

/// The markers in a page's content (its own content streams, not form XObjects).
pub fn find(doc: &Document, page: ObjectId) -> Vec<Marker> {
    let Ok(bytes) = doc.get_page_content_with_limit(page, MAX_CONTENT) else {
        return Vec::new();
    };
    let Ok(content) = Content::decode(&bytes) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut ctm = IDENTITY;
    let mut stack: Vec<Matrix> = Vec::new();
    let (mut tm, mut tlm) = (IDENTITY, IDENTITY);
    let (mut size, mut leading) = (0.0f32, 0.0f32);
    for op in &content.operations {
        let args = &op.operands;
        match op.operator.as_str() {
            "q" => stack.push(ctm),
            "Q" => ctm = stack.pop().unwrap_or(IDENTITY),
            "cm" => {
                if let Some(m) = matrix(args) {
                    ctm = mul(&m, &ctm);
                }
            }
            "BT" => {
                tm = IDENTITY;
                tlm = IDENTITY;
            }
            "Tf" => {
                if let Some(s) = args.get(1).and_then(|o| o.as_float().ok()) {
                    size = s;
                }
            }
            "TL" => leading = nums(args).first().copied().unwrap_or(leading),
            "Tm" => {
                if let Some(m) = matrix(args) {
                    tm = m;
                    tlm = m;
                }
            }
            "Td" | "TD" => {
                let n = nums(args);
                if n.len() == 2 {
                    if op.operator == "TD" {
                        leading = -n[1];
                    }
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, n[0], n[1]], &tlm);
                    tm = tlm;
                }
            }
            "T*" | "'" | "\"" => {
                tlm = mul(&[1.0, 0.0, 0.0, 1.0, 0.0, -leading], &tlm);
                tm = tlm;
            }
            _ => {}
        }
        let strings: Vec<&[u8]> = match op.operator.as_str() {
            "Tj" | "'" | "\"" => args
                .iter()
                .filter_map(|o| match o {
                    Object::String(s, _) => Some(s.as_slice()),
                    _ => None,
                })
                .collect(),
            "TJ" => match args.first() {
                Some(Object::Array(items)) => items
                    .iter()
                    .filter_map(|o| match o {
                        Object::String(s, _) => Some(s.as_slice()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            },
            _ => continue,
        };
        let text: String = strings.concat().iter().map(|b| *b as char).collect();
        let Some(start) = text.find(MARKER_PREFIX) else {
            continue;
        };
        let rest = &text[start + MARKER_PREFIX.len()..];
        let Some(end) = rest.find("}}") else { continue };
        let step = rest[..end].trim().to_string();
        if step.is_empty() {
            continue;
        }
        // Where the string starts, in default user space; characters before the marker
        // in the same string move it right by about half an em each (Helvetica's
        // average width), which only matters for markers inside a line of text.
        let at = mul(&tm, &ctm);
        let scale = (at[0] * at[0] + at[1] * at[1]).sqrt();
        let lead = start as f32 * size * 0.5 * scale;
        found.push(Marker {
            step,
            x: at[4] + lead,
            y: at[5],
            size: size * scale,
            chars: MARKER_PREFIX.len() + end + 2,
        });
    }
    found
}

/// The signature block of `sigs` (the signatures of the marker's step) drawn at `m`
/// in font resource `font`: a white box over the marker, then per signature who signed
/// (for whom), in which role, and when (Brussels time), from the marker's baseline down.
pub(crate) fn block(m: &Marker, sigs: &[&SignatureLine], font: &str) -> Vec<Operation> {
    let size = m.size.clamp(6.0, 10.0);
    let width = m.chars as f32 * m.size * 0.55;
    let mut ops = vec![
        Operation::new("q", vec![]),
        Operation::new("g", vec![1.into()]),
        Operation::new(
            "re",
            vec![
                (m.x - 1.0).into(),
                (m.y - m.size * 0.3).into(),
                (width + 2.0).into(),
                (m.size * 1.3).into(),
            ],
        ),
        Operation::new("f", vec![]),
        Operation::new("g", vec![0.1.into()]),
    ];
    let mut y = m.y;
    for s in sigs {
        let who = match &s.for_whom {
            Some(f) => format!("Getekend door {} voor {}", s.signer, f),
            None => format!("Getekend door {}", s.signer),
        };
        for line in [who, s.role.clone(), brussels(s.at)] {
            if !line.is_empty() {
                ops.extend(show(font, size, m.x, y, &line));
                y -= size * 1.25;
            }
        }
        y -= size * 0.5;
    }
    ops.push(Operation::new("Q", vec![]));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_is_found_where_its_text_is_drawn() {
        let mut doc = Document::with_version("1.7");
        let content = b"q 1 0 0 1 10 20 cm BT /F1 12 Tf 1 0 0 1 72 700 Tm (Gezien:) Tj 0 -30 Td ({{paraaf:handtekening:visum}}) Tj ET Q BT /F1 9 Tf 300 100 Td [({{paraaf:hand) -20 (tekening:burgemeester}})] TJ ET";
        let stream = doc.add_object(lopdf::Stream::new(
            lopdf::Dictionary::new(),
            content.to_vec(),
        ));
        let pages = doc.new_object_id();
        let mut page = lopdf::Dictionary::new();
        page.set("Type", Object::Name(b"Page".to_vec()));
        page.set("Parent", Object::Reference(pages));
        page.set("Contents", Object::Reference(stream));
        let page = doc.add_object(page);
        let mut tree = lopdf::Dictionary::new();
        tree.set("Type", Object::Name(b"Pages".to_vec()));
        tree.set("Kids", vec![Object::Reference(page)]);
        tree.set("Count", 1);
        doc.objects.insert(pages, Object::Dictionary(tree));
        let found = find(&doc, page);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].step, "visum");
        assert_eq!((found[0].x, found[0].y, found[0].size), (82.0, 690.0, 12.0));
        assert_eq!(found[1].step, "burgemeester");
        assert_eq!((found[1].x, found[1].y), (300.0, 100.0));
    }

    #[test]
    fn junk_content_finds_nothing_and_does_not_panic() {
        let mut doc = Document::with_version("1.7");
        let stream = doc.add_object(lopdf::Stream::new(
            lopdf::Dictionary::new(),
            b"Q Q Q BT Td Tm cm ({{paraaf:handtekening:}}) Tj ({{paraaf:handtekening:x) Tj ET"
                .to_vec(),
        ));
        let mut page = lopdf::Dictionary::new();
        page.set("Contents", Object::Reference(stream));
        let page = doc.add_object(page);
        assert!(find(&doc, page).is_empty());
    }
}

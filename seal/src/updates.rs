//! What may follow a seal in a file (PAdES B-LT, B-LTA): incremental updates that only
//! add validation data (a `/DSS` in the catalog, its certificate and CRL streams) and
//! document time stamps (an invisible signature field whose value is a
//! `/DocTimeStamp`). Anything else appended after the seal (a changed page, a new
//! annotation, another catalog) means the file was changed after it was sealed.

use lopdf::{Dictionary, Document, Object, ObjectId};

/// A document time stamp found after the seal: its byte range and token (DER, with the
/// padding), and the end of the revision it must cover.
pub(crate) struct DocStamp {
    /// `/ByteRange`.
    pub range: [usize; 4],
    /// `/Contents` (the RFC 3161 token, zero padded).
    pub contents: Vec<u8>,
    /// Where its revision ends.
    pub revision_end: usize,
}

/// The updates after the seal: the document time stamps, in file order.
pub(crate) struct After {
    /// The document time stamps, oldest first.
    pub stamps: Vec<DocStamp>,
}

/// Where each revision after `from` ends (just after its `%%EOF` and line end).
fn revision_ends(bytes: &[u8], from: usize) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut at = from;
    while let Some(p) = bytes
        .get(at..)
        .and_then(|rest| rest.windows(5).position(|w| w == b"%%EOF"))
    {
        let mut end = at + p + 5;
        if bytes.get(end) == Some(&b'\r') {
            end += 1;
        }
        if bytes.get(end) == Some(&b'\n') {
            end += 1;
        }
        ends.push(end);
        at = end;
    }
    ends
}

fn load(bytes: &[u8]) -> Result<Document, String> {
    Document::load_mem(bytes).map_err(|e| format!("an update after the seal cannot be read ({e})"))
}

fn changed_after_seal(what: String) -> String {
    format!("the file was changed after it was sealed: {what}")
}

/// Checks the updates between `seal_end` (the end of the seal's revision) and the end
/// of `bytes`.
pub(crate) fn after_seal(bytes: &[u8], seal_end: usize) -> Result<After, String> {
    let ends = revision_ends(bytes, seal_end);
    if ends.last() != Some(&bytes.len()) {
        return Err(changed_after_seal(
            "bytes follow the last update that are not an update".into(),
        ));
    }
    let mut prev = load(&bytes[..seal_end])?;
    let mut stamps = Vec::new();
    for &end in &ends {
        let cur = load(&bytes[..end])?;
        if cur.trailer.get(b"Root").ok() != prev.trailer.get(b"Root").ok()
            || cur.trailer.get(b"Encrypt").is_ok()
        {
            return Err(changed_after_seal("an update replaces the catalog".into()));
        }
        if let Some(id) = prev.objects.keys().find(|id| !cur.objects.contains_key(id)) {
            return Err(changed_after_seal(format!(
                "an update removes object {} {}",
                id.0, id.1
            )));
        }
        for (id, obj) in &cur.objects {
            match prev.objects.get(id) {
                Some(old) if old == obj => {}
                Some(old) => allowed_change(&cur, *id, old, obj)?,
                None => {
                    if let Ok(d) = obj.as_dict()
                        && is_type(d, b"DocTimeStamp")
                    {
                        stamps.push(doc_stamp(d, end)?);
                    }
                }
            }
        }
        prev = cur;
    }
    Ok(After { stamps })
}

fn is_type(d: &Dictionary, t: &[u8]) -> bool {
    matches!(d.get(b"Type"), Ok(Object::Name(n)) if n == t)
}

fn doc_stamp(d: &Dictionary, revision_end: usize) -> Result<DocStamp, String> {
    let (Ok(Object::Array(range)), Ok(Object::String(contents, _))) =
        (d.get(b"ByteRange"), d.get(b"Contents"))
    else {
        return Err("a document time stamp has no byte range or token".into());
    };
    let nums: Vec<usize> = range
        .iter()
        .filter_map(|n| n.as_i64().ok())
        .filter_map(|n| usize::try_from(n).ok())
        .collect();
    let [a, b, c, d] = nums[..] else {
        return Err("a document time stamp's byte range is malformed".into());
    };
    Ok(DocStamp {
        range: [a, b, c, d],
        contents: contents.clone(),
        revision_end,
    })
}

/// Whether the object `id` of revision `cur` may have changed from `old` to `new` in an
/// LTV update.
fn allowed_change(cur: &Document, id: ObjectId, old: &Object, new: &Object) -> Result<(), String> {
    let refuse = || {
        changed_after_seal(format!(
            "an update changes object {} {} (not validation data or a document time stamp)",
            id.0, id.1
        ))
    };
    match (old, new) {
        // A later DSS update (its certificates, CRLs, per-signature data).
        (Object::Dictionary(o), Object::Dictionary(n))
            if (is_type(o, b"DSS") && is_type(n, b"DSS"))
                || (is_type(o, b"VRI") && is_type(n, b"VRI")) =>
        {
            Ok(())
        }
        (Object::Dictionary(o), Object::Dictionary(n)) => {
            dict_change(cur, o, n).map_err(|_| refuse())
        }
        (Object::Array(o), Object::Array(n)) => {
            appended_stamps(cur, Some(o), n).map_err(|_| refuse())
        }
        _ => Err(refuse()),
    }
}

/// A dictionary may only gain or change `/DSS`, `/AcroForm` (itself only in its fields
/// and flags), `/Annots`, `/Fields` (only appended document time stamp fields) and
/// `/SigFlags`.
fn dict_change(cur: &Document, old: &Dictionary, new: &Dictionary) -> Result<(), ()> {
    for (key, _) in old.iter() {
        if new.get(key).is_err() {
            return Err(());
        }
    }
    for (key, value) in new.iter() {
        let before = old.get(key).ok();
        if before == Some(value) {
            continue;
        }
        match key.as_slice() {
            b"SigFlags" => {}
            b"DSS" => {
                let dss = match value {
                    Object::Reference(r) => cur.get_dictionary(*r).map_err(|_| ())?,
                    Object::Dictionary(d) => d,
                    _ => return Err(()),
                };
                if !is_type(dss, b"DSS") && dss.get(b"Type").is_ok() {
                    return Err(());
                }
            }
            b"AcroForm" => match (before, value) {
                (Some(Object::Dictionary(o)), Object::Dictionary(n)) => dict_change(cur, o, n)?,
                (None, Object::Dictionary(n)) => dict_change(cur, &Dictionary::new(), n)?,
                _ => return Err(()),
            },
            b"Annots" | b"Fields" => {
                let old_items = match before {
                    None => None,
                    Some(Object::Array(a)) => Some(a),
                    Some(_) => return Err(()),
                };
                let Object::Array(new_items) = value else {
                    return Err(());
                };
                appended_stamps(cur, old_items, new_items)?;
            }
            _ => return Err(()),
        }
    }
    Ok(())
}

/// `new` is `old` with only invisible document time stamp fields appended.
fn appended_stamps(cur: &Document, old: Option<&Vec<Object>>, new: &[Object]) -> Result<(), ()> {
    let old: &[Object] = old.map_or(&[], |v| v.as_slice());
    if new.len() < old.len() || &new[..old.len()] != old {
        return Err(());
    }
    for item in &new[old.len()..] {
        let Object::Reference(r) = item else {
            return Err(());
        };
        let field = cur.get_dictionary(*r).map_err(|_| ())?;
        let stamp = match field.get(b"V") {
            Ok(Object::Reference(v)) => cur.get_dictionary(*v).map_err(|_| ())?,
            _ => return Err(()),
        };
        if !is_type(stamp, b"DocTimeStamp") || !invisible(field) {
            return Err(());
        }
    }
    Ok(())
}

/// A widget that shows nothing: a zero-area rectangle or the hidden flag.
fn invisible(field: &Dictionary) -> bool {
    let hidden = matches!(field.get(b"F"), Ok(Object::Integer(f)) if f & 2 != 0);
    let zero = match field.get(b"Rect") {
        Ok(Object::Array(r)) if r.len() == 4 => {
            let n: Vec<f32> = r.iter().filter_map(|o| o.as_float().ok()).collect();
            n.len() == 4
                && ((n[2] - n[0]).abs() < f32::EPSILON || (n[3] - n[1]).abs() < f32::EPSILON)
        }
        Err(_) => true,
        _ => false,
    };
    hidden || zero
}

/// The certificates and CRLs (DER) in the file's `/DSS`.
pub(crate) fn dss(bytes: &[u8]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let Ok(doc) = Document::load_mem(bytes) else {
        return (Vec::new(), Vec::new());
    };
    let Some(dss) = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"DSS").ok())
        .and_then(|o| match o {
            Object::Reference(r) => doc.get_dictionary(*r).ok(),
            Object::Dictionary(d) => Some(d),
            _ => None,
        })
    else {
        return (Vec::new(), Vec::new());
    };
    let streams = |key: &[u8]| -> Vec<Vec<u8>> {
        let items = match dss.get(key) {
            Ok(Object::Array(a)) => a.clone(),
            Ok(Object::Reference(r)) => match doc.get_object(*r) {
                Ok(Object::Array(a)) => a.clone(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        items
            .iter()
            .filter_map(|o| o.as_reference().ok())
            .filter_map(|r| doc.get_object(r).ok())
            .filter_map(|o| o.as_stream().ok())
            .map(|s| {
                s.decompressed_content()
                    .unwrap_or_else(|_| s.content.clone())
            })
            .collect()
    };
    (streams(b"Certs"), streams(b"CRLs"))
}

//! The incremental update (ISO 32000-1 §7.5.6) that seals a PDF: the original bytes stay
//! as they are; appended after them are the evidence pages, the verification code
//! stamped on every original page (an extra content stream per page), the seal's
//! signature field with its visible block, and the signature dictionary whose
//! `/Contents` placeholder the CMS fills once `/ByteRange` is known.

use crate::SealError;
use crate::evidence::{self, Evidence, PAGE, SEAL_BOX};
use crate::markers;
use crate::text::{self, BOLD, REGULAR};
use chrono::{DateTime, Utc};
use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, IncrementalDocument, Object, ObjectId, Stream, StringFormat};

/// Placeholder numbers of `/ByteRange`, replaced once the offsets are known (ten digits
/// each, so the real numbers always fit in their place).
const BYTE_RANGE_PLACEHOLDER: [i64; 3] = [1_111_111_111, 2_222_222_222, 3_333_333_333];

/// A PDF with the seal's update appended, waiting for its CMS.
pub(crate) struct Prepared {
    /// The whole file, with a zero-filled `/Contents`.
    pub bytes: Vec<u8>,
    /// Offset of the `<` that opens `/Contents`.
    pub contents_start: usize,
    /// Offset just after the `>` that closes it.
    pub contents_end: usize,
}

impl Prepared {
    /// The bytes the signature covers: everything but the `/Contents` hex string.
    pub fn signed_parts(&self) -> [&[u8]; 2] {
        [
            &self.bytes[..self.contents_start],
            &self.bytes[self.contents_end..],
        ]
    }

    /// Writes the DER `cms` into the placeholder (hex, zero-padded).
    pub fn fill(mut self, cms: &[u8]) -> Result<Vec<u8>, SealError> {
        let room = (self.contents_end - self.contents_start - 2) / 2;
        if cms.len() > room {
            return Err(SealError::TooLarge(cms.len()));
        }
        let hex = hex::encode_upper(cms);
        let at = self.contents_start + 1;
        self.bytes[at..at + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(self.bytes)
    }
}

pub(crate) fn pdf_err(what: &'static str) -> impl Fn(lopdf::Error) -> SealError {
    move |e| SealError::Pdf(format!("{what}: {e}"))
}

pub(crate) fn name(n: &str) -> Object {
    Object::Name(n.as_bytes().to_vec())
}

pub(crate) fn literal(s: &str) -> Object {
    Object::String(text::win_ansi(s), StringFormat::Literal)
}

/// A PDF date (`D:20261207140500+01'00'`... here always UTC, `Z`).
pub(crate) fn pdf_date(at: DateTime<Utc>) -> String {
    at.format("D:%Y%m%d%H%M%SZ").to_string()
}

/// Builds the update for `original` with room for a CMS of `reserve` bytes.
pub(crate) fn prepare(
    original: &[u8],
    evidence: &Evidence,
    signed_at: DateTime<Utc>,
    reserve: usize,
) -> Result<Prepared, SealError> {
    let prev = Document::load_mem(original).map_err(pdf_err("the PDF cannot be read"))?;
    if prev.is_encrypted() || prev.trailer.get(b"Encrypt").is_ok() {
        return Err(SealError::Pdf(
            "the PDF is encrypted; a sealed document must be readable by anyone".into(),
        ));
    }
    let root_id = prev
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(pdf_err("the PDF has no catalog"))?;
    let pages_id = prev
        .catalog()
        .and_then(|c| c.get(b"Pages"))
        .and_then(Object::as_reference)
        .map_err(pdf_err("the PDF has no page tree"))?;
    let original_pages: Vec<ObjectId> = prev.get_pages().into_values().collect();
    if original_pages.is_empty() {
        return Err(SealError::Pdf("the PDF has no pages".into()));
    }
    let mut doc = IncrementalDocument::create_from(original.to_vec(), prev);
    let footer = evidence::footer(evidence);

    // Fonts for the stamps and the appended pages.
    let regular = doc
        .new_document
        .add_object(Object::Dictionary(text::font("Helvetica")));
    let bold = doc
        .new_document
        .add_object(Object::Dictionary(text::font("Helvetica-Bold")));
    let mut fonts = Dictionary::new();
    fonts.set(REGULAR, Object::Reference(regular));
    fonts.set(BOLD, Object::Reference(bold));

    // The verification code on every original page, in a content stream of its own
    // around which the original content is saved and restored (q … Q).
    let save = doc
        .new_document
        .add_object(Stream::new(Dictionary::new(), b"q\n".to_vec()));
    for page in &original_pages {
        // The signature blocks at the page's template markers, if any.
        let mut blocks = Vec::new();
        for m in markers::find(doc.get_prev_documents(), *page) {
            let sigs: Vec<_> = evidence
                .signatures
                .iter()
                .filter(|s| s.step == m.step)
                .collect();
            if !sigs.is_empty() {
                blocks.extend(markers::block(&m, &sigs, REGULAR));
            }
        }
        stamp_page(&mut doc, *page, save, regular, &footer, blocks)?;
    }

    // The evidence pages, appended to the root of the page tree.
    // Names or a title WinAnsi cannot show are set in the embedded Unicode font.
    let mut unicode = if evidence::win_ansi_only(evidence) {
        None
    } else {
        Some(crate::unicode_font::UnicodeFont::load().map_err(SealError::Pdf)?)
    };
    let contents = evidence::pages(evidence, unicode.as_mut());
    if let Some(u) = &unicode {
        let id = u.embed(&mut doc.new_document).map_err(SealError::Pdf)?;
        fonts.set(crate::unicode_font::UNICODE, Object::Reference(id));
    }
    let mut new_pages = Vec::new();
    for ops in contents {
        let stream = encode(ops)?;
        let content_id = doc.new_document.add_object(stream);
        let mut page = Dictionary::new();
        page.set("Type", name("Page"));
        page.set("Parent", Object::Reference(pages_id));
        page.set(
            "MediaBox",
            vec![0.into(), 0.into(), PAGE.0.into(), PAGE.1.into()],
        );
        let mut resources = Dictionary::new();
        resources.set("Font", Object::Dictionary(fonts.clone()));
        page.set("Resources", resources);
        page.set("Contents", Object::Reference(content_id));
        new_pages.push(doc.new_document.add_object(page));
    }
    doc.opt_clone_object_to_new_document(pages_id)
        .map_err(pdf_err("the page tree"))?;
    {
        let tree = doc
            .new_document
            .get_dictionary_mut(pages_id)
            .map_err(pdf_err("the page tree"))?;
        let count = tree.get(b"Count").and_then(Object::as_i64).unwrap_or(0);
        tree.set("Count", count + new_pages.len() as i64);
        let mut kids = match tree.get(b"Kids") {
            Ok(Object::Array(k)) => k.clone(),
            _ => Vec::new(),
        };
        if let Ok(Object::Reference(kids_ref)) = tree.get(b"Kids") {
            let kids_ref = *kids_ref;
            if let Ok(Object::Array(k)) = doc.get_prev_documents().get_object(kids_ref) {
                kids = k.clone();
            }
        }
        kids.extend(new_pages.iter().map(|p| Object::Reference(*p)));
        let tree = doc
            .new_document
            .get_dictionary_mut(pages_id)
            .map_err(pdf_err("the page tree"))?;
        tree.set("Kids", kids);
    }

    // The signature dictionary, with placeholders.
    let mut sig = signature_dictionary("Sig", "ETSI.CAdES.detached", reserve);
    sig.set("M", literal(&pdf_date(signed_at)));
    sig.set("Name", literal(&evidence.city));
    sig.set("Location", literal(&evidence.city));
    sig.set(
        "Reason",
        literal(&format!("Verificatiecode {}", evidence.code)),
    );
    let sig_id = doc.new_document.add_object(sig);

    // The seal's field and its visible block on the last appended page.
    let last_page = *new_pages
        .last()
        .ok_or_else(|| SealError::Pdf("no evidence page".into()))?;
    let (x, y, w, h) = SEAL_BOX;
    let mut ap_res = Dictionary::new();
    ap_res.set("Font", Object::Dictionary(fonts.clone()));
    let mut ap_dict = Dictionary::new();
    ap_dict.set("Type", name("XObject"));
    ap_dict.set("Subtype", name("Form"));
    ap_dict.set("BBox", vec![0.into(), 0.into(), w.into(), h.into()]);
    ap_dict.set("Resources", ap_res);
    let ap_stream = encode(evidence::seal_block(evidence))?;
    let ap_id = doc
        .new_document
        .add_object(Stream::new(ap_dict, ap_stream.content));
    let mut ap = Dictionary::new();
    ap.set("N", Object::Reference(ap_id));
    let mut field = Dictionary::new();
    field.set("Type", name("Annot"));
    field.set("Subtype", name("Widget"));
    field.set("FT", name("Sig"));
    field.set("T", literal(&format!("Zegel {}", evidence.code)));
    field.set("V", Object::Reference(sig_id));
    field.set("F", 4);
    field.set("P", Object::Reference(last_page));
    field.set(
        "Rect",
        vec![x.into(), y.into(), (x + w).into(), (y + h).into()],
    );
    field.set("AP", ap);
    let field_id = doc.new_document.add_object(field);
    doc.new_document
        .get_dictionary_mut(last_page)
        .map_err(pdf_err("the evidence page"))?
        .set("Annots", vec![Object::Reference(field_id)]);
    add_to_acroform(&mut doc, root_id, field_id)?;

    let mut bytes = Vec::with_capacity(original.len() + reserve * 2 + 16 * 1024);
    doc.save_to(&mut bytes)
        .map_err(|e| SealError::Pdf(format!("writing the update: {e}")))?;
    placeholders(bytes, original.len(), reserve)
}

/// A signature dictionary of `kind` (`Sig`, `DocTimeStamp`) with `/ByteRange` and
/// `/Contents` placeholders (room for `reserve` bytes) that [`placeholders`] finds.
pub(crate) fn signature_dictionary(kind: &str, sub_filter: &str, reserve: usize) -> Dictionary {
    let mut sig = Dictionary::new();
    sig.set("Type", name(kind));
    sig.set("Filter", name("Adobe.PPKLite"));
    sig.set("SubFilter", name(sub_filter));
    sig.set(
        "ByteRange",
        vec![
            Object::Integer(0),
            Object::Integer(BYTE_RANGE_PLACEHOLDER[0]),
            Object::Integer(BYTE_RANGE_PLACEHOLDER[1]),
            Object::Integer(BYTE_RANGE_PLACEHOLDER[2]),
        ],
    );
    sig.set(
        "Contents",
        Object::String(vec![0u8; reserve], StringFormat::Hexadecimal),
    );
    sig
}

fn encode(ops: Vec<Operation>) -> Result<Stream, SealError> {
    let content = Content { operations: ops }
        .encode()
        .map_err(pdf_err("page content"))?;
    Ok(Stream::new(Dictionary::new(), content))
}

/// The page's box (its own or inherited `/MediaBox`), as (llx, lly).
fn page_origin(doc: &Document, page: ObjectId) -> (f32, f32) {
    let mut id = Some(page);
    for _ in 0..64 {
        let Some(current) = id else { break };
        let Ok(dict) = doc.get_dictionary(current) else {
            break;
        };
        let boxed = dict
            .get(b"CropBox")
            .or_else(|_| dict.get(b"MediaBox"))
            .ok()
            .and_then(|b| doc.dereference(b).ok().map(|(_, o)| o));
        if let Some(Object::Array(a)) = boxed
            && a.len() == 4
        {
            let n = |o: &Object| o.as_float().unwrap_or(0.0);
            return (n(&a[0]).min(n(&a[2])), n(&a[1]).min(n(&a[3])));
        }
        id = dict.get(b"Parent").and_then(Object::as_reference).ok();
    }
    (0.0, 0.0)
}

/// Appends the code's stamp (and `blocks`, the signature blocks at its markers) to one
/// original page: `q` before its content, `Q` and the stamp after, and the stamp's font
/// in its resources.
fn stamp_page(
    doc: &mut IncrementalDocument,
    page: ObjectId,
    save: ObjectId,
    font: ObjectId,
    footer: &str,
    blocks: Vec<Operation>,
) -> Result<(), SealError> {
    let (llx, lly) = page_origin(doc.get_prev_documents(), page);
    let mut ops = vec![Operation::new("Q", vec![]), Operation::new("q", vec![])];
    ops.push(Operation::new("g", vec![0.35.into()]));
    ops.extend(text::show(REGULAR, 6.5, llx + 18.0, lly + 8.0, footer));
    ops.push(Operation::new("Q", vec![]));
    ops.extend(blocks);
    let stamp = encode(ops)?;
    let stamp_id = doc.new_document.add_object(stamp);

    // The font, in the page's resources (cloned into the update when shared).
    let font_entry = {
        let resources = doc
            .get_or_create_resources(page)
            .map_err(pdf_err("page resources"))?;
        let resources = match resources {
            Object::Dictionary(d) => d,
            _ => {
                return Err(SealError::Pdf(
                    "a page's resources are not a dictionary".into(),
                ));
            }
        };
        match resources.get(b"Font") {
            Ok(Object::Reference(r)) => Some(*r),
            Ok(Object::Dictionary(_)) => None,
            _ => {
                resources.set("Font", Dictionary::new());
                None
            }
        }
    };
    match font_entry {
        Some(fonts_id) => {
            doc.opt_clone_object_to_new_document(fonts_id)
                .map_err(pdf_err("page fonts"))?;
            doc.new_document
                .get_dictionary_mut(fonts_id)
                .map_err(pdf_err("page fonts"))?
                .set(REGULAR, Object::Reference(font));
        }
        None => {
            if let Ok(Object::Dictionary(resources)) = doc.get_or_create_resources(page)
                && let Ok(Object::Dictionary(fonts)) = resources.get_mut(b"Font")
            {
                fonts.set(REGULAR, Object::Reference(font));
            }
        }
    }

    // The contents: q, the original streams, the stamp.
    let original: Vec<Object> = {
        let page_dict = doc
            .new_document
            .get_dictionary(page)
            .map_err(pdf_err("a page"))?;
        match page_dict.get(b"Contents") {
            Ok(Object::Reference(r)) => match doc.get_prev_documents().get_object(*r) {
                Ok(Object::Array(a)) => a.clone(),
                _ => vec![Object::Reference(*r)],
            },
            Ok(Object::Array(a)) => a.clone(),
            _ => Vec::new(),
        }
    };
    let mut contents = vec![Object::Reference(save)];
    contents.extend(original);
    contents.push(Object::Reference(stamp_id));
    doc.new_document
        .get_dictionary_mut(page)
        .map_err(pdf_err("a page"))?
        .set("Contents", contents);
    Ok(())
}

/// Adds the seal's field to the document's form (creating the form when there is none)
/// and sets `/SigFlags 3` (signatures exist; append only).
pub(crate) fn add_to_acroform(
    doc: &mut IncrementalDocument,
    root: ObjectId,
    field: ObjectId,
) -> Result<(), SealError> {
    doc.opt_clone_object_to_new_document(root)
        .map_err(pdf_err("the catalog"))?;
    let form_ref = doc
        .new_document
        .get_dictionary(root)
        .map_err(pdf_err("the catalog"))?
        .get(b"AcroForm")
        .ok()
        .and_then(|o| o.as_reference().ok());
    let form: &mut Dictionary = match form_ref {
        Some(id) => {
            doc.opt_clone_object_to_new_document(id)
                .map_err(pdf_err("the form"))?;
            doc.new_document
                .get_dictionary_mut(id)
                .map_err(pdf_err("the form"))?
        }
        None => {
            let catalog = doc
                .new_document
                .get_dictionary_mut(root)
                .map_err(pdf_err("the catalog"))?;
            if !matches!(catalog.get(b"AcroForm"), Ok(Object::Dictionary(_))) {
                catalog.set("AcroForm", Dictionary::new());
            }
            match catalog.get_mut(b"AcroForm") {
                Ok(Object::Dictionary(d)) => d,
                _ => return Err(SealError::Pdf("the form".into())),
            }
        }
    };
    let fields_ref = match form.get(b"Fields") {
        Ok(Object::Reference(r)) => Some(*r),
        Ok(Object::Array(_)) => None,
        _ => {
            form.set("Fields", Vec::<Object>::new());
            None
        }
    };
    form.set("SigFlags", 3);
    match fields_ref {
        None => {
            if let Ok(Object::Array(fields)) = form.get_mut(b"Fields") {
                fields.push(Object::Reference(field));
            }
        }
        Some(id) => {
            doc.opt_clone_object_to_new_document(id)
                .map_err(pdf_err("the form's fields"))?;
            if let Ok(Object::Array(fields)) = doc.new_document.get_object_mut(id) {
                fields.push(Object::Reference(field));
            }
        }
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Finds the placeholders in the part appended after `original_len` and writes the real
/// `/ByteRange`.
pub(crate) fn placeholders(
    mut bytes: Vec<u8>,
    original_len: usize,
    reserve: usize,
) -> Result<Prepared, SealError> {
    let zeros = format!("<{}>", "0".repeat(reserve * 2));
    let contents_start = find(&bytes, zeros.as_bytes(), original_len)
        .ok_or_else(|| SealError::Pdf("the signature placeholder was not written".into()))?;
    let contents_end = contents_start + zeros.len();
    let marker = format!(
        "{} {} {}",
        BYTE_RANGE_PLACEHOLDER[0], BYTE_RANGE_PLACEHOLDER[1], BYTE_RANGE_PLACEHOLDER[2]
    );
    let at = find(&bytes, marker.as_bytes(), original_len)
        .ok_or_else(|| SealError::Pdf("the byte range placeholder was not written".into()))?;
    let open = bytes[..at]
        .iter()
        .rposition(|b| *b == b'[')
        .ok_or_else(|| SealError::Pdf("the byte range placeholder".into()))?;
    let close = find(&bytes, b"]", at)
        .ok_or_else(|| SealError::Pdf("the byte range placeholder".into()))?;
    let range = format!(
        "[0 {} {} {}",
        contents_start,
        contents_end,
        bytes.len() - contents_end
    );
    let width = close - open;
    if range.len() > width {
        return Err(SealError::Pdf(
            "the byte range does not fit its place".into(),
        ));
    }
    let padded = format!("{range:<width$}");
    bytes[open..close].copy_from_slice(padded.as_bytes());
    Ok(Prepared {
        bytes,
        contents_start,
        contents_end,
    })
}

//! The updates that make a sealed PDF long-term (PAdES B-LT and B-LTA, ETSI EN 319 142-1
//! §5.4, §5.5), each an incremental update after the seal: the Document Security Store
//! (`/DSS` in the catalog: the certificates and CRLs a verifier needs later, when the
//! CA's services may be gone), then a document time stamp (`/DocTimeStamp`,
//! `/ETSI.RFC3161`) over the whole file including the DSS.

use crate::pdf::{Prepared, add_to_acroform, literal, name, pdf_err, placeholders};
use crate::revocation::ValidationData;
use crate::{SealError, Timestamper};
use der::Encode;
use lopdf::{Dictionary, Document, IncrementalDocument, Object, ObjectId, Stream};
use sha2::{Digest, Sha256};

/// How much room the document time stamp's token gets at first (a token with the
/// TSA's chain).
const TOKEN_RESERVE: usize = 12 * 1024;

fn open(bytes: Vec<u8>) -> Result<(IncrementalDocument, ObjectId), SealError> {
    let prev = Document::load_mem(&bytes).map_err(pdf_err("the sealed PDF cannot be read"))?;
    let root = prev
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(pdf_err("the sealed PDF has no catalog"))?;
    Ok((IncrementalDocument::create_from(bytes, prev), root))
}

fn save(mut doc: IncrementalDocument, extra: usize) -> Result<Vec<u8>, SealError> {
    let mut out = Vec::with_capacity(doc.get_prev_documents_bytes().len() + extra);
    doc.save_to(&mut out)
        .map_err(|e| SealError::Pdf(format!("writing the update: {e}")))?;
    Ok(out)
}

/// Appends the DSS with `data` (each certificate and CRL a stream, DER) to `sealed`.
pub(crate) fn append_dss(sealed: Vec<u8>, data: &ValidationData) -> Result<Vec<u8>, SealError> {
    let (mut doc, root) = open(sealed)?;
    let mut certs = Vec::new();
    for c in &data.certs {
        let der = c
            .to_der()
            .map_err(|e| SealError::Pdf(format!("a certificate for the DSS: {e}")))?;
        certs.push(Object::Reference(
            doc.new_document
                .add_object(Stream::new(Dictionary::new(), der)),
        ));
    }
    let mut crls = Vec::new();
    for c in &data.crls {
        crls.push(Object::Reference(
            doc.new_document
                .add_object(Stream::new(Dictionary::new(), c.der.clone())),
        ));
    }
    let mut dss = Dictionary::new();
    dss.set("Type", name("DSS"));
    dss.set("Certs", certs);
    if !crls.is_empty() {
        dss.set("CRLs", crls);
    }
    let dss_id = doc.new_document.add_object(dss);
    doc.opt_clone_object_to_new_document(root)
        .map_err(pdf_err("the catalog"))?;
    doc.new_document
        .get_dictionary_mut(root)
        .map_err(pdf_err("the catalog"))?
        .set("DSS", Object::Reference(dss_id));
    save(doc, 8 * 1024)
}

/// Appends a document time stamp of `tsa` over the whole of `bytes` (its field is
/// invisible, on the last page).
pub(crate) fn append_doc_timestamp(
    bytes: Vec<u8>,
    tsa: &dyn Timestamper,
) -> Result<Vec<u8>, SealError> {
    let mut reserve = TOKEN_RESERVE;
    loop {
        let prepared = prepare_doc_timestamp(bytes.clone(), reserve)?;
        let mut h = Sha256::new();
        for part in prepared.signed_parts() {
            h.update(part);
        }
        let digest: [u8; 32] = h.finalize().into();
        let token = tsa.stamp(&digest).map_err(SealError::Timestamp)?;
        match prepared.fill(&token) {
            Err(SealError::TooLarge(n)) if reserve < n + 1024 && n < 1024 * 1024 => {
                reserve = n + 2048;
            }
            other => return other,
        }
    }
}

fn prepare_doc_timestamp(bytes: Vec<u8>, reserve: usize) -> Result<Prepared, SealError> {
    let start = bytes.len();
    let (mut doc, root) = open(bytes)?;
    let last_page = *doc
        .get_prev_documents()
        .get_pages()
        .values()
        .last()
        .ok_or_else(|| SealError::Pdf("the PDF has no pages".into()))?;
    let mut sig = crate::pdf::signature_dictionary("DocTimeStamp", "ETSI.RFC3161", reserve);
    sig.set("V", 0);
    let sig_id = doc.new_document.add_object(sig);
    let mut field = Dictionary::new();
    field.set("Type", name("Annot"));
    field.set("Subtype", name("Widget"));
    field.set("FT", name("Sig"));
    field.set("T", literal("Archieftijdstempel"));
    field.set("V", Object::Reference(sig_id));
    field.set("F", 132);
    field.set("P", Object::Reference(last_page));
    // Invisible (a zero rectangle) and without an appearance: validators (pyHanko)
    // then count the update as an LTA update, not as form filling.
    field.set("Rect", vec![0.into(), 0.into(), 0.into(), 0.into()]);
    let field_id = doc.new_document.add_object(field);

    // The widget in the last page's annotations.
    doc.opt_clone_object_to_new_document(last_page)
        .map_err(pdf_err("the last page"))?;
    let annots: Vec<Object> = {
        let page = doc
            .new_document
            .get_dictionary(last_page)
            .map_err(pdf_err("the last page"))?;
        match page.get(b"Annots") {
            Ok(Object::Array(a)) => a.clone(),
            Ok(Object::Reference(r)) => match doc.get_prev_documents().get_object(*r) {
                Ok(Object::Array(a)) => a.clone(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    };
    let mut annots = annots;
    annots.push(Object::Reference(field_id));
    doc.new_document
        .get_dictionary_mut(last_page)
        .map_err(pdf_err("the last page"))?
        .set("Annots", annots);
    add_to_acroform(&mut doc, root, field_id)?;
    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|e| SealError::Pdf(format!("writing the update: {e}")))?;
    placeholders(out, start, reserve)
}

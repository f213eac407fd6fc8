//! Attack finding 08: content submitted as text is set with every character WinAnsi
//! cannot show in an embedded Unicode font (never `?`), and the submitted text itself is
//! attached to the PDF byte for byte, so its SHA-256 (on the evidence page) can be
//! recomputed from the sealed file.

use lopdf::{Document, Object};

const BODY: &str = "Het college benoemt Ayşe Yılmaz en Łukasz Wąsowski tot ambtenaar.\nتم التعيين\nGewone regel: € 1.200, Zoë.";

fn deref<'a>(doc: &'a Document, o: &'a Object) -> &'a Object {
    match o {
        Object::Reference(id) => doc.get_object(*id).unwrap(),
        o => o,
    }
}

#[test]
fn text_outside_win_ansi_is_set_in_a_unicode_font_and_the_text_is_attached() {
    let pdf = paraaf_seal::text_pdf("Benoeming", BODY).unwrap();
    let doc = Document::load_mem(&pdf).unwrap();
    // What the page shows, read back through the ToUnicode CMap: every character.
    let shown = doc.extract_text(&[1]).unwrap();
    for part in [
        "Ayşe Yılmaz",
        "Łukasz Wąsowski",
        "التعيين",
        "Gewone regel: € 1.200, Zoë.",
    ] {
        assert!(shown.contains(part), "{part:?} not shown in {shown:?}");
    }
    assert!(!shown.contains('?'), "{shown}");
    // The submitted text, attached byte for byte.
    let catalog = doc.catalog().unwrap();
    let names = deref(&doc, catalog.get(b"Names").unwrap())
        .as_dict()
        .unwrap();
    let files = deref(&doc, names.get(b"EmbeddedFiles").unwrap())
        .as_dict()
        .unwrap();
    let list = files.get(b"Names").unwrap().as_array().unwrap();
    assert_eq!(list[0].as_str().unwrap(), b"origineel.txt");
    let spec = deref(&doc, &list[1]).as_dict().unwrap();
    assert_eq!(
        spec.get(b"AFRelationship").unwrap().as_name().unwrap(),
        b"Source"
    );
    let ef = deref(&doc, spec.get(b"EF").unwrap()).as_dict().unwrap();
    let stream = deref(&doc, ef.get(b"F").unwrap()).as_stream().unwrap();
    let bytes = stream
        .decompressed_content()
        .unwrap_or(stream.content.clone());
    assert_eq!(bytes, BODY.as_bytes());
    assert!(catalog.get(b"AF").is_ok());
}

#[test]
fn text_win_ansi_shows_embeds_no_font() {
    let pdf =
        paraaf_seal::text_pdf("Besluit", "De schepen van Financiën beslist — € 1.200.").unwrap();
    assert!(!pdf.windows(9).any(|w| w == b"FontFile2"));
    let doc = Document::load_mem(&pdf).unwrap();
    assert!(
        doc.extract_text(&[1])
            .unwrap()
            .contains("Financiën beslist")
    );
}

mod support;

/// The evidence page names a signer and a title outside WinAnsi as they are (in the
/// embedded font), and the seal over it verifies.
#[test]
fn the_evidence_page_shows_names_outside_win_ansi() {
    use paraaf_seal::trust::Anchors;
    use paraaf_seal::verify::verify;
    let dir = support::temp("unicode-evidence");
    support::pki(&dir);
    let key = paraaf_seal::Pkcs12Key::from_file(&dir.join("seal.p12"), "test").unwrap();
    let mut ev = support::evidence("K7QF-3M9X-T2PA");
    ev.title = "Benoeming Ayşe Yılmaz".into();
    ev.signatures[0].signer = "Łukasz Wąsowski".into();
    let pdf = paraaf_seal::text_pdf("Benoeming", BODY).unwrap();
    let sealed = paraaf_seal::seal(&pdf, &ev, &key, None, chrono::Utc::now()).unwrap();
    let doc = Document::load_mem(&sealed).unwrap();
    let last = doc.get_pages().len() as u32;
    let shown = doc.extract_text(&[last]).unwrap();
    assert!(shown.contains("Benoeming Ayşe Yılmaz"), "{shown}");
    assert!(shown.contains("Łukasz Wąsowski"), "{shown}");
    let anchors = Anchors::from_pem_file(&dir.join("root.pem")).unwrap();
    let report = verify(&sealed, &anchors, None);
    assert!(report.valid(), "{:?}", report.problems);
}

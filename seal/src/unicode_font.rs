//! Text that WinAnsiEncoding cannot show (Ayşe Yılmaz, Łukasz Wąsowski, Arabic, …),
//! set in an embedded Unicode TrueType font instead of turning into `?` (attack finding
//! 08): DejaVu Sans (Debian's `fonts-dejavu-core`, or the file `PARAAF_SEAL_FONT`
//! names) as a Type0 / CIDFontType2 font with Identity-H, glyph ids found with
//! `ttf-parser`, the widths of the glyphs used and a ToUnicode CMap so that the text can
//! be copied and searched. Glyphs are placed one after the other: scripts that need
//! shaping or right-to-left ordering (Arabic) show their letters unshaped, in the order
//! typed; the submitted text itself is embedded in the PDF as well (see `text_pdf`).

use lopdf::content::Operation;
use lopdf::{Dictionary, Document, Object, Stream, StringFormat};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The font resource name of the embedded Unicode font.
pub(crate) const UNICODE: &str = "ParaafU";

/// Where the Unicode font is looked for, first found wins.
fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("PARAAF_SEAL_FONT").filter(|p| !p.is_empty()) {
        out.push(PathBuf::from(p));
    }
    out.push("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf".into());
    out.push("/usr/share/fonts/TTF/DejaVuSans.ttf".into());
    out
}

/// A TrueType font read from disk, with the glyphs a document uses.
pub(crate) struct UnicodeFont {
    data: Vec<u8>,
    used: BTreeMap<u16, char>,
}

impl UnicodeFont {
    /// The first Unicode font found that parses, or why none.
    pub(crate) fn load() -> Result<UnicodeFont, String> {
        for path in candidates() {
            if let Ok(data) = std::fs::read(&path)
                && ttf_parser::Face::parse(&data, 0).is_ok()
            {
                return Ok(UnicodeFont {
                    data,
                    used: BTreeMap::new(),
                });
            }
        }
        Err("no Unicode font to set this text (install fonts-dejavu-core, or name a TrueType font in PARAAF_SEAL_FONT)".into())
    }

    /// The operations that show `text` at (`x`, `y`) in this font, remembering its glyphs.
    pub(crate) fn show(&mut self, size: f32, x: f32, y: f32, text: &str) -> Vec<Operation> {
        let mut gids = Vec::new();
        if let Ok(face) = ttf_parser::Face::parse(&self.data, 0) {
            for c in text.chars() {
                let c = if c == '\t' { ' ' } else { c };
                let gid = face.glyph_index(c).map_or(0, |g| g.0);
                self.used.entry(gid).or_insert(c);
                gids.extend(gid.to_be_bytes());
            }
        }
        vec![
            Operation::new("BT", vec![]),
            Operation::new(
                "Tf",
                vec![Object::Name(UNICODE.as_bytes().to_vec()), size.into()],
            ),
            Operation::new("Td", vec![x.into(), y.into()]),
            Operation::new("Tj", vec![Object::String(gids, StringFormat::Hexadecimal)]),
            Operation::new("ET", vec![]),
        ]
    }

    /// Adds the font (embedded, with widths and ToUnicode of the glyphs used) to `doc`;
    /// returns the Type0 font object's id.
    pub(crate) fn embed(&self, doc: &mut Document) -> Result<lopdf::ObjectId, String> {
        let face = ttf_parser::Face::parse(&self.data, 0).map_err(|e| e.to_string())?;
        let scale = 1000.0 / f32::from(face.units_per_em().max(1));
        let em = |v: i16| (f32::from(v) * scale).round() as i64;
        let bbox = face.global_bounding_box();
        let mut file = Stream::new(Dictionary::new(), self.data.clone());
        file.dict.set("Length1", self.data.len() as i64);
        file.compress().map_err(|e| e.to_string())?;
        let file_id = doc.add_object(file);
        let mut fd = Dictionary::new();
        fd.set("Type", Object::Name(b"FontDescriptor".to_vec()));
        fd.set("FontName", Object::Name(b"DejaVuSans".to_vec()));
        fd.set("Flags", 32);
        fd.set(
            "FontBBox",
            vec![
                em(bbox.x_min).into(),
                em(bbox.y_min).into(),
                em(bbox.x_max).into(),
                em(bbox.y_max).into(),
            ],
        );
        fd.set("ItalicAngle", 0);
        fd.set("Ascent", em(face.ascender()));
        fd.set("Descent", em(face.descender()));
        fd.set(
            "CapHeight",
            em(face.capital_height().unwrap_or(face.ascender())),
        );
        fd.set("StemV", 80);
        fd.set("FontFile2", Object::Reference(file_id));
        let fd_id = doc.add_object(fd);
        let mut widths = Vec::new();
        for gid in self.used.keys() {
            let w = face
                .glyph_hor_advance(ttf_parser::GlyphId(*gid))
                .map_or(0, |a| (f32::from(a) * scale).round() as i64);
            widths.push(Object::Integer(i64::from(*gid)));
            widths.push(Object::Array(vec![Object::Integer(w)]));
        }
        let mut info = Dictionary::new();
        info.set("Registry", Object::string_literal("Adobe"));
        info.set("Ordering", Object::string_literal("Identity"));
        info.set("Supplement", 0);
        let mut cid = Dictionary::new();
        cid.set("Type", Object::Name(b"Font".to_vec()));
        cid.set("Subtype", Object::Name(b"CIDFontType2".to_vec()));
        cid.set("BaseFont", Object::Name(b"DejaVuSans".to_vec()));
        cid.set("CIDSystemInfo", info);
        cid.set("FontDescriptor", Object::Reference(fd_id));
        cid.set("DW", 1000);
        cid.set("W", widths);
        cid.set("CIDToGIDMap", Object::Name(b"Identity".to_vec()));
        let cid_id = doc.add_object(cid);
        let to_unicode = doc.add_object(Stream::new(Dictionary::new(), self.cmap().into_bytes()));
        let mut font = Dictionary::new();
        font.set("Type", Object::Name(b"Font".to_vec()));
        font.set("Subtype", Object::Name(b"Type0".to_vec()));
        font.set("BaseFont", Object::Name(b"DejaVuSans".to_vec()));
        font.set("Encoding", Object::Name(b"Identity-H".to_vec()));
        font.set("DescendantFonts", vec![Object::Reference(cid_id)]);
        font.set("ToUnicode", Object::Reference(to_unicode));
        Ok(doc.add_object(font))
    }

    /// The ToUnicode CMap of the glyphs used.
    fn cmap(&self) -> String {
        let mut out = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        let pairs: Vec<(&u16, &char)> = self.used.iter().filter(|(g, _)| **g != 0).collect();
        for chunk in pairs.chunks(100) {
            out.push_str(&format!("{} beginbfchar\n", chunk.len()));
            for (gid, c) in chunk {
                let mut units = [0u16; 2];
                let hex: String = c
                    .encode_utf16(&mut units)
                    .iter()
                    .map(|u| format!("{u:04X}"))
                    .collect();
                out.push_str(&format!("<{gid:04X}> <{hex}>\n"));
            }
            out.push_str("endbfchar\n");
        }
        out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        out
    }
}

/// Whether WinAnsiEncoding shows every character of `text` (no `?` for any).
pub(crate) fn win_ansi_shows(text: &str) -> bool {
    text.chars()
        .zip(crate::text::win_ansi(text))
        .all(|(c, b)| b != b'?' || c == '?')
}

//! Text as office software saves it: UTF-8 with or without a byte-order mark, UTF-16
//! with a mark (Notepad's "Unicode"), or Windows-1252 (Notepad's and Excel's "ANSI").
//! Decoding never fails; the caller may tell the user which encoding was assumed.

/// Decodes `bytes`; the second value names the encoding when it was not plain UTF-8.
pub fn decode(bytes: &[u8]) -> (String, Option<&'static str>) {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        let name = if enc == encoding_rs::UTF_8 {
            "UTF-8 with a byte-order mark"
        } else {
            enc.name()
        };
        return (text.into_owned(), Some(name));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_string(), None),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            (text.into_owned(), Some("Windows-1252"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn office_encodings() {
        assert_eq!(decode(b"caf\xc3\xa9").0, "café");
        assert_eq!(
            decode(b"\xef\xbb\xbfcaf\xc3\xa9"),
            ("café".into(), Some("UTF-8 with a byte-order mark"))
        );
        assert_eq!(
            decode(b"financi\xebn"),
            ("financiën".into(), Some("Windows-1252"))
        );
        assert_eq!(decode(b"\xff\xfeh\x00\xe9\x00").0, "hé");
    }
}

//! Words of the language where a name belongs (#31 item 7): every reserved word, in every
//! place a definition is named, is reported on the word itself with a help line that says
//! what was likely meant; a misspelled value word (`nnoe`, `ture`) or audience word
//! (`uploadr`, `signres`) gets "did you mean" the word.

mod common;

use common::diagnostics;
use paraaf_compiler::diagnostics::Code;
use paraaf_compiler::syntax::keywords::KEYWORDS;

/// The places a name is written, with `NAME` where it goes. Each is a whole file that
/// checks clean with a plain name (the first assertion of the test proves it).
const PLACES: &[(&str, &str)] = &[
    ("document kind", "document NAME {\n  titel: text\n}\n"),
    (
        "field",
        "document besluit {\n  titel: text\n  NAME: text\n}\n",
    ),
    (
        "flow",
        "document besluit {\n  titel: text\n}\nflow NAME for besluit {\n  visible to uploader\n  step paraaf : sign burgemeester\n}\n",
    ),
    (
        "step",
        "document besluit {\n  titel: text\n}\nflow f for besluit {\n  visible to uploader\n  step NAME : sign burgemeester\n}\n",
    ),
    (
        "step",
        "document besluit {\n  titel: text\n}\nflow f for besluit {\n  visible to uploader\n  step paraaf : sign burgemeester\n  on refused -> back to step NAME\n}\n",
    ),
    (
        "rule",
        "document besluit {\n  titel: text\n}\nrule NAME on besluit.submitted {\n  queue controle reason \"x\"\n}\n",
    ),
    (
        "value",
        "document besluit {\n  titel: text\n}\nrule r on besluit.submitted {\n  let NAME = 5\n}\n",
    ),
    ("group", "group NAME = people(burgemeester)\n"),
    ("agency", "agency NAME \"https://example.org\"\n"),
];

#[test]
fn every_keyword_as_a_name_says_so() {
    for (thing, src) in PLACES {
        let clean = src.replace("NAME", "naam");
        let plain: Vec<_> = diagnostics(&clean)
            .into_iter()
            .filter(|d| d.code == Code::SyntaxError)
            .collect();
        assert!(plain.is_empty(), "{thing}: {clean}\n{plain:#?}");
        for (kw, _) in KEYWORDS {
            let text = src.replace("NAME", kw);
            let at = src.find("NAME").unwrap();
            let diags = diagnostics(&text);
            let d = diags
                .iter()
                .find(|d| d.code == Code::SyntaxError)
                .unwrap_or_else(|| panic!("{thing} `{kw}`: no syntax error\n{text}"));
            assert_eq!(d.span.range, at..at + kw.len(), "{thing} `{kw}`: {d:#?}");
            assert_eq!(
                d.message,
                format!("`{kw}` is a word of the language, not a name"),
                "{thing} `{kw}`"
            );
            let help = d.help.as_deref().unwrap_or("");
            assert!(
                help.contains(&format!("cannot name a {thing}: did you mean `{kw}-1`?")),
                "{thing} `{kw}`: {help}"
            );
        }
    }
}

/// `flow for besluit`: the name is missing, and the help says so instead of asking to
/// rename `for`.
#[test]
fn a_missing_name_is_named_as_such() {
    let cases = [
        (
            "document besluit {\n  titel: text\n}\nflow for besluit {\n  visible to uploader\n  step paraaf : sign burgemeester\n}\n",
            "for",
            "the flow has no name: write one before `for`, e.g. `flow my-flow for`",
        ),
        (
            "document besluit {\n  titel: text\n}\nflow f for besluit {\n  visible to uploader\n  step : sign burgemeester\n}\n",
            "",
            "",
        ),
        ("group = people(burgemeester)\n", "", ""),
        (
            "document besluit {\n  titel: text\n}\nrule on besluit.submitted {\n  queue controle reason \"x\"\n}\n",
            "on",
            "the rule has no name: write one before `on`, e.g. `rule my-rule on`",
        ),
    ];
    for (src, kw, want) in cases {
        let diags = diagnostics(src);
        let d = diags
            .iter()
            .find(|d| d.code == Code::SyntaxError)
            .unwrap_or_else(|| panic!("no syntax error\n{src}"));
        if kw.is_empty() {
            // No word of the language at the gap: the usual message.
            assert!(!d.message.contains("word of the language"), "{d:#?}");
            continue;
        }
        let at = src.find(&format!(" {kw} ")).unwrap() + 1;
        assert_eq!(d.span.range, at..at + kw.len(), "{d:#?}");
        assert_eq!(d.help.as_deref(), Some(want), "{d:#?}");
    }
}

/// A misspelled word of the language that reads as a name: "did you mean" the word.
#[test]
fn misspelled_words_of_the_language_are_suggested() {
    let src = "document besluit {\n  bedrag: money?\n  dringend: bool\n}\nflow f for besluit when bedrag != nnoe and dringend == ture {\n  visible to uploadr, signres\n  step paraaf : sign burgemeester\n}\n";
    let diags = diagnostics(src);
    for (typo, word) in [
        ("nnoe", "none"),
        ("ture", "true"),
        ("uploadr", "uploader"),
        ("signres", "signers"),
    ] {
        let d = diags
            .iter()
            .find(|d| d.message.contains(&format!("`{typo}`")))
            .unwrap_or_else(|| panic!("{typo}: {diags:#?}"));
        assert_eq!(d.code, Code::UnknownName, "{d:#?}");
        assert_eq!(
            d.help.as_deref(),
            Some(format!("did you mean `{word}`?").as_str()),
            "{d:#?}"
        );
        let at = src.find(typo).unwrap();
        assert_eq!(d.fix.as_ref().map(|f| f.replacement.as_str()), Some(word));
        assert_eq!(d.span.range, at..at + typo.len());
    }
}

/// The list of words is the parser's: every word the parser reads literally is on it
/// (so it is refused as a name), except `allow`, which is a word only after
/// `shielded by GROUP`; and no word on it is a name.
#[test]
fn the_list_is_the_parsers() {
    let sources = [
        include_str!("../src/syntax/parse/items.rs"),
        include_str!("../src/syntax/parse/exprs.rs"),
    ];
    let mut read: Vec<&str> = Vec::new();
    for src in sources {
        for call in ["eat_word(\"", "at_word(\"", "expect_word(\""] {
            for part in src.split(call).skip(1) {
                read.push(&part[..part.find('"').unwrap()]);
            }
        }
    }
    read.sort_unstable();
    read.dedup();
    assert!(read.len() > 30, "{read:?}");
    for word in read {
        assert!(
            word == "allow" || KEYWORDS.iter().any(|(k, _)| *k == word),
            "`{word}` is read by the parser but not a keyword"
        );
    }
    for (kw, _) in KEYWORDS {
        assert!(!paraaf_compiler::syntax::is_identifier(kw), "{kw}");
        assert!(paraaf_compiler::syntax::is_identifier(&format!("{kw}-1")));
    }
}

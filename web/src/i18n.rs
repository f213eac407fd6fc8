//! Translations: Project Fluent files in `web/locales/{nl,en}/main.ftl`, compiled in.
//! Dutch is the default; English is one click away.

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, static_loader};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "nl",
        // No Unicode isolation marks around arguments: they would end up in the HTML.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static NL: LazyLock<LanguageIdentifier> = LazyLock::new(|| "nl".parse().expect("nl"));
static EN: LazyLock<LanguageIdentifier> = LazyLock::new(|| "en".parse().expect("en"));

/// A language of the user interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    /// Dutch (the default).
    #[default]
    Nl,
    /// English.
    En,
}

impl Lang {
    /// `nl` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    /// The language with this code, if the app has it.
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "nl" => Some(Lang::Nl),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language (the switch in the header).
    pub fn other(self) -> Lang {
        match self {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::Nl => &NL,
            Lang::En => &EN,
        }
    }
}

/// Looks messages up in one language (templates call `tr.t("key")`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Tr(pub Lang);

impl Tr {
    /// The message `key`.
    pub fn t(&self, key: &str) -> String {
        LOCALES.lookup(self.0.id(), key)
    }

    /// The message `key` with text arguments.
    pub fn with(&self, key: &str, args: &[(&'static str, &str)]) -> String {
        let map: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), FluentValue::from(v.to_string())))
            .collect();
        LOCALES.lookup_with_args(self.0.id(), key, &map)
    }

    /// The message `key` with a number `count` (plural forms).
    pub fn count(&self, key: &str, count: usize) -> String {
        let mut map: HashMap<Cow<'static, str>, FluentValue> = HashMap::new();
        map.insert(Cow::Borrowed("count"), FluentValue::from(count));
        LOCALES.lookup_with_args(self.0.id(), key, &map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Message ids, and whether the message takes arguments.
    fn ids(text: &str) -> std::collections::BTreeMap<String, bool> {
        text.lines()
            .filter(|l| !l.starts_with([' ', '#', '*', '[']) && l.contains(" = "))
            .filter_map(|l| l.split_once(" = "))
            .map(|(k, v)| {
                (
                    k.to_string(),
                    v.contains('$') || v.trim().is_empty() || v.ends_with("->"),
                )
            })
            .collect()
    }

    #[test]
    fn every_message_exists_in_both_languages() {
        let nl = ids(include_str!("../locales/nl/main.ftl"));
        let en = ids(include_str!("../locales/en/main.ftl"));
        assert_eq!(nl.keys().collect::<Vec<_>>(), en.keys().collect::<Vec<_>>());
        assert!(nl.len() > 100);
        for (key, takes_args) in &nl {
            if !takes_args {
                for lang in [Lang::Nl, Lang::En] {
                    let text = Tr(lang).t(key);
                    assert!(!text.is_empty() && !text.starts_with("Unknown"), "{key}");
                }
            }
        }
    }

    #[test]
    fn arguments_and_plurals() {
        assert_eq!(
            Tr(Lang::Nl).with("on-behalf", &[("name", "Ruben Van Damme")]),
            "voor Ruben Van Damme"
        );
        assert_eq!(Tr(Lang::Nl).count("inbox-count", 1), "1 taak");
        assert_eq!(Tr(Lang::En).count("inbox-count", 10), "10 tasks");
    }
}

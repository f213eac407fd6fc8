//! Mails: the settings (`[mail]` in the server's configuration file), the text (Dutch
//! first, then English; plain text and HTML from askama templates; links into the web
//! app) and sending through the city's SMTP server with `lettre`.

use crate::outbox::Mail;
use crate::store::outbox::Delivery;
use askama::Template;
use serde::Deserialize;
use std::path::PathBuf;

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    /// Plain connection upgraded with STARTTLS (port 587); refused without it.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or a test sink.
    None,
}

/// `[mail]` in the server's configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// The SMTP server (`smtp.aalst.be`).
    pub host: String,
    /// Its port (default 587).
    #[serde(default = "default_port")]
    pub port: u16,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default)]
    pub tls: Tls,
    /// The account to sign in with, if the server asks for one.
    #[serde(default)]
    pub username: Option<String>,
    /// A file holding only the password (a systemd or docker secret).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The sender (`Paraaf <paraaf@aalst.be>`).
    pub from: String,
    /// The web app's address the links point to (`https://paraaf.aalst.be`).
    pub base_url: String,
    /// The hour (Brussels time, 0–23) of the daily digest (default 8).
    #[serde(default = "default_hour")]
    pub digest_hour: u32,
}

fn default_port() -> u16 {
    587
}

fn default_hour() -> u32 {
    8
}

impl MailConfig {
    /// The domain of the sender's address (the right side of Message-IDs).
    pub fn domain(&self) -> String {
        let addr = self
            .from
            .rsplit_once('<')
            .map_or(self.from.as_str(), |(_, a)| a.trim_end_matches('>'));
        addr.rsplit_once('@')
            .map_or("paraaf.invalid", |(_, d)| d)
            .trim()
            .to_string()
    }

    /// Checks the settings at start-up, reading the password file: a mistake is told
    /// then, not at the first mail.
    pub fn password(&self) -> Result<Option<String>, String> {
        if self.digest_hour > 23 {
            return Err(format!(
                "[mail] digest_hour = {} is not an hour (0–23)",
                self.digest_hour
            ));
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!(
                "[mail] from = \"{}\" is not an address (write `Paraaf <paraaf@stad.be>`)",
                self.from
            ));
        }
        match &self.password_file {
            Some(p) => std::fs::read_to_string(p)
                .map(|s| Some(s.trim().to_string()))
                .map_err(|e| format!("[mail] cannot read password_file {}: {e}", p.display())),
            None => Ok(None),
        }
    }
}

/// One line of a mail, in both languages, with its link.
#[derive(Clone, Debug)]
pub struct Line {
    /// Dutch.
    pub nl: String,
    /// English.
    pub en: String,
    /// The document in the web app.
    pub link: String,
}

#[derive(Template)]
#[template(path = "mail/message.txt")]
struct Text<'a> {
    name: &'a str,
    lines: &'a [Line],
    base: &'a str,
}

#[derive(Template)]
#[template(path = "mail/message.html")]
struct Html<'a> {
    name: &'a str,
    lines: &'a [Line],
    base: &'a str,
}

/// What one event says, in Dutch and English. A shielded document (`about` empty) is
/// named by nothing but its link.
fn line(m: &Mail, base: &str) -> Line {
    let link = format!("{}/app/documents/{}", base.trim_end_matches('/'), m.doc);
    let (nl, en) = match &m.about {
        None => match m.what.as_str() {
            "reminder" => (
                "Herinnering: een taak wacht nog op u (afgeschermd dossier)".to_string(),
                "Reminder: a task still waits for you (shielded file)".to_string(),
            ),
            "escalation" => (
                "Een taak werd naar u geëscaleerd (afgeschermd dossier)".to_string(),
                "A task was escalated to you (shielded file)".to_string(),
            ),
            "returned" | "stopped" => (
                "Een dossier van u werd geweigerd (afgeschermd dossier)".to_string(),
                "A file of yours was refused (shielded file)".to_string(),
            ),
            _ => (
                "Er wacht een taak op u (afgeschermd dossier)".to_string(),
                "A task waits for you (shielded file)".to_string(),
            ),
        },
        Some(a) => {
            let role_nl = if a.role.is_empty() {
                String::new()
            } else {
                format!(", als {}", a.role)
            };
            let role_en = if a.role.is_empty() {
                String::new()
            } else {
                format!(", as {}", a.role)
            };
            match m.what.as_str() {
                "reminder" => (
                    format!(
                        "Herinnering: “{}” wacht nog op uw handtekening{role_nl}",
                        a.title
                    ),
                    format!(
                        "Reminder: “{}” still waits for your signature{role_en}",
                        a.title
                    ),
                ),
                "escalation" => (
                    format!("Geëscaleerd naar u: “{}” is over tijd{role_nl}", a.title),
                    format!("Escalated to you: “{}” is overdue{role_en}", a.title),
                ),
                "returned" => (
                    format!(
                        "Teruggestuurd: “{}” werd geweigerd en komt bij u terug",
                        a.title
                    ),
                    format!("Returned: “{}” was refused and comes back to you", a.title),
                ),
                "stopped" => (
                    format!("Gestopt: “{}” werd geweigerd", a.title),
                    format!("Stopped: “{}” was refused", a.title),
                ),
                _ => (
                    format!(
                        "Nieuwe taak: “{}” wacht op uw handtekening{role_nl}",
                        a.title
                    ),
                    format!("New task: “{}” waits for your signature{role_en}", a.title),
                ),
            }
        }
    };
    Line { nl, en, link }
}

/// The subject of a mail with these items.
fn subject(items: &[Mail]) -> String {
    match items {
        [one] if one.what == "escalation" => {
            "Paraaf: een taak werd naar u geëscaleerd / a task was escalated to you".into()
        }
        [one] if one.what == "reminder" => {
            "Paraaf: herinnering, een taak wacht op u / reminder: a task waits for you".into()
        }
        [one] if one.what == "returned" || one.what == "stopped" => {
            "Paraaf: een dossier werd geweigerd / a file was refused".into()
        }
        [_] => "Paraaf: een nieuwe taak wacht op u / a new task waits for you".into(),
        many => format!(
            "Paraaf: {} berichten over uw taken / {} messages about your tasks",
            many.len(),
            many.len()
        ),
    }
}

/// The mail for a delivery's payloads: (to, name, subject, plain text, HTML).
pub fn render(
    cfg: &MailConfig,
    payloads: &[String],
) -> Result<(String, String, String, String), String> {
    let items: Vec<Mail> = payloads
        .iter()
        .map(|p| serde_json::from_str(p).map_err(|e| format!("an outbox item is unreadable: {e}")))
        .collect::<Result<_, _>>()?;
    // One line per event kind and document (the tasks of one step escalated together
    // are one line).
    let mut items: Vec<Mail> = items;
    let mut seen = std::collections::BTreeSet::new();
    items.retain(|m| seen.insert((m.what.clone(), m.doc.clone())));
    let first = items.first().ok_or("a delivery without items")?;
    let lines: Vec<Line> = items.iter().map(|m| line(m, &cfg.base_url)).collect();
    let base = cfg.base_url.trim_end_matches('/');
    let text = Text {
        name: &first.name,
        lines: &lines,
        base,
    }
    .render()
    .map_err(|e| e.to_string())?;
    let html = Html {
        name: &first.name,
        lines: &lines,
        base,
    }
    .render()
    .map_err(|e| e.to_string())?;
    Ok((first.to.clone(), subject(&items), text, html))
}

/// Sends a mail delivery through the configured SMTP server, under its Message-ID.
pub fn send(cfg: &MailConfig, d: &Delivery) -> Result<(), String> {
    use lettre::message::{Mailbox, MultiPart};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{Message, SmtpTransport, Transport};
    let (to, name, subject, text, html) = {
        let (to, subject, text, html) = render(cfg, &d.payloads)?;
        let name = d
            .payloads
            .first()
            .and_then(|p| serde_json::from_str::<Mail>(p).ok().map(|m| m.name));
        (to, name.unwrap_or_default(), subject, text, html)
    };
    let to_box = Mailbox::new(
        Some(name),
        to.parse()
            .map_err(|e| format!("the address {to} is not valid: {e}"))?,
    );
    let msg = Message::builder()
        .message_id(Some(d.id.clone()))
        .from(cfg.from.parse().map_err(|e| format!("[mail] from: {e}"))?)
        .to(to_box)
        .subject(subject)
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| e.to_string())?;
    let builder = match cfg.tls {
        Tls::Starttls => SmtpTransport::starttls_relay(&cfg.host).map_err(|e| e.to_string())?,
        Tls::Tls => SmtpTransport::relay(&cfg.host).map_err(|e| e.to_string())?,
        Tls::None => SmtpTransport::builder_dangerous(&cfg.host),
    };
    let mut builder = builder
        .port(cfg.port)
        .timeout(Some(std::time::Duration::from_secs(30)));
    if let Some(user) = &cfg.username {
        let password = cfg.password()?.unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    builder
        .build()
        .send(&msg)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

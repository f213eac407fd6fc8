//! Time runs inside `paraaf serve` (#26): the absence entered in advance takes effect at
//! midnight in Brussels without a restart, reminders and escalations happen on time and
//! each is mailed exactly once (to a local SMTP sink, Python's aiosmtpd), the daily
//! digest goes at its hour, `paraaf tick` defers to the running server, and completed
//! documents are told to their source by a signed webhook. The server's clock is a test
//! clock the test moves (`POST /test/clock`): no test sleeps through a day.

#[path = "support/served.rs"]
mod served;
mod support;

use served::{Served, Sink, mail_config, to_about};
use std::time::Duration;
use support::City;

const T0: &str = "2026-06-29T07:00:00Z"; // Monday 29 June 2026, 09:00 in Brussels

#[test]
fn the_mayors_absence_starts_at_midnight_in_brussels_and_reminders_and_escalations_are_mailed_once()
{
    let city = City::aalst("server-time");
    let sink = Sink::start(&city.dir.join("mail"), 0);
    let mayor = city.mandate("burgemeester");
    let substitute = city.mandate("schepen-financien");
    let head = city.function("diensthoofd", Some("bevolking"));
    let escalation = city.function("departementshoofd", Some("burgerzaken"));
    let email = |id: &str| {
        city.org
            .people
            .iter()
            .find(|p| p.id == id)
            .unwrap()
            .email
            .clone()
    };
    // A college decision waits for the mayor's signature.
    let besluit = city.submit(
        "besluit",
        "jan-cools",
        &[
            "dienst=bevolking",
            "bron=notula",
            "titel=Aankoop laptops",
            "bedrag=1000",
        ],
        T0,
    );
    let besluit = besluit.lines().next().unwrap().trim().to_string();
    city.ok(&["doc", "sign", &besluit, "--as", &head], T0);
    // A certificate: reminded after 1 workday, escalated after 2.
    let attest = city.submit(
        "attest",
        "jan-cools",
        &["soort=gezinssamenstelling", "aanvrager=Jan"],
        T0,
    );
    let attest = attest.lines().next().unwrap().trim().to_string();
    // July and August entered in advance, as Aalst's mayor does.
    city.ok(
        &[
            "absence",
            "add",
            &mayor,
            "--from",
            "2026-07-01",
            "--to",
            "2026-08-31",
        ],
        T0,
    );
    // The head of the population service wants each mail at once; the others keep the
    // daily digest (the default).
    city.ok(&["notify", &head, "--mail", "immediate"], T0);
    let tokens = format!(
        "[tokens]\n\"{mayor}\" = \"mayor-token-0123456789\"\n\"{substitute}\" = \"substitute-token-0123456789\"\n{}",
        mail_config(sink.port)
    );
    // Tuesday 30 June, 23:00 in Brussels.
    let server = Served::start(&city.db, &city.dir, &tokens, "2026-06-30T21:00:00Z");
    // At start-up the server did what fell due while it was off: the certificate's
    // reminder (due Tuesday 09:00). The head chose immediate mail: one reminder mail.
    let mails = sink.wait("the reminder to the head of service", |m| {
        to_about(m, &email(&head), "herinnering").len() == 1
    });
    let reminder = to_about(&mails, &email(&head), "herinnering")[0];
    let text = reminder["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("https://paraaf.aalst.test/app/documents/{attest}")),
        "{text}"
    );
    assert!(
        text.contains("-- English --"),
        "Dutch first, then English: {text}"
    );
    assert!(reminder["html"].as_str().unwrap().contains("<a href="));
    assert!(server.inbox("mayor-token-0123456789").contains(&besluit));

    // 23:59 in Brussels: still the mayor's.
    server.set_clock("2026-06-30T21:59:00Z");
    assert!(server.inbox("mayor-token-0123456789").contains(&besluit));
    assert!(
        !server
            .inbox("substitute-token-0123456789")
            .contains(&besluit)
    );
    // Midnight in Brussels (still 30 June in UTC): the substitute takes over, without a
    // restart.
    server.set_clock("2026-06-30T22:00:05Z");
    assert!(!server.inbox("mayor-token-0123456789").contains(&besluit));
    assert!(
        server
            .inbox("substitute-token-0123456789")
            .contains(&besluit)
    );

    // 08:00 in Brussels: the daily digest. The substitute gets one, naming the decision.
    server.set_clock("2026-07-01T06:00:01Z");
    let mails = sink.wait("the substitute's digest", |m| {
        !to_about(m, &email(&substitute), "Paraaf").is_empty()
    });
    let digests = to_about(&mails, &email(&substitute), "Paraaf");
    assert_eq!(digests.len(), 1, "{digests:#?}");
    assert!(
        digests[0]["text"]
            .as_str()
            .unwrap()
            .contains("Aankoop laptops")
    );

    // 09:00 in Brussels, 2 workdays after the certificate came: escalated, one mail.
    server.set_clock("2026-07-01T07:00:01Z");
    let mails = sink.wait("the escalation mail", |m| {
        !to_about(m, &email(&escalation), "geëscaleerd").is_empty()
    });
    assert_eq!(
        to_about(&mails, &email(&escalation), "geëscaleerd").len(),
        1
    );

    // `paraaf tick` from cron while the server runs: told, exit 0, nothing doubled.
    let o = city.run(&["tick"], "2026-07-01T07:00:02Z");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("processes absences, reminders, escalations"),
        "{said}"
    );
    // Later moments bring no second reminder or escalation.
    server.set_clock("2026-07-02T07:00:00Z");
    std::thread::sleep(Duration::from_millis(500));
    let mails = sink.mails();
    assert_eq!(to_about(&mails, &email(&head), "herinnering").len(), 1);
    assert_eq!(
        to_about(&mails, &email(&escalation), "geëscaleerd").len(),
        1
    );
    let ids: Vec<&str> = mails
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "a Message-ID twice: {ids:?}");
}

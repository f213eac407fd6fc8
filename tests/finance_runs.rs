//! Finance across runs, through the binary on the Hasselt example: an order's invoices
//! counted over every run (the flag shown to the approver and stopping the payment until
//! a person decided), and one invoice is one invoice (re-spelled numbers, the same file
//! again, another document under the same key, a credit note with the invoice's number).

mod support;

use paraaf_runtime::finance::ubl;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::str::FromStr;

const KBO: &str = "0123456749";

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A city: a database, an invoices folder, orders, and the project to run.
struct City {
    dir: PathBuf,
    project: PathBuf,
}

impl City {
    fn new(name: &str, project: &Path) -> City {
        let dir = support::tempdir(name);
        std::fs::create_dir_all(dir.join("inv")).unwrap();
        std::fs::write(
            dir.join("orders.csv"),
            format!(
                "reference,supplier,amount,date,dienst,category\nBB-1,{KBO},1000.00,2026-09-01,gebouwen,supplies\n"
            ),
        )
        .unwrap();
        let c = City {
            dir,
            project: project.to_path_buf(),
        };
        let o = c.run(&["deploy", c.project.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args(args)
            .env("PARAAF_DB", self.dir.join("city.db"))
            .env("PARAAF_NOW", "2026-11-23")
            .current_dir(support::root())
            .output()
            .unwrap()
    }

    /// Writes `file` into the invoices folder.
    fn invoice(&self, file: &str, xml: &str) {
        std::fs::write(self.dir.join("inv").join(file), xml).unwrap();
    }

    /// `finance run`: (stdout, stderr, matches.json).
    fn import(&self) -> (String, String, serde_json::Value) {
        let out = self.dir.join("out");
        let o = self.run(&[
            "finance",
            "run",
            self.project.to_str().unwrap(),
            "--invoices",
            self.dir.join("inv").to_str().unwrap(),
            "--orders",
            self.dir.join("orders.csv").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--as",
            "tom-bollen",
        ]);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        );
        assert!(o.status.success(), "{stdout}{stderr}");
        let m = std::fs::read_to_string(out.join("matches.json")).unwrap();
        (stdout, stderr, serde_json::from_str(&m).unwrap())
    }

    /// `finance pay` on 2026-11-23: stdout.
    fn pay(&self) -> String {
        let debts = self.dir.join("debts.json");
        std::fs::write(
            &debts,
            format!(
                r#"{{"date":"2026-11-23","suppliers":{{"{KBO}":{{"social_debt":"0","tax_debt":"0","self_employed_debt":"0"}}}}}}"#
            ),
        )
        .unwrap();
        let o = self.run(&[
            "finance",
            "pay",
            self.project.to_str().unwrap(),
            "--debts-file",
            debts.to_str().unwrap(),
            "--date",
            "2026-11-23",
            "-o",
            self.dir.join("out").to_str().unwrap(),
        ]);
        let stdout = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            o.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        stdout
    }

    /// The document `finance pay` lists as pending for invoice `number`.
    fn doc_of(&self, number: &str) -> String {
        let paid = self.pay();
        paid.lines()
            .filter_map(|l| l.strip_prefix("pending: "))
            .find(|l| l.split(' ').nth(1) == Some(number))
            .and_then(|l| l.split(' ').next())
            .unwrap_or_else(|| panic!("{number} is not pending: {paid}"))
            .to_string()
    }
}

/// An invoice of `excl` + 21% on order BB-1.
fn xml(number: &str, excl: &str) -> String {
    ubl::write(
        number,
        false,
        KBO,
        "Bouw NV",
        "2026-10-01",
        Some("BB-1"),
        d(excl),
        d("21"),
    )
}

fn flags(matches: &serde_json::Value, number: &str) -> String {
    matches
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["invoice"] == number)
        .map(|m| m["flags"].to_string())
        .unwrap_or_else(|| panic!("{number} not in {matches}"))
}

#[test]
fn over_invoicing_counts_every_run_and_the_approver_sees_it() {
    let city = City::new("finance-over", &support::root().join("examples/hasselt"));
    // Run 1: 600.00 of the order's 1000.00.
    city.invoice("a1.xml", &xml("A1", "600.00"));
    let (_, _, m) = city.import();
    assert!(
        flags(&m, "A1").contains("partial: 600.00 of 1000.00 EUR billed on purchase order BB-1"),
        "{m}"
    );
    // Run 2: another 600.00 on the same order: 1200.00 of 1000.00, though this run alone
    // bills only 600.00 (before: "partial … so far").
    city.invoice("a2.xml", &xml("A2", "600.00"));
    let (out, _, m) = city.import();
    assert!(out.contains("1 already imported"), "{out}");
    let flag = "over-invoiced: 1200.00 EUR billed on purchase order BB-1 of 1000.00 EUR (600.00 EUR of it in earlier runs)";
    assert!(flags(&m, "A2").contains(flag), "{m}");
    // The approver sees it: a field of the approval document, in `doc show`.
    let doc = city.doc_of("A2");
    let show = String::from_utf8_lossy(
        &city
            .run(&["doc", "show", &doc, "--as", "tom-bollen"])
            .stdout,
    )
    .to_string();
    assert!(
        show.contains("signalement") && show.contains(flag),
        "{show}"
    );
    // Approved with the flag in front of the approver: that is the decision; it is paid.
    support::approve(|a| city.run(a), &doc, "tom-bollen");
    let paid = city.pay();
    assert!(paid.contains("1 payments proposed"), "{paid}");
}

/// An invoice of `excl` + 21% quoting order reference `reference`.
fn xml_on(number: &str, reference: &str, excl: &str) -> String {
    ubl::write(
        number,
        false,
        KBO,
        "Bouw NV",
        "2026-10-01",
        Some(reference),
        d(excl),
        d("21"),
    )
}

/// An order's reference is compared as invoice numbers are (case, spaces, dashes): an
/// order the accounting package re-exports as `bb 1`, then `BB1`, is the order earlier
/// runs billed as `BB-1` (recorded under that spelling), an invoice quoting `Bb-1` or
/// `b.b.1` is linked to it, and over-invoicing counts every run. One export holding two
/// spellings of one reference is refused like a reference used twice.
#[test]
fn an_order_is_one_order_however_its_reference_is_spelled() {
    let city = City::new(
        "finance-order-spelling",
        &support::root().join("examples/hasselt"),
    );
    let orders = |reference: &str| {
        std::fs::write(
            city.dir.join("orders.csv"),
            format!(
                "reference,supplier,amount,date,dienst,category\n{reference},{KBO},1000.00,2026-09-01,gebouwen,supplies\n"
            ),
        )
        .unwrap()
    };
    // Run 1: 600.00 on `BB-1`, as the export spells it.
    city.invoice("a1.xml", &xml_on("A1", "BB-1", "600.00"));
    let (_, _, m) = city.import();
    assert!(
        flags(&m, "A1").contains("partial: 600.00 of 1000.00"),
        "{m}"
    );
    // Run 2: the export now says `bb 1`, the invoice `Bb-1`: the same order, so 1200.00
    // of 1000.00 is billed on it.
    orders("bb 1");
    city.invoice("a2.xml", &xml_on("A2", "Bb-1", "600.00"));
    let (out, _, m) = city.import();
    assert!(out.contains("1 matched, 0 to the manual queue"), "{out}{m}");
    let flag = "over-invoiced: 1200.00 EUR billed on purchase order bb 1 of 1000.00 EUR (600.00 EUR of it in earlier runs)";
    assert!(flags(&m, "A2").contains(flag), "{m}");
    // Run 3: `BB1` in the export, `b.b.1` on the invoice: all three runs count.
    orders("BB1");
    city.invoice("a3.xml", &xml_on("A3", "b.b.1", "100.00"));
    let (_, _, m) = city.import();
    assert!(
        flags(&m, "A3").contains(
            "over-invoiced: 1300.00 EUR billed on purchase order BB1 of 1000.00 EUR (1200.00 EUR of it in earlier runs)"
        ),
        "{m}"
    );
    // The approver of A2 sees the flag.
    let doc = city.doc_of("A2");
    let show = String::from_utf8_lossy(
        &city
            .run(&["doc", "show", &doc, "--as", "tom-bollen"])
            .stdout,
    )
    .to_string();
    assert!(show.contains(flag), "{show}");
    // Two spellings of one reference in one export: refused, nothing imported.
    std::fs::write(
        city.dir.join("orders.csv"),
        format!(
            "reference,supplier,amount,date,dienst,category\nBB-1,{KBO},1000.00,2026-09-01,gebouwen,supplies\nbb 1,{KBO},500.00,2026-09-01,gebouwen,supplies\n"
        ),
    )
    .unwrap();
    let o = city.run(&[
        "finance",
        "run",
        city.project.to_str().unwrap(),
        "--invoices",
        city.dir.join("inv").to_str().unwrap(),
        "--orders",
        city.dir.join("orders.csv").to_str().unwrap(),
        "-o",
        city.dir.join("out").to_str().unwrap(),
        "--as",
        "tom-bollen",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the reference `bb 1` is used twice (first on line 2), spelled `BB-1` there"),
        "{err}"
    );
}

#[test]
fn a_flag_the_approval_document_does_not_show_stops_the_payment() {
    // The same project, but its rule does not pass invoice.flag to the document.
    let project = support::tempdir("finance-noflag-project");
    support::copy_dir(&support::root().join("examples/hasselt"), &project);
    let rules = project.join("rules/invoices.paraaf");
    let text = std::fs::read_to_string(&rules).unwrap();
    std::fs::write(
        &rules,
        text.replace(",\n      signalement = invoice.flag", "")
            .replace(",\n        signalement = invoice.flag", ""),
    )
    .unwrap();
    let city = City::new("finance-noflag", &project);
    city.invoice("a1.xml", &xml("A1", "1300.00"));
    let (_, _, m) = city.import();
    assert!(flags(&m, "A1").contains("over-invoiced"), "{m}");
    let doc = city.doc_of("A1");
    support::approve(|a| city.run(a), &doc, "tom-bollen");
    let paid = city.pay();
    assert!(paid.contains("0 payments proposed"), "{paid}");
    assert!(
        paid.contains("A1") && paid.contains("does not show it: not paid"),
        "{paid}"
    );
}

#[test]
fn one_invoice_is_one_invoice() {
    let city = City::new(
        "finance-identity",
        &support::root().join("examples/hasselt"),
    );
    // The issue's reproduction: one invoice re-spelled three times on one order.
    city.invoice("f1.xml", &xml("F000001", "1000.00"));
    city.invoice("f2.xml", &xml("f000001", "1000.00"));
    city.invoice("f3.xml", &xml("F-000001", "1000.00"));
    let (out, err, m) = city.import();
    assert!(
        out.starts_with("3 files: 1 matched, 2 to the manual queue"),
        "{out}{err}"
    );
    // Both are named, in the run's output and in the manual queue.
    let q = String::from_utf8_lossy(&city.run(&["queue", "list"]).stdout).to_string();
    for (file, number) in [("f2.xml", "f000001"), ("f3.xml", "F-000001")] {
        let line = q
            .lines()
            .find(|l| l.contains(&format!("{file} ({number}) and f1.xml (F000001)")))
            .unwrap_or_else(|| panic!("{file} not in the queue: {q}\n{err}"));
        assert!(line.contains("a person decides"), "{line}");
    }
    assert_eq!(m.as_array().unwrap().len(), 3, "{m}");
    // The same files again: nothing new, nothing dropped silently.
    let (out, _, _) = city.import();
    assert!(out.contains("3 already imported"), "{out}");
    // A credit note with the invoice's number and date is another document, imported.
    city.invoice(
        "c1.xml",
        &ubl::write(
            "F000001",
            true,
            KBO,
            "Bouw NV",
            "2026-10-01",
            Some("BB-1"),
            d("100.00"),
            d("21"),
        ),
    );
    let (out, err, _) = city.import();
    assert!(out.contains("3 already imported"), "{out}");
    assert!(!err.contains("already imported: c1.xml"), "{err}");
    // Paid once: approve the one flow; nothing is paid until a person decides that f1.xml
    // is the invoice (f2.xml and f3.xml are then not payable); pay twice.
    let doc = city.doc_of("F000001");
    support::approve(|a| city.run(a), &doc, "tom-bollen");
    assert!(city.pay().contains("0 payments proposed"));
    let o = city.decide("f3.xml", "f1.xml", "the same invoice sent three times");
    assert!(o.status.success(), "{}", text(&o));
    assert!(city.pay().contains("1 payments proposed"));
    assert!(city.pay().contains("0 payments proposed"));
}

/// A credit note of `excl` + 21% from the same supplier, naming `invoice` (if any).
fn credit_note(number: &str, invoice: Option<&str>, excl: &str) -> String {
    let xml = ubl::write(
        number,
        true,
        KBO,
        "Bouw NV",
        "2026-10-05",
        Some("BB-1"),
        d(excl),
        d("21"),
    );
    match invoice {
        None => xml,
        Some(i) => xml.replace(
            "</cbc:DocumentCurrencyCode>",
            &format!(
                "</cbc:DocumentCurrencyCode><cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{i}</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>"
            ),
        ),
    }
}

#[test]
fn credit_notes_are_set_off_or_wait_for_a_person() {
    let city = City::new("finance-credit", &support::root().join("examples/hasselt"));
    city.invoice("c1.xml", &xml("C-1", "1000.00"));
    city.import();
    // Run 2: a credit note naming the invoice (spelled `c1`), one naming an invoice that
    // was never imported, one naming none.
    city.invoice("n1.xml", &credit_note("CN-1", Some("c1"), "100.00"));
    city.invoice("n2.xml", &credit_note("CN-2", Some("X-9"), "50.00"));
    city.invoice("n3.xml", &credit_note("CN-3", None, "20.00"));
    let (out, err, m) = city.import();
    assert!(
        out.contains("1 credit notes matched to their invoice"),
        "{out}{err}{m}"
    );
    let q = String::from_utf8_lossy(&city.run(&["queue", "list"]).stdout).to_string();
    assert!(
        q.contains("n2.xml CN-2") && q.contains("names invoice X-9, which was not imported"),
        "{q}"
    );
    assert!(
        q.contains("n3.xml CN-3") && q.contains("names no invoice"),
        "{q}"
    );
    assert!(!q.contains("CN-1"), "{q}");
    // The invoice is approved and paid: 1210.00 − 121.00 = 1089.00, the credit note named.
    let doc = city.doc_of("C-1");
    support::approve(|a| city.run(a), &doc, "tom-bollen");
    let paid = city.pay();
    assert!(paid.contains("1 payments proposed"), "{paid}");
    let proposal: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(city.dir.join("out/proposal.json")).unwrap())
            .unwrap();
    assert_eq!(proposal[0]["invoice"], "C-1", "{proposal}");
    assert_eq!(proposal[0]["amount"], "1089.00", "{proposal}");
    assert_eq!(proposal[0]["to_supplier"], "1089.00", "{proposal}");
    assert_eq!(proposal[0]["set_off"], serde_json::json!(["CN-1"]));
    // Set off once: the next run of pay proposes nothing.
    assert!(city.pay().contains("0 payments proposed"));
    // A credit note for an invoice already paid: a person reclaims it.
    city.invoice("n4.xml", &credit_note("CN-4", Some("C-1"), "10.00"));
    city.import();
    let q = String::from_utf8_lossy(&city.run(&["queue", "list"]).stdout).to_string();
    assert!(
        q.contains("n4.xml CN-4")
            && q.contains(
                "already proposed for payment on 2026-11-23: a person reclaims 12.10 EUR"
            ),
        "{q}"
    );
}

/// `queue list --json` lists what the text lists: the invoices waiting for a person too,
/// each marked `"item": "invoice"` (it listed tasks only).
#[test]
fn the_json_queue_lists_the_waiting_invoices_as_the_text_does() {
    let city = City::new(
        "finance-queue-json",
        &support::root().join("examples/hasselt"),
    );
    city.invoice("c1.xml", &xml("C-1", "1000.00"));
    city.invoice("n2.xml", &credit_note("CN-2", Some("X-9"), "50.00"));
    city.invoice("n3.xml", &credit_note("CN-3", None, "20.00"));
    city.import();
    let text = String::from_utf8_lossy(&city.run(&["queue", "list"]).stdout).to_string();
    let o = city.run(&["queue", "list", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let items = json.as_array().unwrap();
    assert_eq!(items.len(), text.lines().count(), "{json}\n{text}");
    let numbers: Vec<&str> = items
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["CN-2", "CN-3"], "{json}");
    for (item, file) in items.iter().zip(["n2.xml", "n3.xml"]) {
        assert_eq!(item["item"], "invoice", "{item}");
        assert_eq!(item["file"], file, "{item}");
        assert_eq!(item["supplier_name"], "Bouw NV", "{item}");
        let reason = item["reason"].as_str().unwrap();
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("invoice {file} ")) && l.ends_with(reason)),
            "{reason}\n{text}"
        );
    }
}

/// The API asks the same queue service as `paraaf queue list`: a monitoring token reads
/// on `/health` how many tasks and invoices wait for a person; a person's token reads no
/// count.
#[test]
fn health_counts_the_manual_queue_for_a_monitoring_token() {
    let city = City::new(
        "finance-queue-health",
        &support::root().join("examples/hasselt"),
    );
    city.invoice("n2.xml", &credit_note("CN-2", Some("X-9"), "50.00"));
    city.invoice("n3.xml", &credit_note("CN-3", None, "20.00"));
    city.import();
    let o = city.run(&["queue", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let count = |item: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["item"] == item)
            .count()
    };
    assert_eq!((count("task"), count("invoice")), (0, 2), "{listed}");
    let monitor = "monitor-token-0123456789";
    let person = "token-tom-bollen-0123456789";
    let server = support::Server::start_with(
        &city.dir.join("city.db"),
        &[("tom-bollen", person)],
        &format!(
            "[monitoring]\nzabbix = \"sha256:{}\"\n",
            paraaf_runtime::sha256_hex(monitor.as_bytes())
        ),
        &city.dir,
    );
    let (s, b) = server.call("GET", "/health", Some(monitor), None, None);
    assert_eq!(s, 200, "{b}");
    let health: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert_eq!(
        health["queued"],
        serde_json::json!({"tasks": count("task"), "invoices": count("invoice")}),
        "{health}"
    );
    let (s, b) = server.call("GET", "/health", Some(person), None, None);
    assert_eq!((s, b.as_str()), (200, r#"{"status":"ok"}"#));
}

impl City {
    /// `queue decide ITEM --invoice INVOICE --as katrien-moors --reason REASON`.
    fn decide(&self, item: &str, invoice: &str, reason: &str) -> Output {
        self.run(&[
            "queue",
            "decide",
            item,
            "--invoice",
            invoice,
            "--as",
            "katrien-moors",
            "--reason",
            reason,
        ])
    }

    fn queue(&self) -> String {
        String::from_utf8_lossy(&self.run(&["queue", "list"]).stdout).to_string()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Another document under an imported invoice's identity (a corrected copy with other
/// amounts, another spelling, even under the same file name) stops every payment under
/// it, the approved original's too, until a person names the document that is the
/// invoice (`queue decide`, recorded with who and why); then only that one is paid, for
/// what it asks.
#[test]
fn a_corrected_invoice_stops_the_payment_until_a_person_decides() {
    let city = City::new(
        "finance-corrected",
        &support::root().join("examples/hasselt"),
    );
    city.invoice("f1.xml", &xml("F-1", "1000.00"));
    city.import();
    let original = city.doc_of("F-1");
    support::approve(|a| city.run(a), &original, "tom-bollen");
    // The supplier re-sends f1.xml corrected (500.00), and another copy (800.00).
    city.invoice("f1.xml", &xml("f-1", "500.00"));
    city.invoice("f1-bis.xml", &xml("F1", "800.00"));
    let (out, err, _) = city.import();
    assert!(
        out.contains("0 matched, 2 to the manual queue"),
        "{out}{err}"
    );
    // Nothing under F-1 is paid, not even the approved original.
    let paid = city.pay();
    assert!(paid.contains("0 payments proposed"), "{paid}");
    assert!(
        paid.contains(&format!("pending: {original} F-1 (Bouw NV): another document under the same invoice waits in the manual queue")),
        "{paid}"
    );
    let q = city.queue();
    for file in ["f1.xml f-1", "f1-bis.xml F1"] {
        assert!(
            q.lines()
                .any(|l| l.starts_with(&format!("invoice {file} "))
                    && l.contains("paraaf queue decide")),
            "{q}"
        );
    }
    // Two documents are called f1.xml: named by id; a reason of one word is refused.
    let o = city.decide(
        "f1-bis.xml",
        "f1.xml",
        "the supplier confirmed the correction",
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("several documents are called `f1.xml`"),
        "{}",
        text(&o)
    );
    let listed: serde_json::Value =
        serde_json::from_slice(&city.run(&["queue", "list", "--json"]).stdout).unwrap();
    let id = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["number"] == "f-1")
        .and_then(|i| i["id"].as_str())
        .unwrap_or_else(|| panic!("{listed}"))[..12]
        .to_string();
    let o = city.decide("f1-bis.xml", &id, "corrected");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("say why"), "{}", text(&o));
    let o = city.decide("f1-bis.xml", &id, "the supplier confirmed the correction");
    assert!(o.status.success(), "{}", text(&o));
    let said = text(&o);
    assert!(
        said.contains("f1.xml (605.00 EUR due) is the invoice, decided by katrien-moors"),
        "{said}"
    );
    assert!(
        said.contains("not payable: f1.xml F-1 (1210.00 EUR due)"),
        "{said}"
    );
    assert!(
        said.contains("not payable: f1-bis.xml F1 (968.00 EUR due)"),
        "{said}"
    );
    assert!(!city.queue().contains("invoice f1"), "{}", city.queue());
    // The original is not payable; the correction is approved and paid, once, for 605.00.
    let paid = city.pay();
    assert!(
        paid.contains(&format!("pending: {original} F-1 (Bouw NV): not payable: katrien-moors decided on 2026-11-23 that f1.xml is the invoice (the supplier confirmed the correction)")),
        "{paid}"
    );
    let corrected = city.doc_of("f-1");
    support::approve(|a| city.run(a), &corrected, "tom-bollen");
    assert!(city.pay().contains("1 payments proposed"));
    let proposal: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(city.dir.join("out/proposal.json")).unwrap())
            .unwrap();
    assert_eq!(proposal.as_array().unwrap().len(), 1, "{proposal}");
    assert_eq!(proposal[0]["invoice"], "f-1", "{proposal}");
    assert_eq!(proposal[0]["amount"], "605.00", "{proposal}");
    assert!(city.pay().contains("0 payments proposed"));
    // Decided once: nothing waits to be decided under F-1.
    let o = city.decide("f1-bis.xml", "f1-bis.xml", "a second thought here");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

/// The original may be the invoice: the other document is not payable. A document chosen
/// over an original whose approval is still under way stops that flow; an original
/// already paid is the only one that can be chosen.
#[test]
fn a_person_may_keep_the_original_and_a_paid_one_stays_the_invoice() {
    let city = City::new("finance-keep", &support::root().join("examples/hasselt"));
    city.invoice("g1.xml", &xml("G-1", "1000.00"));
    city.invoice("h1.xml", &xml("H-1", "1000.00"));
    city.import();
    let g = city.doc_of("G-1");
    let h = city.doc_of("H-1");
    city.invoice("g2.xml", &xml("G1", "1000.00"));
    city.invoice("h2.xml", &xml("H1", "400.00"));
    city.import();
    // G-1: the original is the invoice. H-1: the copy is, and H-1's flow stops.
    let o = city.decide("g2.xml", "g1.xml", "the same invoice sent twice");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("not payable: g2.xml G1"), "{}", text(&o));
    let o = city.decide("h2.xml", "h2.xml", "the supplier corrected the amount");
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("approval flow {h} stopped")),
        "{}",
        text(&o)
    );
    let show = text(&city.run(&["doc", "show", &h, "--as", "tom-bollen"]));
    assert!(show.contains("status: stopped"), "{show}");
    // Both decisions are events of the log, with who and why, shown to whoever may see
    // the approval documents (the G-1 decision started no flow).
    let log = text(&city.run(&["log", "--as", "tom-bollen"]));
    for reason in [
        "the same invoice sent twice",
        "the supplier corrected the amount",
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains("\"type\":\"invoice_decided\"")
                    && l.contains("\"by\":\"katrien-moors\"")
                    && l.contains(reason)),
            "{log}"
        );
    }
    let h2 = city.doc_of("H1");
    support::approve(|a| city.run(a), &g, "tom-bollen");
    support::approve(|a| city.run(a), &h2, "tom-bollen");
    assert!(city.pay().contains("2 payments proposed"));
    let proposal: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(city.dir.join("out/proposal.json")).unwrap())
            .unwrap();
    let amounts: Vec<(&str, &str)> = proposal
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["invoice"].as_str().unwrap(),
                p["amount"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        amounts,
        [("G-1", "1210.00"), ("H1", "484.00")],
        "{proposal}"
    );
    // After G-1 was paid, another copy: only the paid one can be the invoice.
    city.invoice("g3.xml", &xml("g-1", "900.00"));
    city.import();
    let o = city.decide("g3.xml", "g3.xml", "the supplier corrected it later");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("g1.xml (G-1) was proposed for payment on 2026-11-23"),
        "{}",
        text(&o)
    );
    let o = city.decide("g3.xml", "g1.xml", "already paid as sent first");
    assert!(o.status.success(), "{}", text(&o));
    assert!(city.pay().contains("0 payments proposed"));
}

/// A later document reopens the question, and the person may go back to a document an
/// earlier decision declared not payable: its flow was stopped, so a new one starts;
/// the document chosen before, approved meanwhile, is then not payable.
#[test]
fn a_document_declared_not_payable_can_be_chosen_again() {
    let city = City::new("finance-again", &support::root().join("examples/hasselt"));
    city.invoice("k1.xml", &xml("K-1", "1000.00"));
    city.import();
    let k1 = city.doc_of("K-1");
    city.invoice("k2.xml", &xml("K1", "400.00"));
    city.import();
    let o = city.decide("k2.xml", "k2.xml", "the supplier corrected the amount");
    assert!(o.status.success(), "{}", text(&o));
    let k2 = city.doc_of("K1");
    // A third document: nothing is paid, k2's approval included, until a person decides.
    city.invoice("k3.xml", &xml("k-1", "700.00"));
    city.import();
    support::approve(|a| city.run(a), &k2, "tom-bollen");
    let paid = city.pay();
    assert!(paid.contains("0 payments proposed"), "{paid}");
    let o = city.decide("k3.xml", "k1.xml", "the correction was withdrawn");
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    assert!(
        said.contains("not payable: k2.xml K1 (484.00 EUR due)"),
        "{said}"
    );
    assert!(
        said.contains("not payable: k3.xml k-1 (847.00 EUR due)"),
        "{said}"
    );
    let again = said
        .lines()
        .find_map(|l| l.strip_prefix("approval flow "))
        .and_then(|l| l.split(';').next())
        .unwrap_or_else(|| panic!("{said}"))
        .to_string();
    assert_ne!(again, k1, "{said}");
    support::approve(|a| city.run(a), &again, "tom-bollen");
    let paid = city.pay();
    assert!(paid.contains("1 payments proposed"), "{paid}");
    let proposal: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(city.dir.join("out/proposal.json")).unwrap())
            .unwrap();
    assert_eq!(proposal[0]["invoice"], "K-1", "{proposal}");
    assert_eq!(proposal[0]["amount"], "1210.00", "{proposal}");
}

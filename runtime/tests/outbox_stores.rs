//! The outbox sender's steps on both stores (the test matrix, `stores::each_store`),
//! through the server's handle (`Reads::outbox`): the mails a submission queues wait;
//! a planned delivery leaves the waiting items and is due; a failed attempt waits for its
//! retry and counts; a sent one is done; an item dropped or skipped is counted so; the
//! logged event behind an item is read back; and another city's sender changes nothing of
//! them. The same answers from SQLite and PostgreSQL.

mod stores;
mod support;

use chrono::{Duration, TimeZone, Utc};
use paraaf_runtime::contents::stage;
use paraaf_runtime::reads::Reads;
use paraaf_runtime::store::outbox::{Counts, Plan};
use stores::each_store;
use support::content::{now, pdf, submission};

#[test]
fn the_outbox_steps_answer_alike_on_both_stores() {
    each_store("outbox-steps", |stores| {
        let loaded = paraaf_compiler::load::load(&support::aalst_dir()).unwrap();
        let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
            .clone()
            .unwrap();
        let uploader = project
            .organogram
            .people
            .iter()
            .find(|p| p.id.contains('-'))
            .unwrap()
            .id
            .clone();
        let mut rt = stores.runtime("aalst");
        rt.execute(now(), |e| e.deploy(project.clone())).unwrap();
        // Three submissions: each queues a mail to whoever must sign first.
        let mut docs = Vec::new();
        for n in 0..3 {
            let staged = stage(&uploader, pdf(n)).unwrap();
            let sub = submission(&uploader, "10", &staged.sha256);
            docs.push(
                rt.execute(now(), move |e| {
                    e.contents.push(staged);
                    e.submit(sub)
                })
                .unwrap(),
            );
        }
        let reads = Reads::open(&stores.address("aalst")).unwrap();
        let mut outbox = reads.outbox().unwrap();
        let waiting = outbox.waiting().unwrap();
        assert!(waiting.len() >= 3, "{waiting:?}");
        assert!(waiting.iter().all(|w| w.item.channel == "mail"));
        assert!(waiting.windows(2).all(|w| w[0].item.seq <= w[1].item.seq));
        assert_eq!(outbox.counts().unwrap().waiting, waiting.len() as u64);
        // The logged event behind the first item, as the sender checks it.
        let first = waiting[0].item.clone();
        assert!(outbox.event(first.seq).unwrap().is_some());
        assert!(outbox.event(9_999).unwrap().is_none());
        assert!(!outbox.submitted_by_source("notula", &docs[0]).unwrap());

        // Planned: it leaves the waiting items and is due, with its payload.
        let t0 = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
        let plan = Plan {
            id: "<m-1@aalst.be>".into(),
            channel: "mail",
            recipient: &first.recipient,
            items: vec![&first],
        };
        outbox.plan(std::slice::from_ref(&plan), t0).unwrap();
        outbox.plan(&[plan], t0).unwrap();
        assert_eq!(outbox.waiting().unwrap().len(), waiting.len() - 1);
        let due = outbox.due(t0).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(
            (
                due[0].id.as_str(),
                &due[0].seqs,
                &due[0].payloads,
                due[0].attempts
            ),
            (
                "<m-1@aalst.be>",
                &vec![first.seq],
                &vec![first.payload.clone()],
                0
            )
        );
        // A failed attempt waits for its retry.
        let retry = t0 + Duration::minutes(30);
        outbox
            .failed("<m-1@aalst.be>", "the SMTP server is down", Some(retry))
            .unwrap();
        assert!(outbox.due(t0).unwrap().is_empty());
        assert_eq!(outbox.next_attempt().unwrap(), Some(retry));
        let again = outbox.due(retry).unwrap();
        assert_eq!((again.len(), again[0].attempts), (1, 1));
        // Sent: done.
        outbox.sent("<m-1@aalst.be>", retry).unwrap();
        assert!(outbox.due(retry + Duration::hours(1)).unwrap().is_empty());
        assert_eq!(outbox.next_attempt().unwrap(), None);

        // The others: one dropped with its reason, one skipped, one given up.
        let (second, third) = (waiting[1].item.clone(), waiting[2].item.clone());
        outbox
            .drop_item(
                second.seq,
                "mail",
                &second.recipient,
                "left the organogram",
                t0,
            )
            .unwrap();
        outbox.skip(&[&third]).unwrap();
        let rest: Vec<_> = outbox.waiting().unwrap();
        if let Some(fourth) = rest.first().map(|w| w.item.clone()) {
            let plan = Plan {
                id: "<m-2@aalst.be>".into(),
                channel: "mail",
                recipient: &fourth.recipient,
                items: vec![&fourth],
            };
            outbox.plan(&[plan], t0).unwrap();
            outbox.failed("<m-2@aalst.be>", "refused", None).unwrap();
        }
        let given_up = u64::from(!rest.is_empty());
        assert_eq!(
            outbox.counts().unwrap(),
            Counts {
                waiting: (waiting.len() - 3) as u64 - given_up,
                sending: 0,
                sent: 1,
                failed: given_up,
                skipped: 1,
                dropped: 1,
            }
        );
        // A delivery whose every item was dropped is marked so.
        let plan = Plan {
            id: "<m-3@aalst.be>".into(),
            channel: "mail",
            recipient: "nobody",
            items: vec![],
        };
        outbox.plan(&[plan], t0).unwrap();
        outbox
            .dropped("<m-3@aalst.be>", "every item was dropped")
            .unwrap();
        assert!(outbox.due(t0 + Duration::days(1)).unwrap().is_empty());

        // Another city's sender, told to do the same steps on Aalst's items and
        // deliveries, changes nothing of Aalst's (on PostgreSQL: the same tables, kept
        // apart by the city in every statement and by row-level security).
        let before = outbox.counts().unwrap();
        let mut gent_rt = stores.runtime("gent");
        gent_rt
            .execute(now(), |e| e.deploy(project.clone()))
            .unwrap();
        let mut gent = Reads::open(&stores.address("gent"))
            .unwrap()
            .outbox()
            .unwrap();
        assert!(gent.waiting().unwrap().is_empty());
        let plan = Plan {
            id: "<m-1@aalst.be>".into(),
            channel: "mail",
            recipient: &first.recipient,
            items: vec![&first],
        };
        gent.plan(&[plan], t0).unwrap();
        gent.sent("<m-2@aalst.be>", t0).unwrap();
        gent.failed("<m-1@aalst.be>", "x", None).unwrap();
        gent.drop_item(first.seq, "mail", &first.recipient, "x", t0)
            .unwrap();
        gent.skip(&[&first]).unwrap();
        gent.dropped("<m-1@aalst.be>", "x").unwrap();
        assert_eq!(outbox.counts().unwrap(), before);
        assert!(gent.due(t0 + Duration::days(1)).unwrap().is_empty());
        assert!(!gent.submitted_by_source("notula", &docs[0]).unwrap());
    });
}

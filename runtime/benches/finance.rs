//! `cargo bench -p paraaf-runtime --bench finance`: a finance run's parse and match on
//! generated sets of 10,000 and 30,000 invoices (against 0.75 as many purchase orders),
//! next to a bare XML parse of the same files in the same run, and the 30k/10k ratios:
//! matching looks orders up by supplier and reference, so it grows with the invoices
//! (about 3×), not with invoices × orders.

use paraaf_runtime::finance::{generate, imports, match_invoices_after, orders, ubl};
use rust_decimal::Decimal;
use std::time::Instant;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hasselt");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap();
    println!(
        "invoices | orders | bare XML parse (roxmltree) | UBL parse | matching with the Hasselt rule | parse + match"
    );
    println!("---:|---:|---:|---:|---:|---:");
    let mut times = Vec::new();
    for n in [10_000usize, 30_000] {
        let g = generate::generate(n * 3 / 4, n, 11);
        let pos = orders::read_csv("orders.csv", &g.orders_csv).unwrap();

        let start = Instant::now();
        for (_, xml) in &g.invoices {
            std::hint::black_box(roxmltree::Document::parse(xml).unwrap());
        }
        let bare = start.elapsed().as_secs_f64();

        let start = Instant::now();
        let invoices: Vec<ubl::Invoice> = g
            .invoices
            .iter()
            .map(|(n, x)| ubl::parse(n, x.as_bytes()).unwrap())
            .collect();
        let parsed = start.elapsed().as_secs_f64();

        let start = Instant::now();
        let history = imports::History::default();
        let matches = match_invoices_after(&project, &invoices, &pos, Decimal::TWO, &history);
        let matched = start.elapsed().as_secs_f64();
        std::hint::black_box(matches);
        println!(
            "{} | {} | {bare:.3} s | {parsed:.3} s | {matched:.3} s | {:.3} s",
            invoices.len(),
            pos.len(),
            parsed + matched
        );
        times.push((bare, parsed + matched));
    }
    let (small, large) = (times[0], times[1]);
    println!(
        "30k / 10k: bare XML parse {:.2}×, parse + match {:.2}×",
        large.0 / small.0,
        large.1 / small.1
    );
}

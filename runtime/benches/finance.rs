//! `cargo bench -p paraaf-runtime --bench finance`: invoices parsed and matched per second
//! on generated sets of 2,000, 10,000 and 40,000 invoices (against 0.75 as many purchase
//! orders), next to a bare XML parse of the same files in the same run.

use paraaf_runtime::finance::{generate, match_invoices, orders, ubl};
use rust_decimal::Decimal;
use std::time::Instant;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hasselt");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap();
    println!(
        "invoices | orders | bare XML parse (roxmltree) | UBL parse | matching with the Hasselt rule"
    );
    println!("---:|---:|---:|---:|---:");
    for n in [2_000usize, 10_000, 40_000] {
        let g = generate::generate(n * 3 / 4, n, 11);
        let pos = orders::read_csv("orders.csv", &g.orders_csv).unwrap();

        let start = Instant::now();
        for (_, xml) in &g.invoices {
            std::hint::black_box(roxmltree::Document::parse(xml).unwrap());
        }
        let bare = g.invoices.len() as f64 / start.elapsed().as_secs_f64();

        let start = Instant::now();
        let invoices: Vec<ubl::Invoice> = g
            .invoices
            .iter()
            .map(|(n, x)| ubl::parse(n, x.as_bytes()).unwrap())
            .collect();
        let parsed = invoices.len() as f64 / start.elapsed().as_secs_f64();

        let start = Instant::now();
        let matches = match_invoices(&project, &invoices, &pos, Decimal::TWO);
        let matched = matches.len() as f64 / start.elapsed().as_secs_f64();
        println!(
            "{} | {} | {bare:.0}/s | {parsed:.0}/s | {matched:.0}/s",
            invoices.len(),
            pos.len()
        );
    }
}

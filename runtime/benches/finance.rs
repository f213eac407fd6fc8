//! `cargo bench -p paraaf-runtime --bench finance`: invoices parsed and matched per second
//! on a generated set (2,000 invoices, 1,500 orders), next to a bare XML parse of the same
//! files in the same run.

use paraaf_runtime::finance::{generate, match_invoices, orders, ubl};
use rust_decimal::Decimal;
use std::time::Instant;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hasselt");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap();
    let g = generate::generate(1500, 2000, 11);
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
        "{} invoices against {} purchase orders:",
        invoices.len(),
        pos.len()
    );
    println!(
        "  baseline: bare XML parse (roxmltree)          {:>10.0} invoices/s",
        bare
    );
    println!(
        "  UBL parse into invoices                       {:>10.0} invoices/s",
        parsed
    );
    println!(
        "  matching with the Hasselt rule                {:>10.0} invoices/s",
        matched
    );
}

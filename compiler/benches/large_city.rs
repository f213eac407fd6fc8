//! `cargo bench -p paraaf-compiler --bench large_city`: a generated large city — 400
//! units, 2,000 functions, 50,000 people, 2,000 flow files — checked cold (load, parse,
//! resolve, check), printed next to a baseline from the same run: reading the same files
//! and a bare TOML parse of the same organogram. Also prints the peak memory.
//!
//! `LARGE_CITY_DIR=dir cargo bench -p paraaf-compiler --bench large_city` keeps the
//! generated project in `dir` (to run `paraaf check dir` on it).

mod support;

use paraaf_compiler::db::project_diagnostics;
use paraaf_compiler::diagnostics::Severity;
use paraaf_compiler::load::load;
use std::fmt::Write;
use std::path::Path;
use std::time::Instant;
use support::median;

const DEPARTMENTS: usize = 20;
const SERVICES_PER_DEPARTMENT: usize = 19;
const FUNCTIONS: usize = 2_000;
const PEOPLE: usize = 50_000;
const FILES: usize = 2_000;

/// Writes the large city into `dir`.
fn generate(dir: &Path) {
    std::fs::create_dir_all(dir.join("flows")).unwrap();
    let mut org = String::from("city = \"Grootstad\"\n\n");
    let mut units = Vec::new();
    for d in 0..DEPARTMENTS {
        let dep = format!("departement-{d}");
        let _ = writeln!(
            org,
            "[[units]]\nid = \"{dep}\"\nname = \"Departement {d}\"\nkind = \"department\"\n"
        );
        units.push(dep.clone());
        for s in 0..SERVICES_PER_DEPARTMENT {
            let id = format!("dienst-{d}-{s}");
            let _ = writeln!(
                org,
                "[[units]]\nid = \"{id}\"\nname = \"Dienst {d}.{s}\"\nkind = \"service\"\nparent = \"{dep}\"\n"
            );
            units.push(id);
        }
    }
    let _ = writeln!(
        org,
        "[[functions]]\nid = \"diensthoofd\"\nname = \"Diensthoofd\"\nper_unit = true\n"
    );
    for f in 1..FUNCTIONS {
        let _ = writeln!(
            org,
            "[[functions]]\nid = \"functie-{f}\"\nname = \"Functie {f}\"\nper_unit = true\n"
        );
    }
    let _ = writeln!(
        org,
        "[[mandates]]\nid = \"burgemeester\"\nname = \"Burgemeester\"\n"
    );
    let _ = writeln!(
        org,
        "[[people]]\nid = \"burgemeester-persoon\"\nname = \"De Burgemeester\"\nemail = \"burgemeester@grootstad.be\"\npositions = [{{ mandate = \"burgemeester\" }}]\n"
    );
    for p in 0..PEOPLE - 1 {
        let unit = &units[p % units.len()];
        // One head per unit; the others spread over the functions.
        let function = if p < units.len() {
            "diensthoofd".to_string()
        } else {
            format!("functie-{}", 1 + p % (FUNCTIONS - 1))
        };
        let _ = writeln!(
            org,
            "[[people]]\nid = \"persoon-{p}\"\nname = \"Persoon {p}\"\nemail = \"persoon.{p}@grootstad.be\"\npositions = [{{ function = \"{function}\", unit = \"{unit}\" }}]\n"
        );
    }
    std::fs::write(dir.join("org.toml"), org).unwrap();
    std::fs::write(dir.join("paraaf.toml"), "organogram = \"org.toml\"\n").unwrap();
    for i in 0..FILES {
        let unit = &units[i % units.len()];
        let f = 1 + (i * 7) % (FUNCTIONS - 1);
        let src = format!(
            "document stuk-{i} {{\n  dienst: unit\n  bedrag: money?\n}}\n\n\
             group groep-{i} = unit {unit}\n\n\
             flow flow-{i} for stuk-{i} {{\n  visible to uploader, signers, group groep-{i}\n  \
             step paraaf : sign diensthoofd of document.dienst\n  \
             step dienst : sign diensthoofd of {unit}\n  \
             step functie : sign functie-{f}\n  \
             step visum : sign burgemeester when bedrag != none and bedrag >= {} EUR\n  \
             deadline 5 workdays remind, 10 workdays escalate to diensthoofd of {unit}\n}}\n",
            1_000 + i
        );
        std::fs::write(dir.join(format!("flows/flow-{i}.paraaf")), src).unwrap();
    }
}

/// Peak resident memory of this process so far (Linux), in MB.
fn peak_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let dir = match std::env::var_os("LARGE_CITY_DIR") {
        Some(d) => std::path::PathBuf::from(d),
        None => std::env::temp_dir().join(format!("paraaf-large-city-{}", std::process::id())),
    };
    let t = Instant::now();
    generate(&dir);
    eprintln!("generated {} in {:.1?}", dir.display(), t.elapsed());
    let runs = 5;
    let baseline = median(
        || {
            let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
            let v: toml::Value = toml::from_str(&org).unwrap();
            for e in std::fs::read_dir(dir.join("flows")).unwrap() {
                std::hint::black_box(std::fs::read_to_string(e.unwrap().path()).unwrap());
            }
            std::hint::black_box(v);
        },
        runs,
    );
    let mut found = (0, 0);
    let cold = median(
        || {
            let p = load(&dir).unwrap();
            let diags = project_diagnostics(&p.db, p.project);
            found = (
                diags
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .count(),
                diags.len(),
            );
        },
        runs,
    );
    assert_eq!(found.0, 0, "the generated city has errors");
    println!(
        "paraaf check of a large city ({} units, {FUNCTIONS} functions, {PEOPLE} people, {FILES} files), median of {runs} runs:",
        DEPARTMENTS * (1 + SERVICES_PER_DEPARTMENT)
    );
    println!("  baseline: read files + bare TOML parse of org.toml  {baseline:>10.2?}");
    println!(
        "  load + parse + resolve + check (cold)              {cold:>10.2?}  ({:.1}x baseline, {} warnings)",
        cold.as_secs_f64() / baseline.as_secs_f64(),
        found.1
    );
    if let Some(mb) = peak_mb() {
        println!("  peak memory of the benchmark process              {mb:>8.0} MB");
    }
    if std::env::var_os("LARGE_CITY_DIR").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

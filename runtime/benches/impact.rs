//! `cargo bench -p paraaf-runtime --bench impact`: `paraaf diff` on the Aalst example
//! over generated rule changes, exhaustive next to sampled, next to `paraaf check`.
//!
//! Each change is one edit of one flow file (a threshold doubled, a signer replaced by
//! the general director, the general director added to an audience, a refusal sent
//! elsewhere, a step's condition dropped, substitutes reversed); changes that do not
//! check clean are left out. For each change, from the same run: checking the changed
//! project (the baseline), the exhaustive comparison (`impact`) and the sampled one it
//! replaced (`impact_sampled`); and which changes each finds (a change is found when
//! some document kind is reported changed).

use paraaf_compiler::compile::CompiledProject;
use paraaf_runtime::impact::{impact, impact_sampled};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The project in `dir` checked and compiled (what `paraaf check` does, and what
/// `paraaf diff` does first), with the time it took.
fn check(dir: &Path) -> (Option<CompiledProject>, Duration) {
    let t = Instant::now();
    let loaded = paraaf_compiler::load::load(dir).expect("the project loads");
    let diags = paraaf_compiler::db::project_diagnostics(&loaded.db, loaded.project);
    let compiled = paraaf_compiler::db::compiled(&loaded.db, loaded.project).clone();
    let clean = !diags
        .iter()
        .any(|d| d.severity == paraaf_compiler::diagnostics::Severity::Error);
    (compiled.filter(|_| clean), t.elapsed())
}

/// One edit: in `file`, the `n`-th occurrence of `from` becomes `to`.
struct Edit {
    file: String,
    line: usize,
    from: String,
    to: String,
}

/// Every edit the generator makes on the project's flow files.
fn edits(root: &Path) -> Vec<Edit> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("flows"))
        .expect("flows/")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        let name = format!(
            "flows/{}",
            f.file_name().unwrap_or_default().to_string_lossy()
        );
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            let mut add = |to: String| {
                if to != line {
                    out.push(Edit {
                        file: name.clone(),
                        line: i,
                        from: line.to_string(),
                        to,
                    })
                }
            };
            let t = line.trim_start();
            // A threshold doubled.
            for w in line.split_whitespace().collect::<Vec<_>>().windows(3) {
                if w[2] == "EUR"
                    && let Ok(n) = format!("{}{}", w[0], w[1]).parse::<u64>()
                {
                    add(line.replacen(
                        &format!("{} {} EUR", w[0], w[1]),
                        &format!("{} EUR", n * 2),
                        1,
                    ));
                }
            }
            if let Some(rest) = t.strip_prefix("step ")
                && let Some((name, what)) = rest.split_once(" : sign ")
            {
                let role = what.split(" when ").next().unwrap_or(what);
                // Another signer.
                add(line.replacen(&format!(": sign {role}"), ": sign algemeen-directeur", 1));
                // The step's condition dropped.
                if let Some((keep, _)) = line.split_once(" when ") {
                    add(keep.to_string());
                }
                let _ = name;
            }
            if t.starts_with("visible to ") {
                add(format!("{line}, algemeen-directeur"));
            }
            if t.starts_with("on refused -> ") {
                add(if t.contains("stop") {
                    line.replacen("stop", "back to uploader", 1)
                } else {
                    line.replacen(t, "on refused -> stop", 1)
                });
            }
            if let Some((head, subs)) = t
                .strip_prefix("substitutes ")
                .and_then(|r| r.split_once(" = "))
            {
                let mut v: Vec<&str> = subs.split(", ").collect();
                if v.len() > 1 {
                    v.reverse();
                    add(format!("substitutes {head} = {}", v.join(", ")));
                }
            }
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(e.file_name());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let (base, base_check) = check(&root);
    let base = base.expect("the Aalst example checks clean");
    let work = std::env::temp_dir().join(format!("paraaf-impact-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    copy_dir(&root, &work);
    let all = edits(&root);
    let (mut n, mut skipped) = (0, 0);
    let (mut t_check, mut t_exh, mut t_smp) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut f_exh, mut f_smp, mut only_exh, mut only_smp) = (0, 0, 0, 0);
    let (mut missed, mut neither) = (Vec::new(), Vec::new());
    let mut slowest = (Duration::ZERO, String::new());
    for e in &all {
        let path = work.join(&e.file);
        let original = std::fs::read_to_string(&path).expect("read");
        let mut lines: Vec<&str> = original.lines().collect();
        lines[e.line] = &e.to;
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        let (head, c) = check(&work);
        std::fs::write(&path, &original).expect("restore");
        let Some(head) = head else {
            skipped += 1;
            continue;
        };
        n += 1;
        t_check += c;
        let t = Instant::now();
        let exh = impact(&base, &head).iter().any(|k| k.changed());
        let took = t.elapsed();
        t_exh += took;
        let what = format!(
            "{}:{}: `{}` -> `{}`",
            e.file,
            e.line + 1,
            e.from.trim(),
            e.to.trim()
        );
        if took > slowest.0 {
            slowest = (took, what.clone());
        }
        let t = Instant::now();
        let smp = impact_sampled(&base, &head).iter().any(|k| k.changed());
        t_smp += t.elapsed();
        f_exh += usize::from(exh);
        f_smp += usize::from(smp);
        if exh && !smp {
            only_exh += 1;
            missed.push(what.clone());
        }
        only_smp += usize::from(smp && !exh);
        if !exh && !smp {
            neither.push(what);
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    let per = |d: Duration| d.as_secs_f64() * 1000.0 / n.max(1) as f64;
    println!(
        "paraaf diff on examples/aalst over {n} generated rule changes ({skipped} more did not check clean)"
    );
    println!(
        "  paraaf check (baseline)   {:>9.1} ms per change   (the unchanged project: {:.1} ms)",
        per(t_check),
        base_check.as_secs_f64() * 1000.0
    );
    println!(
        "  exhaustive diff           {:>9.1} ms per change   {:>5.1}x check   found {f_exh}/{n}",
        per(t_exh),
        per(t_exh) / per(t_check)
    );
    println!(
        "  sampled diff              {:>9.1} ms per change   {:>5.1}x check   found {f_smp}/{n}",
        per(t_smp),
        per(t_smp) / per(t_check)
    );
    println!("  found only by exhaustive: {only_exh}; only by sampled: {only_smp}");
    println!(
        "  slowest exhaustive diff: {:.1} ms ({})",
        slowest.0.as_secs_f64() * 1000.0,
        slowest.1
    );
    for m in &missed {
        println!("    missed by sampling: {m}");
    }
    for m in &neither {
        println!("    no change for anyone (both agree): {m}");
    }
}

#!/usr/bin/env python3
"""Regenerates docs/diagnostics/P*.md from examples/broken/ and the checker output.

Run from the repository root after `cargo build`: python3 docs/diagnostics/update.py
The test `docs_match_checker` fails when a page is stale."""
import glob, os, subprocess
D = {
"P0001": ("syntax error", "The file does not follow the Paraaf grammar at this point. Paraaf parses one top-level definition at a time, so the other definitions of the file are still checked.", "Write the construct as `docs/language.md` describes; the message lists what was expected at that point. Here the field lacks its colon: `bedrag: money`.\n\nA keyword of the language (`step`, `for`, `check`, …) where a name belongs is reported on the keyword, with the likely intent as help:\n\n```text\nflow for besluit {          `for` is a word of the language, not a name\n                            Help: the flow has no name: write one before `for`, e.g. `flow my-flow for`\nstep sign : sign burgemeester\n                            `sign` is a word of the language, not a name\n                            Help: `sign` asks a signature, so it cannot name a step: did you mean `sign-1`? (or another name of your choice)\n```\n\nGive the definition a name that is not a keyword (`docs/language.md` lists them)."),
"P0002": ("nesting too deep", "Brackets (`(`, `{`, `[`) are nested more than 64 levels deep. Paraaf refuses such input rather than risk running out of stack.\n\nThe same code is given for more than 64 `not` or `% of` in a row, and for `if` statements nested more than 128 deep, where each `else if` of a chain counts one level (the branch is the `else` of the one before): a chain of 200 branches is refused. Split such a chain into rules with a `when` clause each, or compare with a list (`decision.body in [\"a\", \"b\"]`).", "Split the condition into simpler parts; no real flow needs this depth."),
"P0003": ("unknown name", "A name is not defined in the project nor in the organogram: a function, mandate, person, unit, document kind, group, flow, step, agency or type. The help line suggests the closest existing name.", "Correct the spelling (the suggestion can be applied as a fix: `financieel-directeur`) or add the name to the organogram."),
"P0004": ("duplicate definition", "Two definitions share a name where names must be unique: two document kinds, groups, flows, rules or agencies, two steps of one flow, two fields of one document, two `let`s of one rule, or two substitute lists for the same holder.", "Rename one of them or remove the duplicate."),
"P0005": ("name of the wrong kind", "A name exists but is of the wrong kind for its place: a unit where a signer is expected, `of` after a mandate or person, a field that is not a person used as signer.", "A unit cannot sign: name the function in it, e.g. `sign diensthoofd of boekhouding`."),
"P0006": ("unknown field", "A document kind or record has no field with this name.", "Use one of the fields the document declares (the help suggests the closest): `document.bedrag`."),
"P0007": ("type mismatch", "Two values of different types are compared or combined: an amount with a plain number, a unit with text, a condition that is not true/false, or a value of the wrong type given to a field.", "Make both sides the same type. Amounts are written in euro: `bedrag >= 8500 EUR` (the fix adds `EUR`)."),
"P0008": ("optional value used without a check", "A field declared optional (`money?`) may be missing, and it is used as if it were always there.", "Check it is present first: `when bedrag != none and bedrag >= 8 500 EUR`. Inside `if x != none { ... }` and after `x != none and` the field counts as present."),
"P0009": ("substitution cycle", "Substitutes refer back to each other. When all of them are absent the document goes round in a circle and nobody signs.", "End every chain of substitutes with someone whose substitutes do not lead back, e.g. `substitutes schepen-financien = schepen-onderwijs`."),
"P0010": ("substitute is the holder", "A substitute is the same person (or role) as the holder. When the holder is absent, so is the substitute.", "Choose another person as substitute, e.g. `substitutes financieel-directeur = adjunct-financieel-directeur`."),
"P0011": ("shielded document routed outside its group", "A document kind is `shielded by` a group (discipline, social service, OCMW): no document of that kind may ever reach or show itself to anyone outside the group. Something can: a signer (in any flow of the kind, in any file), an escalation, a substitute of any concrete role a signer can resolve to, a `visible to` audience, a `notify` of a rule that starts such a flow — or a signer or audience that depends on a document field which is not restricted to the group (`team: unit`, `behandelaar: person`). A group marked `shielded` that shields no document kind, or shown by a flow of a kind it does not shield, is reported too: it protects nothing. The one allowed exception is written on the kind, `shielded by tucht allow medewerker`: the person in that `person` field (the employee concerned) may read and sign their own file; it shows in the editor's hover. The runtime enforces the same rules again at every routing decision and read, and `paraaf deploy` refuses a compiled project that breaks them.", "Route the step to a signer inside the group (`sign diensthoofd of sociale-zaken`) or, if the law allows it, add that person to the group (`group sociale-zaken = unit sociale-zaken + voorzitter-bijzonder-comite shielded`). Restrict a field the uploader fills in: `team: unit in sociale-zaken`, `behandelaar: person in sociale-zaken` (a group); the runtime then refuses a submission whose value is outside."),
"P0012": ("condition is always false", "A condition can never hold: its parts contradict each other (`bedrag >= 10 000 EUR and bedrag < 5 000 EUR`). The step is never reached, or the flow never applies. Also reported when an escalation comes before the reminder.", "Fix the amounts or operators; usually one comparison is the wrong way round."),
"P0013": ("condition is always true (warning)", "A condition holds for every document, so the `when` has no effect.", "Remove the `when`, or fix the condition that was meant."),
"P0014": ("flows overlap", "Two flows handle the same document kind and some document could satisfy both conditions, so it is unclear which flow it follows. Paraaf compares conditions on amounts, text values and `in [...]` lists; a condition too complex to analyse counts as possibly overlapping.", "Give the flows conditions that exclude each other: `when bedrag < 5 000 EUR` and `when bedrag >= 5 000 EUR`."),
"P0015": ("document kind without a flow (warning)", "A document kind is declared but no flow handles it; such documents could be submitted but never signed.", "Add a flow for it (`flow memo-tekenen for memo { ... }`) or remove the document kind."),
"P0016": ("unused definition (warning)", "A group, agency or `let` binding is defined but never used.", "Use it (`visible to group boekhouding`) or remove it."),
"P0017": ("nobody holds this function (warning)", "The function or mandate asked to sign has no holder in today's organogram, so the step would wait forever.", "Appoint someone in the organogram, or route the step to another signer."),
"P0018": ("function vacant in this unit (warning)", "Nobody holds this function in the named unit today (e.g. a team without a diensthoofd), so the step would wait forever.", "Appoint someone, or route the step to the function that exists in the unit (`sign teamcoach of crediteuren`)."),
"P0019": ("required field not given", "A rule starts a flow without giving every required (non-optional) field of its document kind.", "Add the missing field to `start ... with`, e.g. `with dienst = po.dienst, bedrag = invoice.amount`."),
"P0020": ("unknown event", "A rule reacts to an event Paraaf does not know. Events: `invoice.received`, `payment.scheduled`, `decision.received`, `permit.requested`, `certificate.requested`.", "Correct the event name (the help suggests the closest)."),
"P0021": ("invalid literal", "A literal value is not valid: an amount in euro with more than two decimals, a percentage over 100%, a date that does not exist, or a number too large.", "Write the value correctly: `8 500.13 EUR`."),
"P0022": ("invalid organogram", "The organogram file cannot be read or is inconsistent: a TOML error, an invalid or duplicate id, a position referring to a unit, function or mandate that does not exist, a parent unit that does not exist.", "Correct the organogram; the message points at the line. Here the unit id is `financien`, without accent."),
"P0023": ("field or binding named like an organogram or project name", "A field of a document kind, or a name a rule binds with `let`, has the same name as a unit, function, mandate or person of the organogram, or as a document kind, group, flow, rule or agency of the project. Inside that kind (or rule) the name would silently mean \"whatever the uploader typed\" (or the value bound) instead of the organogram entry: `sign diensthoofd of sociale-zaken` would route to the head of any unit. Every name has one meaning, so this is refused; the organogram keeps the name.", "Rename the field (the fix proposes `sociale-zaken-veld`; a name like `team` or `dienst` reads better) and write `document.team` where you use it; rename the `let` likewise."),
"P0025": ("the `allow` person handed a step that does not name them", "A kind `shielded by GROUP allow FIELD` lets the person in that `person` field (the employee concerned) read the document and sign the steps that name the field (`sign medewerker`), nothing else. An `escalate to FIELD` would hand them whichever step is late, such as the decision of HR's head about their own file, which they could then sign \"for\" its holder. Substitutes never reach the person in the field either: nobody signs a `sign FIELD` step for them, and they never take over another role's step. `paraaf deploy` refuses such an escalation in a compiled project, and the runtime never routes a step that does not name the field to the person in it (nor lets them submit the kind, unless they are in the group).", "Escalate to someone inside the group: `deadline 5 workdays remind, 10 workdays escalate to algemeen-directeur`. The person in the field only signs the steps that name it."),
"P0024": ("file in no project (warning)", "The file is in no Paraaf project: there is no `paraaf.toml` in its folder or any folder above. It is checked on its own, against an empty organogram, so every unit, function and person it names is unknown. The editor shows this warning at the top of the file; `paraaf check FILE` reports it too.", "Open the folder that holds the project's `paraaf.toml` (the editor finds the nearest one above each file), or add a `paraaf.toml` next to the file: `organogram = \"org.toml\"`."),
}
for code, (title, meaning, fix) in D.items():
    if code == "P0024":
        path = "examples/loose/notitie.paraaf"; src = open(path).read(); lang = "paraaf"
    elif code == "P0022":
        src = open("examples/broken/P0022-organogram/org.toml").read(); lang = "toml"; path = "examples/broken/P0022-organogram"
    else:
        path = glob.glob(f"examples/broken/{code}-*.paraaf")[0]; src = open(path).read(); lang = "paraaf"
    out = subprocess.run(["./target/debug/paraaf", "check", path, "--color", "never", "--deny", "warnings"], capture_output=True, text=True).stdout
    out = "\n".join(l for l in out.splitlines() if not l.startswith("checked "))
    md = f"""# {code}: {title}

## What it means
{meaning}

## Example
```{lang}
{src}```

`paraaf check {path}` reports:

```text
{out}
```

## How to fix it
{fix}
"""
    open(f"docs/diagnostics/{code}.md", "w").write(md)

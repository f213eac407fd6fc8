// The files the extension hands to the server (selector.js): `*.paraaf`, `paraaf.toml`
// and the organograms the projects name; never Cargo.toml, pyproject.toml or other TOML.
"use strict";
const assert = require("assert");
const fs = require("fs");
const path = require("path");
const picomatch = require("picomatch");
const { test, run } = require("./harness");
const { documentSelector, organogramOf } = require("../selector");

const examples = path.join(__dirname, "..", "..", "..", "examples");

/** Whether a document filter list matches a file as VS Code does: language, then pattern (the path itself or a glob). */
function matches(selector, file, languageId) {
  return selector.some((f) => {
    if (f.scheme && f.scheme !== "file") return false;
    if (f.language && f.language !== languageId) return false;
    if (f.pattern && f.pattern !== file && !picomatch(f.pattern, { dot: true })(file)) return false;
    return Boolean(f.language || f.pattern);
  });
}

/** The language VS Code gives a file: `paraaf` for `.paraaf` (package.json), else plain text/TOML. */
const languageOf = (file) => (file.endsWith(".paraaf") ? "paraaf" : file.endsWith(".toml") ? "toml" : "plaintext");

function project(dir) {
  const configPath = path.join(dir, "paraaf.toml");
  return { configPath, text: fs.readFileSync(configPath, "utf8") };
}

test("the examples' organograms, paraaf.toml and .paraaf files are selected; other TOML files are not", () => {
  const aalst = path.join(examples, "aalst");
  const hasselt = path.join(examples, "hasselt");
  const { selector, organograms, problems } = documentSelector([project(aalst), project(hasselt)]);
  assert.deepStrictEqual(problems, []);
  assert.deepStrictEqual(organograms, [path.join(aalst, "org.toml"), path.join(hasselt, "org.toml")]);
  const yes = [
    path.join(aalst, "org.toml"),
    path.join(hasselt, "org.toml"),
    path.join(aalst, "paraaf.toml"),
    path.join(aalst, "flows", "college.paraaf"),
    path.join(hasselt, "rules", "invoices.paraaf"),
  ];
  const no = [
    path.join(examples, "..", "Cargo.toml"),
    path.join(examples, "..", "compiler", "Cargo.toml"),
    path.join(aalst, "pyproject.toml"),
    path.join(aalst, "tests", "scenarios.toml"),
    path.join(aalst, "people.csv"),
    path.join(aalst, "org.toml.bak"),
  ];
  for (const f of yes) assert.ok(matches(selector, f, languageOf(f)), `selects ${f}`);
  for (const f of no) assert.ok(!matches(selector, f, languageOf(f)), `does not select ${f}`);
  assert.ok(!selector.some((f) => f.pattern === "**/*.toml"), "no filter claims every TOML file");
});

test("an organogram in a subfolder or outside the project is found where paraaf.toml points", () => {
  const dir = path.join(path.sep, "srv", "stad", "project");
  const { selector, organograms } = documentSelector([
    { configPath: path.join(dir, "paraaf.toml"), text: 'name = "x"\norganogram = "hr/organogram.toml"\n' },
    { configPath: path.join(dir, "b", "paraaf.toml"), text: 'organogram = "../gedeeld/org.toml"' },
    // The same organogram twice is one filter.
    { configPath: path.join(dir, "c", "paraaf.toml"), text: 'organogram = "../gedeeld/org.toml"' },
  ]);
  assert.deepStrictEqual(organograms, [path.join(dir, "gedeeld", "org.toml"), path.join(dir, "hr", "organogram.toml")]);
  assert.strictEqual(selector.length, 4, JSON.stringify(selector));
  assert.ok(matches(selector, path.join(dir, "hr", "organogram.toml"), "toml"));
  assert.ok(!matches(selector, path.join(dir, "hr", "other.toml"), "toml"));
});

test("a broken or incomplete paraaf.toml selects no organogram and says why, without throwing", () => {
  const { selector, problems } = documentSelector([
    { configPath: "/p/paraaf.toml", text: "organogram = " },
    { configPath: "/q/paraaf.toml", text: 'name = "q"' },
  ]);
  assert.strictEqual(selector.length, 2, "only .paraaf and paraaf.toml");
  assert.strictEqual(problems.length, 2);
  assert.match(problems[0], /\/p\/paraaf\.toml is not valid TOML/);
  assert.match(problems[1], /names no organogram/);
  assert.deepStrictEqual(organogramOf("/r/paraaf.toml", 'organogram = "org.toml"'), { organogram: path.resolve("/r/org.toml") });
});

test("the path spelling VS Code compares with is used for organograms", () => {
  const { selector } = documentSelector([{ configPath: "/p/paraaf.toml", text: 'organogram = "Org.toml"' }], (p) =>
    p.toLowerCase()
  );
  assert.ok(selector.some((f) => f.pattern === path.resolve("/p/org.toml").toLowerCase()));
});

run();

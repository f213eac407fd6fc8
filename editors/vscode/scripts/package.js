#!/usr/bin/env node
// `npm run package`: builds the .vsix a city installs as-is.
//
//   npm run package -- [--binary PATH] [--target PLATFORM-ARCH] [--no-binary]
//                      [--repository URL] [--out FILE]
//
// 1. esbuild bundles extension.js and everything it requires (vscode-languageclient,
//    smol-toml) into one file; the .vsix holds that file, not node_modules.
// 2. The `paraaf` binary given (`--binary`, or $PARAAF_BINARY; without either, the
//    repository's target/release/paraaf or else target/debug/paraaf when one exists) is
//    put in bin/<target>/ and the .vsix is marked for that target (`vsce --target`).
//    `--no-binary` makes a .vsix for every platform that runs `paraaf.server.path` or
//    downloads the server (`paraaf.server.downloadUrl`).
// 3. The repository URL (`--repository` or $PARAAF_REPOSITORY_URL) replaces the
//    placeholder in package.json; the script warns when the placeholder stays.
// Everything is staged in build/vsix/ so the source folder stays as it is.
"use strict";
const childProcess = require("child_process");
const fs = require("fs");
const path = require("path");
const esbuild = require("esbuild");
const { exeName, platformDir } = require("../binary");

const root = path.join(__dirname, "..");
const stage = path.join(root, "build", "vsix");
const PLACEHOLDER_HOST = ".example/";
const TARGETS = [
  "win32-x64",
  "win32-arm64",
  "linux-x64",
  "linux-arm64",
  "linux-armhf",
  "alpine-x64",
  "alpine-arm64",
  "darwin-x64",
  "darwin-arm64",
];
/** What the .vsix holds besides the bundle, package.json and the binary. */
const FILES = ["README.md", "CHANGELOG.md", "LICENSE", "language-configuration.json", "images", "syntaxes", "snippets"];

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = {
    binary: process.env.PARAAF_BINARY || undefined,
    target: undefined,
    noBinary: false,
    repository: process.env.PARAAF_REPOSITORY_URL || undefined,
    out: "paraaf.vsix",
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--binary") opts.binary = value();
    else if (arg === "--target") opts.target = value();
    else if (arg === "--no-binary") opts.noBinary = true;
    else if (arg === "--repository") opts.repository = value();
    else if (arg === "--out") opts.out = value();
    else fail(`unknown argument ${arg}`);
  }
  return opts;
}

/** The binary to bundle: the one given, else the repository's release or debug build. */
function findBinary(opts) {
  if (opts.noBinary) return undefined;
  if (opts.binary) {
    const p = path.resolve(opts.binary);
    if (!fs.existsSync(p) || !fs.statSync(p).isFile()) fail(`--binary ${p} is not a file`);
    return p;
  }
  for (const profile of ["release", "debug"]) {
    const p = path.join(root, "..", "..", "target", profile, exeName());
    if (fs.existsSync(p)) return p;
  }
  console.warn("package: no paraaf binary given or built: the .vsix bundles none (it uses paraaf.server.path or downloads the server)");
  return undefined;
}

function copy(from, to) {
  fs.cpSync(from, to, { recursive: true });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const binary = findBinary(opts);
  const target = binary ? opts.target || platformDir() : undefined;
  if (target && !TARGETS.includes(target)) fail(`--target ${target} is not one of ${TARGETS.join(", ")}`);

  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });

  await esbuild.build({
    entryPoints: [path.join(root, "extension.js")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node18",
    external: ["vscode"],
    outfile: path.join(stage, "extension.js"),
    minify: true,
    keepNames: true, // readable names in the stack traces of the output channel
    logLevel: "warning",
  });
  // The bundle loads on its own: it asks for nothing but `vscode` and Node's own modules.
  const bundle = JSON.stringify(path.join(stage, "extension.js"));
  const probe = `const M=require("module"),o=M._load;M._load=function(r,...a){if(r==="vscode")return new Proxy({},{get:()=>class{}});if(!M.isBuiltin(r)&&r!==${bundle}){console.error("the bundle requires "+r);process.exit(1)}return o.call(this,r,...a)};const m=require(${bundle});if(typeof m.activate!=="function")process.exit(1)`;
  childProcess.execFileSync(process.execPath, ["-e", probe], { cwd: stage, stdio: "inherit" });

  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  // The bundle needs no packages at run time; vsce is told so (--no-dependencies).
  delete pkg.dependencies;
  delete pkg.devDependencies;
  delete pkg.scripts;
  if (opts.repository) {
    pkg.repository = { type: "git", url: opts.repository };
  } else if (String(pkg.repository && pkg.repository.url).includes(PLACEHOLDER_HOST)) {
    console.warn(
      `package: the repository URL is still the placeholder ${pkg.repository.url}; pass --repository URL (or set PARAAF_REPOSITORY_URL) with your city's own`
    );
  }
  fs.writeFileSync(path.join(stage, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  for (const f of FILES) copy(path.join(root, f), path.join(stage, f));

  if (binary) {
    const exe = target.startsWith("win32") ? "paraaf.exe" : "paraaf";
    const dest = path.join(stage, "bin", target, exe);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(binary, dest);
    fs.chmodSync(dest, 0o755);
    if (target === platformDir()) {
      const version = childProcess.execFileSync(dest, ["--version"], { encoding: "utf8" }).trim();
      console.log(`package: bundling ${binary} (${version}) as bin/${target}/${exe}`);
    } else {
      console.log(`package: bundling ${binary} as bin/${target}/${exe}`);
    }
  }

  const vsce = path.join(root, "node_modules", "@vscode", "vsce", "vsce");
  // What goes into the .vsix: one JavaScript file, no node_modules, the binary if any.
  const listed = childProcess
    .execFileSync(process.execPath, [vsce, "ls", "--no-dependencies"], { cwd: stage, encoding: "utf8" })
    .split(/\r?\n/)
    .map((l) => l.trim().replace(/\\/g, "/"))
    .filter(Boolean);
  const scripts = listed.filter((f) => /\.(c|m)?js$/.test(f));
  if (scripts.length !== 1 || scripts[0] !== "extension.js") fail(`the .vsix would hold ${scripts.join(", ")}, not one bundle`);
  if (listed.some((f) => f.startsWith("node_modules/"))) fail("the .vsix would hold node_modules");
  if (binary && !listed.some((f) => f.startsWith(`bin/${target}/`))) fail(`the .vsix would not hold bin/${target}/`);
  const out = path.resolve(root, opts.out);
  const args = [vsce, "package", "--no-dependencies", "--no-rewrite-relative-links", "-o", out];
  if (target) args.push("--target", target);
  childProcess.execFileSync(process.execPath, args, { cwd: stage, stdio: "inherit" });
}

if (require.main === module) {
  main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
}

module.exports = { FILES, TARGETS };

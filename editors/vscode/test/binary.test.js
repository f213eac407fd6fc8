// Which `paraaf` runs (binary.js): the bundled one first, then `paraaf.server.path`, then
// a download from the city's release location that runs only with the right SHA-256.
"use strict";
const assert = require("assert");
const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { test, run } = require("./harness");
const { releaseServer } = require("./release_server");
const binary = require("../binary");

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "paraaf-binary-test-"));
const posix = process.platform !== "win32";
let n = 0;
const fresh = (name) => fs.mkdtempSync(path.join(tmp, `${name}-${n++}-`));
const sha256 = (b) => crypto.createHash("sha256").update(b).digest("hex");

/** A fake server executable's bytes (a shell script printing a version). */
const EXE = Buffer.from('#!/bin/sh\necho "paraaf 0.2.0-downloaded"\n');

function fakeExe(file) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '#!/bin/sh\necho "paraaf 0.2.0-test"\n');
  fs.chmodSync(file, 0o755);
  return file;
}

/** An extension folder with a bundled binary for this platform. */
function extensionWithBundled() {
  const dir = fresh("ext");
  const exe = fakeExe(path.join(dir, "bin", binary.platformDir(), binary.exeName()));
  return { dir, exe };
}

/** Every file below `dir`, relative. */
function filesBelow(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true }).filter((f) => fs.statSync(path.join(dir, f)).isFile());
}

test("the bundled binary is preferred to paraaf.server.path and to a download", async () => {
  const { dir, exe } = extensionWithBundled();
  const srv = await releaseServer({ "/paraaf": EXE });
  try {
    const r = await binary.resolveServer({
      extensionPath: dir,
      settings: { path: fakeExe(path.join(fresh("other"), "paraaf")), downloadUrl: `${srv.base}/paraaf`, sha256: sha256(EXE) },
      storageDir: fresh("storage"),
    });
    assert.strictEqual(r.source, "bundled");
    assert.strictEqual(r.command, exe);
    assert.deepStrictEqual(srv.requests, [], "nothing is downloaded");
  } finally {
    srv.close();
  }
});

test("the bundled binary lives in bin/<platform>-<arch>/ (VS Code's target names)", () => {
  assert.strictEqual(binary.platformDir("linux", "x64"), "linux-x64");
  assert.strictEqual(binary.platformDir("win32", "x64"), "win32-x64");
  assert.strictEqual(binary.platformDir("darwin", "arm64"), "darwin-arm64");
  assert.strictEqual(binary.exeName("win32"), "paraaf.exe");
  assert.strictEqual(binary.exeName("linux"), "paraaf");
  const dir = fresh("other-platform");
  fakeExe(path.join(dir, "bin", "sunos-mips", "paraaf"));
  assert.strictEqual(binary.bundledPath(dir), undefined, "another platform's binary is not used");
});

if (posix) {
  test("a bundled binary that lost its execute bit is made executable", async () => {
    const { dir, exe } = extensionWithBundled();
    fs.chmodSync(exe, 0o644);
    const r = await binary.resolveServer({ extensionPath: dir, settings: {} });
    assert.strictEqual(r.command, exe);
    assert.ok(fs.statSync(exe).mode & 0o100, "owner may execute it");
  });
}

test("without a bundled binary, paraaf.server.path is used when it names a file", async () => {
  const exe = fakeExe(path.join(fresh("path"), "paraaf"));
  const srv = await releaseServer({ "/paraaf": EXE });
  try {
    const r = await binary.resolveServer({
      extensionPath: fresh("ext-empty"),
      settings: { path: exe, downloadUrl: `${srv.base}/paraaf`, sha256: sha256(EXE) },
      storageDir: fresh("storage"),
    });
    assert.strictEqual(r.source, "path");
    assert.strictEqual(r.command, exe);
    assert.deepStrictEqual(srv.requests, []);
  } finally {
    srv.close();
  }
});

test("without a bundled binary or a download URL, a missing path is left for the start-up error", async () => {
  const missing = path.join(fresh("none"), "paraaf");
  const r = await binary.resolveServer({ extensionPath: fresh("ext-empty"), settings: { path: missing } });
  assert.strictEqual(r.source, "path");
  assert.strictEqual(r.command, missing);
});

test("a download with the right checksum (setting) is stored, executable, and reused without downloading again", async () => {
  const here = binary.platformDir();
  const srv = await releaseServer({ [`/releases/paraaf-${here}`]: EXE });
  const storage = fresh("storage");
  try {
    const settings = {
      path: path.join(fresh("none"), "paraaf"),
      downloadUrl: `${srv.base}/releases/paraaf-\${platform}-\${arch}`,
      sha256: { [here]: sha256(EXE).toUpperCase() },
    };
    const r = await binary.resolveServer({ extensionPath: fresh("ext-empty"), settings, storageDir: storage });
    assert.strictEqual(r.source, "download");
    assert.strictEqual(r.configured, `${srv.base}/releases/paraaf-${here}`);
    assert.ok(r.command.startsWith(storage), r.command);
    assert.deepStrictEqual(fs.readFileSync(r.command), EXE);
    if (posix) assert.ok(fs.statSync(r.command).mode & 0o100, "executable");
    assert.deepStrictEqual(srv.requests, [`/releases/paraaf-${here}`]);
    const again = await binary.resolveServer({ extensionPath: fresh("ext-empty"), settings, storageDir: storage });
    assert.strictEqual(again.command, r.command);
    assert.strictEqual(srv.requests.length, 1, "the verified copy is reused");
    // A kept copy that changed on disk is not run: it is downloaded and verified again.
    fs.writeFileSync(r.command, "#!/bin/sh\necho tampered\n");
    const third = await binary.resolveServer({ extensionPath: fresh("ext-empty"), settings, storageDir: storage });
    assert.deepStrictEqual(fs.readFileSync(third.command), EXE);
    assert.strictEqual(srv.requests.length, 2);
  } finally {
    srv.close();
  }
});

test("a checksum mismatch is refused with both checksums, and nothing is left to run", async () => {
  const srv = await releaseServer({ "/paraaf": EXE });
  const storage = fresh("storage");
  const wrong = "0".repeat(64);
  try {
    await assert.rejects(
      binary.downloadServer({ url: `${srv.base}/paraaf`, expected: wrong, storageDir: storage }),
      (err) => {
        assert.strictEqual(err.reason, "ECHECKSUM");
        assert.ok(err.userMessage.includes(sha256(EXE)), err.userMessage);
        assert.ok(err.userMessage.includes(wrong), err.userMessage);
        assert.match(err.userMessage, /not run/);
        assert.match(err.userMessage, /paraaf\.server\.sha256/);
        return true;
      }
    );
    assert.deepStrictEqual(filesBelow(storage), [], "no file is kept");
  } finally {
    srv.close();
  }
});

test("without the setting the checksum comes from <url>.sha256 (sha256sum's format); a wrong one is refused", async () => {
  const good = await releaseServer({ "/paraaf": EXE, "/paraaf.sha256": `${sha256(EXE)}  paraaf\n` });
  const bad = await releaseServer({ "/paraaf": EXE, "/paraaf.sha256": `${"ab".repeat(32)}  paraaf\n` });
  try {
    const file = await binary.downloadServer({ url: `${good.base}/paraaf`, storageDir: fresh("storage") });
    assert.deepStrictEqual(fs.readFileSync(file), EXE);
    assert.deepStrictEqual(good.requests, ["/paraaf.sha256", "/paraaf"]);
    await assert.rejects(binary.downloadServer({ url: `${bad.base}/paraaf`, storageDir: fresh("storage") }), (err) => {
      assert.strictEqual(err.reason, "ECHECKSUM");
      assert.ok(err.userMessage.includes(`${bad.base}/paraaf.sha256`), err.userMessage);
      return true;
    });
  } finally {
    good.close();
    bad.close();
  }
});

test("no checksum at all (no setting, no .sha256 file) is refused before downloading", async () => {
  const srv = await releaseServer({ "/paraaf": EXE });
  try {
    await assert.rejects(binary.downloadServer({ url: `${srv.base}/paraaf`, storageDir: fresh("storage") }), (err) => {
      assert.strictEqual(err.reason, "ENOSUM");
      assert.match(err.userMessage, /paraaf\.server\.sha256/);
      assert.match(err.userMessage, /not downloaded/);
      return true;
    });
    assert.deepStrictEqual(srv.requests, ["/paraaf.sha256"], "the executable itself is not fetched");
  } finally {
    srv.close();
  }
});

test("a checksum that is not 64 hex digits is refused", async () => {
  assert.throws(() => binary.expectedFromSetting("abc"), (err) => err.reason === "EBADSUM");
  assert.strictEqual(binary.expectedFromSetting(""), undefined);
  assert.strictEqual(binary.expectedFromSetting({ "win32-x64": "x" }, "linux", "x64"), undefined);
  assert.strictEqual(binary.expectedFromSetting(`sha256:${"A".repeat(64)}`), "a".repeat(64));
});

test("plain http is refused except on this machine; redirects are followed", async () => {
  await assert.rejects(
    binary.downloadServer({ url: "http://releases.stad.example/paraaf", expected: "0".repeat(64), storageDir: fresh("s") }),
    (err) => err.reason === "EBADURL" && /https:\/\//.test(err.userMessage)
  );
  const srv = await releaseServer({ "/latest": { redirect: "/v2/paraaf" }, "/v2/paraaf": EXE });
  try {
    const file = await binary.downloadServer({ url: `${srv.base}/latest`, expected: sha256(EXE), storageDir: fresh("s") });
    assert.deepStrictEqual(fs.readFileSync(file), EXE);
    assert.deepStrictEqual(srv.requests, ["/latest", "/v2/paraaf"]);
  } finally {
    srv.close();
  }
});

test("a release location that answers 404 gives a message with the URL and the status", async () => {
  const srv = await releaseServer({});
  try {
    await assert.rejects(
      binary.downloadServer({ url: `${srv.base}/gone`, expected: sha256(EXE), storageDir: fresh("s") }),
      (err) => err.userMessage.includes(`${srv.base}/gone`) && /HTTP 404/.test(err.userMessage)
    );
  } finally {
    srv.close();
  }
});

run(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Which `paraaf` executable the extension runs, in this order:
//   1. the one bundled in the .vsix for this platform (`bin/<platform>-<arch>/paraaf`);
//   2. `paraaf.server.path` (default `paraaf`, looked up on PATH), when it names a file;
//   3. the city's own release, downloaded from `paraaf.server.downloadUrl` into the
//      extension's storage and run only when its SHA-256 equals the expected one (the
//      `paraaf.server.sha256` setting, else the `<url>.sha256` file next to it).
// No VS Code API here: the caller passes the settings and folders in (tested in plain node).
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const https = require("https");
const os = require("os");
const path = require("path");

/** Redirects followed for one download (release servers redirect to their storage). */
const MAX_REDIRECTS = 5;
/** The largest executable or checksum file accepted (a release binary is tens of MB). */
const MAX_BINARY_BYTES = 512 * 1024 * 1024;
const MAX_SIDECAR_BYTES = 64 * 1024;
/** Time without data after which a download is abandoned. */
const IDLE_TIMEOUT_MS = 60 * 1000;

/** A start failure whose `message` is already the sentence the user reads. */
class ServerError extends Error {
  constructor(message, code) {
    super(message);
    this.userMessage = message;
    if (code) this.reason = code;
  }
}

/** The folder name of a platform's bundled binary: VS Code's target names (`linux-x64`, `win32-x64`, `darwin-arm64`). */
function platformDir(platform = process.platform, arch = process.arch) {
  return `${platform}-${arch}`;
}

/** The executable's file name on a platform. */
function exeName(platform = process.platform) {
  return platform === "win32" ? "paraaf.exe" : "paraaf";
}

/** The bundled binary of this platform inside the extension, if it is there. */
function bundledPath(extensionPath, platform = process.platform, arch = process.arch) {
  if (!extensionPath) return undefined;
  const p = path.join(extensionPath, "bin", platformDir(platform, arch), exeName(platform));
  return isFile(p) ? p : undefined;
}

function isFile(p) {
  try {
    return fs.statSync(p).isFile();
  } catch (_) {
    return false;
  }
}

/** The configured server path, with `~`, `${workspaceFolder}` and relative paths (to the first workspace folder) resolved. */
function configuredServerPath(raw, workspaceFolder) {
  const configured = (raw || "").trim() || "paraaf";
  let p = configured;
  if (p === "~" || p.startsWith("~/") || p.startsWith("~\\")) {
    p = path.join(os.homedir(), p.slice(1));
  }
  p = p.replace(/\$\{workspaceFolder\}/g, workspaceFolder || ".");
  const bare = !/[\\/]/.test(p);
  if (!bare && !path.isAbsolute(p) && workspaceFolder) {
    p = path.resolve(workspaceFolder, p);
  }
  return { configured, command: bare ? findOnPath(p) || p : p, bare };
}

/** The full path of a bare command name on PATH, or undefined. */
function findOnPath(name) {
  const dirs = (process.env.PATH || "").split(path.delimiter).filter(Boolean);
  const suffixes =
    process.platform === "win32" ? ["", ...(process.env.PATHEXT || ".EXE;.CMD;.BAT").split(";")] : [""];
  for (const dir of dirs) {
    for (const suffix of suffixes) {
      const candidate = path.join(dir, name + suffix);
      try {
        if (fs.statSync(candidate).isFile()) {
          if (process.platform !== "win32") fs.accessSync(candidate, fs.constants.X_OK);
          return candidate;
        }
      } catch (_) {
        // not here
      }
    }
  }
  return undefined;
}

/** Sets the execute bits of a bundled binary that lost them on the way (an unzip that drops modes). */
function makeExecutable(file, log) {
  if (process.platform === "win32") return;
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch (_) {
    try {
      fs.chmodSync(file, 0o755);
      log(`made ${file} executable`);
    } catch (err) {
      log(`cannot make ${file} executable: ${err.code || err.message}`);
    }
  }
}

/** `${platform}` and `${arch}` in a download URL, filled in for this machine. */
function downloadUrlFor(template, platform = process.platform, arch = process.arch) {
  return template.trim().replace(/\$\{platform\}/g, platform).replace(/\$\{arch\}/g, arch);
}

/** The expected SHA-256 from the setting: one hex string, or one per platform (`{"linux-x64": "…"}`). */
function expectedFromSetting(setting, platform = process.platform, arch = process.arch) {
  if (!setting) return undefined;
  const value = typeof setting === "string" ? setting : setting[platformDir(platform, arch)];
  if (typeof value !== "string" || !value.trim()) return undefined;
  return normaliseSha256(value, "paraaf.server.sha256");
}

/** A SHA-256 as 64 lowercase hex digits; the first word of a `sha256sum` line is enough. */
function normaliseSha256(text, where) {
  const word = String(text).trim().split(/\s+/)[0].replace(/^sha256:/i, "").toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(word)) {
    throw new ServerError(
      `Paraaf: ${where} does not hold a SHA-256 checksum (64 hexadecimal digits); the server was not downloaded.`,
      "EBADSUM"
    );
  }
  return word;
}

/** Only https, except for this machine itself (a test or a local mirror). */
function checkUrl(url) {
  let u;
  try {
    u = new URL(url);
  } catch (_) {
    throw new ServerError(`Paraaf: paraaf.server.downloadUrl "${url}" is not a URL.`, "EBADURL");
  }
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(u.hostname);
  if (u.protocol !== "https:" && !(u.protocol === "http:" && local)) {
    throw new ServerError(
      `Paraaf: paraaf.server.downloadUrl must start with https:// (it is "${url}"); the server was not downloaded.`,
      "EBADURL"
    );
  }
  return u;
}

/** GETs `url` (following redirects) into `sink(chunk)`; resolves when the body has ended. */
function get(url, limit, sink, redirects = 0) {
  const u = checkUrl(url);
  const client = u.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(u, { headers: { "user-agent": "paraaf-vscode" } }, (res) => {
      const status = res.statusCode || 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) {
          reject(new ServerError(`Paraaf: downloading ${url}: more than ${MAX_REDIRECTS} redirects.`, "EREDIRECT"));
          return;
        }
        const next = new URL(res.headers.location, u).toString();
        get(next, limit, sink, redirects + 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new ServerError(`Paraaf: downloading ${url} answered HTTP ${status}.`, `HTTP${status}`));
        return;
      }
      let size = 0;
      res.on("data", (chunk) => {
        size += chunk.length;
        if (size > limit) {
          req.destroy();
          reject(new ServerError(`Paraaf: ${url} is larger than ${limit} bytes; not downloaded.`, "ETOOBIG"));
          return;
        }
        sink(chunk);
      });
      res.on("end", () => resolve());
      res.on("error", reject);
    });
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000} s`)));
    req.on("error", (err) =>
      reject(err.userMessage ? err : new ServerError(`Paraaf: downloading ${url} failed (${err.code || err.message}).`, err.code))
    );
  });
}

/** The SHA-256 of a file, hex. */
function sha256File(file) {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash("sha256");
    fs.createReadStream(file)
      .on("data", (d) => hash.update(d))
      .on("end", () => resolve(hash.digest("hex")))
      .on("error", reject);
  });
}

/**
 * The executable from `url` in `storageDir`, checked against `expected` (hex SHA-256) or,
 * without it, against the `<url>.sha256` file. A file kept from an earlier download is
 * checked again before it is used; a mismatch is refused (and the file removed).
 */
async function downloadServer({ url, expected, storageDir, log = () => {} }) {
  checkUrl(url);
  let source = "paraaf.server.sha256";
  if (!expected) {
    source = `${url}.sha256`;
    const chunks = [];
    try {
      await get(`${url}.sha256`, MAX_SIDECAR_BYTES, (c) => chunks.push(c));
    } catch (err) {
      throw new ServerError(
        `Paraaf: no checksum for the server at ${url}: set "paraaf.server.sha256" or publish ${url}.sha256 (${err.userMessage || err.message}). The server was not downloaded.`,
        "ENOSUM"
      );
    }
    expected = normaliseSha256(Buffer.concat(chunks).toString("utf8"), `${url}.sha256`);
  }
  const dir = path.join(storageDir, "server", expected);
  const final = path.join(dir, exeName());
  if (isFile(final)) {
    if ((await sha256File(final)) === expected) {
      log(`using the server downloaded earlier: ${final}`);
      return final;
    }
    log(`the server kept in ${final} no longer matches its checksum: downloading it again`);
    fs.rmSync(final, { force: true });
  }
  fs.mkdirSync(dir, { recursive: true });
  const partial = path.join(dir, `${exeName()}.${process.pid}.${Date.now()}.part`);
  log(`downloading ${url}`);
  const hash = crypto.createHash("sha256");
  const out = fs.openSync(partial, "w", 0o600);
  try {
    await get(url, MAX_BINARY_BYTES, (chunk) => {
      hash.update(chunk);
      fs.writeSync(out, chunk);
    });
  } catch (err) {
    fs.closeSync(out);
    fs.rmSync(partial, { force: true });
    throw err;
  }
  fs.closeSync(out);
  const actual = hash.digest("hex");
  if (actual !== expected) {
    fs.rmSync(partial, { force: true });
    throw new ServerError(
      `Paraaf: the server downloaded from ${url} has SHA-256 ${actual}, but ${source} expects ${expected}. It was not run. Ask whoever publishes Paraaf in your city for the right URL and checksum.`,
      "ECHECKSUM"
    );
  }
  fs.chmodSync(partial, 0o755);
  fs.renameSync(partial, final);
  log(`downloaded ${url} (SHA-256 ${actual}) to ${final}`);
  return final;
}

/**
 * The executable to run: { command, source: "bundled" | "path" | "download", configured, bare }.
 * `settings` holds `path`, `downloadUrl` and `sha256` (the `paraaf.server.*` settings).
 * Rejects with a `ServerError` when a download or its checksum fails.
 */
async function resolveServer({ extensionPath, settings = {}, workspaceFolder, storageDir, log = () => {} }) {
  const bundled = bundledPath(extensionPath);
  if (bundled) {
    makeExecutable(bundled, log);
    return { command: bundled, configured: bundled, bare: false, source: "bundled" };
  }
  const configured = configuredServerPath(settings.path, workspaceFolder);
  const template = (settings.downloadUrl || "").trim();
  if (!template || isFile(configured.command)) {
    return { ...configured, source: "path" };
  }
  const url = downloadUrlFor(template);
  const expected = expectedFromSetting(settings.sha256);
  const command = await downloadServer({ url, expected, storageDir: storageDir || os.tmpdir(), log });
  return { command, configured: url, bare: false, source: "download" };
}

module.exports = {
  ServerError,
  platformDir,
  exeName,
  bundledPath,
  configuredServerPath,
  findOnPath,
  downloadUrlFor,
  expectedFromSetting,
  downloadServer,
  resolveServer,
  sha256File,
};

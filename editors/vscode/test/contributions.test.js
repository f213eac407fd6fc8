// Checks the extension's contributions and its start/restart logic without VS Code:
// plain node, `assert`, and stubs for the `vscode` and `vscode-languageclient/node` modules.
// Run by `npm test`.
"use strict";
const assert = require("assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const Module = require("module");
const crypto = require("crypto");
const { releaseServer } = require("./release_server");
const { platformDir } = require("../binary");

const root = path.join(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));

const tests = [];
function test(name, fn) {
  tests.push({ name, fn });
}

// ---------------------------------------------------------------- package.json

test("package.json contributes the restart command", () => {
  const commands = pkg.contributes.commands.map((c) => c.command);
  assert.ok(commands.includes("paraaf.restartServer"), "paraaf.restartServer is contributed");
  const restart = pkg.contributes.commands.find((c) => c.command === "paraaf.restartServer");
  assert.strictEqual(`${restart.category}: ${restart.title}`, "Paraaf: Restart server");
});

test("package.json contributes the settings", () => {
  const props = pkg.contributes.configuration.properties;
  assert.strictEqual(props["paraaf.server.path"].type, "string");
  assert.strictEqual(props["paraaf.server.path"].default, "paraaf");
  const trace = props["paraaf.trace.server"];
  assert.ok(trace, "paraaf.trace.server is contributed");
  assert.deepStrictEqual(trace.enum, ["off", "messages", "verbose"]);
  assert.strictEqual(trace.default, "off");
});

test("the snippets file exists, is valid JSON, and every snippet has prefix, body and description", () => {
  const contributed = pkg.contributes.snippets;
  assert.ok(Array.isArray(contributed) && contributed.length > 0, "snippets are contributed");
  for (const entry of contributed) {
    assert.strictEqual(entry.language, "paraaf");
    const file = path.join(root, entry.path);
    assert.ok(fs.existsSync(file), `${entry.path} exists`);
    const snippets = JSON.parse(fs.readFileSync(file, "utf8"));
    const names = Object.keys(snippets);
    assert.ok(names.length >= 5, "at least five snippets");
    for (const name of names) {
      const s = snippets[name];
      assert.ok(typeof s.prefix === "string" && s.prefix.length > 0, `${name}: prefix`);
      assert.ok(
        (typeof s.body === "string" && s.body.length > 0) ||
          (Array.isArray(s.body) && s.body.length > 0 && s.body.every((l) => typeof l === "string")),
        `${name}: body`
      );
      assert.ok(typeof s.description === "string" && s.description.length > 0, `${name}: description`);
    }
    const prefixes = names.map((n) => snippets[n].prefix);
    for (const p of ["document", "document shielded", "flow", "group", "rule"]) {
      assert.ok(prefixes.includes(p), `a snippet with prefix "${p}"`);
    }
  }
});

test("the packaged files include the snippets, the icon and the changelog, and exclude the tests", () => {
  const { FILES } = require("../scripts/package");
  for (const f of ["snippets", "syntaxes", "images", "CHANGELOG.md", "README.md", "LICENSE"]) {
    assert.ok(FILES.includes(f), `${f} is packaged`);
  }
  assert.ok(!FILES.some((f) => f.startsWith("test") || f.startsWith("node_modules")), "no tests, no node_modules");
  assert.strictEqual(pkg.icon, "images/icon.png");
  const icon = fs.readFileSync(path.join(root, pkg.icon));
  assert.strictEqual(icon.subarray(1, 4).toString(), "PNG");
  // The IHDR chunk: width and height, big-endian, at bytes 16 and 20.
  assert.deepStrictEqual([icon.readUInt32BE(16), icon.readUInt32BE(20)], [128, 128]);
  const changelog = fs.readFileSync(path.join(root, "CHANGELOG.md"), "utf8");
  assert.ok(changelog.includes(`## ${pkg.version}`), `CHANGELOG.md has a section for ${pkg.version}`);
});

test("the repository URL is a placeholder on a reserved domain, explained in the README", () => {
  const url = new URL(pkg.repository.url);
  assert.ok(url.hostname.endsWith(".example"), `${url.hostname}: a reserved name nobody owns`);
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
  assert.ok(readme.includes(pkg.repository.url), "the README names the placeholder");
  assert.ok(readme.includes("--repository"), "and how to set the city's own");
});

test("the download settings can only be set by the user, never by a workspace", () => {
  const props = pkg.contributes.configuration.properties;
  for (const key of ["paraaf.server.downloadUrl", "paraaf.server.sha256"]) {
    assert.strictEqual(props[key].scope, "machine", key);
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes(key), key);
  }
});

// ---------------------------------------------------------------- stubs

function event() {
  const listeners = [];
  const ev = (fn) => {
    listeners.push(fn);
    return { dispose: () => listeners.splice(listeners.indexOf(fn) >>> 0, 1) };
  };
  ev.fire = (value) => listeners.slice().forEach((fn) => fn(value));
  return ev;
}

/** A fresh stub of the parts of the `vscode` API the extension uses. */
function makeVscode(settings) {
  const calls = { errors: [], executed: [], outputShown: 0 };
  const commands = new Map();
  const onConfig = event();
  const vscode = {
    calls,
    commands: {
      registerCommand(id, fn) {
        assert.ok(!commands.has(id), `${id} registered once`);
        commands.set(id, fn);
        return { dispose: () => commands.delete(id) };
      },
      executeCommand(id, ...args) {
        calls.executed.push([id, ...args]);
        return commands.has(id) ? Promise.resolve(commands.get(id)(...args)) : Promise.resolve();
      },
      registered: commands,
    },
    window: {
      // The answer to the next error message (e.g. "Retry"); undefined = dismissed.
      nextAnswer: undefined,
      showErrorMessage(message, ...actions) {
        calls.errors.push({ message, actions });
        const answer = vscode.window.nextAnswer;
        vscode.window.nextAnswer = undefined;
        return Promise.resolve(answer);
      },
      showQuickPick: () => Promise.resolve(undefined),
      createOutputChannel: (name) => ({
        name,
        lines: [],
        appendLine(l) {
          this.lines.push(l);
        },
        append() {},
        show() {
          calls.outputShown++;
        },
        dispose() {},
      }),
      createStatusBarItem: (id, alignment, priority) => ({
        id,
        alignment,
        priority,
        text: "",
        tooltip: "",
        visible: false,
        show() {
          this.visible = true;
        },
        hide() {
          this.visible = false;
        },
        dispose() {},
      }),
    },
    workspace: {
      workspaceFolders: [{ uri: { fsPath: os.tmpdir() } }],
      getConfiguration(section) {
        return {
          get: (key, dflt) => {
            const v = settings[`${section}.${key}`];
            return v === undefined ? dflt : v;
          },
        };
      },
      onDidChangeConfiguration: onConfig,
      // The paraaf.toml files the workspace holds (set by a test).
      configFiles: [],
      findFiles: (glob) => Promise.resolve(glob === "**/paraaf.toml" ? vscode.workspace.configFiles.map((f) => ({ fsPath: f })) : []),
      watchers: [],
      createFileSystemWatcher: (glob) => {
        const w = { glob, onDidCreate: event(), onDidChange: event(), onDidDelete: event(), dispose() {} };
        vscode.workspace.watchers.push(w);
        return w;
      },
      // test helper: change a setting and fire the event as VS Code does
      set(key, value) {
        settings[key] = value;
        onConfig.fire({ affectsConfiguration: (s) => key === s || key.startsWith(s + ".") });
      },
    },
    Uri: { file: (p) => ({ fsPath: p }) },
    StatusBarAlignment: { Left: 1, Right: 2 },
    ThemeColor: class {
      constructor(id) {
        this.id = id;
      }
    },
  };
  return vscode;
}

/** A stub of `vscode-languageclient/node`: records clients, starts succeed unless told. */
function makeLanguageClientModule() {
  const State = { Stopped: 1, Running: 2, Starting: 3 };
  const mod = {
    clients: [],
    failNextStart: undefined, // an error for the next start()
    State,
    CloseAction: { DoNotRestart: 1, Restart: 2 },
    ErrorAction: { Continue: 1, Shutdown: 2 },
    LanguageClient: class {
      constructor(id, name, serverOptions, clientOptions) {
        Object.assign(this, { id, name, serverOptions, clientOptions });
        this.state = State.Stopped;
        this.onDidChangeState = event();
        this.outputChannel = clientOptions.outputChannel;
        this.startCalls = 0;
        this.stopCalls = 0;
        this.notifications = [];
        mod.clients.push(this);
      }
      setState(s) {
        const old = this.state;
        this.state = s;
        this.onDidChangeState.fire({ oldState: old, newState: s });
      }
      error(message, data, showNotification) {
        if (showNotification) this.notifications.push(message);
      }
      async start() {
        this.startCalls++;
        this.setState(State.Starting);
        await new Promise((r) => setImmediate(r));
        const err = mod.failNextStart;
        mod.failNextStart = undefined;
        if (err) {
          // As vscode-languageclient 9 does: a forced notification, then a rejection.
          this.error("Paraaf client: couldn't create connection to server.", err, "force");
          this.setState(State.Stopped);
          throw err;
        }
        this.setState(State.Running);
      }
      async stop() {
        this.stopCalls++;
        if (this.state !== State.Running) throw new Error("Client is not running and can't be stopped.");
        this.setState(State.Stopped);
      }
      dispose(timeout) {
        this.disposed = true;
        return this.stop(timeout);
      }
    },
  };
  return mod;
}

/** Loads a fresh copy of extension.js with the given stubs. */
function loadExtension(vscode, lc) {
  const originalLoad = Module._load;
  Module._load = function (request, parent, isMain) {
    if (request === "vscode") return vscode;
    if (request === "vscode-languageclient/node") return lc;
    return originalLoad.call(this, request, parent, isMain);
  };
  try {
    const file = require.resolve(path.join(root, "extension.js"));
    delete require.cache[file];
    return require(file);
  } finally {
    Module._load = originalLoad;
  }
}

/** A fake `paraaf` executable that prints a version (POSIX shell script). */
function fakeParaaf(dir, name = "paraaf") {
  const file = path.join(dir, name);
  fs.writeFileSync(file, '#!/bin/sh\necho "paraaf 0.1.0-test"\n');
  fs.chmodSync(file, 0o755);
  return file;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "paraaf-vscode-test-"));

/** An extension context; `extensionPath` has no bundled binary unless a test puts one there. */
function context(extensionPath = fs.mkdtempSync(path.join(tmp, "ext-"))) {
  return { subscriptions: [], extensionPath, globalStorageUri: { fsPath: path.join(extensionPath, "storage") } };
}
const posix = process.platform !== "win32";

// ---------------------------------------------------------------- extension.js

test("extension.js loads with a stubbed vscode and activate registers the commands", async () => {
  const vscode = makeVscode({ "paraaf.server.path": fakeParaaf(tmp) });
  const lc = makeLanguageClientModule();
  const ext = loadExtension(vscode, lc);
  assert.strictEqual(typeof ext.activate, "function");
  assert.strictEqual(typeof ext.deactivate, "function");
  const ctx = context();
  ext.activate(ctx);
  for (const id of ["paraaf.restartServer", "paraaf.showOutput", "paraaf.serverActions"]) {
    assert.ok(vscode.commands.registered.has(id), `${id} is registered`);
  }
  // Every contributed command is registered.
  for (const c of pkg.contributes.commands) assert.ok(vscode.commands.registered.has(c.command), c.command);
  assert.ok(ctx.subscriptions.length > 0, "disposables are pushed to the context");
  await ext._internal.ready();
  await ext.deactivate();
});

if (posix) {
  test("a found server starts with `lsp`, the client id is paraaf, the status shows its version", async () => {
    const exe = fakeParaaf(tmp);
    const vscode = makeVscode({ "paraaf.server.path": exe });
    const lc = makeLanguageClientModule();
    const ext = loadExtension(vscode, lc);
    ext.activate(context());
    const status = ext._internal.state().status;
    assert.match(status.text, /Paraaf/);
    assert.ok(status.visible, "the status item is shown");
    await ext._internal.ready();
    assert.strictEqual(lc.clients.length, 1);
    const client = lc.clients[0];
    assert.strictEqual(client.id, "paraaf", "id paraaf: the client reads paraaf.trace.server");
    assert.deepStrictEqual(client.serverOptions, { command: exe, args: ["lsp"] });
    assert.strictEqual(typeof client.clientOptions.initializationFailedHandler, "function");
    // Not every TOML file: only paraaf.toml and the organograms (none in this workspace).
    assert.deepStrictEqual(client.clientOptions.documentSelector, [
      { scheme: "file", language: "paraaf" },
      { scheme: "file", pattern: "**/paraaf.toml" },
    ]);
    assert.strictEqual(client.startCalls, 1);
    assert.strictEqual(ext._internal.state().state, "running");
    assert.match(status.text, /check/);
    assert.match(status.tooltip, /running/);
    assert.ok(status.tooltip.includes(exe), "the tooltip names the executable");
    assert.match(status.tooltip, /paraaf 0\.1\.0-test/, "the tooltip names the version");
    assert.strictEqual(status.command, "paraaf.serverActions");
    assert.deepStrictEqual(vscode.calls.errors, []);
    await ext.deactivate();
    assert.ok(client.disposed, "deactivate stops the client");
  });

  test("Paraaf: Restart server stops the client and starts a new one", async () => {
    const vscode = makeVscode({ "paraaf.server.path": fakeParaaf(tmp) });
    const lc = makeLanguageClientModule();
    const ext = loadExtension(vscode, lc);
    ext.activate(context());
    await ext._internal.ready();
    await vscode.commands.executeCommand("paraaf.restartServer");
    assert.strictEqual(lc.clients.length, 2);
    assert.ok(lc.clients[0].disposed && lc.clients[0].state === lc.State.Stopped, "the old client is stopped");
    assert.strictEqual(lc.clients[1].startCalls, 1, "a new client is started");
    assert.strictEqual(ext._internal.state().state, "running");
    await ext.deactivate();
  });

  test("a change of paraaf.server.path restarts the client with the new path", async () => {
    const first = fakeParaaf(tmp, "paraaf-one");
    const second = fakeParaaf(tmp, "paraaf-two");
    const vscode = makeVscode({ "paraaf.server.path": first });
    const lc = makeLanguageClientModule();
    const ext = loadExtension(vscode, lc);
    ext.activate(context());
    await ext._internal.ready();
    vscode.workspace.set("paraaf.trace.server", "verbose"); // not a restart
    await ext._internal.ready();
    assert.strictEqual(lc.clients.length, 1, "the trace setting does not restart the server");
    vscode.workspace.set("paraaf.server.path", second);
    await ext._internal.ready();
    assert.strictEqual(lc.clients.length, 2);
    assert.ok(lc.clients[0].disposed);
    assert.strictEqual(lc.clients[1].serverOptions.command, second);
    assert.ok(ext._internal.state().status.tooltip.includes(second));
    await ext.deactivate();
  });

  test("a bare name is looked up on PATH and shown with its full path", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "bin-"));
    const exe = fakeParaaf(dir);
    const savedPath = process.env.PATH;
    process.env.PATH = dir + path.delimiter + savedPath;
    try {
      const vscode = makeVscode({ "paraaf.server.path": "paraaf" });
      const lc = makeLanguageClientModule();
      const ext = loadExtension(vscode, lc);
      ext.activate(context());
      await ext._internal.ready();
      assert.strictEqual(lc.clients[0].serverOptions.command, exe);
      await ext.deactivate();
    } finally {
      process.env.PATH = savedPath;
    }
  });

  test("a server that fails after spawning gives one message and no client pop-up", async () => {
    const vscode = makeVscode({ "paraaf.server.path": fakeParaaf(tmp) });
    const lc = makeLanguageClientModule();
    lc.failNextStart = new Error("Pending response rejected since connection got disposed");
    const ext = loadExtension(vscode, lc);
    ext.activate(context());
    await ext._internal.ready();
    assert.deepStrictEqual(lc.clients[0].notifications, [], "the client's own notification is suppressed");
    assert.strictEqual(vscode.calls.errors.length, 1, "exactly one error message");
    const { message, actions } = vscode.calls.errors[0];
    assert.match(message, /failed to start/);
    assert.match(message, /Pending response rejected/);
    assert.ok(actions.includes("Set path") && actions.includes("Retry"));
    assert.strictEqual(ext._internal.state().state, "stopped");
    await ext.deactivate();
  });
}

test("a missing executable gives exactly one message with the path and ENOENT, and no client", async () => {
  const missing = path.join(tmp, "no-such-dir", "paraaf");
  const vscode = makeVscode({ "paraaf.server.path": missing });
  const lc = makeLanguageClientModule();
  const ext = loadExtension(vscode, lc);
  ext.activate(context());
  await ext._internal.ready();
  assert.strictEqual(lc.clients.length, 0, "no language client is started");
  assert.strictEqual(vscode.calls.errors.length, 1, "exactly one error message");
  const { message, actions } = vscode.calls.errors[0];
  assert.ok(message.includes(missing), `names the path: ${message}`);
  assert.match(message, /ENOENT/);
  assert.ok(!/undefined/.test(message), `no "undefined": ${message}`);
  assert.deepStrictEqual(actions, ["Set path", "Retry"]);
  const st = ext._internal.state();
  assert.strictEqual(st.state, "stopped");
  assert.match(st.status.tooltip, /failed/);
  await ext.deactivate();
});

test("a bare name not on PATH says so", async () => {
  const savedPath = process.env.PATH;
  process.env.PATH = path.join(tmp, "empty-path");
  try {
    const vscode = makeVscode({ "paraaf.server.path": "paraaf-surely-not-installed" });
    const lc = makeLanguageClientModule();
    const ext = loadExtension(vscode, lc);
    ext.activate(context());
    await ext._internal.ready();
    assert.strictEqual(vscode.calls.errors.length, 1);
    assert.match(vscode.calls.errors[0].message, /"paraaf-surely-not-installed" was not found on PATH \(ENOENT\)/);
    await ext.deactivate();
  } finally {
    process.env.PATH = savedPath;
  }
});

test('"Set path" opens the setting; a restart after fixing it starts the server', async () => {
  const missing = path.join(tmp, "missing-paraaf");
  const vscode = makeVscode({ "paraaf.server.path": missing });
  const lc = makeLanguageClientModule();
  const ext = loadExtension(vscode, lc);
  vscode.window.nextAnswer = "Set path";
  ext.activate(context());
  await ext._internal.ready();
  await new Promise((r) => setImmediate(r));
  assert.deepStrictEqual(vscode.calls.executed[0], ["workbench.action.openSettings", "paraaf.server.path"]);
  if (posix) {
    fakeParaaf(tmp, "missing-paraaf");
    await vscode.commands.executeCommand("paraaf.restartServer");
    assert.strictEqual(lc.clients.length, 1, "the restart started a client");
    assert.strictEqual(ext._internal.state().state, "running");
    assert.ok(!ext._internal.state().failed);
    fs.unlinkSync(missing);
  }
  assert.strictEqual(vscode.calls.errors.length, 1);
  await ext.deactivate();
});

test('"Retry" tries again (and reports again, once)', async () => {
  const missing = path.join(tmp, "still-missing-paraaf");
  const vscode = makeVscode({ "paraaf.server.path": missing });
  const lc = makeLanguageClientModule();
  const ext = loadExtension(vscode, lc);
  vscode.window.nextAnswer = "Retry";
  ext.activate(context());
  await ext._internal.ready();
  await new Promise((r) => setImmediate(r));
  await ext._internal.ready(); // the retry's attempt
  assert.strictEqual(vscode.calls.errors.length, 2, "one message per attempt");
  assert.strictEqual(lc.clients.length, 0);
  await ext.deactivate();
});

// ---------------------------------------------------------------- server binary and selector

if (posix) {
  test("a bundled binary is run in preference to paraaf.server.path, and the tooltip says so", async () => {
    const ctx = context();
    const binDir = path.join(ctx.extensionPath, "bin", platformDir());
    fs.mkdirSync(binDir, { recursive: true });
    const bundled = fakeParaaf(binDir);
    const vscode = makeVscode({ "paraaf.server.path": fakeParaaf(tmp, "paraaf-configured") });
    const lc = makeLanguageClientModule();
    const ext = loadExtension(vscode, lc);
    ext.activate(ctx);
    await ext._internal.ready();
    assert.strictEqual(lc.clients.length, 1);
    assert.deepStrictEqual(lc.clients[0].serverOptions, { command: bundled, args: ["lsp"] });
    assert.match(ext._internal.state().status.tooltip, /Source: bundled with the extension/);
    await ext.deactivate();
  });

  test("a downloaded server whose checksum does not match is refused: one message, no client", async () => {
    const bytes = Buffer.from("#!/bin/sh\necho paraaf-evil\n");
    const srv = await releaseServer({ "/paraaf": bytes });
    const wrong = "1".repeat(64);
    try {
      const ctx = context();
      const vscode = makeVscode({
        "paraaf.server.path": path.join(tmp, "not-installed", "paraaf"),
        "paraaf.server.downloadUrl": `${srv.base}/paraaf`,
        "paraaf.server.sha256": wrong,
      });
      const lc = makeLanguageClientModule();
      const ext = loadExtension(vscode, lc);
      ext.activate(ctx);
      await ext._internal.ready();
      assert.strictEqual(lc.clients.length, 0, "nothing is started");
      assert.strictEqual(vscode.calls.errors.length, 1, "exactly one message");
      const { message } = vscode.calls.errors[0];
      assert.ok(message.includes(wrong), message);
      assert.ok(message.includes(crypto.createHash("sha256").update(bytes).digest("hex")), message);
      assert.match(message, /It was not run/);
      assert.strictEqual(ext._internal.state().state, "stopped");
      const storage = ctx.globalStorageUri.fsPath;
      const left = fs.existsSync(storage) ? fs.readdirSync(storage, { recursive: true }) : [];
      assert.ok(!left.some((f) => /paraaf($|\.)/.test(path.basename(f))), `no executable kept: ${left}`);
      // The right checksum: the same download runs.
      vscode.workspace.set("paraaf.server.sha256", crypto.createHash("sha256").update(bytes).digest("hex"));
      await ext._internal.ready();
      assert.strictEqual(lc.clients.length, 1);
      assert.ok(lc.clients[0].serverOptions.command.startsWith(ctx.globalStorageUri.fsPath));
      assert.match(ext._internal.state().status.tooltip, /downloaded .*checksum verified/);
      await ext.deactivate();
    } finally {
      srv.close();
    }
  });

  test("the client selects *.paraaf, paraaf.toml and the organograms the projects name; a new organogram restarts it", async () => {
    const ws = fs.mkdtempSync(path.join(tmp, "ws-"));
    const a = path.join(ws, "aalst", "paraaf.toml");
    const b = path.join(ws, "gent", "paraaf.toml");
    fs.mkdirSync(path.dirname(a));
    fs.mkdirSync(path.dirname(b));
    fs.writeFileSync(a, 'name = "aalst"\norganogram = "org.toml"\n');
    fs.writeFileSync(b, 'name = "gent"\norganogram = "hr/organogram.toml"\n');
    fs.writeFileSync(path.join(ws, "Cargo.toml"), "[package]\n");
    const vscode = makeVscode({ "paraaf.server.path": fakeParaaf(tmp) });
    vscode.workspace.configFiles = [a, b];
    const lc = makeLanguageClientModule();
    const ext = loadExtension(vscode, lc);
    ext.activate(context());
    await ext._internal.ready();
    const patterns = lc.clients[0].clientOptions.documentSelector.map((f) => f.pattern || `language:${f.language}`);
    assert.deepStrictEqual(patterns, [
      "language:paraaf",
      "**/paraaf.toml",
      path.join(ws, "aalst", "org.toml"),
      path.join(ws, "gent", "hr", "organogram.toml"),
    ]);
    // The same paraaf.toml saved again: no restart.
    const watcher = vscode.workspace.watchers[0];
    watcher.onDidChange.fire({ fsPath: a });
    await ext._internal.projectsChecked();
    assert.strictEqual(lc.clients.length, 1, "unchanged organograms: the client keeps running");
    // Another organogram: the client restarts with it.
    fs.writeFileSync(a, 'name = "aalst"\norganogram = "organogram-2027.toml"\n');
    watcher.onDidChange.fire({ fsPath: a });
    await ext._internal.projectsChecked();
    await ext._internal.ready();
    assert.strictEqual(lc.clients.length, 2);
    assert.ok(
      lc.clients[1].clientOptions.documentSelector.some((f) => f.pattern === path.join(ws, "aalst", "organogram-2027.toml"))
    );
    // Any other TOML file changing is not a project change.
    watcher.onDidChange.fire({ fsPath: path.join(ws, "Cargo.toml") });
    await ext._internal.projectsChecked();
    assert.strictEqual(lc.clients.length, 2);
    await ext.deactivate();
  });
}

// ---------------------------------------------------------------- run

(async () => {
  let failed = 0;
  for (const t of tests) {
    try {
      await t.fn();
      console.log(`✓ ${t.name}`);
    } catch (err) {
      failed++;
      console.log(`✗ ${t.name}\n  ${(err && err.stack) || err}`);
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`${tests.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();

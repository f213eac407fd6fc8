// Checks the extension's contributions and its start/restart logic without VS Code:
// plain node, `assert`, and stubs for the `vscode` and `vscode-languageclient/node` modules.
// Run by `npm test`.
"use strict";
const assert = require("assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const Module = require("module");

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

test("the packaged files include the snippets and exclude the tests", () => {
  const ignore = fs.readFileSync(path.join(root, ".vscodeignore"), "utf8");
  assert.ok(!/^snippets/m.test(ignore), "snippets/ is not ignored");
  assert.ok(/^test\/\*\*/m.test(ignore), "test/ is ignored");
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
      createFileSystemWatcher: (glob) => ({ glob, dispose() {} }),
      // test helper: change a setting and fire the event as VS Code does
      set(key, value) {
        settings[key] = value;
        onConfig.fire({ affectsConfiguration: (s) => key === s || key.startsWith(s + ".") });
      },
    },
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

function context() {
  return { subscriptions: [] };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "paraaf-vscode-test-"));
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
    // The organogram's buffer reaches the server too (unsaved edits count).
    assert.ok(
      client.clientOptions.documentSelector.some((d) => d.pattern === "**/*.toml"),
      "TOML files are in the document selector"
    );
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

// Starts `paraaf lsp` for .paraaf files. All language features come from the server; this
// file only starts/restarts the client and shows its state. Which executable runs (bundled,
// `paraaf.server.path` or downloaded and checksummed) is binary.js; which files the client
// hands to the server (`*.paraaf`, `paraaf.toml`, the organograms they name) is selector.js.
//
// Start failures are reported once, by us. vscode-languageclient 9 would otherwise show its
// own notification ("couldn't create connection to server", forced, whatever
// `revealOutputChannelOn` says) next to ours, and when the executable is missing it rejects
// `start()` with a plain string, so `err.message` is undefined. Hence:
//   1. before creating a client, `paraaf --version` is run: a missing or non-executable file
//      is reported with its path and the OS error (ENOENT, EACCES, ...) and no client starts;
//      the same call gives the version for the status bar tooltip;
//   2. the client is a subclass that keeps notifications out of the way while we start it
//      (they still go to the output channel), with an `initializationFailedHandler` and an
//      error handler that never pop up; every failure comes back to `reportStartFailure`;
//   3. every (re)start creates a fresh client: a client whose start failed cannot be
//      started again (its start promise stays rejected).
const childProcess = require("child_process");
const fs = require("fs");
const vscode = require("vscode");
const { resolveServer, configuredServerPath } = require("./binary");
const { CONFIG_FILE, documentSelector } = require("./selector");
const { LanguageClient, State, CloseAction, ErrorAction } = require("vscode-languageclient/node");

const SERVER_PATH = "paraaf.server.path";
const SERVER_SETTINGS = ["paraaf.server.path", "paraaf.server.downloadUrl", "paraaf.server.sha256"];
const MAX_CRASHES = 4; // restarts within CRASH_WINDOW_MS before we give up, as the client does
const CRASH_WINDOW_MS = 3 * 60 * 1000;
const PROJECTS_DEBOUNCE_MS = 300; // a save of paraaf.toml fires several file events

/** How the executable was found, in words (status tooltip and output). */
const SOURCES = {
  bundled: "bundled with the extension",
  path: SERVER_PATH,
  download: "downloaded (paraaf.server.downloadUrl), checksum verified",
};

let ext; // the state of the active extension (one per activation)

class ParaafLanguageClient extends LanguageClient {
  // While we start the client, its own notifications are only logged: we report the failure
  // ourselves, once (see `start` in `startServer`).
  error(message, data, showNotification) {
    super.error(message, data, this.quiet ? false : showNotification);
  }

  // The base class refuses to stop a client that is not running (e.g. after a failed
  // `initialize`, where it calls `void this.stop()` itself): there is nothing to stop then,
  // and the server process is still ended (by the node client's `stop`).
  stop(timeout) {
    return super.stop(timeout).catch((err) => {
      this.outputChannel.appendLine(`[paraaf] stop: ${err && err.message ? err.message : err}`);
    });
  }
}

/** The `paraaf.server.*` settings that choose the executable. */
function serverSettings() {
  const c = vscode.workspace.getConfiguration("paraaf");
  return { path: c.get("server.path"), downloadUrl: c.get("server.downloadUrl"), sha256: c.get("server.sha256") };
}

function firstFolder() {
  const folders = vscode.workspace.workspaceFolders;
  return folders && folders.length ? folders[0].uri.fsPath : undefined;
}

/** The document selector for the projects in the workspace (see selector.js). */
async function projectSelector(e) {
  let uris = [];
  try {
    uris = (await vscode.workspace.findFiles(`**/${CONFIG_FILE}`, "**/{node_modules,target}/**")) || [];
  } catch (err) {
    e.output.appendLine(`[paraaf] finding ${CONFIG_FILE} files: ${describeError(err)}`);
  }
  const projects = [];
  for (const uri of uris) {
    try {
      projects.push({ configPath: uri.fsPath, text: await fs.promises.readFile(uri.fsPath, "utf8") });
    } catch (err) {
      e.output.appendLine(`[paraaf] reading ${uri.fsPath}: ${describeError(err)}`);
    }
  }
  const fsPath = (p) => (vscode.Uri && vscode.Uri.file ? vscode.Uri.file(p).fsPath : p);
  const result = documentSelector(projects, fsPath);
  for (const problem of result.problems) e.output.appendLine(`[paraaf] ${problem}`);
  return result;
}

const OS_ERRORS = {
  ENOENT: "no such file",
  EACCES: "permission denied: not an executable file",
  EPERM: "operation not permitted",
  ENOTDIR: "a part of the path is not a folder",
  ENOEXEC: "not an executable format",
  EISDIR: "is a folder",
};

/**
 * Runs `COMMAND --version`. Resolves to { version } when the executable ran (version is ""
 * when it printed nothing or exited with an error: it may still be a server), or to
 * { error } when it could not be started at all (the OS error, with `code`).
 */
function probe(command) {
  return new Promise((resolve) => {
    let child;
    try {
      child = childProcess.execFile(command, ["--version"], { timeout: 5000, windowsHide: true }, (err, stdout) => {
        if (err && typeof err.code === "string" && err.syscall && err.syscall.startsWith("spawn")) {
          resolve({ error: err });
        } else {
          resolve({ version: err ? "" : String(stdout).trim().split(/\r?\n/)[0] });
        }
      });
    } catch (err) {
      // Synchronous spawn errors (e.g. an invalid argument) are start failures as well.
      resolve({ error: err });
      return;
    }
    if (child && child.stdin) child.stdin.end();
  });
}

function describeError(err) {
  if (err && typeof err.code === "string") {
    return OS_ERRORS[err.code] ? `${err.code}, ${OS_ERRORS[err.code]}` : err.code;
  }
  if (err && err.message) return err.message;
  return String(err);
}

function activate(context) {
  const output = vscode.window.createOutputChannel("Paraaf");
  const status = vscode.window.createStatusBarItem("paraaf.server", vscode.StatusBarAlignment.Right, 100);
  status.name = "Paraaf server";
  status.command = "paraaf.serverActions";
  ext = {
    context,
    output,
    status,
    client: undefined,
    generation: 0, // incremented by each (re)start; a start that is no longer current stays silent
    queue: Promise.resolve(), // (re)starts and stops run one after the other
    server: undefined, // { configured, command, bare, version }
    crashes: [],
    failed: false,
  };
  // Created once: reused by every client (the client does not dispose it).
  const watcher = vscode.workspace.createFileSystemWatcher("**/*.{toml,paraaf}");

  context.subscriptions.push(
    output,
    status,
    watcher,
    vscode.commands.registerCommand("paraaf.restartServer", () => {
      ext.crashes = [];
      return restartServer("restart requested");
    }),
    vscode.commands.registerCommand("paraaf.showOutput", () => output.show(true)),
    vscode.commands.registerCommand("paraaf.serverActions", serverActions),
    vscode.workspace.onDidChangeConfiguration((e) => {
      // The trace setting (`paraaf.trace.server`) is read by the client itself, live.
      const changed = SERVER_SETTINGS.find((s) => e.affectsConfiguration(s));
      if (changed) {
        restartServer(`${changed} changed`);
      }
    }),
    { dispose: () => stopServer() }
  );
  ext.watcher = watcher;
  // A project added, removed or pointed at another organogram changes what the client
  // hands to the server: restart it with the new selector.
  const onConfigFile = (uri) => {
    if (uri && uri.fsPath && uri.fsPath.split(/[\\/]/).pop() === CONFIG_FILE) projectsChanged(ext);
  };
  for (const ev of [watcher.onDidCreate, watcher.onDidChange, watcher.onDidDelete]) {
    if (typeof ev === "function") context.subscriptions.push(ev.call(watcher, onConfigFile));
  }
  setStatus("starting");
  status.show();
  // Not returned: activation (and with it our commands) must not wait for the server.
  ext.ready = restartServer("activation");
}

/** Stops the current client (if any) and starts a new one with the current settings. */
function restartServer(reason) {
  const e = ext;
  if (!e) return Promise.resolve();
  const generation = ++e.generation;
  let started;
  // Resolves when this start attempt has settled (running, failed or superseded); it does
  // not wait for the user to answer an error message.
  const done = new Promise((resolve) => (started = resolve));
  e.ready = done;
  e.queue = e.queue
    .then(async () => {
      await stopClient(e);
      if (generation !== e.generation) return started(); // a newer restart is queued
      started(startServer(e, generation, reason));
    })
    .catch((err) => {
      e.output.appendLine(`[paraaf] restart failed: ${describeError(err)}`);
      started();
    });
  return done;
}

async function stopClient(e) {
  const client = e.client;
  e.client = undefined;
  if (!client) return;
  try {
    // Also ends the server process of a client that is still starting or failed to start.
    await client.dispose(2000);
  } catch (err) {
    e.output.appendLine(`[paraaf] stopping the server: ${describeError(err)}`);
  }
}

async function startServer(e, generation, reason) {
  const current = () => generation === e.generation && ext === e;
  e.failed = false;
  const settings = serverSettings();
  // Shown while the executable is being resolved (and if resolving fails).
  e.server = { ...configuredServerPath(settings.path, firstFolder()), source: "path" };
  setStatus("starting");
  try {
    e.server = await resolveServer({
      extensionPath: e.context.extensionPath || __dirname,
      settings,
      workspaceFolder: firstFolder(),
      storageDir: e.context.globalStorageUri ? e.context.globalStorageUri.fsPath : e.context.globalStoragePath,
      log: (line) => e.output.appendLine(`[paraaf] ${line}`),
    });
  } catch (err) {
    if (!current()) return;
    return reportStartFailure(e, err, false);
  }
  if (!current()) return;
  e.output.appendLine(`[paraaf] starting "${e.server.command} lsp" (${reason}; ${SOURCES[e.server.source]})`);

  const probed = await probe(e.server.command);
  if (!current()) return;
  if (probed.error) {
    return reportStartFailure(e, probed.error, false);
  }
  e.server.version = probed.version;

  const projects = await projectSelector(e);
  if (!current()) return;
  e.organograms = projects.organograms;
  const serverOptions = { command: e.server.command, args: ["lsp"] };
  const clientOptions = {
    // Flow files, `paraaf.toml` and the organogram files the projects name, so that an
    // open organogram's unsaved edits are the organogram while it is open. No other TOML.
    documentSelector: projects.selector,
    synchronize: {
      // The organogram (TOML) and files not open in an editor: diagnostics refresh on change.
      fileEvents: e.watcher,
    },
    outputChannel: e.output, // one channel for all restarts; also gets the trace
    // A failed `initialize` is reported by `reportStartFailure`, not by a pop-up of the client.
    initializationFailedHandler: () => false,
    errorHandler: {
      error: (_error, _message, count) => ({
        action: count && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
        handled: true,
      }),
      closed: () => {
        if (!current() || client.state !== State.Running) {
          // Died while starting: `start()` rejects and we report it there.
          return { action: CloseAction.DoNotRestart, handled: true };
        }
        return onCrash(e);
      },
    },
  };
  const client = new ParaafLanguageClient("paraaf", "Paraaf", serverOptions, clientOptions);
  e.client = client;
  client.onDidChangeState(({ newState }) => {
    if (!current()) return;
    if (newState === State.Running) setStatus("running");
    else if (newState === State.Starting) setStatus("starting");
    else setStatus("stopped");
  });

  client.quiet = true;
  try {
    await client.start();
    client.quiet = false;
    if (current()) {
      e.output.appendLine(`[paraaf] running ${e.server.command}${e.server.version ? ` (${e.server.version})` : ""}`);
      setStatus("running");
    }
  } catch (err) {
    client.quiet = false;
    if (current()) reportStartFailure(e, err, true);
  }
}

/**
 * A `paraaf.toml` was created, changed or deleted: when the organogram files the projects
 * name are no longer the ones the running client selects, restart it with the new set.
 */
function projectsChanged(e) {
  if (!e || ext !== e || e.state !== "running") return Promise.resolve();
  clearTimeout(e.projectsTimer);
  e.projectsChecked = new Promise((resolve) => {
    e.projectsTimer = setTimeout(async () => {
      const next = await projectSelector(e);
      if (ext === e && JSON.stringify(next.organograms) !== JSON.stringify(e.organograms || [])) {
        await restartServer("the projects' organogram files changed");
      }
      resolve();
    }, PROJECTS_DEBOUNCE_MS);
  });
  return e.projectsChecked;
}

/** The server stopped on its own while running: restart it ourselves (a fresh client), a few times. */
function onCrash(e) {
  const now = Date.now();
  e.crashes = e.crashes.filter((t) => now - t <= CRASH_WINDOW_MS);
  e.crashes.push(now);
  if (e.crashes.length <= MAX_CRASHES) {
    setTimeout(() => restartServer("the server stopped unexpectedly"), 0);
    return { action: CloseAction.DoNotRestart, message: "The Paraaf server stopped; restarting it.", handled: true };
  }
  e.failed = true;
  setStatus("stopped");
  const msg = `Paraaf: the language server stopped ${e.crashes.length} times in the last 3 minutes and was not restarted.`;
  vscode.window.showErrorMessage(msg, "Restart", "Show output").then((choice) => {
    if (choice === "Restart") {
      e.crashes = [];
      restartServer("restart requested");
    } else if (choice === "Show output") e.output.show(true);
  });
  return { action: CloseAction.DoNotRestart, message: msg, handled: true };
}

/** The one message for a server that does not start. */
function reportStartFailure(e, err, spawned) {
  e.failed = true;
  setStatus("stopped");
  const { configured, command, bare } = e.server;
  let msg;
  if (err && err.userMessage) {
    msg = err.userMessage;
  } else if (!spawned && e.server.source === "bundled") {
    msg = `Paraaf: the language server bundled with the extension ("${command}") cannot be run (${describeError(err)}). Reinstall the extension.`;
  } else if (!spawned && bare && err && err.code === "ENOENT") {
    msg = `Paraaf: cannot start the language server: "${configured}" was not found on PATH (ENOENT). Set "${SERVER_PATH}" to the paraaf executable.`;
  } else if (!spawned) {
    msg = `Paraaf: cannot start the language server "${command}" (${describeError(err)}). Set "${SERVER_PATH}" to the paraaf executable.`;
  } else {
    msg = `Paraaf: the language server "${command} lsp" failed to start (${describeError(err)}). See the output for details.`;
  }
  e.output.appendLine(`[paraaf] ${msg}`);
  const actions = spawned ? ["Set path", "Retry", "Show output"] : ["Set path", "Retry"];
  Promise.resolve(vscode.window.showErrorMessage(msg, ...actions)).then((choice) => {
    if (choice === "Set path") {
      return vscode.commands.executeCommand("workbench.action.openSettings", SERVER_PATH);
    } else if (choice === "Retry") {
      return restartServer("retry");
    } else if (choice === "Show output") {
      e.output.show(true);
    }
  });
}

function setStatus(state) {
  const e = ext;
  if (!e) return;
  const icons = { starting: "$(sync~spin)", running: "$(check)", stopped: e.failed ? "$(error)" : "$(circle-slash)" };
  e.state = state;
  e.status.text = `${icons[state]} Paraaf`;
  const server = e.server;
  const lines = [`Paraaf language server: ${state}${state === "stopped" && e.failed ? " (failed)" : ""}`];
  if (server) {
    const origin =
      server.source === "path" && server.configured !== server.command ? ` (${SERVER_PATH}: ${server.configured})` : "";
    lines.push(`Executable: ${server.command}${origin}`);
    if (server.source) lines.push(`Source: ${SOURCES[server.source]}${server.source === "download" ? ` from ${server.configured}` : ""}`);
    if (server.version) lines.push(`Version: ${server.version}`);
  }
  lines.push("Click to show the output or restart the server.");
  e.status.tooltip = lines.join("\n");
  e.status.backgroundColor =
    state === "stopped" && e.failed ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
}

async function serverActions() {
  const e = ext;
  if (!e) return;
  const items = [
    { label: "$(output) Show output", id: "output" },
    { label: "$(debug-restart) Restart server", id: "restart" },
  ];
  if (e.failed) items.push({ label: `$(gear) Set ${SERVER_PATH}`, id: "settings" });
  const pick = await vscode.window.showQuickPick(items, { placeHolder: e.status.tooltip.split("\n")[0] });
  if (!pick) return;
  if (pick.id === "output") e.output.show(true);
  else if (pick.id === "restart") await restartServer("restart requested");
  else if (pick.id === "settings") await vscode.commands.executeCommand("workbench.action.openSettings", SERVER_PATH);
}

function stopServer() {
  const e = ext;
  if (!e) return undefined;
  e.generation++;
  const stopped = e.queue.then(() => stopClient(e));
  e.queue = stopped;
  return stopped;
}

function deactivate() {
  const stopped = stopServer();
  ext = undefined;
  return stopped;
}

module.exports = {
  activate,
  deactivate,
  // For test/contributions.test.js.
  _internal: {
    probe,
    describeError,
    ready: () => (ext ? ext.ready : Promise.resolve()),
    projectsChecked: () => (ext && ext.projectsChecked ? ext.projectsChecked : Promise.resolve()),
    state: () =>
      ext && {
        state: ext.state,
        failed: ext.failed,
        server: ext.server,
        client: ext.client,
        status: ext.status,
        organograms: ext.organograms,
      },
  },
};

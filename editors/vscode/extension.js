// Starts `paraaf lsp` for .paraaf files. All language features come from the server; this
// file only finds the executable, starts/restarts the client and shows its state.
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
const os = require("os");
const path = require("path");
const vscode = require("vscode");
const { LanguageClient, State, CloseAction, ErrorAction } = require("vscode-languageclient/node");

const SERVER_PATH = "paraaf.server.path";
const MAX_CRASHES = 4; // restarts within CRASH_WINDOW_MS before we give up, as the client does
const CRASH_WINDOW_MS = 3 * 60 * 1000;

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

/** The configured server path, with `~` and relative paths (to the first workspace folder) resolved. */
function configuredServerPath() {
  const raw = (vscode.workspace.getConfiguration("paraaf").get("server.path") || "").trim() || "paraaf";
  let p = raw;
  if (p === "~" || p.startsWith("~/") || p.startsWith("~\\")) {
    p = path.join(os.homedir(), p.slice(1));
  }
  const folders = vscode.workspace.workspaceFolders;
  p = p.replace(/\$\{workspaceFolder\}/g, folders && folders.length ? folders[0].uri.fsPath : ".");
  const bare = !/[\\/]/.test(p);
  if (!bare && !path.isAbsolute(p) && folders && folders.length) {
    p = path.resolve(folders[0].uri.fsPath, p);
  }
  return { configured: raw, command: bare ? findOnPath(p) || p : p, bare };
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
      if (e.affectsConfiguration(SERVER_PATH)) {
        restartServer(`${SERVER_PATH} changed`);
      }
    }),
    { dispose: () => stopServer() }
  );
  ext.watcher = watcher;
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
  e.server = configuredServerPath();
  setStatus("starting");
  e.output.appendLine(`[paraaf] starting "${e.server.command} lsp" (${reason})`);

  const probed = await probe(e.server.command);
  if (!current()) return;
  if (probed.error) {
    return reportStartFailure(e, probed.error, false);
  }
  e.server.version = probed.version;

  const serverOptions = { command: e.server.command, args: ["lsp"] };
  const clientOptions = {
    // Flow files, and TOML files so that an open organogram's unsaved edits are the
    // organogram while it is open (the server ignores any other TOML file).
    documentSelector: [
      { scheme: "file", language: "paraaf" },
      { scheme: "file", pattern: "**/*.toml" },
    ],
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
  if (!spawned && bare && err && err.code === "ENOENT") {
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
    lines.push(`Executable: ${server.command}${server.configured !== server.command ? ` (${SERVER_PATH}: ${server.configured})` : ""}`);
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
    configuredServerPath,
    probe,
    describeError,
    ready: () => (ext ? ext.ready : Promise.resolve()),
    state: () => ext && { state: ext.state, failed: ext.failed, server: ext.server, client: ext.client, status: ext.status },
  },
};

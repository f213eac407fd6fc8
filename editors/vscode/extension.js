// Starts `paraaf lsp` for .paraaf files. All language features come from the server.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("paraaf").get("server.path") || "paraaf";
  const serverOptions = { command, args: ["lsp"] };
  const clientOptions = {
    documentSelector: [{ scheme: "file", language: "paraaf" }],
    synchronize: {
      // The organogram (TOML) and files not open in an editor: diagnostics refresh on change.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.{toml,paraaf}"),
    },
  };
  client = new LanguageClient("paraaf", "Paraaf", serverOptions, clientOptions);
  client.start().catch((err) => {
    vscode.window.showErrorMessage(
      `Paraaf: cannot start "${command} lsp" (${err.message}). Set "paraaf.server.path" to the paraaf executable.`
    );
  });
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

// The files the extension hands to `paraaf lsp`: `.paraaf` sources, every `paraaf.toml`,
// and the organogram file each project's `paraaf.toml` names (`organogram = "org.toml"`).
// No other TOML file (Cargo.toml, pyproject.toml) is claimed. No VS Code API here.
"use strict";
const path = require("path");
const { parse } = require("smol-toml");

/** The project configuration's file name (as the server and `paraaf check` read it). */
const CONFIG_FILE = "paraaf.toml";

/**
 * The organogram a project names, absolute, or undefined (with the reason in `problem`)
 * when `text` (the `paraaf.toml` at `configPath`) is not valid TOML or names none.
 */
function organogramOf(configPath, text) {
  let config;
  try {
    config = parse(text);
  } catch (err) {
    return { problem: `${configPath} is not valid TOML: ${String(err.message).split("\n")[0]}` };
  }
  if (typeof config.organogram !== "string" || !config.organogram.trim()) {
    return { problem: `${configPath} names no organogram` };
  }
  return { organogram: path.resolve(path.dirname(configPath), config.organogram) };
}

/**
 * The document selector for the language client. `projects` are `{ configPath, text }` of
 * every `paraaf.toml` found; `fsPath` turns a path into the spelling VS Code compares a
 * document's path with (a filter's `pattern` equal to that path matches the file).
 */
function documentSelector(projects, fsPath = (p) => p) {
  const selector = [
    { scheme: "file", language: "paraaf" },
    { scheme: "file", pattern: `**/${CONFIG_FILE}` },
  ];
  const seen = new Set();
  const problems = [];
  for (const { configPath, text } of projects) {
    const { organogram, problem } = organogramOf(configPath, text);
    if (problem) {
      problems.push(problem);
      continue;
    }
    const p = fsPath(organogram);
    if (!seen.has(p)) {
      seen.add(p);
      selector.push({ scheme: "file", pattern: p });
    }
  }
  return { selector, organograms: [...seen].sort(), problems };
}

module.exports = { CONFIG_FILE, organogramOf, documentSelector };

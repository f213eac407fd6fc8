//! The LSP handlers. Each forwards to the workspace thread (which owns every project's
//! database and applies edits in arrival order) and awaits the answer. Diagnostics are
//! computed on a second thread, debounced, from a clone of the database that the next
//! edit cancels: completion and hover never wait behind a check of the whole project.

use crate::features;
use crate::projects::Projects;
use crate::workspace::Workspace;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

type Job = Box<dyn FnOnce(&mut Projects) + Send>;

/// Quiet time after the last edit before diagnostics are computed.
const DEBOUNCE: Duration = Duration::from_millis(120);
/// Stack of the threads that walk syntax trees (deeply nested input is refused by the
/// parser; this is the second line of defence).
const STACK: usize = 256 * 1024 * 1024;

/// What the diagnostics thread is told.
enum Dirty {
    /// These files changed (their projects need new diagnostics).
    Files(Vec<PathBuf>),
    /// Every project.
    All,
    /// These files left every project: clear their diagnostics.
    Gone(Vec<PathBuf>),
}

/// The language server.
pub struct Backend {
    client: Client,
    jobs: mpsc::Sender<Job>,
    dirty: mpsc::Sender<Dirty>,
    open: Mutex<BTreeSet<PathBuf>>,
}

impl Backend {
    /// A server that talks to `client`; starts the workspace and diagnostics threads.
    pub fn new(client: Client) -> Backend {
        let (tx, rx) = mpsc::channel::<Job>();
        let _ = std::thread::Builder::new()
            .name("paraaf-workspace".into())
            .stack_size(STACK)
            .spawn(move || {
                let mut projects = Projects::default();
                while let Ok(job) = rx.recv() {
                    // A bug in one answer must not end the session.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        job(&mut projects)
                    }));
                }
            });
        let (dirty, dirty_rx) = mpsc::channel::<Dirty>();
        let handle = tokio::runtime::Handle::current();
        let jobs = tx.clone();
        let c = client.clone();
        let _ = std::thread::Builder::new()
            .name("paraaf-diagnostics".into())
            .stack_size(STACK)
            .spawn(move || diagnostics_thread(dirty_rx, jobs, c, handle));
        Backend {
            client,
            jobs: tx,
            dirty,
            open: Mutex::default(),
        }
    }

    /// Runs `f` on the workspace thread. Jobs run in the order they were sent, and each
    /// handler sends before its first `.await`, so edits apply in arrival order.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Projects) -> T + Send + 'static,
    ) -> Result<T> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |ws| {
            let _ = reply.send(f(ws));
        });
        self.jobs.send(job).map_err(|_| Error::internal_error())?;
        rx.await.map_err(|_| Error::internal_error())
    }

    /// Runs `f` on the workspace of `file`, if loaded.
    async fn on_file<T: Send + 'static>(
        &self,
        file: PathBuf,
        f: impl FnOnce(&Workspace, &Path) -> Option<T> + Send + 'static,
    ) -> Result<Option<T>> {
        self.run(move |p| p.for_path(&file).and_then(|ws| f(ws, &file)))
            .await
    }

    fn changed(&self, files: Vec<PathBuf>) {
        let _ = self.dirty.send(Dirty::Files(files));
    }
}

/// Computes and publishes diagnostics: waits until edits pause, takes clones of the
/// projects that changed, and computes under salsa's cancellation (an edit meanwhile
/// cancels the computation, which is retried after the next pause). Only lists that
/// differ from the last published ones are sent.
fn diagnostics_thread(
    rx: mpsc::Receiver<Dirty>,
    jobs: mpsc::Sender<Job>,
    client: Client,
    handle: tokio::runtime::Handle,
) {
    let mut published: HashMap<Uri, Vec<Diagnostic>> = HashMap::new();
    let mut files: BTreeSet<PathBuf> = BTreeSet::new();
    let mut all = false;
    loop {
        // Wait for work, then for a pause.
        let first = if files.is_empty() && !all {
            match rx.recv() {
                Ok(d) => Some(d),
                Err(_) => return,
            }
        } else {
            None
        };
        let mut pending: Vec<Dirty> = first.into_iter().collect();
        loop {
            match rx.recv_timeout(DEBOUNCE) {
                Ok(d) => pending.push(d),
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
        for d in pending {
            match d {
                Dirty::Files(f) => files.extend(f),
                Dirty::All => all = true,
                Dirty::Gone(gone) => {
                    for f in gone {
                        if let Some(uri) = crate::projects::uri_of(&f)
                            && published.remove(&uri).is_some_and(|d| !d.is_empty())
                        {
                            handle.block_on(client.publish_diagnostics(uri, Vec::new(), None));
                        }
                    }
                }
            }
        }
        if files.is_empty() && !all {
            continue;
        }
        // Clones of the projects to check (cheap: they share the databases).
        let (reply, snap) = mpsc::channel();
        let wanted: Vec<PathBuf> = files.iter().cloned().collect();
        let every = all;
        let job: Job = Box::new(move |p: &mut Projects| {
            let versions = p.versions.clone();
            let mut out: Vec<Workspace> = Vec::new();
            if every {
                out.extend(p.all().cloned());
            } else {
                let mut roots = BTreeSet::new();
                for f in &wanted {
                    if let Some(ws) = p.for_path(f)
                        && roots.insert(ws.root.clone())
                    {
                        out.push(ws.clone());
                    }
                }
            }
            let _ = reply.send((out, versions));
        });
        if jobs.send(job).is_err() {
            return;
        }
        let Ok((snapshots, versions)) = snap.recv() else {
            return;
        };
        let computed = salsa::Cancelled::catch(|| crate::projects::diagnostics(&snapshots));
        drop(snapshots);
        let Ok(lists) = computed else {
            continue; // an edit came in: compute again after the next pause
        };
        files.clear();
        all = false;
        for (uri, diags) in lists {
            if published.get(&uri) != Some(&diags) {
                published.insert(uri.clone(), diags.clone());
                // The version of the text these were computed on, for an open file.
                let version = path(&uri).and_then(|p| versions.get(&p).copied());
                handle.block_on(client.publish_diagnostics(uri, diags, version));
            }
        }
    }
}

/// The editor that started the server (`processId` of `initialize`) is checked every
/// 3 seconds; once it is gone the server exits (code 1), as the protocol asks, instead
/// of living on as an orphan holding memory.
fn watch_parent(pid: u32) {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return;
        };
        let alive = move || {
            // SAFETY: signal 0 only checks that the process exists; nothing is sent.
            let r = unsafe { libc::kill(pid, 0) };
            r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
        };
        if !alive() {
            return; // a wrong id (a client in a container): nothing to watch
        }
        let _ = std::thread::Builder::new()
            .name("paraaf-lsp-parent".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(3));
                    if !alive() {
                        std::process::exit(1);
                    }
                }
            });
    }
    #[cfg(not(unix))]
    let _ = pid;
}

fn path(uri: &Uri) -> Option<PathBuf> {
    uri.to_file_path().map(|p| p.into_owned())
}

fn folder_paths(folders: &[WorkspaceFolder]) -> Vec<PathBuf> {
    folders.iter().filter_map(|f| path(&f.uri)).collect()
}

impl LanguageServer for Backend {
    #[allow(deprecated)] // `root_uri`: older clients send only that
    async fn initialize(&self, p: InitializeParams) -> Result<InitializeResult> {
        if let Some(pid) = p.process_id {
            watch_parent(pid);
        }
        let mut folders = p
            .workspace_folders
            .as_deref()
            .map(folder_paths)
            .unwrap_or_default();
        if folders.is_empty()
            && let Some(root) = p.root_uri.as_ref().and_then(path)
        {
            folders.push(root);
        }
        let _ = self
            .run(move |projects| {
                for f in folders {
                    projects.add_folder(&f);
                }
            })
            .await;
        let _ = self.dirty.send(Dirty::All);
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "paraaf".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Kind(
                    TextDocumentSyncKind::FULL,
                )),
                workspace: Some(WorkspaceServerCapabilities {
                    workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                        supported: Some(true),
                        change_notifications: Some(OneOf::Left(true)),
                    }),
                    file_operations: None,
                }),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                document_formatting_provider: Some(OneOf::Left(true)),
                code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".into(), " ".into()]),
                    ..Default::default()
                }),
                semantic_tokens_provider: Some(
                    SemanticTokensServerCapabilities::SemanticTokensOptions(
                        SemanticTokensOptions {
                            legend: SemanticTokensLegend {
                                token_types: features::TOKEN_TYPES.to_vec(),
                                token_modifiers: vec![],
                            },
                            full: Some(SemanticTokensFullOptions::Bool(true)),
                            range: None,
                            ..Default::default()
                        },
                    ),
                ),
                ..Default::default()
            },
            ..Default::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        // Watch the organogram (and other TOML) so diagnostics refresh when it changes.
        let watch = DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![FileSystemWatcher {
                glob_pattern: GlobPattern::String("**/*.{toml,paraaf}".into()),
                kind: None,
            }],
        };
        let _ = self
            .client
            .register_capability(vec![Registration {
                id: "paraaf-watch".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: serde_json::to_value(watch).ok(),
            }])
            .await;
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, p: DidOpenTextDocumentParams) {
        let Some(file) = path(&p.text_document.uri) else {
            return;
        };
        if let Ok(mut open) = self.open.lock() {
            open.insert(file.clone());
        }
        let text = p.text_document.text;
        let version = p.text_document.version;
        let f = file.clone();
        let _ = self
            .run(move |projects| {
                projects.versions.insert(f.clone(), version);
                projects.for_path_mut(&f).set_text(&f, text)
            })
            .await;
        self.changed(vec![file]);
    }

    async fn did_change(&self, p: DidChangeTextDocumentParams) {
        let Some(file) = path(&p.text_document.uri) else {
            return;
        };
        let Some(change) = p.content_changes.into_iter().last() else {
            return;
        };
        let text = change.text;
        let version = p.text_document.version;
        let f = file.clone();
        let _ = self
            .run(move |projects| {
                projects.versions.insert(f.clone(), version);
                projects.for_path_mut(&f).set_text(&f, text)
            })
            .await;
        self.changed(vec![file]);
    }

    async fn did_close(&self, p: DidCloseTextDocumentParams) {
        let Some(file) = path(&p.text_document.uri) else {
            return;
        };
        if let Ok(mut open) = self.open.lock() {
            open.remove(&file);
        }
        let f = file.clone();
        let gone = self
            .run(move |projects| {
                projects.versions.remove(&f);
                if projects.loose.contains_key(&f) {
                    // A loose file is only shown while open.
                    projects.loose.remove(&f);
                    return true;
                }
                projects.for_path_mut(&f).close(&f);
                false
            })
            .await
            .unwrap_or(false);
        if gone {
            let _ = self.dirty.send(Dirty::Gone(vec![file]));
        } else {
            self.changed(vec![file]);
        }
    }

    async fn did_change_watched_files(&self, p: DidChangeWatchedFilesParams) {
        let open = self.open.lock().map(|o| o.clone()).unwrap_or_default();
        let changes: Vec<(PathBuf, FileChangeType)> = p
            .changes
            .iter()
            .filter_map(|c| Some((path(&c.uri)?, c.typ)))
            .collect();
        let files: Vec<PathBuf> = changes.iter().map(|(f, _)| f.clone()).collect();
        let (gone, reconfigured) = self
            .run(move |projects| {
                let mut gone = Vec::new();
                let mut reconfigured = false;
                for (f, kind) in changes {
                    if f.file_name()
                        .is_some_and(|n| n == paraaf_compiler::load::CONFIG_FILE)
                    {
                        gone.extend(projects.config_changed(&f, &open));
                        reconfigured = true;
                        continue;
                    }
                    if open.contains(&f) {
                        continue; // the editor's buffer wins
                    }
                    if kind == FileChangeType::DELETED {
                        // A file or a whole folder: gone from disk, gone from the project.
                        gone.extend(projects.path_deleted(&f, &open));
                    } else if f.extension().is_some_and(|e| e == "paraaf" || e == "toml") {
                        projects.for_path_mut(&f).changed_on_disk(&f, false);
                    }
                }
                (gone, reconfigured)
            })
            .await
            .unwrap_or_default();
        if !gone.is_empty() {
            let _ = self.dirty.send(Dirty::Gone(gone));
        }
        if reconfigured {
            // Files moved between projects: every list is computed again now.
            let _ = self.dirty.send(Dirty::All);
        }
        self.changed(files);
    }

    async fn did_change_workspace_folders(&self, p: DidChangeWorkspaceFoldersParams) {
        let added = folder_paths(&p.event.added);
        let removed = folder_paths(&p.event.removed);
        let open = self.open.lock().map(|o| o.clone()).unwrap_or_default();
        let gone = self
            .run(move |projects| {
                let mut gone = Vec::new();
                for f in removed {
                    gone.extend(projects.remove_folder(&f, &open));
                }
                for f in added {
                    projects.add_folder(&f);
                }
                gone
            })
            .await
            .unwrap_or_default();
        let _ = self.dirty.send(Dirty::Gone(gone));
        let _ = self.dirty.send(Dirty::All);
    }

    async fn hover(&self, p: HoverParams) -> Result<Option<Hover>> {
        let pp = p.text_document_position_params;
        let Some(file) = path(&pp.text_document.uri) else {
            return Ok(None);
        };
        self.on_file(file, move |ws, f| features::hover(ws, f, pp.position))
            .await
    }

    async fn goto_definition(
        &self,
        p: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let pp = p.text_document_position_params;
        let Some(file) = path(&pp.text_document.uri) else {
            return Ok(None);
        };
        Ok(self
            .on_file(file, move |ws, f| features::definition(ws, f, pp.position))
            .await?
            .map(GotoDefinitionResponse::Scalar))
    }

    async fn references(&self, p: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let pp = p.text_document_position;
        let Some(file) = path(&pp.text_document.uri) else {
            return Ok(None);
        };
        let decl = p.context.include_declaration;
        self.on_file(file, move |ws, f| {
            Some(features::references(ws, f, pp.position, decl))
        })
        .await
    }

    async fn rename(&self, p: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let pp = p.text_document_position;
        let Some(file) = path(&pp.text_document.uri) else {
            return Ok(None);
        };
        let name = p.new_name;
        match self
            .on_file(file, move |ws, f| {
                Some(features::rename(ws, f, pp.position, &name))
            })
            .await?
        {
            Some(Ok(edit)) => Ok(Some(edit)),
            Some(Err(why)) => Err(Error::invalid_params(why)),
            None => Ok(None),
        }
    }

    async fn completion(&self, p: CompletionParams) -> Result<Option<CompletionResponse>> {
        let pp = p.text_document_position;
        let Some(file) = path(&pp.text_document.uri) else {
            return Ok(None);
        };
        Ok(self
            .on_file(file, move |ws, f| {
                Some(features::completion(ws, f, pp.position))
            })
            .await?
            .map(CompletionResponse::Array))
    }

    async fn document_symbol(
        &self,
        p: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let Some(file) = path(&p.text_document.uri) else {
            return Ok(None);
        };
        Ok(self
            .on_file(file, move |ws, f| Some(features::symbols(ws, f)))
            .await?
            .map(DocumentSymbolResponse::Nested))
    }

    async fn semantic_tokens_full(
        &self,
        p: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        let Some(file) = path(&p.text_document.uri) else {
            return Ok(None);
        };
        let data = self
            .on_file(file, move |ws, f| Some(features::semantic_tokens(ws, f)))
            .await?
            .unwrap_or_default();
        Ok(Some(SemanticTokensResult::Tokens(SemanticTokens {
            result_id: None,
            data,
        })))
    }

    async fn code_action(&self, p: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let Some(file) = path(&p.text_document.uri) else {
            return Ok(None);
        };
        let uri = p.text_document.uri.clone();
        let range = p.range;
        self.on_file(file, move |ws, f| {
            Some(features::code_actions(ws, f, &uri, range))
        })
        .await
    }

    async fn formatting(&self, p: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let Some(file) = path(&p.text_document.uri) else {
            return Ok(None);
        };
        self.on_file(file, features::formatting).await
    }
}

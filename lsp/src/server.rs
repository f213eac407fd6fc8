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
    open: std::sync::Arc<Mutex<BTreeSet<PathBuf>>>,
    /// Whether the client registers file watchers for us (else the server polls).
    can_watch: std::sync::atomic::AtomicBool,
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
            open: std::sync::Arc::default(),
            can_watch: std::sync::atomic::AtomicBool::new(false),
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

    /// Runs `f` on a snapshot of the workspace of `file` (a clone sharing its database),
    /// on a thread of its own: requests run side by side and never wait behind each
    /// other. An edit meanwhile cancels it (salsa: the edit's write cancels every
    /// snapshot), and so does `$/cancelRequest` (the handler is dropped, which cancels
    /// the snapshot's token); either way it answers `RequestCancelled` (-32800) and
    /// stops at its next query or [`crate::features`] checkpoint.
    async fn on_file<T: Send + 'static>(
        &self,
        file: PathBuf,
        f: impl FnOnce(&Workspace, &Path) -> Option<T> + Send + 'static,
    ) -> Result<Option<T>> {
        use salsa::Database as _;
        let Some(ws) = self
            .run(move |p| p.for_path(&file).cloned().map(|ws| (ws, file)))
            .await?
        else {
            return Ok(None);
        };
        /// Cancels the snapshot when the request is dropped before it is answered.
        struct CancelOnDrop(salsa::CancellationToken);
        impl Drop for CancelOnDrop {
            fn drop(&mut self) {
                self.0.cancel();
            }
        }
        let _guard = CancelOnDrop(ws.0.db.cancellation_token());
        let (reply, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("paraaf-request".into())
            .stack_size(STACK)
            .spawn(move || {
                let (ws, file) = ws;
                // A panic other than a cancellation drops `reply`: an internal error.
                let r = salsa::Cancelled::catch(std::panic::AssertUnwindSafe(|| f(&ws, &file)));
                let _ = reply.send(r);
            })
            .map_err(|_| Error::internal_error())?;
        match rx.await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_cancelled)) => Err(Error::request_cancelled()),
            Err(_) => Err(Error::internal_error()),
        }
    }

    /// Runs `f` on a snapshot of every project that holds `file` (a file two projects
    /// include belongs to both), on a thread of its own under cancellation as
    /// [`Backend::on_file`]; the answers in order, the project `on_file` uses first.
    async fn on_files<T: Send + 'static>(
        &self,
        file: PathBuf,
        f: impl Fn(&Workspace, &Path) -> Option<T> + Send + 'static,
    ) -> Result<Vec<T>> {
        use salsa::Database as _;
        let wss: Vec<Workspace> = self
            .run({
                let file = file.clone();
                move |p| p.all_for_path(&file).into_iter().cloned().collect()
            })
            .await?;
        struct CancelOnDrop(Vec<salsa::CancellationToken>);
        impl Drop for CancelOnDrop {
            fn drop(&mut self) {
                self.0.iter().for_each(salsa::CancellationToken::cancel);
            }
        }
        let _guard = CancelOnDrop(wss.iter().map(|w| w.db.cancellation_token()).collect());
        let (reply, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("paraaf-request".into())
            .stack_size(STACK)
            .spawn(move || {
                let r = salsa::Cancelled::catch(std::panic::AssertUnwindSafe(|| {
                    wss.iter().filter_map(|ws| f(ws, &file)).collect::<Vec<T>>()
                }));
                let _ = reply.send(r);
            })
            .map_err(|_| Error::internal_error())?;
        match rx.await {
            Ok(Ok(answers)) => Ok(answers),
            Ok(Err(_cancelled)) => Err(Error::request_cancelled()),
            Err(_) => Err(Error::internal_error()),
        }
    }

    fn changed(&self, files: Vec<PathBuf>) {
        let _ = self.dirty.send(Dirty::Files(files));
    }

    /// Polls the disk every [`POLL`] for a client that cannot watch files: what changed
    /// outside the editor reaches the projects as a watcher's events would.
    fn start_polling(&self) {
        let (jobs, dirty, open) = (self.jobs.clone(), self.dirty.clone(), self.open.clone());
        let _ = std::thread::Builder::new()
            .name("paraaf-poll".into())
            .spawn(move || {
                loop {
                    let open = open.lock().map(|o| o.clone()).unwrap_or_default();
                    let (reply, rx) = mpsc::channel();
                    let job: Job = Box::new(move |p: &mut Projects| {
                        let _ = reply.send(p.poll(&open));
                    });
                    if jobs.send(job).is_err() {
                        return;
                    }
                    if let Ok(polled) = rx.recv() {
                        if !polled.gone.is_empty() {
                            let _ = dirty.send(Dirty::Gone(polled.gone));
                        }
                        if polled.reconfigured {
                            let _ = dirty.send(Dirty::All);
                        }
                        if !polled.changed.is_empty()
                            && dirty.send(Dirty::Files(polled.changed)).is_err()
                        {
                            return;
                        }
                    }
                    std::thread::sleep(POLL);
                }
            });
    }
}

/// How often the disk is polled when the client cannot watch files.
const POLL: Duration = Duration::from_secs(2);

/// Computes and publishes diagnostics: waits until edits pause, takes clones of the
/// projects that changed, and computes under salsa's cancellation (an edit meanwhile
/// cancels the computation, which is retried after the next pause). A list is sent when
/// it differs from the last one published for the file, or when the file's version moved
/// on (so the editor never holds a list stamped with an older version than its text).
fn diagnostics_thread(
    rx: mpsc::Receiver<Dirty>,
    jobs: mpsc::Sender<Job>,
    client: Client,
    handle: tokio::runtime::Handle,
) {
    let mut published: HashMap<Uri, (Vec<Diagnostic>, Option<i32>)> = HashMap::new();
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
                            && published.remove(&uri).is_some_and(|(d, _)| !d.is_empty())
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
                    for ws in p.all_for_path(f) {
                        if roots.insert(ws.root.clone()) {
                            out.push(ws.clone());
                        }
                    }
                }
                p.with_sharers(&mut out);
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
            // The version of the text these were computed on, for an open file.
            let version = path(&uri).and_then(|p| versions.get(&p).copied());
            let now = (diags, version);
            if published.get(&uri) != Some(&now) {
                published.insert(uri.clone(), now.clone());
                handle.block_on(client.publish_diagnostics(uri, now.0, now.1));
            }
        }
    }
}

/// The text after the editor's changes, in order: a change with a range replaces that
/// range (incremental sync: a keystroke in a 2 MB file sends one character, not 2 MB),
/// one without replaces the whole text.
pub(crate) fn apply_changes(
    mut text: String,
    changes: Vec<TextDocumentContentChangeEvent>,
) -> String {
    for ch in changes {
        match ch.range {
            None => text = ch.text,
            Some(r) => {
                let lines = crate::lines::LineIndex::new(&text);
                let (a, b) = (lines.offset(r.start), lines.offset(r.end));
                text.replace_range(a..b.max(a), &ch.text);
            }
        }
    }
    text
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
            #[allow(unsafe_code)]
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

/// The file a URI names, with `.` and `..` resolved: `file:///x/aalst/../aalst/a.paraaf`
/// is the known `a.paraaf`, never a second copy of it.
fn path(uri: &Uri) -> Option<PathBuf> {
    uri.to_file_path()
        .map(|p| paraaf_compiler::load::normalize(&p))
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
        // Only a client that can register watchers dynamically gets them (Neovim 0.7
        // cannot): the others are polled for.
        let can_watch = p
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        self.can_watch
            .store(can_watch, std::sync::atomic::Ordering::SeqCst);
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
                    TextDocumentSyncKind::INCREMENTAL,
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
                            range: Some(true),
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
        if !self.can_watch.load(std::sync::atomic::Ordering::SeqCst) {
            self.start_polling();
            return;
        }
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
                projects.set_text_everywhere(&f, text)
            })
            .await;
        self.changed(vec![file]);
    }

    async fn did_change(&self, p: DidChangeTextDocumentParams) {
        let Some(file) = path(&p.text_document.uri) else {
            return;
        };
        let changes = p.content_changes;
        if changes.is_empty() {
            return;
        }
        let version = p.text_document.version;
        let f = file.clone();
        let _ = self
            .run(move |projects| {
                projects.versions.insert(f.clone(), version);
                let ws = projects.for_path_mut(&f);
                let old = ws.files.get(&f).map(|s| s.text(&ws.db).clone());
                let text = apply_changes(old.unwrap_or_default(), changes);
                projects.set_text_everywhere(&f, text)
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
                projects.close_everywhere(&f);
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
        let lists = self
            .on_files(file, move |ws, f| {
                Some(features::references(ws, f, pp.position, decl))
            })
            .await?;
        if lists.is_empty() {
            return Ok(None);
        }
        // Every project that includes the file: each place once.
        let mut all: Vec<Location> = Vec::new();
        for l in lists.into_iter().flatten() {
            if !all.contains(&l) {
                all.push(l);
            }
        }
        Ok(Some(all))
    }

    async fn rename(&self, p: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let pp = p.text_document_position;
        let Some(file) = path(&pp.text_document.uri) else {
            return Ok(None);
        };
        let name = p.new_name;
        let edits = self
            .on_files(file, move |ws, f| {
                Some(features::rename(ws, f, pp.position, &name))
            })
            .await?;
        if edits.is_empty() {
            return Ok(None);
        }
        // The rename in every project that includes the file, each edit once; refused
        // when any project refuses it (the new name is taken there).
        let mut changes: std::collections::HashMap<Uri, Vec<TextEdit>> = Default::default();
        for edit in edits {
            let edit = edit.map_err(Error::invalid_params)?;
            for (uri, list) in edit.changes.unwrap_or_default() {
                let into = changes.entry(uri).or_default();
                for e in list {
                    if !into.contains(&e) {
                        into.push(e);
                    }
                }
            }
        }
        Ok(Some(WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        }))
    }

    async fn completion(&self, p: CompletionParams) -> Result<Option<CompletionResponse>> {
        let pp = p.text_document_position;
        let Some(file) = path(&pp.text_document.uri) else {
            return Ok(None);
        };
        Ok(self
            .on_file(file, move |ws, f| {
                Some(crate::completion::completion(ws, f, pp.position))
            })
            .await?
            .map(CompletionResponse::List))
    }

    async fn document_symbol(
        &self,
        p: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let Some(file) = path(&p.text_document.uri) else {
            return Ok(None);
        };
        Ok(self
            .on_file(file, move |ws, f| Some(crate::outline::symbols(ws, f)))
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
            .on_file(file, move |ws, f| {
                Some(features::semantic_tokens(ws, f, None))
            })
            .await?
            .unwrap_or_default();
        Ok(Some(SemanticTokensResult::Tokens(SemanticTokens {
            result_id: None,
            data,
        })))
    }

    async fn semantic_tokens_range(
        &self,
        p: SemanticTokensRangeParams,
    ) -> Result<Option<SemanticTokensRangeResult>> {
        let Some(file) = path(&p.text_document.uri) else {
            return Ok(None);
        };
        let range = p.range;
        let data = self
            .on_file(file, move |ws, f| {
                Some(features::semantic_tokens(ws, f, Some(range)))
            })
            .await?
            .unwrap_or_default();
        Ok(Some(SemanticTokensRangeResult::Tokens(SemanticTokens {
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

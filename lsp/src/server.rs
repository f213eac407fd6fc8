//! The LSP handlers: each forwards to the workspace thread and awaits the answer.

use crate::features;
use crate::workspace::Workspace;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

type Job = Box<dyn FnOnce(&mut Workspace) + Send>;

/// The language server.
pub struct Backend {
    client: Client,
    jobs: Mutex<mpsc::Sender<Job>>,
    open: Mutex<std::collections::BTreeSet<PathBuf>>,
    /// What was last published per file: only changes are sent again.
    published: tokio::sync::Mutex<std::collections::HashMap<Uri, Vec<Diagnostic>>>,
}

impl Backend {
    /// A server that talks to `client`; starts the workspace thread.
    pub fn new(client: Client) -> Backend {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::spawn(move || {
            let mut ws = Workspace::default();
            while let Ok(job) = rx.recv() {
                job(&mut ws);
            }
        });
        Backend {
            client,
            jobs: Mutex::new(tx),
            open: Mutex::default(),
            published: Default::default(),
        }
    }

    /// Runs `f` on the workspace thread. Jobs run in the order they were sent, and each
    /// handler sends before its first `.await`, so edits apply in arrival order.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Workspace) -> T + Send + 'static,
    ) -> Result<T> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |ws| {
            let _ = reply.send(f(ws));
        });
        self.jobs
            .lock()
            .map_err(|_| Error::internal_error())?
            .send(job)
            .map_err(|_| Error::internal_error())?;
        rx.await.map_err(|_| Error::internal_error())
    }

    async fn publish(&self) {
        if let Ok(all) = self.run(|ws| ws.diagnostics()).await {
            let mut published = self.published.lock().await;
            for (uri, diags) in all {
                if published.get(&uri) != Some(&diags) {
                    published.insert(uri.clone(), diags.clone());
                    self.client.publish_diagnostics(uri, diags, None).await;
                }
            }
        }
    }
}

fn path(uri: &Uri) -> Option<PathBuf> {
    uri.to_file_path().map(|p| p.into_owned())
}

impl LanguageServer for Backend {
    async fn initialize(&self, _: InitializeParams) -> Result<InitializeResult> {
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "paraaf".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Kind(
                    TextDocumentSyncKind::FULL,
                )),
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
        let _ = self.run(move |ws| ws.set_text(&file, text)).await;
        self.publish().await;
    }

    async fn did_change(&self, p: DidChangeTextDocumentParams) {
        let Some(file) = path(&p.text_document.uri) else {
            return;
        };
        let Some(change) = p.content_changes.into_iter().last() else {
            return;
        };
        let text = change.text;
        let _ = self.run(move |ws| ws.set_text(&file, text)).await;
        self.publish().await;
    }

    async fn did_close(&self, p: DidCloseTextDocumentParams) {
        let Some(file) = path(&p.text_document.uri) else {
            return;
        };
        if let Ok(mut open) = self.open.lock() {
            open.remove(&file);
        }
        let _ = self.run(move |ws| ws.close(&file)).await;
        self.publish().await;
    }

    async fn did_change_watched_files(&self, p: DidChangeWatchedFilesParams) {
        let open = self.open.lock().map(|o| o.clone()).unwrap_or_default();
        let files: Vec<PathBuf> = p.changes.iter().filter_map(|c| path(&c.uri)).collect();
        let _ = self
            .run(move |ws| {
                for f in files {
                    let is_open = open.contains(&f);
                    ws.changed_on_disk(&f, is_open);
                }
            })
            .await;
        self.publish().await;
    }

    async fn hover(&self, p: HoverParams) -> Result<Option<Hover>> {
        let pp = p.text_document_position_params;
        let Some(file) = path(&pp.text_document.uri) else {
            return Ok(None);
        };
        self.run(move |ws| features::hover(ws, &file, pp.position))
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
            .run(move |ws| features::definition(ws, &file, pp.position))
            .await?
            .map(GotoDefinitionResponse::Scalar))
    }

    async fn references(&self, p: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let pp = p.text_document_position;
        let Some(file) = path(&pp.text_document.uri) else {
            return Ok(None);
        };
        let decl = p.context.include_declaration;
        Ok(Some(
            self.run(move |ws| features::references(ws, &file, pp.position, decl))
                .await?,
        ))
    }

    async fn rename(&self, p: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let pp = p.text_document_position;
        let Some(file) = path(&pp.text_document.uri) else {
            return Ok(None);
        };
        let name = p.new_name;
        match self
            .run(move |ws| features::rename(ws, &file, pp.position, &name))
            .await?
        {
            Ok(edit) => Ok(Some(edit)),
            Err(why) => Err(Error::invalid_params(why)),
        }
    }

    async fn completion(&self, p: CompletionParams) -> Result<Option<CompletionResponse>> {
        let pp = p.text_document_position;
        let Some(file) = path(&pp.text_document.uri) else {
            return Ok(None);
        };
        Ok(Some(CompletionResponse::Array(
            self.run(move |ws| features::completion(ws, &file, pp.position))
                .await?,
        )))
    }

    async fn document_symbol(
        &self,
        p: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let Some(file) = path(&p.text_document.uri) else {
            return Ok(None);
        };
        Ok(Some(DocumentSymbolResponse::Nested(
            self.run(move |ws| features::symbols(ws, &file)).await?,
        )))
    }

    async fn semantic_tokens_full(
        &self,
        p: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        let Some(file) = path(&p.text_document.uri) else {
            return Ok(None);
        };
        let data = self
            .run(move |ws| features::semantic_tokens(ws, &file))
            .await?;
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
        let diags = p.context.diagnostics;
        Ok(Some(
            self.run(move |ws| features::code_actions(ws, &file, &uri, &diags))
                .await?,
        ))
    }

    async fn formatting(&self, p: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let Some(file) = path(&p.text_document.uri) else {
            return Ok(None);
        };
        self.run(move |ws| features::formatting(ws, &file)).await
    }
}

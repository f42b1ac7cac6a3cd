//! Reconciling the store with the mailbox after a delta round: messages Graph reported removed
//! that are back in the folder (moved away and back between rounds), and stored messages a
//! restarted round no longer returns.

use super::*;
use crate::domain::GraphId;
use crate::graph::graph_id;

impl Mailbox<'_> {
    /// Exchange reports a message moved out of a folder and back between two delta rounds as
    /// removed, and never reports it again while it is unchanged (microsoft-graph-docs-contrib#72).
    /// So the messages a round removed (at most [`MAX_REMOVAL_CHECKS`]) are looked up: one that
    /// is in the folder after all is restored (`updated`). Costs nothing when nothing was removed.
    pub(super) async fn restore_returned(
        &self,
        kind: Folder,
        removed: &[String],
        cutoff: chrono::DateTime<Utc>,
        stats: &mut Stats,
    ) -> Result<(), SyncError> {
        let folder = kind.as_str();
        if removed.is_empty() {
            return Ok(());
        }
        let checked = &removed[..removed.len().min(MAX_REMOVAL_CHECKS)];
        if checked.len() < removed.len() {
            tracing::info!(
                folder,
                removed = removed.len(),
                checked = checked.len(),
                "checking only the first removals for a return to the folder"
            );
        }
        let folder_id = self
            .graph(|| self.c.graph.folder_id(&self.token, kind))
            .await
            .map_err(SyncError::Graph)?;
        // Stored ids came from Graph; one that is not a Graph id cannot be looked up.
        let checked: Vec<GraphId> = checked.iter().filter_map(|m| graph_id(m).ok()).collect();
        let located = futures::future::try_join_all(
            checked
                .iter()
                .map(|mid| self.graph(move || self.c.graph.locate_message(&self.token, mid))),
        )
        .await
        .map_err(SyncError::Graph)?;
        let back: Vec<DeltaChange> = located
            .into_iter()
            .flatten()
            .filter(|(_, parent)| *parent == folder_id)
            .map(|(m, _)| DeltaChange::Upsert(Box::new(m)))
            .collect();
        if back.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = back
            .iter()
            .map(|c| match c {
                DeltaChange::Upsert(m) => m.id.as_str(),
                DeltaChange::Removed { id } => id.as_str(),
            })
            .collect();
        let stored = self.c.store.get_messages(&self.connection.id, &ids).await?;
        let planned = plan_page(&self.connection.id, folder, &back, &stored, cutoff);
        tracing::info!(
            folder,
            count = planned.len(),
            "restoring messages that were moved away and back"
        );
        self.apply(folder, &planned, None, stats).await
    }

    /// After a from-scratch round: stored live messages of the folder that the round did not
    /// return were deleted while the delta token was dead.
    /// With `window`, the round asked only for mail received since then, so older stored mail
    /// is not expected in it.
    pub(super) async fn sweep_vanished(
        &self,
        folder: &str,
        seen: &HashSet<String>,
        window: Option<chrono::DateTime<Utc>>,
        stats: &mut Stats,
    ) -> Result<(), SyncError> {
        let id = &self.connection.id;
        let mut cursor: Option<String> = None;
        let mut vanished = Vec::new();
        loop {
            let query = MessageQuery {
                folder: Some(folder),
                with: None,
                since: window,
                limit: crate::domain::PageLimit::parse(Some("100")).expect("in range"),
                cursor: cursor.as_deref(),
            };
            let page = self
                .c
                .store
                .list_messages(id, &query)
                .await?
                .map_err(|_| StoreError::CorruptAttribute("cursor"))?;
            vanished.extend(page.items.into_iter().filter(|m| {
                !m.deleted && !seen.contains(&m.id) && window.is_none_or(|w| m.received_at >= w)
            }));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        if vanished.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = vanished.iter().map(|m| m.id.clone()).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let stored = self.c.store.get_messages(id, &refs).await?;
        let removals: Vec<DeltaChange> = ids
            .into_iter()
            .map(|id| DeltaChange::Removed { id })
            .collect();
        let planned = plan_page(id, folder, &removals, &stored, Utc::now());
        tracing::info!(
            folder,
            count = planned.len(),
            "marking messages deleted during the dead-token gap"
        );
        self.apply(folder, &planned, None, stats).await
    }
}

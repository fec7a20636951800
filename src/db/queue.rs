//! Group commit for the survey's hot path. Submissions through links queue here; one task
//! stores whatever has queued up in a single transaction and answers each submitter only
//! after the commit — so nothing acknowledged is lost, and SQLite's single writer spends
//! one BEGIN/COMMIT per batch instead of per answer.

use super::{Db, LinkTarget, NewResponse};
use tokio::sync::{mpsc, oneshot};

/// Most submissions committed together.
const MAX_BATCH: usize = 128;

type Item = (
    LinkTarget,
    NewResponse,
    oneshot::Sender<Result<bool, String>>,
);

/// A handle to the committing task. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SubmitQueue(mpsc::Sender<Item>);

impl SubmitQueue {
    /// Start the committing task on the current Tokio runtime.
    pub fn start(db: Db) -> Self {
        let (sender, mut receiver) = mpsc::channel::<Item>(4 * MAX_BATCH);
        tokio::spawn(async move {
            while let Some(first) = receiver.recv().await {
                let mut items = vec![first];
                while items.len() < MAX_BATCH {
                    match receiver.try_recv() {
                        Ok(item) => items.push(item),
                        Err(_) => break,
                    }
                }
                let (batch, acks): (Vec<_>, Vec<_>) =
                    items.into_iter().map(|(t, r, ack)| ((t, r), ack)).unzip();
                match db.submit_through_links(&batch).await {
                    Ok(stored) => {
                        for (ack, stored) in acks.into_iter().zip(stored) {
                            let _ = ack.send(Ok(stored));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, size = batch.len(), "submission batch failed; nothing stored");
                        for ack in acks {
                            let _ = ack.send(Err(e.to_string()));
                        }
                    }
                }
            }
        });
        SubmitQueue(sender)
    }

    /// Store one response through its link; true if stored, false if the link was already
    /// used (the submit is then acknowledged without storing anything).
    pub async fn submit(&self, target: LinkTarget, response: NewResponse) -> anyhow::Result<bool> {
        let (ack, answer) = oneshot::channel();
        self.0
            .send((target, response, ack))
            .await
            .map_err(|_| anyhow::anyhow!("the submission queue has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the submission queue dropped a submission"))?
            .map_err(anyhow::Error::msg)
    }
}

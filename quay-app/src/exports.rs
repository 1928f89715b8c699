//! The log export worker: every node takes queued exports, writes each document into
//! storage a page of entries at a time (never the whole log in memory), records it, and only
//! then tells the callback URL and e-mail address its link, which lapses after
//! `EXPORT_ACTION_LOGS_SECONDS`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use quay_core::accounts::export_object;
use quay_core::audit::{LogQuery, rfc2822};
use quay_core::clock::Clock;
use quay_core::events::Site;
use quay_core::events::delivery::RetryPolicy;
use quay_core::ports::{
    AccountDirectory, ClaimedExport, ExportOutcome, LogExport, Mail, MailSender, UploadStore,
};
use serde_json::{Value, json};

use crate::deliveries::HttpSender;
use crate::error::AppError;

/// Entries read, and written as one part, at a time.
const PAGE: u32 = 1000;

/// How exports are written and told.
#[derive(Clone, Copy, Debug)]
pub struct ExportSettings {
    /// How long a link works (`EXPORT_ACTION_LOGS_SECONDS`, one hour).
    pub link_lifetime: Duration,
    /// How long one export may take before another node takes it over.
    pub lease: Duration,
}

impl Default for ExportSettings {
    fn default() -> Self {
        Self {
            link_lifetime: Duration::from_secs(3600),
            lease: Duration::from_secs(2 * 3600),
        }
    }
}

/// Writes queued log exports and tells their callbacks.
pub struct LogExporter {
    directory: Arc<dyn AccountDirectory>,
    storage: Arc<dyn UploadStore>,
    sender: Arc<HttpSender>,
    mailer: Option<Arc<dyn MailSender>>,
    site: Site,
    settings: ExportSettings,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
}

/// Where the exporter's documents and messages go.
pub(crate) struct ExportChannels {
    pub(crate) storage: Arc<dyn UploadStore>,
    pub(crate) sender: Arc<HttpSender>,
    pub(crate) mailer: Option<Arc<dyn MailSender>>,
}

impl LogExporter {
    /// An exporter reading `directory`'s log into `channels.storage`, linking to `site`,
    /// retrying a callback as `policy` says.
    pub(crate) fn new(
        directory: Arc<dyn AccountDirectory>,
        channels: ExportChannels,
        site: Site,
        settings: ExportSettings,
        policy: RetryPolicy,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            directory,
            storage: channels.storage,
            sender: channels.sender,
            mailer: channels.mailer,
            site,
            settings,
            policy,
            clock,
        }
    }

    /// Removes lapsed exports, then writes every due one; how many were finished.
    pub async fn export_due(&self) -> quay_core::Result<usize> {
        for lapsed in self
            .directory
            .forget_lapsed_exports(self.clock.now_ms())
            .await?
        {
            self.storage
                .discard(&export_object(&lapsed.id), &lapsed.parts)
                .await?;
        }
        let mut finished = 0;
        while let Some(claimed) = self
            .directory
            .claim_log_export(self.clock.now_ms(), self.lease_ms())
            .await?
        {
            let outcome = self.attempt(&claimed).await;
            match outcome {
                ExportOutcome::Done { .. } => finished += 1,
                ExportOutcome::Failed => self.tell_failure(&claimed.export).await,
                ExportOutcome::RetryAt { .. } => {}
            }
            self.directory
                .finish_log_export(&claimed.export.id, &outcome)
                .await?;
        }
        Ok(finished)
    }

    /// How long a claimed export is left to its worker.
    fn lease_ms(&self) -> i64 {
        i64::try_from(self.settings.lease.as_millis()).unwrap_or(i64::MAX)
    }

    /// One attempt of `claimed`: the document written unless an earlier attempt wrote it,
    /// then the callbacks told.
    async fn attempt(&self, claimed: &ClaimedExport) -> ExportOutcome {
        let export = &claimed.export;
        let retry = |parts: Option<Vec<String>>, expires_ms: Option<i64>| {
            if claimed.attempt >= self.policy.max_attempts {
                ExportOutcome::Failed
            } else {
                ExportOutcome::RetryAt {
                    at_ms: self.clock.now_ms() + self.policy.retry_after_ms,
                    parts,
                    expires_ms,
                }
            }
        };
        let (parts, expires_ms) = match &claimed.parts {
            Some(parts) => (parts.clone(), None),
            None => match self.write(export).await {
                Ok(parts) => {
                    let lifetime =
                        i64::try_from(self.settings.link_lifetime.as_millis()).unwrap_or(i64::MAX);
                    let expires_ms = self.clock.now_ms().saturating_add(lifetime);
                    // The link must work as soon as a callback has it, so the document is
                    // recorded before anyone is told. The lease still holds while they are
                    // (no other node tells them at once); an attempt cut short after this is
                    // tried again with the document when it lapses, and tells again.
                    let written = ExportOutcome::RetryAt {
                        at_ms: self.clock.now_ms().saturating_add(self.lease_ms()),
                        parts: Some(parts.clone()),
                        expires_ms: Some(expires_ms),
                    };
                    if let Err(error) = self.directory.finish_log_export(&export.id, &written).await
                    {
                        tracing::warn!(export = %export.id, %error, "recording a log export failed");
                        return retry(Some(parts), Some(expires_ms));
                    }
                    (parts, Some(expires_ms))
                }
                Err(error) => {
                    tracing::warn!(export = %export.id, %error, "writing a log export failed");
                    return retry(None, None);
                }
            },
        };
        // Where an earlier attempt wrote the document, the lapse it set stands.
        let expires_ms = expires_ms.unwrap_or_else(|| self.clock.now_ms());
        match self.tell(export).await {
            Ok(()) => ExportOutcome::Done { parts, expires_ms },
            Err(error) => {
                tracing::info!(export = %export.id, %error, "a log export's callback failed");
                retry(Some(parts), Some(expires_ms))
            }
        }
    }

    /// Writes `export`'s document: `{"export_id", "details", "logs": [..., {"terminator":
    /// true}]}`, newest entry first, one part per page; the parts, in order.
    async fn write(&self, export: &LogExport) -> quay_core::Result<Vec<String>> {
        let object = export_object(&export.id);
        let mut head = serde_json::to_string(&json!({
            "export_id": export.id,
            "details": self.details(export),
        }))
        .map_err(|error| quay_core::Error::Internal(error.into()))?;
        // The object without its closing brace, for the logs to follow.
        head.pop();
        head.push_str(r#","logs":["#);
        let mut parts = vec![self.write_part(&object, head).await?];
        let mut query = LogQuery {
            limit: PAGE,
            ..export.query.clone()
        };
        loop {
            let records = self.directory.logs(&query).await?;
            let Some(last) = records.last() else {
                break;
            };
            query.after = Some((last.at_ms, last.id));
            let full = records.len() == PAGE as usize;
            let mut page = String::new();
            for record in records {
                let view = serde_json::to_string(&record.view(export.with_namespace))
                    .map_err(|error| quay_core::Error::Internal(error.into()))?;
                page.push_str(&view);
                page.push(',');
            }
            parts.push(self.write_part(&object, page).await?);
            if !full {
                break;
            }
        }
        parts.push(
            self.write_part(&object, r#"{"terminator":true}]}"#.into())
                .await?,
        );
        Ok(parts)
    }

    async fn write_part(&self, object: &str, text: String) -> quay_core::Result<String> {
        let mut body = futures::stream::iter([Ok(Bytes::from(text))]);
        Ok(self.storage.write_part(object, &mut body).await?.name)
    }

    /// What the document and the callback say the export is of.
    fn details(&self, export: &LogExport) -> Value {
        json!({
            "start_time": rfc2822(export.query.from_ms),
            "end_time": rfc2822(export.query.until_ms),
            "namespace": export.namespace,
            "repository": export.repository,
        })
    }

    /// Where the document is downloaded.
    fn link(&self, export: &LogExport) -> String {
        format!(
            "{}://{}/exportedlogs/{}?token={}",
            self.site.scheme, self.site.hostname, export.id, export.token
        )
    }

    /// The callback's body: Quay's, with `status` and the link if there is one.
    fn callback_body(&self, export: &LogExport, status: &str, link: Option<&str>) -> Value {
        let details = self.details(export);
        json!({
            "export_id": export.id,
            "start_time": details["start_time"],
            "end_time": details["end_time"],
            "namespace": details["namespace"],
            "repository": details["repository"],
            "exported_data_url": link,
            "status": status,
        })
    }

    /// Tells the callback URL, once and as well as it can, that the export was given up.
    async fn tell_failure(&self, export: &LogExport) {
        if let Some(url) = &export.callback_url {
            let body = self.callback_body(export, "failed", None);
            if let Err(error) = self.sender.post_json(url, &body).await {
                tracing::info!(export = %export.id, %error, "a failed export's callback failed");
            }
        }
    }

    /// Posts the link to the callback URL and mails it, where the export asked.
    async fn tell(&self, export: &LogExport) -> Result<(), AppError> {
        let link = self.link(export);
        if let Some(url) = &export.callback_url {
            let body = self.callback_body(export, "success", Some(&link));
            self.sender.post_json(url, &body).await?;
        }
        if let Some(address) = &export.callback_email {
            let mailer = self
                .mailer
                .as_ref()
                .ok_or_else(|| AppError::Unavailable("this node has no MAIL_SERVER".into()))?;
            mailer
                .send(&Mail {
                    to: address.clone(),
                    subject: "Your usage log export is ready".into(),
                    text: format!(
                        "The usage log export {} is ready. Download it within {} minutes:\n{link}\n",
                        export.id,
                        self.settings.link_lifetime.as_secs() / 60
                    ),
                })
                .await
                .map_err(|error| AppError::Request(error.to_string()))?;
        }
        Ok(())
    }
}

/// Writes due exports every `poll`, until the runtime ends.
pub(crate) async fn export(exporter: Arc<LogExporter>, poll: Duration) {
    loop {
        if let Err(error) = exporter.export_due().await {
            tracing::warn!(%error, "exporting usage logs failed; trying again");
        }
        tokio::time::sleep(poll).await;
    }
}

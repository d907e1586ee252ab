//! Notices: what the bridge tells the person at the page, each once.
//!
//! Failures and changes become [`Notice`]s, not a stream: a node is said to
//! stop answering when it stops, not at every retry, and what one node keeps
//! doing wrong (refusing requests, sending answers the lab cannot use or
//! updates it refuses) is said once per node and kind, under a key. The
//! queue and the keys remembered are both bounded, so a hostile node cannot
//! grow them. Also what a node's refusal says (its `{"error": ...}` body).

use serde::Serialize;

use super::Bridge;

/// Something the page should show once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// `info`, `warn` or `error`.
    pub level: &'static str,
    /// For a person.
    pub text: String,
}

impl Bridge {
    /// Tell the page (the queue is bounded: beyond, notices are lost).
    pub(super) fn notice(&mut self, level: &'static str, text: String) {
        if self.notices.len() < 100 {
            self.notices.push(Notice { level, text });
        }
    }

    /// Tell the page once for `key` (a node and what it did).
    pub(super) fn notice_once(&mut self, key: String, level: &'static str, text: String) {
        if self.noticed.len() < 1_000 && self.noticed.insert(key) {
            self.notice(level, text);
        }
    }
}

/// What a refusal's JSON body says (`{"error": ...}`), or its start.
pub(super) fn refusal_text(body: &str) -> String {
    let doc = crate::wire::doc::Doc::parse(body).ok();
    match doc.as_ref().and_then(|d| d.get("error")?.as_str()) {
        Some(e) => e.to_owned(),
        None => body.chars().take(200).collect(),
    }
}

//! The audit chain: every state-changing event is appended to a log whose entries are
//! chained by SHA-256, so an edited, inserted or deleted entry is found by [`verify`]; each
//! entry is also marked with a key kept outside the database ([`crate::audit_key`]), so a
//! chain recomputed end to end by someone with database access is found too.
//!
//! An entry's canonical content is the JSON object
//! `{"actor":…,"at":…,"campaign":…,"details":{…},"event":…,"id":…}` with keys sorted at
//! every level, no whitespace, non-ASCII characters as UTF-8 (Python:
//! `json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`). Its hash is
//! `SHA-256(prev_hash ‖ "\n" ‖ canonical)` in lowercase hex, where `prev_hash` is the
//! previous entry's hash, and 64 zeros for entry 1. Ids run 1, 2, 3 … without gaps, so a
//! deleted entry breaks the chain too. Deleting the newest entries leaves a shorter valid
//! chain: the head hash (id and hash of the newest entry) is printed in every published
//! document — draw record, publicity, archive manifest — to pin the length, and
//! `minyi audit verify --head <id>:<hash>` checks that a published head is in the chain.
//!
//! Survey answers are never logged: an entry's time next to a submission would link the
//! answer to the person.

use crate::audit_key::AuditKey;
use crate::ids::CampaignId;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Every event key the code writes to the chain, with its name for people (the audit page
/// and the CSV). A test reads the keys written in src/ and fails on one missing here; a key
/// not listed (in an old log) is shown as itself.
pub const EVENT_NAMES: &[(&str, &str)] = &[
    ("account.create", "新建账号"),
    ("account.disable", "停用账号"),
    ("account.enable", "恢复账号"),
    ("account.password", "修改本人密码"),
    ("account.reset", "重置账号密码"),
    ("account.unlock", "解除登录限制"),
    ("application.accept", "受理申报"),
    ("application.refuse", "不受理申报"),
    ("application.submit", "提交申报(自评报告)"),
    ("approve", "审批通过"),
    ("archive.upload", "提交半年书面报告"),
    ("attempt", "记录拨打"),
    ("calendar.delete", "删除日历日期"),
    ("calendar.import", "导入节假日安排"),
    ("callback.record", "记录回访"),
    ("campaign.applications_due", "设置申报截止日期"),
    ("campaign.archive", "导出归档"),
    ("campaign.create", "新建调查轮次"),
    ("campaign.creation_start", "设置创建启动日期"),
    ("campaign.notice", "设置致受访者的说明"),
    ("campaign.notice_contact", "设置公示受理异议方式"),
    ("campaign.purge", "清除个人信息"),
    ("campaign.review_create", "创建复核轮次"),
    ("campaign.title_years", "设置称号有效期"),
    ("case.interview", "电话访问完成"),
    ("decision.approve", "镇党委批准并授予称号"),
    ("decision.decline", "镇党委不予批准"),
    ("decision.study", "记录镇纪委研究"),
    ("demo.fill", "生成演示数据"),
    ("draw", "抽样"),
    ("fieldwork.close", "结束调查"),
    ("fieldwork.start", "开始调查"),
    ("freeze", "冻结名单"),
    ("grades", "录入各项等次"),
    ("grades.self", "录入村自评等次"),
    ("group_report.save", "保存考核验收评估组报告"),
    ("item16.override", "调整第16项等次"),
    ("login", "登录"),
    ("login.failure", "登录失败"),
    ("logout", "退出登录"),
    ("objection.add", "登记异议"),
    ("objection.dismiss", "异议不属实"),
    ("objection.resolve", "处理异议"),
    ("objection.uphold", "异议属实"),
    ("panel.add", "添加两代表一委员"),
    ("panel.links", "生成两代表一委员链接"),
    ("proposed.adjust", "调整拟评定名单"),
    ("publicity.restart", "重新公示"),
    ("publicity.start", "开始公示"),
    ("replacement.rules", "设置递补规则"),
    ("results.import", "导入调查结果"),
    ("roster.receipt", "收到名单"),
    ("seed.commit", "登记种子承诺"),
    ("seed.enter", "录入随机种子"),
    ("size.rule", "设定样本量规则"),
    ("sms.outbox", "导出短信"),
    ("sms.reissue", "重发调查链接"),
    ("title.revoke", "撤销廉洁村称号"),
    ("village.contact_leader", "设置联系领导"),
    ("village.create", "新增村(社区)"),
    ("village.import", "导入村(社区)名单"),
];

/// The name of an event key for people; `None` for a key the code does not write (an old
/// log's), which is then shown as it is.
pub fn event_name(key: &str) -> Option<&'static str> {
    EVENT_NAMES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, name)| *name)
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    /// Unix time.
    pub at: i64,
    /// Who: `account:<id>`, `cli`, `anonymous`, or `system`.
    pub actor: String,
    /// What, e.g. `roster.receipt`, `draw`, `login.failure`.
    pub event: String,
    pub campaign_id: Option<CampaignId>,
    /// Canonical JSON of the event's details.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
    /// HMAC-SHA256 of `hash` under the audit key; `None` for entries written before the key
    /// existed.
    pub mac: Option<String>,
}

/// An event to append; the log gives it its id, time and hashes.
#[derive(Debug, Clone)]
pub struct Event {
    pub actor: String,
    pub event: String,
    pub campaign_id: Option<CampaignId>,
    pub details: serde_json::Value,
}

impl Event {
    pub fn new(
        actor: impl Into<String>,
        event: &str,
        campaign_id: Option<CampaignId>,
        details: serde_json::Value,
    ) -> Self {
        Event {
            actor: actor.into(),
            event: event.to_string(),
            campaign_id,
            details,
        }
    }
}

/// The canonical text of `details` (keys sorted, no whitespace).
pub fn canonical_details(details: &serde_json::Value) -> String {
    // serde_json::Value's map is a BTreeMap (no preserve_order feature): keys come sorted.
    details.to_string()
}

/// The canonical content of an entry, as hashed.
pub fn canonical(
    id: i64,
    at: i64,
    actor: &str,
    event: &str,
    campaign_id: Option<CampaignId>,
    details: &str,
) -> String {
    let details: serde_json::Value = serde_json::from_str(details)
        .unwrap_or_else(|_| serde_json::Value::String(details.to_string()));
    serde_json::json!({
        "id": id, "at": at, "actor": actor, "event": event, "campaign": campaign_id, "details": details,
    })
    .to_string()
}

/// `SHA-256(prev_hash ‖ "\n" ‖ canonical)`, lowercase hex.
pub fn chain_hash(prev_hash: &str, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

impl Entry {
    /// The hash this entry should have, given its content and its stored `prev_hash`.
    pub fn expected_hash(&self) -> String {
        chain_hash(
            &self.prev_hash,
            &canonical(
                self.id,
                self.at,
                &self.actor,
                &self.event,
                self.campaign_id,
                &self.details,
            ),
        )
    }
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit entry {id} is broken: {reason}")]
pub struct Broken {
    pub id: i64,
    pub reason: String,
}

/// A running check over entries in id order: feed each with [`Verifier::check`].
#[derive(Debug, Clone)]
pub struct Verifier<'k> {
    next_id: i64,
    prev_hash: String,
    key: Option<&'k AuditKey>,
    /// Entries whose mark was checked against the key.
    keyed: i64,
    /// Entries before the key's `first-entry` (written before the key existed).
    unkeyed: i64,
}

impl Default for Verifier<'_> {
    fn default() -> Self {
        Verifier {
            next_id: 1,
            prev_hash: GENESIS.to_string(),
            key: None,
            keyed: 0,
            unkeyed: 0,
        }
    }
}

impl<'k> Verifier<'k> {
    /// A check of the hashes and of every mark from the key's `first-entry` on.
    pub fn with_key(key: &'k AuditKey) -> Self {
        Verifier {
            key: Some(key),
            ..Verifier::default()
        }
    }

    /// Checks the next entry: its id follows the previous one, its `prev_hash` is the
    /// previous entry's hash, its hash matches its content, and, with a key, its mark is the
    /// key's mark of its hash (from the key's first entry on).
    pub fn check(&mut self, e: &Entry) -> Result<(), Broken> {
        let broken = |reason: String| Broken { id: e.id, reason };
        if e.id != self.next_id {
            return Err(Broken {
                id: self.next_id,
                reason: format!("missing (the next entry found is {})", e.id),
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(broken(format!(
                "prev_hash {} is not the previous entry's hash {}",
                e.prev_hash, self.prev_hash
            )));
        }
        let expected = e.expected_hash();
        if e.hash != expected {
            return Err(broken(format!(
                "its content does not match its hash (stored {}, content gives {expected})",
                e.hash
            )));
        }
        if let Some(key) = self.key {
            if e.id < key.first_entry() {
                self.unkeyed += 1;
            } else {
                match &e.mac {
                    None => {
                        return Err(broken(format!(
                            "it has no audit-key mark, but every entry from {} on must have one (key file {})",
                            key.first_entry(),
                            key.path().display()
                        )));
                    }
                    Some(mac) if !key.check(&e.hash, mac) => {
                        return Err(broken(format!(
                            "its audit-key mark does not match the key in {}: the entry or the chain before it was rewritten by someone without the key",
                            key.path().display()
                        )));
                    }
                    Some(_) => self.keyed += 1,
                }
            }
        }
        self.next_id += 1;
        self.prev_hash = e.hash.clone();
        Ok(())
    }

    /// Entries checked so far.
    pub fn count(&self) -> i64 {
        self.next_id - 1
    }

    /// The last checked entry's hash (the head of the chain).
    pub fn head(&self) -> &str {
        &self.prev_hash
    }

    /// Entries whose mark was checked against the key.
    pub fn keyed(&self) -> i64 {
        self.keyed
    }

    /// Entries older than the key (before its `first-entry`), whose marks were not required.
    pub fn unkeyed(&self) -> i64 {
        self.unkeyed
    }
}

/// Checks a whole chain; `Ok(number of entries)`, or the first broken entry.
pub fn verify<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Result<i64, Broken> {
    let mut v = Verifier::default();
    for e in entries {
        v.check(e)?;
    }
    Ok(v.count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Entry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|id| {
                let details = canonical_details(&serde_json::json!({"b": id, "a": "x"}));
                let hash = chain_hash(
                    &prev,
                    &canonical(id, 1000 + id, "cli", "draw", Some(CampaignId(1)), &details),
                );
                let e = Entry {
                    id,
                    at: 1000 + id,
                    actor: "cli".into(),
                    event: "draw".into(),
                    campaign_id: Some(CampaignId(1)),
                    details,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                    mac: None,
                };
                prev = hash;
                e
            })
            .collect()
    }

    #[test]
    fn a_sound_chain_verifies_and_any_change_names_the_entry() {
        let good = chain(5);
        assert_eq!(verify(&good), Ok(5));
        assert_eq!(
            good[0].details, r#"{"a":"x","b":1}"#,
            "keys sorted, no spaces"
        );
        let mut edited = good.clone();
        edited[2].actor = "account:9:mallory".into();
        assert_eq!(verify(&edited).unwrap_err().id, 3);
        let mut rehashed = edited.clone();
        rehashed[2].hash = rehashed[2].expected_hash();
        // Recomputing the edited entry's hash breaks the next one.
        assert_eq!(verify(&rehashed).unwrap_err().id, 4);
        let mut deleted = good.clone();
        deleted.remove(1);
        assert_eq!(verify(&deleted).unwrap_err().id, 2);
        let mut swapped = good.clone();
        swapped.swap(3, 4);
        assert_eq!(verify(&swapped).unwrap_err().id, 4);
    }

    #[test]
    fn a_recomputed_chain_passes_the_hashes_but_not_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = AuditKey::create(&dir.path().join("k"), 3).unwrap();
        let mut marked = chain(5);
        for e in &mut marked[2..] {
            e.mac = Some(key.mark(&e.hash));
        }
        let mut v = Verifier::with_key(&key);
        for e in &marked {
            v.check(e).unwrap();
        }
        assert_eq!((v.count(), v.keyed(), v.unkeyed()), (5, 3, 2));
        // The insider's rewrite: change entry 4, recompute every hash after it.
        let mut forged = marked.clone();
        forged[3].actor = "account:9:mallory".into();
        for i in 3..forged.len() {
            forged[i].prev_hash = forged[i - 1].hash.clone();
            forged[i].hash = forged[i].expected_hash();
        }
        assert_eq!(verify(&forged), Ok(5), "the hashes alone are fooled");
        let mut v = Verifier::with_key(&key);
        let broken = forged.iter().try_for_each(|e| v.check(e)).unwrap_err();
        assert_eq!(broken.id, 4);
        assert!(
            broken.reason.contains("audit-key mark does not match"),
            "{broken}"
        );
        // Removing a mark from the key's first entry on is no way out.
        let mut stripped = marked.clone();
        stripped[2].mac = None;
        let mut v = Verifier::with_key(&key);
        let broken = stripped.iter().try_for_each(|e| v.check(e)).unwrap_err();
        assert_eq!(broken.id, 3);
    }

    #[test]
    fn the_first_entry_hash_is_pinned() {
        // SHA-256("000…000\n" + canonical), computed independently with Python's hashlib.
        let c = canonical(
            1,
            1_790_000_000,
            "cli",
            "draw",
            Some(CampaignId(1)),
            r#"{"seed":"x"}"#,
        );
        assert_eq!(
            c,
            r#"{"actor":"cli","at":1790000000,"campaign":1,"details":{"seed":"x"},"event":"draw","id":1}"#
        );
        // python3: hashlib.sha256(("0"*64 + "\n" + c).encode()).hexdigest()
        assert_eq!(
            chain_hash(GENESIS, &c),
            "b72defc2bc9f23fe6d1d75d939f434c8496fd076e1776af11298d74536a6b13b"
        );
    }
}

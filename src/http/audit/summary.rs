//! An audit entry in words for the commission's clerk: who did it, and what it did, read
//! from the entry's details per kind of event ("抽样：3 个村(社区)，种子 …"). The details
//! hold no phone number of a respondent and no answer (operations write counts, ids and
//! the clerk's own notes); free text is still shortened and phone-like numbers in it are
//! masked, so a number typed into a note does not end up in full on the page.

use crate::db::AccountName;
use crate::dispositions::Outcome;
use crate::fieldwork::callback::CallbackOutcome;
use crate::ids::AccountId;
use serde_json::Value;
use std::collections::HashMap;

/// What names an entry's ids: the accounts and villages the page's entries mention.
#[derive(Debug, Default)]
pub(crate) struct Names {
    pub accounts: HashMap<AccountId, AccountName>,
    /// Village names by id (rosters, objections) and by code (grades, item 16).
    pub villages_by_id: HashMap<i64, String>,
    pub villages_by_code: HashMap<String, String>,
}

impl Names {
    fn account(&self, id: Option<i64>) -> Option<String> {
        let id = id?;
        Some(match self.accounts.get(&AccountId(id)) {
            Some(a) => account_label(a),
            None => format!("账号 {id}（已不存在）"),
        })
    }

    fn village_by_id(&self, id: Option<i64>) -> Option<String> {
        let id = id?;
        Some(
            self.villages_by_id
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("村(社区) {id}")),
        )
    }

    fn village_by_code(&self, code: Option<String>) -> Option<String> {
        let code = code?;
        Some(match self.villages_by_code.get(&code) {
            Some(name) => name.clone(),
            None => code,
        })
    }
}

/// "张三（zhangsan，镇纪委管理员）", or "admin（镇纪委管理员）" when the display name says
/// nothing more (empty, the login name, or the role).
pub(crate) fn account_label(a: &AccountName) -> String {
    let display = a.display_name.trim();
    if display.is_empty() || display == a.username || display == a.role.label() {
        format!("{}（{}）", a.username, a.role.label())
    } else {
        format!("{display}（{}，{}）", a.username, a.role.label())
    }
}

/// The account id an actor names (`account:<id>`).
pub(crate) fn actor_account(actor: &str) -> Option<AccountId> {
    actor
        .strip_prefix("account:")
        .and_then(|id| id.parse().ok())
        .map(AccountId)
}

/// Who did it, in words: an account by its name and role, the other actors the code writes
/// by what they are; anything else as it is stored.
pub(crate) fn actor_label(actor: &str, names: &Names) -> String {
    if let Some(id) = actor_account(actor) {
        return names
            .account(Some(id.0))
            .unwrap_or_else(|| actor.to_string());
    }
    match actor {
        "cli" => "命令行（在服务器上操作的管理员）".into(),
        "anonymous" => "未登录的访问者".into(),
        "system" => "系统自动".into(),
        "demo" => "演示数据程序".into(),
        other => other.to_string(),
    }
}

/// The account ids an entry's details name (`account`), besides its actor.
pub(crate) fn detail_account(details: &str) -> Option<AccountId> {
    serde_json::from_str::<Value>(details)
        .ok()?
        .get("account")?
        .as_i64()
        .map(AccountId)
}

/// The field's text: a string as it is, a number or a boolean written out.
fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "是" } else { "否" }.into()),
        _ => None,
    }
}

fn int(v: &Value, key: &str) -> Option<i64> {
    v.get(key)?.as_i64()
}

/// Free text typed by a person (a note, a reason, a file name): at most 60 characters,
/// phone-like numbers masked.
fn free(v: &Value, key: &str) -> Option<String> {
    let t = text(v, key)?;
    let t = mask_phones(t.trim());
    let mut short: String = t.chars().take(60).collect();
    if t.chars().count() > 60 {
        short.push('…');
    }
    Some(short)
}

/// The first 16 characters of a hash, enough to compare by eye.
fn short_hash(v: &Value, key: &str) -> Option<String> {
    let h = text(v, key)?;
    Some(if h.chars().count() > 16 {
        format!("{}…", h.chars().take(16).collect::<String>())
    } else {
        h
    })
}

/// Runs of 11 digits starting with 1 (a mainland mobile) and of 7 or more digits after a
/// 0 area code are shown as 138****1234.
pub(crate) fn mask_phones(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            let phone_like = (run.len() == 11 && run.starts_with('1'))
                || (run.len() >= 10 && run.len() <= 12 && run.starts_with('0'));
            if phone_like {
                out.push_str(&run[..3]);
                out.push_str("****");
                out.push_str(&run[run.len() - 4..]);
            } else {
                out.push_str(&run);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn via(v: &Value) -> &'static str {
    match v.get("via").and_then(Value::as_str) {
        Some("api") => "通过接口",
        _ => "通过网页",
    }
}

fn outcome(v: &Value) -> Option<String> {
    let key = text(v, "outcome")?;
    Some(match Outcome::parse(&key) {
        Some(o) => o.label_zh().to_string(),
        None => key,
    })
}

fn callback_outcome(v: &Value) -> Option<String> {
    let key = text(v, "outcome")?;
    Some(match CallbackOutcome::parse(&key) {
        Some(o) => o.label_zh().to_string(),
        None => key,
    })
}

/// "（未生效）" when an operation recorded that it was not applied.
fn not_applied(v: &Value, key: &str) -> &'static str {
    match v.get(key).and_then(Value::as_bool) {
        Some(false) => "（未生效）",
        _ => "",
    }
}

/// Parts joined by "，", the empty ones left out.
fn join(parts: Vec<Option<String>>) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join("，")
}

/// The sample-size rule in words.
fn size_rule(rule: &Value) -> String {
    match rule.get("method").and_then(Value::as_str) {
        Some("fixed") => match int(rule, "size") {
            Some(n) => format!("每个村(社区)固定抽 {n} 人"),
            None => "每个村(社区)固定人数".into(),
        },
        Some("formula") => {
            let pct = |key: &str| {
                rule.get(key)
                    .and_then(Value::as_f64)
                    .map(|x| format!("{}%", (x * 1000.0).round() / 10.0))
            };
            join(vec![
                Some("按公式计算".into()),
                pct("margin").map(|m| format!("误差 ±{m}")),
                pct("confidence").map(|c| format!("置信度 {c}")),
                int(rule, "census_below")
                    .filter(|n| *n > 0)
                    .map(|n| format!("不足 {n} 人的村(社区)全部调查")),
            ])
        }
        _ => "样本量规则已更改".into(),
    }
}

/// The item grades of a `grades` entry: how many items at each grade, and the ticked
/// negative-list situations.
fn grade_counts(v: &Value) -> Option<String> {
    let grades = v.get("grades")?.as_array()?;
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut blank = 0;
    for g in grades {
        match g.get("grade").and_then(Value::as_str) {
            Some(label) => match counts.iter_mut().find(|(l, _)| l == label) {
                Some((_, n)) => *n += 1,
                None => counts.push((label.to_string(), 1)),
            },
            None => blank += 1,
        }
    }
    let order = ["好", "较好", "一般", "差"];
    counts.sort_by_key(|(l, _)| order.iter().position(|o| o == l).unwrap_or(order.len()));
    let mut parts: Vec<String> = counts.iter().map(|(l, n)| format!("{l} {n} 项")).collect();
    if blank > 0 {
        parts.push(format!("未填 {blank} 项"));
    }
    let mut s = parts.join("、");
    let negative = v.get("negative").and_then(Value::as_array);
    match negative {
        Some(n) if !n.is_empty() => {
            let which: Vec<String> = n
                .iter()
                .filter_map(|x| int(x, "situation"))
                .map(|k| format!("第{k}种"))
                .collect();
            s.push_str(&format!("；负面清单有情形：{}", which.join("、")));
        }
        Some(_) => s.push_str("；负面清单无情形"),
        None => {}
    }
    Some(s)
}

/// What an entry did, in plain Chinese, from its details; "" when there is nothing to add
/// to the event's name.
pub(crate) fn summary(event: &str, details: &str, names: &Names) -> String {
    let v: Value = serde_json::from_str(details).unwrap_or(Value::Null);
    let v = &v;
    match event {
        "roster.receipt" => join(vec![
            names.village_by_id(int(v, "village")),
            free(v, "file_name").map(|f| format!("文件「{f}」")),
            int(v, "rows_read").map(|n| format!("读到 {n} 行")),
            int(v, "accepted").map(|n| format!("收下 {n} 人")),
            short_hash(v, "fingerprint").map(|h| format!("指纹 {h}")),
        ]),
        "campaign.create" => join(vec![
            free(v, "name"),
            free(v, "town"),
            int(v, "year").map(|y| format!("{y} 年")),
            v.get("demo")
                .and_then(Value::as_bool)
                .filter(|d| *d)
                .map(|_| "演示数据".into()),
            (text(v, "participation").as_deref() == Some("accepted")).then(|| {
                format!(
                    "须申报受理，截止 {}",
                    free(v, "applications_due").unwrap_or_default()
                )
            }),
        ]),
        "campaign.notice" => join(vec![
            free(v, "party").map(|p| format!("调查机构：{p}")),
            free(v, "contact").map(|c| format!("咨询：{c}")),
        ]),
        "application.submit" => join(vec![
            names.village_by_id(int(v, "village")),
            free(v, "file_name").map(|f| format!("自评报告「{f}」")),
            v.get("replaced")
                .and_then(Value::as_bool)
                .filter(|r| *r)
                .map(|_| "替换原报告".into()),
            short_hash(v, "sha256").map(|h| format!("SHA-256 {h}")),
        ]),
        "application.accept" => join(vec![
            names.village_by_id(int(v, "village")),
            Some("受理".into()),
        ]),
        "application.refuse" => join(vec![
            names.village_by_id(int(v, "village")),
            free(v, "reason").map(|r| format!("不受理：{r}")),
        ]),
        "archive.upload" => join(vec![
            names.village_by_id(int(v, "village")),
            free(v, "period"),
            free(v, "file_name").map(|f| format!("文件「{f}」")),
            short_hash(v, "sha256").map(|h| format!("SHA-256 {h}")),
        ]),
        "campaign.applications_due" => free(v, "day")
            .map(|d| format!("申报截止日期 {d}"))
            .unwrap_or_default(),
        "campaign.creation_start" => free(v, "day")
            .map(|d| format!("创建启动日期 {d}，负面清单从前一年起计算"))
            .unwrap_or_default(),
        "campaign.notice_contact" => join(vec![
            free(v, "issuer").map(|i| format!("发布单位：{i}")),
            free(v, "address").map(|a| format!("受理地址：{a}")),
        ]),
        "campaign.archive" => join(vec![
            int(v, "files").map(|n| format!("归档包含 {n} 个文件")),
            short_hash(v, "sha256").map(|h| format!("SHA-256 {h}")),
        ]),
        "campaign.purge" => {
            let n = |k: &str| int(v, k).unwrap_or(0);
            format!(
                "删除名单 {} 人、样本 {} 个、调查链接 {} 个、两代表一委员 {} 人的个人信息",
                n("roster_entries"),
                n("cases"),
                n("link_tokens"),
                n("panel_members")
            )
        }
        "village.contact_leader" => join(vec![
            names.village_by_id(int(v, "village")),
            Some(match free(v, "contact_leader") {
                Some(l) => format!("联系领导：{l}"),
                None => "清除联系领导".into(),
            }),
        ]),
        "title.revoke" => join(vec![
            names.village_by_id(int(v, "village")),
            free(v, "revoked_on").map(|d| format!("撤销日期 {d}")),
            free(v, "reason").map(|r| format!("理由：{r}")),
        ]),
        "campaign.review_create" => join(vec![
            free(v, "name"),
            int(v, "year").map(|y| format!("{y} 年")),
            v.get("titles")
                .and_then(Value::as_array)
                .map(|t| format!("复核 {} 个称号", t.len())),
        ]),
        "village.create" => join(vec![
            free(v, "name"),
            free(v, "code").map(|c| format!("代码 {c}")),
        ]),
        "village.import" => join(vec![
            int(v, "villages").map(|n| format!("名单共 {n} 个村(社区)")),
            int(v, "added").map(|n| format!("新增 {n} 个")),
            int(v, "renamed").map(|n| format!("改名 {n} 个")),
        ]),
        "calendar.import" => match v.get("days").and_then(Value::as_array) {
            Some(days) => format!("共 {} 天", days.len()),
            None => String::new(),
        },
        "calendar.delete" => free(v, "day").unwrap_or_default(),
        "publicity.start" => match (text(v, "start"), text(v, "end")) {
            (Some(s), Some(e)) => format!("公示期 {s} 至 {e}"),
            _ => String::new(),
        },
        "objection.add" => join(vec![
            int(v, "objection").map(|n| format!("第 {n} 号")),
            names.village_by_id(int(v, "village")),
            free(v, "received_on").map(|d| format!("收到日期 {d}")),
            free(v, "summary").map(|s| format!("内容：{s}")),
        ]),
        "objection.resolve" => join(vec![
            int(v, "objection").map(|n| format!("第 {n} 号")),
            free(v, "resolution").map(|r| format!("处理结果：{r}")),
        ]),
        "objection.uphold" | "objection.dismiss" => join(vec![
            int(v, "objection").map(|n| format!("第 {n} 号")),
            names.village_by_id(int(v, "village")),
            free(v, "reason").map(|r| format!("理由：{r}")),
            (v.get("removed").and_then(Value::as_bool) == Some(true))
                .then(|| "该村(社区)移出拟评定名单".to_string()),
        ]),
        "proposed.adjust" => join(vec![
            names.village_by_code(text(v, "village")),
            match text(v, "action").as_deref() {
                Some("add") => Some("列入拟评定名单".to_string()),
                Some("remove") => Some("移出拟评定名单".to_string()),
                _ => None,
            },
            free(v, "reason").map(|r| format!("理由：{r}")),
        ]),
        "publicity.restart" => match (text(v, "start"), text(v, "end")) {
            (Some(s), Some(e)) => format!("名单调整后重新公示，公示期 {s} 至 {e}"),
            _ => String::new(),
        },
        "campaign.title_years" => int(v, "years")
            .map(|n| format!("称号有效期 {n} 年"))
            .unwrap_or_default(),
        "decision.study" => join(vec![
            names.village_by_id(int(v, "village")),
            free(v, "studied_on").map(|d| format!("研究日期 {d}")),
            free(v, "minutes_ref").map(|r| format!("会议纪要 {r}")),
        ]),
        "decision.approve" => join(vec![
            names.village_by_id(int(v, "village")),
            free(v, "decided_on").map(|d| format!("批准日期 {d}")),
            free(v, "decision_ref").map(|r| format!("文号 {r}")),
            free(v, "expires_on").map(|d| format!("称号有效至 {d}")),
        ]),
        "decision.decline" => join(vec![
            names.village_by_id(int(v, "village")),
            free(v, "decided_on").map(|d| format!("日期 {d}")),
            free(v, "reason").map(|r| format!("理由：{r}")),
        ]),
        "approve" => "本轮考核结果经审批通过".into(),
        "grades" | "grades.self" => {
            let village = names.village_by_code(text(v, "village"));
            let source = text(v, "source")
                .and_then(|s| crate::db::GradeSource::parse(&s))
                .map(|s| s.zh().to_string());
            join(vec![village, source, grade_counts(v)])
        }
        "group_report.save" => {
            let village = names.village_by_code(text(v, "village"));
            let file = v
                .get("file")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .map(|f| format!("文件「{f}」"));
            join(vec![
                village,
                int(v, "chars").map(|n| format!("报告 {n} 字")),
                file,
            ])
        }
        "item16.override" => {
            let village = names
                .village_by_code(text(v, "village"))
                .unwrap_or_default();
            let reason = free(v, "reason")
                .map(|r| format!("，理由：{r}"))
                .unwrap_or_default();
            match text(v, "grade") {
                Some(g) => format!("{village} → {g}{reason}"),
                None => format!("{village} 撤销调整，恢复按调查结果计算的等次{reason}"),
            }
        }
        "size.rule" => v.get("rule").map(size_rule).unwrap_or_default(),
        "seed.commit" => short_hash(v, "commitment")
            .map(|h| format!("承诺哈希 {h}（种子本身抽样前公开）"))
            .unwrap_or_default(),
        "freeze" => short_hash(v, "frame_fingerprint")
            .map(|h| format!("名单总指纹 {h}"))
            .unwrap_or_default(),
        "seed.enter" => join(vec![
            free(v, "seed").map(|s| format!("种子 {s}")),
            match text(v, "source").as_deref() {
                Some("reveal") => Some("与事先登记的承诺相符".into()),
                Some("public") => Some("来自公开事件".into()),
                _ => None,
            },
        ]),
        "draw" => join(vec![
            int(v, "villages").map(|n| format!("{n} 个村(社区)")),
            free(v, "seed").map(|s| format!("种子 {s}")),
            free(v, "algorithm").map(|a| format!("算法 {a}")),
            short_hash(v, "frame_fingerprint").map(|h| format!("名单总指纹 {h}")),
        ]),
        "login" => format!("{}登录", via(v)),
        "login.failure" => join(vec![
            names
                .account(int(v, "account"))
                .map(|a| format!("账号 {a}")),
            Some(format!("{}登录，密码不对", via(v))),
        ]),
        "logout" => String::new(),
        "account.create" => join(vec![
            free(v, "username").map(|u| format!("登录名 {u}")),
            text(v, "role").map(|r| match crate::domain::Role::parse(&r) {
                Some(role) => role.label().to_string(),
                None => r,
            }),
            names.village_by_id(int(v, "village")),
        ]),
        "account.reset" | "account.password" | "account.unlock" | "account.disable"
        | "account.enable" => names
            .account(int(v, "account"))
            .map(|a| format!("账号 {a}"))
            .unwrap_or_default(),
        "fieldwork.start" => int(v, "cases")
            .map(|n| format!("放出首批样本 {n} 个"))
            .unwrap_or_default(),
        "fieldwork.close" => "此后不再接受拨打记录、链接作答和结果导入".into(),
        "panel.add" => join(vec![free(v, "name"), free(v, "category")]),
        "panel.links" => int(v, "members")
            .map(|n| format!("为 {n} 人生成个人链接"))
            .unwrap_or_default(),
        "sms.outbox" => join(vec![
            int(v, "messages").map(|n| format!("{n} 条")),
            match text(v, "kind").as_deref() {
                Some("invite") => Some("邀请短信".into()),
                Some("remind") => Some("提醒短信".into()),
                Some("reissue") => Some("重发全部未作答的链接".into()),
                _ => None,
            },
        ]),
        "sms.reissue" => int(v, "case")
            .map(|n| format!("样本 {n}，旧链接作废"))
            .unwrap_or_default(),
        "attempt" => {
            join(vec![
                int(v, "case").map(|n| format!("样本 {n}")),
                outcome(v).map(|o| format!("结果：{o}")),
                int(v, "released_rank").map(|r| format!("递补备用名单第 {r} 位")),
            ]) + not_applied(v, "stored")
        }
        "case.interview" => {
            int(v, "case")
                .map(|n| format!("样本 {n}"))
                .unwrap_or_default()
                + not_applied(v, "stored")
        }
        "callback.record" => {
            join(vec![
                int(v, "case").map(|n| format!("样本 {n}")),
                callback_outcome(v).map(|o| format!("结果：{o}")),
            ]) + not_applied(v, "recorded")
        }
        "results.import" => join(vec![
            int(v, "recorded").map(|n| format!("记入 {n} 条")),
            int(v, "skipped").map(|n| format!("跳过 {n} 条")),
            int(v, "completes").map(|n| format!("完成 {n} 份")),
            int(v, "released").map(|n| format!("递补 {n} 人")),
        ]),
        "replacement.rules" => {
            "拒访、空号等情况下如何从备用名单递补".to_string() + not_applied(v, "applied")
        }
        "demo.fill" => "虚构的演示数据，不是真实调查".into(),
        _ => fallback(v, names),
    }
}

/// Fields of details whose meaning is the same in every event, with their labels.
const FIELD_LABELS: &[(&str, &str)] = &[
    ("village", "村(社区)"),
    ("account", "账号"),
    ("case", "样本"),
    ("name", "名称"),
    ("note", "备注"),
];

/// An event without its own summary (one from an old log): the fields every event means
/// alike, with Chinese labels.
fn fallback(v: &Value, names: &Names) -> String {
    join(
        FIELD_LABELS
            .iter()
            .map(|(key, label)| {
                let value = match *key {
                    "village" => match v.get("village") {
                        Some(Value::Number(n)) => names.village_by_id(n.as_i64()),
                        _ => names.village_by_code(text(v, "village")),
                    },
                    "account" => names.account(int(v, key)),
                    _ => free(v, key),
                };
                value.map(|x| format!("{label}：{x}"))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn names() -> Names {
        let mut n = Names::default();
        n.accounts.insert(
            AccountId(2),
            AccountName {
                id: AccountId(2),
                username: "lisi".into(),
                display_name: "李四".into(),
                role: Role::Village,
            },
        );
        n.villages_by_id.insert(7, "甲村".into());
        n.villages_by_code.insert("V01".into(), "甲村".into());
        n
    }

    #[test]
    fn the_proposed_list_and_decisions_read_as_sentences() {
        let n = names();
        assert_eq!(
            summary(
                "proposed.adjust",
                r#"{"village":"V01","action":"remove","reason":"复核"}"#,
                &n
            ),
            "甲村，移出拟评定名单，理由：复核"
        );
        let s = summary(
            "objection.uphold",
            r#"{"objection":3,"village":7,"reason":"属实","removed":true}"#,
            &n,
        );
        assert!(s.contains("第 3 号") && s.contains("移出拟评定名单"), "{s}");
        let s = summary(
            "decision.approve",
            r#"{"village":7,"decided_on":"2026-10-21","decision_ref":"镇党发1号","expires_on":"2028-10-20"}"#,
            &n,
        );
        assert!(
            s.contains("甲村") && s.contains("镇党发1号") && s.contains("2028-10-20"),
            "{s}"
        );
    }

    #[test]
    fn actors_are_named_by_account_and_by_kind() {
        let n = names();
        assert_eq!(actor_label("account:2", &n), "李四（lisi，村(社区)操作员）");
        assert_eq!(actor_label("account:9", &n), "账号 9（已不存在）");
        assert!(actor_label("cli", &n).starts_with("命令行"));
        assert_eq!(actor_label("anonymous", &n), "未登录的访问者");
        assert_eq!(actor_label("robot", &n), "robot");
        assert_eq!(actor_label("account:x", &n), "account:x");
    }

    #[test]
    fn known_events_read_as_sentences() {
        let n = names();
        assert_eq!(
            summary(
                "item16.override",
                r#"{"village":"V01","grade":"较好","reason":"回访核实"}"#,
                &n
            ),
            "甲村 → 较好，理由：回访核实"
        );
        assert_eq!(
            summary(
                "roster.receipt",
                r#"{"village":7,"file_name":"a.xlsx","rows_read":30,"accepted":28,"fingerprint":"0123456789abcdef0123"}"#,
                &n
            ),
            "甲村，文件「a.xlsx」，读到 30 行，收下 28 人，指纹 0123456789abcdef…"
        );
        assert_eq!(
            summary(
                "grades",
                r#"{"village":"V01","grades":[{"item":1,"grade":"好"},{"item":2,"grade":"较好"},{"item":3,"grade":"好"},{"item":4,"grade":null}],"negative":[]}"#,
                &n
            ),
            "甲村，好 2 项、较好 1 项、未填 1 项；负面清单无情形"
        );
        assert_eq!(
            summary(
                "grades.self",
                r#"{"village":"V01","source":"self","grades":[{"item":1,"grade":"好"},{"item":2,"grade":null}]}"#,
                &n
            ),
            "甲村，村自评，好 1 项、未填 1 项"
        );
        assert_eq!(
            summary(
                "group_report.save",
                r#"{"village":"V01","source":"group","chars":120,"file":{"name":"报告.pdf"}}"#,
                &n
            ),
            "甲村，报告 120 字，文件「报告.pdf」"
        );
        assert_eq!(
            summary(
                "size.rule",
                r#"{"rule":{"method":"formula","margin":0.05,"confidence":0.95,"census_below":50}}"#,
                &n
            ),
            "按公式计算，误差 ±5%，置信度 95%，不足 50 人的村(社区)全部调查"
        );
        assert_eq!(
            summary(
                "attempt",
                r#"{"case":3,"outcome":"no_such","stored":false}"#,
                &n
            ),
            "样本 3，结果：no_such（未生效）"
        );
        assert_eq!(
            summary("account.reset", r#"{"account":2,"username":"lisi"}"#, &n),
            "账号 李四（lisi，村(社区)操作员）"
        );
    }

    #[test]
    fn unknown_events_list_the_fields_they_share_and_broken_details_are_no_panic() {
        let n = names();
        assert_eq!(
            summary("old.event", r#"{"village":7,"case":4,"x":1}"#, &n),
            "村(社区)：甲村，样本：4"
        );
        for event in crate::audit::EVENT_NAMES.iter().map(|(k, _)| *k) {
            for details in ["", "null", "[]", "{}", "\"x\"", r#"{"grades":3,"rule":[]}"#] {
                summary(event, details, &n);
            }
        }
    }

    #[test]
    fn phone_numbers_in_free_text_are_masked() {
        assert_eq!(
            mask_phones("请回电13800138000或0745-1234567，07451234567"),
            "请回电138****8000或0745-1234567，074****4567"
        );
        let n = names();
        let s = summary(
            "objection.add",
            r#"{"objection":1,"village":7,"summary":"联系人 13912345678 反映"}"#,
            &n,
        );
        assert!(
            s.contains("139****5678") && !s.contains("13912345678"),
            "{s}"
        );
    }
}

//! `minyi demo`: fills an empty database with an invented town so a
//! newcomer sees every page with data: 12 villages with rosters, a draw, answered cases,
//! panel ratings, closed fieldwork, grades of items 1–15 from every source, a negative-list
//! finding, and the results published for publicity with the notice posted in the villages.
//! Before it, the same round two years earlier, carried through the 镇纪委's study and the
//! 镇党委's approval to titles in the register, so the register and each village's page
//! comparing its rounds have data. The campaigns are marked as demo and every page says so.

use crate::db::{Db, NewAccount, NewResponse, Notice, RosterTarget};
use crate::domain::{Grade, Role, VillageCode, today};
use crate::forms::{
    Form, RELATION_QUESTION, Relation, SCREENER_QUESTION, SCREENER_YES, parse_answers,
};
use crate::ids::{CampaignId, VillageId};
use crate::ops::publicity::NewObjection;
use crate::ops::results::{GradeSheet, SheetItem};
use crate::ops::{self, Actor};
use crate::results::calendar::parse_date;
use crate::results::notice::Contact;
use crate::roster::Limits;
use crate::sampling::Seed;
use anyhow::{Context, anyhow, bail};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// The invented villages: (code, name, roster size, how satisfied its people are).
const VILLAGES: [(&str, &str, u64, f64); 12] = [
    ("430527101", "唐家坊村（演示）", 420, 0.93),
    ("430527102", "金屋村（演示）", 260, 0.88),
    ("430527103", "白毛坪村（演示）", 610, 0.80),
    ("430527104", "红岩村（演示）", 180, 0.95),
    ("430527105", "枫林村（演示）", 330, 0.70),
    ("430527106", "石门村（演示）", 140, 0.90),
    ("430527107", "长铺社区（演示）", 720, 0.85),
    ("430527108", "茶园村（演示）", 95, 0.92),
    ("430527109", "水口村（演示）", 240, 0.60),
    ("430527110", "大坪村（演示）", 300, 0.97),
    ("430527111", "新田村（演示）", 160, 0.83),
    ("430527112", "竹山村（演示）", 45, 0.89),
];

/// Comments some respondents leave (invented).
const COMMENTS: [&str; 6] = [
    "村干部办事热情，希望继续保持。",
    "低保评定希望更公开一些，张榜时间长一点。",
    "办证明要跑两趟，希望能一次办好。",
    "村务公开栏很久没更新了。",
    "=这条以等号开头，下载时不会被当作公式",
    "总体满意，谢谢关心。",
];

/// A small deterministic generator on top of ChaCha8 (the demo is the same every time).
struct Dice(ChaCha8Rng);

impl Dice {
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }
}

/// What `minyi demo` made: the campaign id and the accounts' one-time passwords.
pub struct DemoOutcome {
    pub campaign_id: CampaignId,
    pub admin_password: Option<String>,
    pub village_password: String,
}

/// Fills an empty database (no campaign yet) with the demo town.
pub async fn fill(db: &Db) -> anyhow::Result<DemoOutcome> {
    if !db.list_campaigns().await?.is_empty() {
        bail!("the database already holds campaigns; the demo only fills an empty database");
    }
    let admin_password = crate::http::bootstrap_admin(db).await?;
    let admin = db
        .account_by_username("admin")
        .await?
        .ok_or_else(|| anyhow!("no admin account"))?
        .id;
    let forms = crate::forms::builtin().map_err(|e| anyhow!("built-in forms: {e:?}"))?;
    let mut dice = Dice(ChaCha8Rng::seed_from_u64(2026));

    let by = Actor::account(admin);
    // Two years ago: the first round, which ended with titles granted by the 镇党委 (the
    // register and each village's page comparing its rounds show it). Its own dice, so this
    // year's round below is the same as before the earlier year was added.
    let before = Round {
        name: "【演示】2024年廉洁村（社区）民意调查",
        year: 2024,
        seed: "演示 2024-09-30 公开摇号 2 7 1 8 2 8 1 8",
        today: "2024-11-25".into(),
        phones_from: 13_600_000_000,
    };
    let mut early_dice = Dice(ChaCha8Rng::seed_from_u64(2024));
    let (earlier, _) = round(db, &by, &forms, &mut early_dice, &before).await?;
    decide_and_approve(db, &by, earlier, "2024-12-16", "2024-12-20").await?;

    let now = Round {
        name: "【演示】2026年廉洁村（社区）民意调查",
        year: 2026,
        seed: "演示 2026-09-30 公开摇号 3 1 4 1 5 9 2 6",
        today: today(),
        phones_from: 13_700_000_000,
    };
    let (campaign, villages) = round(db, &by, &forms, &mut dice, &now).await?;
    let date = now.today;
    let objection = NewObjection {
        village_id: Some(villages[8].0),
        received_on: &date,
        summary: "演示：村民认为低保评定不公开",
    };
    ops::publicity::add_objection(db, &by, campaign, &objection).await?;

    let village_password = crate::password::one_time("demo_village", "唐家坊村（演示）报送员")
        .map_err(|w| anyhow!("no one-time password met the rule: {w}"))?;
    let hash = {
        let p = village_password.clone();
        tokio::task::spawn_blocking(move || crate::secrets::hash_password(&p))
            .await?
            .map_err(anyhow::Error::msg)?
    };
    let account = NewAccount {
        username: "demo_village",
        display_name: "唐家坊村（演示）报送员",
        role: Role::Village,
        village_id: Some(villages[0].0),
        password_hash: &hash,
        must_change_password: true,
    };
    ops::accounts::create(db, &by, &account).await?;
    Ok(DemoOutcome {
        campaign_id: campaign,
        admin_password,
        village_password,
    })
}

/// After a round's publicity: the 镇纪委 studies every village on the final list on `studied`,
/// the 镇党委 approves each on `approved`, granting the title, and the round is approved.
async fn decide_and_approve(
    db: &Db,
    by: &Actor,
    campaign: CampaignId,
    studied: &str,
    approved: &str,
) -> anyhow::Result<()> {
    let day = |d: &str| parse_date(d).ok_or_else(|| anyhow!("{d} is not a date"));
    let (studied, approved) = (day(studied)?, day(approved)?);
    let today = day(&today())?;
    let list = {
        let mut tx = db.begin().await?;
        tx.final_list(campaign).await?
    };
    for (n, village) in list.into_iter().enumerate() {
        let minutes = format!("唐家坊镇纪委会议纪要〔2024〕{}号（演示）", n + 1);
        ops::decisions::record_study(db, by, campaign, village, studied, &minutes, today).await?;
        let decision = crate::db::PartyDecision::Approved {
            decision_ref: "唐镇党发〔2024〕38号（演示）",
        };
        ops::decisions::record_decision(db, by, campaign, village, approved, decision, today)
            .await?;
    }
    ops::publicity::approve(db, by, campaign, &approved.to_string()).await?;
    Ok(())
}

/// One year's round of the demo.
struct Round {
    name: &'static str,
    year: i64,
    seed: &'static str,
    /// The day the round's fieldwork, grading and publicity happen (YYYY-MM-DD).
    today: String,
    /// The first roster phone (each round's people are told apart by their numbers).
    phones_from: u64,
}

/// Runs one round on the demo villages up to publicity: rosters, the draw, answered cases,
/// panel ratings, closed fieldwork, grades, confirmed uncertain grades, and publication on
/// the round's day. Returns the campaign and each village with its satisfaction level.
async fn round(
    db: &Db,
    by: &Actor,
    forms: &crate::forms::FormSet,
    dice: &mut Dice,
    spec: &Round,
) -> anyhow::Result<(CampaignId, Vec<(VillageId, f64)>)> {
    let admin = by
        .account_id()
        .ok_or_else(|| anyhow!("the demo acts as an account"))?;
    let campaign =
        ops::campaigns::create_demo(db, by, spec.name, "唐家坊镇（演示）", spec.year).await?;
    let notice = Notice {
        party: "演示调查中心（虚构）".into(),
        phone: "0739-0000000".into(),
        source: Notice::DEFAULT_SOURCE.into(),
        retention: Notice::DEFAULT_RETENTION.into(),
        contact: "唐家坊镇纪委（演示），电话 0739-0000001".into(),
    };
    ops::campaigns::set_notice(db, by, campaign, &notice).await?;
    // Where objections to the publicity notice go, which publishing requires.
    let contact = Contact::parse(
        "0739-0000001",
        "唐家坊镇人民政府二楼纪委办公室（演示）",
        "中共唐家坊镇纪律检查委员会（演示）",
    )
    .map_err(anyhow::Error::msg)?;
    ops::campaigns::set_notice_contact(db, by, campaign, &contact).await?;
    // The creation started a year ago: the negative list counts from two years back.
    if let Some(started) = crate::results::assess::negative_window_start(&spec.today) {
        ops::campaigns::set_creation_start(db, by, campaign, &started).await?;
    }
    let mut villages = Vec::new();
    for (i, (code, name, size, level)) in VILLAGES.iter().enumerate() {
        let code = VillageCode::parse(code).map_err(anyhow::Error::msg)?;
        let id = match ops::campaigns::create_village(db, by, &code, name).await {
            Ok(id) => id,
            Err(_) => db.village_by_code(code.as_str()).await?.id,
        };
        let mut csv = String::from("姓名,联系电话,服务事项\n");
        for n in 0..*size {
            let phone = spec.phones_from + (i as u64) * 100_000 + n * 37;
            csv.push_str(&format!("演示{n}号,{phone},开证明\n"));
        }
        let target = RosterTarget {
            campaign_id: campaign,
            village_id: id,
            file_name: format!("{name}服务对象名单.csv"),
            uploaded_by: Some(admin),
        };
        ops::rosters::import(
            db,
            by,
            &target,
            std::io::Cursor::new(csv.into_bytes()),
            Limits::default(),
        )
        .await
        .with_context(|| format!("demo roster of {name}"))?;
        villages.push((id, *level));
    }
    ops::draw::freeze(db, admin, campaign).await?;
    let seed = Seed::parse(spec.seed).map_err(anyhow::Error::msg)?;
    ops::draw::enter_seed(db, admin, campaign, &seed).await?;
    ops::draw::draw(db, admin, campaign).await?;
    ops::fieldwork::start(db, by, campaign, forms).await?;

    // Most released cases answer by phone; the rest stay open.
    let date = spec.today.clone();
    for case in db.cases(campaign, None).await? {
        let level = villages
            .iter()
            .find(|v| v.0 == case.village_id)
            .map(|v| v.1)
            .unwrap_or(0.8);
        if dice.unit() > 0.72 {
            continue;
        }
        // A few say on the phone they have not used the village's services this year: the
        // screener ends the interview and the call is recorded as 非服务对象.
        if dice.unit() < 0.04 {
            let now = crate::domain::now();
            let attempt = crate::db::NewAttempt {
                case_id: case.id,
                attempted_at: now,
                attempted_on: date.clone(),
                outcome: crate::dispositions::Outcome::NotRecipient,
                callback_at: None,
                note: Some("筛选题答“没办过”".into()),
                recorded_by: Some(admin),
                import_key: None,
            };
            crate::ops::fieldwork::record_attempt(db, by, campaign, &attempt).await?;
            continue;
        }
        let answers = recipient_answers(&forms.recipients, level, dice)?;
        let response = new_response(campaign, case.village_id, &forms.recipients, answers);
        crate::ops::fieldwork::phone_interview(db, by, campaign, case.id, &response, admin).await?;
    }
    let panel = [
        ("演示党代表甲", "党代表"),
        ("演示党代表乙", "党代表"),
        ("演示人大代表甲", "人大代表"),
        ("演示人大代表乙", "人大代表"),
        ("演示政协委员甲", "政协委员"),
        ("演示政协委员乙", "政协委员"),
        ("演示乡贤", "其他"),
    ];
    // Members mostly liaise with a village or do not know it well; the 乡贤 lives in the
    // first village he rates, so that rating is recused.
    let mut resident_given = false;
    for (m, (name, category)) in panel.into_iter().enumerate() {
        let member =
            ops::fieldwork::add_panel_member(db, by, campaign, name, category, None).await?;
        for (n, (village, level)) in villages.iter().enumerate() {
            if dice.unit() < 0.1 {
                continue;
            }
            let relation = if name == "演示乡贤" && !resident_given {
                resident_given = true;
                Relation::Resident
            } else if (m + n) % 3 == 0 {
                Relation::Unfamiliar
            } else {
                Relation::Liaison
            };
            let answers = panel_answers(&forms.panel, *level, relation, dice)?;
            let response = new_response(campaign, *village, &forms.panel, answers);
            db.submit_panel_rating(member, &response).await?;
        }
    }
    crate::ops::fieldwork::close(db, by, campaign).await?;

    // Items 1–14 (final): mostly 好; the least satisfied village gets an 一般, one a negative-list
    // finding (⑥, petitions left unresolved), which makes its item 15 差.
    for (n, ((village, level), (code, ..))) in villages.iter().zip(VILLAGES).enumerate() {
        let items = (1..=14i64)
            .map(|item| {
                let grade = if *level < 0.65 && item == 7 {
                    Grade::Average
                } else if dice.unit() < 0.12 {
                    Grade::FairlyGood
                } else {
                    Grade::Good
                };
                SheetItem {
                    item,
                    grade: Some(grade),
                    note: "演示数据".into(),
                }
            })
            .collect();
        let negative = (1..=8i64)
            .map(|s| {
                (
                    s,
                    (n == 4 && s == 6).then(|| crate::db::NegativeFinding {
                        note: "演示：信访件未按期办结".to_string(),
                        event_date: spec.today.clone(),
                        petitions: Some(9),
                        petitions_resolved: Some(3),
                    }),
                )
            })
            .collect();
        let v = ops::results::Village {
            campaign_id: campaign,
            village_id: *village,
            code,
        };
        // The village rates itself 好 throughout, a little kinder than the final grades;
        // the assessment group leaves its written report (text only).
        let own = ops::results::SourceSheet {
            source: crate::db::GradeSource::SelfAssessment,
            items: (1..=14)
                .map(|item| SheetItem {
                    item,
                    grade: Some(Grade::Good),
                    note: "演示:村自评".into(),
                })
                .collect(),
        };
        ops::results::save_source_grades(db, by, v, &own, ops::results::EnteredBy::Commission)
            .await?;
        let report =
            "演示:考核验收评估组查阅了会议记录、台账和公开栏,走访了村民,逐项情况与各项等次一致。";
        ops::results::save_group_report(db, by, v, report, None).await?;
        let sheet = GradeSheet { items, negative };
        ops::results::save_grades(db, by, v, &sheet).await?;
    }
    // The scheme asks the 领导小组 to confirm each uncertain grade before publicity: the
    // demo keeps every computed one, with its reason, as a person would on the village page.
    let pending = ops::publicity::unconfirmed_uncertain(db, campaign).await?;
    if !pending.is_empty() {
        let forms = crate::fieldwork::pinned_forms(db, campaign).await?;
        let results = crate::results::report::campaign_results(db, campaign, &forms).await?;
        for v in results
            .villages
            .iter()
            .filter(|v| pending.contains(&v.code))
        {
            let grade = v.item16.grade.as_deref().and_then(Grade::parse);
            let village = ops::results::Village {
                campaign_id: campaign,
                village_id: v.village_id,
                code: &v.code,
            };
            let reason = "演示：领导小组研究，误差范围跨过等次线，维持计算等次";
            ops::results::override_item16(db, by, village, grade, reason).await?;
        }
    }
    let start = parse_date(&date).ok_or_else(|| anyhow!("today {date} is not a date"))?;
    ops::publicity::publish(db, by, campaign, start).await?;
    Ok((campaign, villages))
}

fn new_response(
    campaign_id: CampaignId,
    village_id: VillageId,
    form: &Form,
    answers_json: String,
) -> NewResponse {
    NewResponse {
        campaign_id,
        village_id,
        questionnaire: form.audience,
        form_id: form.id.clone(),
        form_version: form.version.clone(),
        form_sha256: form.sha256.clone(),
        answers_json,
        duration: crate::duration::Duration::Unknown,
    }
}

/// One option of four, best first, for someone satisfied with probability `level`.
fn pick<'a>(options: &'a [&'a str; 4], level: f64, dice: &mut Dice) -> &'a str {
    if dice.unit() < 0.04 {
        return "dont_know";
    }
    let good = dice.unit() < level;
    match (good, dice.unit()) {
        (true, x) if x < 0.6 => options[0],
        (true, _) => options[1],
        (false, x) if x < 0.7 => options[2],
        (false, _) => options[3],
    }
}

/// One recipient's answers to the recipients' form: they have used the village's services
/// (the screener; those who have not are recorded as a call outcome instead), mostly
/// 满意/比较满意 by `level`, some 说不清, a few say someone told them how to answer.
fn recipient_answers(form: &Form, level: f64, dice: &mut Dice) -> anyhow::Result<String> {
    let options = ["满意", "比较满意", "不太满意", "不满意"];
    let mut fields = Vec::new();
    if form.question(SCREENER_QUESTION).is_some() {
        fields.push((SCREENER_QUESTION.to_string(), SCREENER_YES.to_string()));
    }
    for q in form.scored_questions() {
        fields.push((q.id.clone(), pick(&options, level, dice).to_string()));
    }
    if form.question("coached").is_some() {
        let coached = if dice.unit() < 0.03 { "yes" } else { "no" };
        fields.push(("coached".into(), coached.into()));
    }
    if form.question("age_band").is_some() && dice.unit() < 0.9 {
        let band = ["under40", "40to59", "60plus"][dice.below(3)];
        fields.push(("age_band".into(), band.into()));
    }
    if dice.unit() < 0.15 {
        fields.push((
            "comment".into(),
            COMMENTS[dice.below(COMMENTS.len())].into(),
        ));
    }
    let answers =
        parse_answers(form, &fields).map_err(|e| anyhow!("demo answers: {:?}", e.messages_zh()))?;
    Ok(answers.to_json())
}

fn panel_answers(
    form: &Form,
    level: f64,
    relation: Relation,
    dice: &mut Dice,
) -> anyhow::Result<String> {
    let options = ["好", "较好", "一般", "差"];
    let mut fields: Vec<(String, String)> = form
        .scored_questions()
        .map(|q| (q.id.clone(), pick(&options, level, dice).to_string()))
        .collect();
    if form.question(RELATION_QUESTION).is_some() {
        fields.push((RELATION_QUESTION.into(), relation.key().into()));
    }
    if form.question("heard_misconduct").is_some() {
        // The less satisfied a village's people, the likelier a member heard of misconduct.
        let heard = if dice.unit() < (1.0 - level) * 0.5 {
            "yes"
        } else {
            "no"
        };
        fields.push(("heard_misconduct".into(), heard.into()));
    }
    let answers = parse_answers(form, &fields)
        .map_err(|e| anyhow!("demo panel answers: {:?}", e.messages_zh()))?;
    Ok(answers.to_json())
}

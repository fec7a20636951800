//! Progress at a glance: one line per village for the commission while fieldwork runs —
//! how far it is (a bar), the response rate in words, and what to do next — so nobody has
//! to read the AAPOR table to know where to push. Pure: a progress row in, a line out.

use super::progress::ProgressRow;
use serde::Serialize;

/// One village's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Glance {
    pub code: String,
    pub name: String,
    pub completes: u64,
    pub target: u64,
    /// Completes over the target in whole percent, at most 100: the bar's length.
    pub percent: u64,
    /// How far, in words: the bar's text alternative.
    pub done_zh: String,
    /// The response rate (RR1) in words.
    pub rate_zh: String,
    /// What to do next.
    pub next_zh: String,
    /// The next step needs the commission, not only the surveyors.
    pub attention: bool,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The line of one village's (or the campaign's) progress row.
pub fn glance(row: &ProgressRow) -> Glance {
    let (completes, target) = (count(row.completes), count(row.target));
    let percent = match target {
        0 => 100,
        t => (completes.min(t) * 100) / t,
    };
    let done_zh = format!("完成 {completes} 份，目标 {target} 份（{percent}%）");
    let rate_zh = match row.counts.rates().rr1 {
        None => "还没有结果".to_string(),
        Some(_) if row.counts.i + row.counts.p == 0 => "还没有人答完".to_string(),
        Some(rr1) => format!(
            "应答率 {:.1}%：该调查的人里，大约每 10 人有 {} 人答完",
            rr1 * 100.0,
            (rr1 * 10.0).round() as u64
        ),
    };
    let missing = target.saturating_sub(completes);
    let open = count(row.open);
    let reserve = count(row.population).saturating_sub(count(row.released));
    let (next_zh, attention) = if missing == 0 {
        ("已达到目标，不用再打".to_string(), false)
    } else if row.exhausted {
        (
            format!("备用名单已用完，还差 {missing} 份：请镇纪委决定是否让村(社区)补充名单"),
            true,
        )
    } else if open == 0 {
        (
            format!("没有正在联系的人，还差 {missing} 份；备用名单剩 {reserve} 人：请检查递补规则"),
            true,
        )
    } else if open + reserve < missing {
        (
            format!(
                "还有 {open} 人在联系中，备用名单只剩 {reserve} 人，还差 {missing} 份：可能不够，请提前准备"
            ),
            true,
        )
    } else {
        (
            format!("还有 {open} 人在联系中，继续拨打；备用名单剩 {reserve} 人"),
            false,
        )
    };
    Glance {
        code: row.code.clone(),
        name: row.name.clone(),
        completes,
        target,
        percent,
        done_zh,
        rate_zh,
        next_zh,
        attention,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fieldwork::rates::Counts;

    fn row(target: i64, population: i64, released: i64, completes: i64, open: i64) -> ProgressRow {
        ProgressRow {
            code: "V1".into(),
            name: "一村".into(),
            target,
            population,
            released,
            completes,
            open,
            ..ProgressRow::default()
        }
    }

    #[test]
    fn the_bar_the_rate_in_words_and_the_next_step() {
        let mut r = row(28, 30, 29, 14, 14);
        r.counts = Counts {
            i: 14,
            r: 4,
            nc: 5,
            ..Counts::default()
        };
        let g = glance(&r);
        assert_eq!(g.percent, 50);
        assert_eq!(g.done_zh, "完成 14 份，目标 28 份（50%）");
        // RR1 = 14 / (14 + 4 + 5) = 60.9%.
        assert_eq!(
            g.rate_zh,
            "应答率 60.9%：该调查的人里，大约每 10 人有 6 人答完"
        );
        assert_eq!(g.next_zh, "还有 14 人在联系中，继续拨打；备用名单剩 1 人");
        assert!(!g.attention);
    }

    #[test]
    fn each_next_step_in_its_turn() {
        let done = glance(&row(10, 20, 12, 11, 0));
        assert_eq!(
            (done.percent, done.next_zh.as_str()),
            (100, "已达到目标，不用再打")
        );
        let mut out = row(10, 12, 12, 6, 2);
        out.exhausted = true;
        let g = glance(&out);
        assert!(
            g.attention && g.next_zh.starts_with("备用名单已用完，还差 4 份"),
            "{g:?}"
        );
        let idle = glance(&row(10, 20, 10, 6, 0));
        assert!(
            idle.attention && idle.next_zh.contains("备用名单剩 10 人"),
            "{idle:?}"
        );
        let short = glance(&row(10, 12, 11, 3, 2));
        assert!(
            short.attention && short.next_zh.contains("可能不够"),
            "{short:?}"
        );
        let mut started = row(10, 20, 10, 0, 10);
        started.counts.nc = 10;
        assert_eq!(glance(&started).rate_zh, "还没有人答完");
        let none = glance(&row(0, 0, 0, 0, 0));
        assert_eq!((none.rate_zh.as_str(), none.percent), ("还没有结果", 100));
    }
}

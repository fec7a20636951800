//! How strong a password must be. Pure: a password and who it is for in, a verdict out.
//!
//! Every password that gets set passes [`check`]: one a person chooses on the password page,
//! and the one-time passwords the system makes for new and reset accounts ([`one_time`]).
//! The rule, in the order it is applied:
//!
//! 1. at least [`MIN_CHARS`] characters (and at most [`MAX_CHARS`]);
//! 2. not one of the common passwords in `common.txt` (also with digits and symbols read
//!    as the letters they stand for: `p@ssw0rd` is `password`);
//! 3. not containing the username or the person's name;
//! 4. not digits only (phone numbers, birthdays and ID numbers are guessed first);
//! 5. at least [`MIN_UNGUESSABLE`] characters left once the guessable parts are taken out:
//!    common passwords and words from the list, runs of three or more characters that are
//!    equal or neighbours in the alphabet, on the digit row or on a keyboard row
//!    (`aaa`, `abcd`, `4321`, `qwerty`, `1212`).
//!
//! This is a hand-made rule rather than the `zxcvbn` crate: its feedback is English, its
//! dictionaries are English, and the people here type pinyin and Chinese number habits
//! (`woaini1314`, `5201314`), which a short list covers.

/// Shortest password accepted.
pub const MIN_CHARS: usize = 10;
/// Longest password accepted (argon2 takes any length; this bounds the work per attempt).
pub const MAX_CHARS: usize = 128;
/// Characters that must remain once common words, sequences and repeats are taken out.
pub const MIN_UNGUESSABLE: usize = 6;

/// What the password page says about the rule, before anyone types.
pub const RULE_ZH: &str = "密码要求:至少 10 个字符;不能是常见密码(如 password123、1234567890);\
不能包含账号名或姓名;不能只有数字(手机号、生日容易被猜中);\
不能主要由连续或重复的字符组成(如 abcdef、qwertyuiop、1111111111)。\
好记又安全的做法:把三四个互不相关的拼音或英文单词用数字、符号连起来。";

/// Why a password is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weakness {
    TooShort,
    TooLong,
    Common,
    ContainsName,
    OnlyDigits,
    Guessable,
}

impl Weakness {
    /// For the person choosing the password.
    pub fn zh(self) -> &'static str {
        match self {
            Weakness::TooShort => "密码太短:至少需要 10 个字符。",
            Weakness::TooLong => "密码太长:最多 128 个字符。",
            Weakness::Common => {
                "这是一个常见密码(如 password123、1234567890),很容易被猜中,请换一个。"
            }
            Weakness::ContainsName => "密码不能包含账号名或姓名,请换一个。",
            Weakness::OnlyDigits => {
                "密码不能只有数字:手机号、生日、身份证号这类数字很容易被猜中。请加上字母或符号。"
            }
            Weakness::Guessable => {
                "这个密码主要由常见单词、连续或重复的字符(如 abcdef、qwerty、111111)组成,很容易被猜中。请再加几个不相关的字母、数字或符号。"
            }
        }
    }

    /// For logs and the command line.
    pub fn en(self) -> &'static str {
        match self {
            Weakness::TooShort => "password shorter than 10 characters",
            Weakness::TooLong => "password longer than 128 characters",
            Weakness::Common => "password is on the list of common passwords",
            Weakness::ContainsName => "password contains the username or the person's name",
            Weakness::OnlyDigits => "password consists of digits only",
            Weakness::Guessable => {
                "password is mostly common words, sequences or repeated characters"
            }
        }
    }
}

impl std::fmt::Display for Weakness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.en())
    }
}

impl std::error::Error for Weakness {}

/// The common passwords and password parts, lowercase, without comments and blank lines.
fn common() -> impl Iterator<Item = &'static str> {
    include_str!("common.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Digits and symbols read as the letters they are often typed for, character by character
/// (so positions stay aligned with the original).
fn unleet(c: char) -> char {
    match c {
        '0' => 'o',
        '1' | '!' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        _ => c,
    }
}

/// Is `password` acceptable for the account `username` of the person `display_name`?
pub fn check(password: &str, username: &str, display_name: &str) -> Result<(), Weakness> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err(Weakness::TooShort);
    }
    if n > MAX_CHARS {
        return Err(Weakness::TooLong);
    }
    let lower: Vec<char> = password.to_lowercase().chars().collect();
    let plain: String = lower.iter().collect();
    let unleeted: String = lower.iter().copied().map(unleet).collect();
    if common().any(|w| w == plain || w == unleeted) {
        return Err(Weakness::Common);
    }
    if contains_name(&plain, username, display_name) {
        return Err(Weakness::ContainsName);
    }
    if password.chars().all(|c| c.is_ascii_digit()) {
        return Err(Weakness::OnlyDigits);
    }
    let left = unguessable(&lower).min(unguessable(&unleeted.chars().collect::<Vec<_>>()));
    if left < MIN_UNGUESSABLE {
        return Err(Weakness::Guessable);
    }
    Ok(())
}

/// The username (3 characters or more, either way round) or the display name (2 or more)
/// inside the lowercase password.
fn contains_name(lower: &str, username: &str, display_name: &str) -> bool {
    let user = username.trim().to_lowercase();
    let reversed: String = user.chars().rev().collect();
    let name = display_name.trim().to_lowercase();
    (user.chars().count() >= 3 && (lower.contains(&user) || lower.contains(&reversed)))
        || (name.chars().count() >= 2 && lower.contains(&name))
}

/// The rows of a keyboard (and the digit row), where neighbours are as easy as `abc`.
const KEYBOARD_ROWS: [&str; 4] = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"];

/// Two characters typed one after the other without thought: equal, neighbours in the
/// alphabet or among digits, or neighbours on a keyboard row.
fn adjacent(a: char, b: char) -> bool {
    if a == b {
        return true;
    }
    let both_alnum = a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric();
    if both_alnum && (a as u32).abs_diff(b as u32) == 1 {
        return true;
    }
    KEYBOARD_ROWS.iter().any(|row| {
        let (Some(i), Some(j)) = (row.find(a), row.find(b)) else {
            return false;
        };
        i.abs_diff(j) == 1
    })
}

/// How many characters of `lower` are not part of a common word, a run of three or more
/// adjacent characters, or a short unit repeated.
fn unguessable(lower: &[char]) -> usize {
    let mut covered = vec![false; lower.len()];
    for word in common().filter(|w| w.chars().count() >= 4) {
        let w: Vec<char> = word.chars().collect();
        for start in 0..lower.len().saturating_sub(w.len() - 1) {
            if lower[start..start + w.len()] == w[..] {
                covered[start..start + w.len()].fill(true);
            }
        }
    }
    // Runs of adjacent characters (`aaa`, `abc`, `cba`, `qwe`, `1212`).
    let mut start = 0;
    for i in 1..=lower.len() {
        if i == lower.len() || !adjacent(lower[i - 1], lower[i]) {
            if i - start >= 3 {
                covered[start..i].fill(true);
            }
            start = i;
        }
    }
    // A unit of 2 to 4 characters written twice or more in a row (`a1a1`, `xyzxyz`).
    for unit in 2..=4 {
        for i in 0..lower.len().saturating_sub(2 * unit - 1) {
            if lower[i..i + unit] == lower[i + unit..i + 2 * unit] {
                covered[i..i + 2 * unit].fill(true);
            }
        }
    }
    covered.iter().filter(|c| !**c).count()
}

/// A one-time password for a new or reset account that itself passes [`check`] (a random
/// draw could, very rarely, contain the username or a run such as `abcd`).
pub fn one_time(username: &str, display_name: &str) -> Result<String, Weakness> {
    let mut last = Err(Weakness::Guessable);
    for _ in 0..32 {
        let candidate = crate::secrets::one_time_password();
        match check(&candidate, username, display_name) {
            Ok(()) => return Ok(candidate),
            Err(w) => last = Err(w),
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_with_the_reason() {
        let cases = [
            ("short", Weakness::TooShort),
            ("123456789", Weakness::TooShort),
            ("1234567890", Weakness::Common),
            ("password123", Weakness::Common),
            ("Password123", Weakness::Common),
            ("P@ssw0rd", Weakness::TooShort),
            ("Adm1n1strat0r", Weakness::Common),
            ("P@ssw0rd123", Weakness::Guessable),
            ("qwertyuiop", Weakness::Common),
            ("1111111111", Weakness::Common),
            ("woaini1314", Weakness::Common),
            ("1qaz2wsx3edc", Weakness::Common),
            ("zhangwei-2026", Weakness::ContainsName),
            ("2026-iewgnahz", Weakness::ContainsName),
            ("mima张伟mima12", Weakness::ContainsName),
            ("13907316482", Weakness::OnlyDigits),
            ("20260930199001", Weakness::OnlyDigits),
            ("abcdefghijklm", Weakness::Guessable),
            ("9876543210", Weakness::OnlyDigits),
            ("zyxwvutsrqp", Weakness::Guessable),
            ("2222222222", Weakness::OnlyDigits),
            ("aaaaaaaaaa", Weakness::Guessable),
            ("asdfghjkl;'", Weakness::Guessable),
            ("ababababab", Weakness::Guessable),
            ("Password2026!", Weakness::Guessable),
            ("iloveyou1234", Weakness::Guessable),
            ("admin12345678", Weakness::Guessable),
            ("qwerty123456", Weakness::Guessable),
            ("abc123abc123", Weakness::Guessable),
            ("woaini5201314", Weakness::Guessable),
            ("1q2w3e4r5t6y", Weakness::Guessable),
        ];
        for (password, why) in cases {
            assert_eq!(
                check(password, "zhangwei", "张伟"),
                Err(why),
                "{password:?}"
            );
        }
        assert_eq!(check(&"x7".repeat(65), "u", ""), Err(Weakness::TooLong));
    }

    #[test]
    fn passwords_with_enough_unguessable_characters_pass() {
        for password in [
            "Heshan-lu7-yumao",
            "lanshan7yumao!",
            "village-password-1",
            "surveyor-password-2026",
            "panel-password-1",
            "a-new-password",
            "吃葡萄不吐葡萄皮2026",
            "k3Xp9wQ2mZ",
        ] {
            assert_eq!(check(password, "op1", "一村操作员"), Ok(()), "{password:?}");
        }
    }

    #[test]
    fn the_username_counts_only_from_three_characters() {
        assert_eq!(check("xk-heshan-yumao", "xk", ""), Ok(()));
        assert_eq!(
            check("OP1-heshan-yumao", "op1", ""),
            Err(Weakness::ContainsName)
        );
    }

    #[test]
    fn one_time_passwords_pass_the_rule() {
        for _ in 0..200 {
            let p = one_time("admin", "镇纪委管理员").unwrap();
            assert_eq!(check(&p, "admin", "镇纪委管理员"), Ok(()), "{p}");
        }
    }

    #[test]
    fn the_rule_never_panics_on_odd_input() {
        for password in [
            "",
            "\u{130}\u{130}\u{130}\u{130}\u{130}\u{130}\u{130}\u{130}\u{130}\u{130}",
            "\0\0\0\0\0\0\0\0\0\0\0",
            "😀😀😀😀😀😀😀😀😀😀",
            "ｐａｓｓｗｏｒｄ１２３",
        ] {
            let _ = check(password, "", "");
            let _ = check(password, "😀", "\u{130}");
        }
    }
}

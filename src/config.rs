//! Settings of a running server, from flags and environment variables (see the README).

use std::fmt;

/// Everything `minyi serve` needs to know. `Debug` never prints the database password.
#[derive(Clone)]
pub struct Config {
    /// Where to listen, e.g. `127.0.0.1:8080`.
    pub bind: String,
    /// `sqlite://minyi.db` (default) or `postgres://…`.
    pub database_url: String,
    /// The address people reach the app at; survey links are built on it.
    pub base_url: String,
    /// Largest accepted upload body, in bytes.
    pub upload_limit: usize,
    /// Most data rows accepted in one roster file.
    pub max_rows: u64,
    /// Where the questionnaire files are read from when a campaign's fieldwork starts
    /// (the copies built into the binary are used if this folder does not exist).
    pub forms_dir: std::path::PathBuf,
}

impl Config {
    /// Cookies get the `Secure` attribute when the app is reached over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// What is wrong with the base URL for links that go out to people's phones, if anything.
    pub fn base_url_problem(&self) -> Option<BaseUrlProblem> {
        BaseUrlProblem::of(&self.base_url)
    }
}

/// Why a base URL is unfit for the survey links sent by SMS and printed for the panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseUrlProblem {
    /// Not an `http://` or `https://` address with a host: no link built on it opens.
    Malformed,
    /// Names this machine (`localhost`, 127.0.0.0/8, `::1`, `0.0.0.0`): respondents' phones
    /// cannot open it. The default base URL is one.
    Loopback,
    /// `http://` to another host: links open, but answers and logins cross the network
    /// unencrypted and session cookies are not marked `Secure`.
    PlainHttp,
}

impl BaseUrlProblem {
    /// Look at `url` (as given to `--base-url`); `None` for an `https://` public address.
    pub fn of(url: &str) -> Option<Self> {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            return Some(Self::Malformed);
        };
        let https = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return Some(Self::Malformed),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = match host_port.strip_prefix('[') {
            // An IPv6 literal: `[::1]:8080`.
            Some(v6) => match v6.split_once(']') {
                Some((h, _)) => h,
                None => return Some(Self::Malformed),
            },
            None => host_port.split(':').next().unwrap_or_default(),
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() {
            return Some(Self::Malformed);
        }
        let loopback = host == "localhost"
            || host.ends_with(".localhost")
            || host.parse::<std::net::IpAddr>().is_ok_and(|ip| {
                let ip = ip.to_canonical();
                ip.is_loopback() || ip.is_unspecified()
            });
        if loopback {
            Some(Self::Loopback)
        } else if !https {
            Some(Self::PlainHttp)
        } else {
            None
        }
    }

    /// Serious enough to stop links going out (as opposed to a weaker set-up).
    pub fn links_unusable(self) -> bool {
        matches!(self, Self::Malformed | Self::Loopback)
    }

    /// For the log, in English.
    pub fn en(self, url: &str) -> String {
        match self {
            Self::Malformed => format!(
                "the base URL {url} is not an http:// or https:// address: survey links built on it will not open; set --base-url (MINYI_BASE_URL) to the public https:// address"
            ),
            Self::Loopback => format!(
                "the base URL {url} points at this machine (loopback): survey links sent by SMS or printed for the panel will not open on respondents' phones; set --base-url (MINYI_BASE_URL) to the public https:// address"
            ),
            Self::PlainHttp => format!(
                "the base URL {url} uses plain http: survey answers and staff logins cross the network unencrypted and session cookies are not marked Secure; serve over HTTPS (a reverse proxy) and set --base-url https://…"
            ),
        }
    }

    /// For the staff pages from which links are issued, in Chinese.
    pub fn zh(self, url: &str) -> String {
        match self {
            Self::Malformed => format!(
                "短信链接的网址 {url} 不是以 http:// 或 https:// 开头的网址,链接打不开。请用 --base-url 设置对外的 https 地址。"
            ),
            Self::Loopback => format!(
                "短信链接的网址是 {url},居民的手机打不开。请用 --base-url 设置对外的 https 地址。"
            ),
            Self::PlainHttp => format!(
                "短信链接的网址是 {url},没有用 https 加密:居民的回答和工作人员的登录在网上明文传输。请在服务器前配置 HTTPS,并用 --base-url 设置 https 地址。"
            ),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://minyi.db".into(),
            base_url: "http://127.0.0.1:8080".into(),
            upload_limit: 20 * 1024 * 1024,
            max_rows: crate::limits::MAX_ROWS,
            forms_dir: "survey-forms".into(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database_url", &redact_url(&self.database_url))
            .field("base_url", &self.base_url)
            .field("upload_limit", &self.upload_limit)
            .field("max_rows", &self.max_rows)
            .field("forms_dir", &self.forms_dir)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_phones_cannot_open_or_that_are_unencrypted_are_named() {
        use BaseUrlProblem::*;
        for (url, expected) in [
            ("https://mydc.tjf.gov.cn", None),
            ("https://mydc.tjf.gov.cn:8443/minyi/", None),
            ("HTTPS://Example.CN", None),
            ("https://203.0.113.7", None),
            ("http://mydc.tjf.gov.cn", Some(PlainHttp)),
            ("http://192.168.1.20:8080", Some(PlainHttp)),
            ("http://127.0.0.1:8080", Some(Loopback)),
            ("https://127.0.0.1", Some(Loopback)),
            ("http://127.8.9.10", Some(Loopback)),
            ("http://localhost:8080/", Some(Loopback)),
            ("http://LOCALHOST.", Some(Loopback)),
            ("http://app.localhost", Some(Loopback)),
            ("http://[::1]:8080", Some(Loopback)),
            ("http://[::ffff:127.0.0.1]", Some(Loopback)),
            ("http://0.0.0.0:8080", Some(Loopback)),
            ("http://user:pw@127.0.0.1/", Some(Loopback)),
            ("mydc.tjf.gov.cn", Some(Malformed)),
            ("ftp://mydc.tjf.gov.cn", Some(Malformed)),
            ("https://", Some(Malformed)),
            ("https:///s/x", Some(Malformed)),
            ("http://[::1", Some(Malformed)),
            ("", Some(Malformed)),
        ] {
            assert_eq!(BaseUrlProblem::of(url), expected, "{url:?}");
        }
        let default = Config::default();
        assert_eq!(default.base_url_problem(), Some(Loopback));
    }

    #[test]
    fn database_passwords_never_appear_in_debug_output() {
        let c = Config {
            database_url: "postgres://minyi:hunter2@db/minyi".into(),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://minyi:***@db/minyi"));
        assert_eq!(redact_url("sqlite://minyi.db"), "sqlite://minyi.db");
    }
}

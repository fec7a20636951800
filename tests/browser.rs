//! A real browser: headless Chromium (Debian's `chromium` and `chromium-driver`) at phone size
//! (360×740 CSS px, pixel ratio 2) goes through a respondent's whole path — open the link,
//! answer some questions, see the validation messages, fix them, submit, reload the used
//! link — and through a village operator's roster upload, from the login page to the receipt.
//!
//! The test speaks the W3C WebDriver protocol to a `chromedriver` child process over HTTP.
//! Screenshots of every step go to `target/browser-artifacts/` (`<test>-<nn>-<step>.png`, and
//! `…-full.png` for the whole page); on a failure the last page's screenshot and HTML are kept
//! there too. Without `chromedriver`/`chromium` on the PATH the tests print a notice and
//! pass, unless `MINYI_BROWSER=1` (as `.ci/run` sets) makes the browser mandatory.

mod common;

use base64::Engine as _;
use common::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The phone: CSS pixels of a common cheap Android screen.
const PHONE_WIDTH: u32 = 360;
const PHONE_HEIGHT: u32 = 740;

/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where screenshots and failure pages go: `target/browser-artifacts`.
fn artifacts_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("browser-artifacts")
}

fn on_path(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// `chromedriver` and the Chromium binary, or `None` (and a notice) when the machine has none
/// and the browser is not required.
fn browser_binaries(test: &str) -> Option<(PathBuf, PathBuf)> {
    let driver = on_path("chromedriver");
    let chromium = on_path("chromium").or_else(|| on_path("chromium-browser"));
    match (driver, chromium) {
        (Some(d), Some(c)) => {
            let cjk = Command::new("fc-list").arg(":lang=zh").output();
            if !cjk.is_ok_and(|o| !o.stdout.is_empty()) {
                eprintln!(
                    "warning: no Chinese font (fc-list :lang=zh): the screenshots of {test} will \
                     show boxes instead of characters; apt-get install fonts-noto-cjk"
                );
            }
            Some((d, c))
        }
        (driver, chromium) => {
            let missing: Vec<&str> = [
                driver.is_none().then_some("chromedriver"),
                chromium.is_none().then_some("chromium"),
            ]
            .into_iter()
            .flatten()
            .collect();
            if std::env::var("MINYI_BROWSER").is_ok_and(|v| v == "1") {
                panic!(
                    "MINYI_BROWSER=1 requires the browser test, but the PATH lacks {}; \
                     install Debian's packages: apt-get install chromium chromium-driver fonts-noto-cjk",
                    missing.join(" and ")
                );
            }
            eprintln!(
                "SKIPPED browser test {test}: the PATH lacks {} (apt-get install chromium \
                 chromium-driver fonts-noto-cjk; MINYI_BROWSER=1 makes this a failure)",
                missing.join(" and ")
            );
            None
        }
    }
}

/// An element reference of the current page.
#[derive(Clone, Debug)]
struct El(String);

/// The bounding box of an element in CSS pixels.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
}

impl Rect {
    fn contains(&self, inner: &Rect) -> bool {
        inner.x >= self.x - 0.5
            && inner.y >= self.y - 0.5
            && inner.x + inner.width <= self.x + self.width + 0.5
            && inner.y + inner.height <= self.y + self.height + 0.5
    }
}

/// A headless Chromium session at phone size, driven through its own `chromedriver`.
/// Dropping it ends the session and the driver, also when the test fails (then the last page
/// is kept as `<test>-failure.png` and `.html`).
struct Browser {
    http: reqwest::Client,
    /// `127.0.0.1:<port>` of chromedriver.
    addr: String,
    session: String,
    driver: Child,
    name: &'static str,
    step: u32,
}

impl Browser {
    /// A browser for the test `name`, or `None` when the machine has none (see
    /// [`browser_binaries`]). Earlier artifacts of the same test are removed.
    async fn start(name: &'static str) -> Option<Browser> {
        let (driver_bin, chromium) = browser_binaries(name)?;
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).expect("create target/browser-artifacts");
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let prefix = format!("{name}-");
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        let log = dir.join(format!("{name}-chromedriver.log"));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("HTTP client");
        for _ in 0..3 {
            let port = free_port();
            let addr = format!("127.0.0.1:{port}");
            let log_file = std::fs::File::create(&log).expect("chromedriver log");
            let mut driver = Command::new(&driver_bin)
                .arg(format!("--port={port}"))
                .stdout(log_file.try_clone().expect("log file"))
                .stderr(log_file)
                .stdin(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", driver_bin.display()));
            let deadline = Instant::now() + Duration::from_secs(15);
            let mut ready = false;
            while Instant::now() < deadline {
                if driver.try_wait().ok().flatten().is_some() {
                    break; // most likely the port was taken in between: try another one
                }
                if let Ok(r) = http.get(format!("http://{addr}/status")).send().await
                    && let Ok(v) = r.json::<Value>().await
                    && v["value"]["ready"] == json!(true)
                {
                    ready = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if !ready {
                let _ = driver.kill();
                let _ = driver.wait();
                continue;
            }
            let capabilities = json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "pageLoadStrategy": "normal",
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--lang=zh-CN",
                        format!("--window-size={PHONE_WIDTH},{PHONE_HEIGHT}"),
                    ],
                    "prefs": {"intl.accept_languages": "zh-CN,zh"},
                    "mobileEmulation": {"deviceMetrics": {
                        "width": PHONE_WIDTH, "height": PHONE_HEIGHT, "pixelRatio": 2,
                    }},
                },
            }}});
            let created: Value = match http
                .post(format!("http://{addr}/session"))
                .json(&capabilities)
                .send()
                .await
            {
                Ok(r) => r.json().await.unwrap_or(Value::Null),
                Err(e) => json!({"value": {"error": "request failed", "message": e.to_string()}}),
            };
            let Some(session) = created["value"]["sessionId"].as_str() else {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!(
                    "chromedriver did not start Chromium: {created}\nchromedriver log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            };
            let browser = Browser {
                http,
                addr,
                session: session.to_string(),
                driver,
                name,
                step: 0,
            };
            browser
                .post(
                    "/timeouts",
                    json!({"pageLoad": 20_000, "script": 10_000, "implicit": 0}),
                )
                .await;
            return Some(browser);
        }
        panic!(
            "chromedriver did not become ready; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    }

    /// One WebDriver command of this session; the error (`no such element: …`) as `Err`.
    async fn try_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("http://{}/session/{}{path}", self.addr, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let v: Value = response.json().await.map_err(|e| e.to_string())?;
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        match value.get("error").and_then(Value::as_str) {
            Some(error) => Err(format!(
                "{error}: {}",
                value["message"].as_str().unwrap_or_default()
            )),
            None => Ok(value),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
    }

    async fn get(&self, path: &str) -> Value {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Open a URL and wait until it has loaded.
    async fn open(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// Reload the current page (the browser's reload button).
    async fn reload(&self) {
        self.post("/refresh", json!({})).await;
    }

    async fn current_url(&self) -> String {
        self.get("/url")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Run JavaScript in the page (the test's own probes; the pages must not need any).
    async fn script(&self, js: &str, args: Vec<Value>) -> Value {
        self.post("/execute/sync", json!({ "script": js, "args": args }))
            .await
    }

    fn el_json(el: &El) -> Value {
        json!({ ELEMENT_KEY: el.0 })
    }

    async fn try_find(&self, css: &str) -> Option<El> {
        self.try_call(
            Method::POST,
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )
        .await
        .ok()
        .and_then(|v| v[ELEMENT_KEY].as_str().map(|id| El(id.to_string())))
    }

    /// The first element matching `css`, waiting up to 5 s for it.
    async fn find(&self, css: &str) -> El {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(el) = self.try_find(css).await {
                return el;
            }
            if Instant::now() > deadline {
                panic!(
                    "no element {css:?} on {} (step {} of {})",
                    self.current_url().await,
                    self.step,
                    self.name
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn find_all(&self, css: &str) -> Vec<El> {
        let v = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT_KEY].as_str().map(|id| El(id.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn click(&self, el: &El) {
        self.post(&format!("/element/{}/click", el.0), json!({}))
            .await;
    }

    /// Type into a field (or give a file input the path of a file).
    async fn type_into(&self, el: &El, text: &str) {
        self.post(&format!("/element/{}/value", el.0), json!({ "text": text }))
            .await;
    }

    async fn text(&self, el: &El) -> String {
        self.get(&format!("/element/{}/text", el.0))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn text_of(&self, css: &str) -> String {
        let el = self.find(css).await;
        self.text(&el).await
    }

    async fn is_selected(&self, el: &El) -> bool {
        self.get(&format!("/element/{}/selected", el.0)).await == json!(true)
    }

    async fn is_displayed(&self, el: &El) -> bool {
        self.get(&format!("/element/{}/displayed", el.0)).await == json!(true)
    }

    async fn property(&self, el: &El, name: &str) -> Value {
        self.get(&format!("/element/{}/property/{name}", el.0))
            .await
    }

    async fn rect(&self, el: &El) -> Rect {
        let v = self.get(&format!("/element/{}/rect", el.0)).await;
        let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        Rect {
            x: f("x"),
            y: f("y"),
            width: f("width"),
            height: f("height"),
        }
    }

    async fn scroll_into_view(&self, el: &El) {
        self.script(
            "arguments[0].scrollIntoView({block: 'center'})",
            vec![Self::el_json(el)],
        )
        .await;
    }

    /// Click something that submits a form or follows a link, and wait until the next page has
    /// loaded (a new document, fully loaded).
    async fn click_and_wait(&self, el: &El) {
        self.script("window.__minyiOldPage = true", vec![]).await;
        self.click(el).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let done = self
                .try_call(
                    Method::POST,
                    "/execute/sync",
                    Some(json!({
                        "script": "return window.__minyiOldPage === undefined && document.readyState === 'complete'",
                        "args": [],
                    })),
                )
                .await;
            if done == Ok(json!(true)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: no new page loaded after the click (step {})",
                self.name,
                self.step
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn artifact(&self, file: &str) -> PathBuf {
        artifacts_dir().join(format!("{}-{file}", self.name))
    }

    /// Keep what the phone's screen shows now as `<test>-<nn>-<step>.png`, and the whole page
    /// (beyond the screen) as `<test>-<nn>-<step>-full.png`.
    async fn screenshot(&mut self, step: &str) {
        self.step += 1;
        let shown = self.get("/screenshot").await;
        let path = self.artifact(&format!("{:02}-{step}.png", self.step));
        write_png(&path, shown.as_str().unwrap_or_default());
        // The whole page through the DevTools protocol (chromedriver's own endpoint).
        if let Ok(full) = self
            .try_call(
                Method::POST,
                "/goog/cdp/execute",
                Some(json!({"cmd": "Page.captureScreenshot",
                    "params": {"format": "png", "captureBeyondViewport": true}})),
            )
            .await
        {
            let path = self.artifact(&format!("{:02}-{step}-full.png", self.step));
            write_png(&path, full["data"].as_str().unwrap_or_default());
        }
    }

    /// The page fits the phone's width: nothing makes it scroll sideways. Names the elements
    /// that stick out when it does not.
    async fn assert_fits_phone_width(&self, what: &str) {
        let v = self
            .script(
                "var w = window.innerWidth, out = [];
                 document.querySelectorAll('body *').forEach(function (e) {
                   var r = e.getBoundingClientRect();
                   if (r.right > w + 0.5 && out.length < 8)
                     out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                       (e.className ? '.' + String(e.className).split(' ').join('.') : '') +
                       ' right=' + Math.round(r.right));
                 });
                 return [document.documentElement.scrollWidth, w, out];",
                vec![],
            )
            .await;
        let (scroll_width, inner_width) = (v[0].as_f64().unwrap(), v[1].as_f64().unwrap());
        assert_eq!(
            inner_width,
            f64::from(PHONE_WIDTH),
            "{what}: the page is laid out for the phone's width (meta viewport)"
        );
        assert!(
            scroll_width <= inner_width,
            "{what}: the page is {scroll_width} px wide on a {inner_width} px phone screen \
             (sideways scrolling); sticking out: {}",
            v[2]
        );
    }

    /// The computed font size of an element, in CSS px.
    async fn font_px(&self, el: &El) -> f64 {
        let v = self
            .script(
                "return parseFloat(getComputedStyle(arguments[0]).fontSize)",
                vec![Self::el_json(el)],
            )
            .await;
        v.as_f64().unwrap_or(0.0)
    }

    /// On a failure: keep the page as it was (screenshot and HTML), best effort, without the
    /// async runtime (this runs in `drop`).
    fn keep_failure_page(&self) {
        let screenshot = sync_request(
            &self.addr,
            "GET",
            &format!("/session/{}/screenshot", self.session),
        );
        if let Some(v) = screenshot.and_then(|b| serde_json::from_str::<Value>(&b).ok()) {
            write_png(
                &self.artifact("failure.png"),
                v["value"].as_str().unwrap_or_default(),
            );
        }
        let source = sync_request(
            &self.addr,
            "GET",
            &format!("/session/{}/source", self.session),
        );
        if let Some(v) = source.and_then(|b| serde_json::from_str::<Value>(&b).ok()) {
            let _ = std::fs::write(
                self.artifact("failure.html"),
                v["value"].as_str().unwrap_or_default(),
            );
        }
        eprintln!(
            "browser test {} failed; its screenshots are in {}",
            self.name,
            artifacts_dir().display()
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.keep_failure_page();
        }
        // Ends the session: chromedriver closes Chromium.
        sync_request(&self.addr, "DELETE", &format!("/session/{}", self.session));
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A bodiless HTTP/1.1 request over a plain socket (for `drop`, where nothing can be awaited);
/// returns the response body.
fn sync_request(addr: &str, method: &str, path: &str) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    // chromedriver may keep the connection open: read the header, then Content-Length bytes.
    let mut response = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    let (header_end, length) = loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        response.extend_from_slice(&buf[..n]);
        if let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            let header = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
            let length = header
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())?;
            break (end + 4, length);
        }
    };
    while response.len() < header_end + length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
    }
    let body = &response[header_end..response.len().min(header_end + length)];
    Some(String::from_utf8_lossy(body).into_owned())
}

fn write_png(path: &Path, base64_png: &str) {
    let png = base64::engine::general_purpose::STANDARD
        .decode(base64_png)
        .expect("a base64 PNG from the browser");
    std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// The radio button or checkbox of `question` with `value`.
fn choice(question: &str, value: &str) -> String {
    format!("input[name=\"{question}\"][value=\"{value}\"]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_respondent_answers_on_a_phone_in_a_real_browser() {
    let Some(mut b) = Browser::start("respondent").await else {
        return;
    };
    let app = spawn().await;
    let (t, sv) = fieldwork(&app).await;
    let tokens: Vec<String> = invitations(&app, &sv, t.campaign)
        .await
        .into_iter()
        .map(|(_, token)| token)
        .collect();
    let link = format!("{}/s/{}", app.base, tokens[0]);

    // The link from the SMS: the privacy statement first, then the questions, readable and
    // tappable on a small screen.
    b.open(&link).await;
    assert!(b.text_of("h1").await.contains("满意度调查"));
    let privacy = b.text_of(".privacy").await;
    assert!(privacy.contains("看不到谁参加了调查"), "{privacy}");
    assert!(privacy.contains("一村"), "names the village: {privacy}");
    b.assert_fits_phone_width("the survey form").await;
    let legend = b.find("#q-attitude legend").await;
    assert!(b.font_px(&legend).await >= 16.0, "question text is large");
    for option in &b.find_all(".card:not([hidden]) .opt").await {
        let r = b.rect(option).await;
        assert!(r.height >= 44.0, "an answer is a thumb-sized target: {r:?}");
        assert!(
            r.x >= 0.0 && r.x + r.width <= f64::from(PHONE_WIDTH),
            "{r:?}"
        );
    }
    b.screenshot("opened").await;

    // Some answers, two required questions left out, a comment typed in Chinese.
    let chosen = [
        ("services_used", "低保、救助"),
        ("services_used", "开证明、盖章"),
        ("attitude", "满意"),
        ("no_kickbacks", "比较满意"),
        ("fairness", "满意"),
        ("openness", "一般"),
        ("subsidies", "满意"),
        ("no_gifts", "满意"),
    ];
    for (q, v) in chosen {
        let input = b.find(&choice(q, v)).await;
        b.click(&input).await;
    }
    let comment = "希望村务公开栏按月更新。";
    let textarea = b.find("textarea[name=comment]").await;
    b.type_into(&textarea, comment).await;
    assert!(
        !b.is_displayed(&b.find("#q-problems").await).await,
        "the follow-up question waits for its condition"
    );
    b.screenshot("answered-some").await;
    let submit = b
        .find("main > form:first-of-type button[type=submit]")
        .await;
    b.click_and_wait(&submit).await;

    // Back with a message in Chinese next to each unanswered question; the answers kept.
    let alert = b.text_of("[role=alert]").await;
    assert!(alert.contains("还有 2 道题需要修改"), "{alert}");
    for q in ["convenience", "overall"] {
        let card = b.find(&format!("#q-{q}")).await;
        let error = b.find(&format!("#q-{q} .error")).await;
        assert_eq!(b.text(&error).await, "请回答这一题", "{q}");
        assert!(b.is_displayed(&error).await, "{q}: the message is visible");
        assert!(
            b.rect(&card).await.contains(&b.rect(&error).await),
            "{q}: the message is inside the question's box"
        );
        let class = b.property(&card, "className").await;
        assert!(
            class.as_str().unwrap_or_default().contains("invalid"),
            "{q}: {class}"
        );
    }
    assert!(
        b.try_find("#q-attitude .error").await.is_none(),
        "answered questions have no message"
    );
    for (q, v) in chosen {
        assert!(
            b.is_selected(&b.find(&choice(q, v)).await).await,
            "{q}={v} is still chosen"
        );
    }
    assert!(
        !b.is_selected(&b.find(&choice("attitude", "比较满意")).await)
            .await
    );
    let textarea = b.find("textarea[name=comment]").await;
    assert_eq!(
        b.property(&textarea, "value").await,
        json!(comment),
        "comment kept"
    );
    assert_eq!(
        app.db
            .count_answers(t.campaign, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        0
    );
    b.assert_fits_phone_width("the form with its messages")
        .await;
    b.screenshot("validation-top").await;
    let first_error = b.find("#q-convenience").await;
    b.scroll_into_view(&first_error).await;
    b.screenshot("validation-question").await;

    // Fixed and sent: thanks, stored once.
    for (q, v) in [("convenience", "满意"), ("overall", "比较满意")] {
        let input = b.find(&choice(q, v)).await;
        b.click(&input).await;
    }
    let submit = b
        .find("main > form:first-of-type button[type=submit]")
        .await;
    b.click_and_wait(&submit).await;
    let thanks = b.text_of("main").await;
    assert!(
        thanks.contains("提交成功") && thanks.contains("您的回答已经收到"),
        "a fresh answer is thanked, not told the link was used: {thanks}"
    );
    assert!(
        b.try_find("form").await.is_none(),
        "no form after the answer"
    );
    assert_eq!(
        b.current_url().await,
        format!("{link}?done=answered"),
        "the answer's page is the link itself"
    );
    b.assert_fits_phone_width("the thank-you page").await;
    b.screenshot("thanks").await;
    assert_eq!(
        app.db
            .count_answers(t.campaign, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        1
    );

    // The used link, reloaded and opened again from the SMS: no form, still one response.
    b.reload().await;
    let used = b.text_of("main").await;
    assert!(used.contains("提交成功"), "{used}");
    assert!(b.try_find("form").await.is_none(), "no form on a used link");
    b.open(&link).await;
    assert!(b.text_of("main").await.contains("链接已经用过"));
    b.assert_fits_phone_width("the used link").await;
    b.screenshot("used-link").await;
    assert_eq!(
        app.db
            .count_answers(t.campaign, minyi::forms::Audience::Recipients)
            .await
            .unwrap(),
        1
    );
}

/// A roster as a village keeps it in Excel: 10 good phones, one too short, one twice, and
/// an ID-card column that must not be stored.
fn write_roster_xlsx(path: &Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, header) in ["姓名", "身份证号", "联系电话", "服务事项"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    let mut phones: Vec<String> = (0..10).map(|i| format!("1380000{:04}", i * 7)).collect();
    phones.push("1380000".into());
    phones.push(phones[0].clone());
    for (i, phone) in phones.iter().enumerate() {
        let row = i as u32 + 1;
        sheet
            .write_string(row, 0, format!("居民{}", i + 1))
            .unwrap();
        sheet
            .write_string(row, 1, format!("43052719800101{:04}", i))
            .unwrap();
        sheet.write_string(row, 2, phone).unwrap();
        sheet.write_string(row, 3, "低保").unwrap();
    }
    book.save(path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_village_operator_uploads_a_roster_on_a_phone_in_a_real_browser() {
    let Some(mut b) = Browser::start("village").await else {
        return;
    };
    let app = spawn().await;
    let (admin, csrf) = admin_client(&app).await;
    let (s, body, _) = post_form(
        &admin,
        &format!("{}/admin/villages", app.base),
        &csrf,
        &[("code", "V1"), ("name", "一村")],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let (s, _, _) = post_form(
        &admin,
        &format!("{}/admin/campaigns", app.base),
        &csrf,
        &[
            ("name", "2026年验收"),
            ("town", "唐家坊镇"),
            ("year", "2026"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let (s, page, _) = post_form(
        &admin,
        &format!("{}/admin/accounts", app.base),
        &csrf,
        &[
            ("username", "op1"),
            ("display_name", "一村操作员"),
            ("role", "village"),
            ("village", "V1"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{page}");
    let once = one_time_password_in(&page);
    let files = tempfile::tempdir().unwrap();
    let wrong = files.path().join("通讯录.csv");
    std::fs::write(&wrong, "姓名,住址\n张三,一组\n").unwrap();
    let roster = files.path().join("一村2026年服务对象名单.xlsx");
    write_roster_xlsx(&roster);

    // The operator opens the village page and is sent to log in; a typo first.
    b.open(&format!("{}/village", app.base)).await;
    assert!(b.current_url().await.contains("/login"), "asked to log in");
    b.assert_fits_phone_width("the login page").await;
    b.screenshot("login").await;
    b.type_into(&b.find("#username").await, "op1").await;
    b.type_into(&b.find("#password").await, "wrong-password")
        .await;
    b.click_and_wait(&b.find("form[action='/login'] button[type=submit]").await)
        .await;
    let error = b.text_of("main .error").await;
    assert!(error.contains("账号或密码不正确"), "{error}");
    b.screenshot("login-failed").await;
    let password = b.find("#password").await;
    b.type_into(&password, &once).await;
    b.click_and_wait(&b.find("form[action='/login'] button[type=submit]").await)
        .await;

    // The one-time password is replaced at once.
    assert!(b.current_url().await.ends_with("/password"));
    b.assert_fits_phone_width("the password page").await;
    b.screenshot("set-password").await;
    b.type_into(&b.find("#current").await, &once).await;
    b.type_into(&b.find("#new").await, "village-password-1")
        .await;
    b.type_into(&b.find("#repeat").await, "village-password-1")
        .await;
    b.click_and_wait(&b.find("form[action='/password'] button[type=submit]").await)
        .await;

    // The village page: a file that is not a roster is refused with a reason.
    assert!(
        b.current_url().await.ends_with("/village"),
        "{}",
        b.current_url().await
    );
    assert!(b.text_of("h1").await.contains("一村"));
    b.assert_fits_phone_width("the village page").await;
    b.screenshot("village").await;
    let file_input = b.find("input[type=file]").await;
    b.type_into(&file_input, wrong.to_str().unwrap()).await;
    b.click_and_wait(
        &b.find("form[enctype='multipart/form-data'] button[type=submit]")
            .await,
    )
    .await;
    let error = b.text_of("main .error").await;
    assert!(
        error
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "a reason in Chinese: {error}"
    );
    assert!(
        b.text_of("main").await.contains("尚未上报"),
        "nothing stored"
    );
    b.assert_fits_phone_width("the refused upload").await;
    b.screenshot("upload-refused").await;

    // The real roster: the receipt with what was accepted and what was dropped.
    let file_input = b.find("input[type=file]").await;
    b.type_into(&file_input, roster.to_str().unwrap()).await;
    b.screenshot("file-chosen").await;
    b.click_and_wait(
        &b.find("form[enctype='multipart/form-data'] button[type=submit]")
            .await,
    )
    .await;
    assert!(b.current_url().await.contains("/receipt"));
    assert_eq!(b.text_of("h1").await, "名单回执");
    let table = b
        .script(
            "var o = {};
             document.querySelectorAll('main tr').forEach(function (r) {
               var h = r.querySelector('th'), d = r.querySelector('td');
               if (h && d) o[h.textContent.trim()] = d.textContent.trim();
             });
             return o;",
            vec![],
        )
        .await;
    assert_eq!(table["读取行数"], json!("12"), "{table}");
    assert_eq!(table["有效号码"], json!("10"), "{table}");
    assert_eq!(table["无效行"], json!("1"), "{table}");
    assert_eq!(table["重复号码"], json!("1"), "{table}");
    assert_eq!(table["未保存的列"], json!("身份证号"), "{table}");
    assert!(
        b.text_of("main")
            .await
            .contains("一村2026年服务对象名单.xlsx"),
        "the file's name"
    );
    b.assert_fits_phone_width("the receipt").await;
    b.screenshot("receipt").await;

    // Back on the village page, the upload is listed.
    b.click_and_wait(&b.find("main a[href='/village']").await)
        .await;
    assert!(b.text_of("main").await.contains("有效号码 10 个"));
    b.screenshot("uploaded").await;
}

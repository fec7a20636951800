//! A real browser: headless Chromium (Debian's `chromium` and `chromium-driver`) at phone size
//! (360×740 CSS px, pixel ratio 2) goes through a respondent's whole path — open the link,
//! answer some questions, see the validation messages, fix them, submit, reload the used
//! link — and through a village operator's roster upload, from the login page to the receipt;
//! and a whole season through every state-changing staff form (administrator at 1366 px,
//! village operator, surveyor and panel member on the phone), each checked by its effect.
//!
//! The test speaks the W3C WebDriver protocol to a `chromedriver` child process over HTTP.
//! Screenshots of every step go to `target/browser-artifacts/` (`<test>-<nn>-<step>.png`, and
//! `…-full.png` for the whole page); on a failure the last page's screenshot and HTML are kept
//! there too. Without `chromedriver`/`chromium` on the PATH the tests print a notice and
//! pass, unless `MINYI_BROWSER=1` (as `.ci/run` sets) makes the browser mandatory.
//!
//! A plain `cargo test` skips them (`#[ignore]`): run them with
//! `cargo test --test browser -- --ignored`, as `.ci/run` does after the rest of the suite.
//! A binary of its own, so that this command runs exactly these tests.

#[path = "it/common/mod.rs"]
mod common;

use base64::Engine as _;
use common::*;
use minyi::ids::CampaignId;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The phone: CSS pixels of a common cheap Android screen.
const PHONE_WIDTH: u32 = 360;
const PHONE_HEIGHT: u32 = 740;

/// A commission clerk's screen, in CSS pixels.
const DESKTOP_WIDTH: u32 = 1366;
const DESKTOP_HEIGHT: u32 = 900;

/// The screenshots that illustrate the user guide: `<test>-<step>` → file in docs/guide-zh/.
const GUIDE_PICTURES: &[(&str, &str)] = &[
    ("respondent-opened", "resident-form.png"),
    ("respondent-thanks", "resident-thanks.png"),
    ("respondent-decline-confirm", "resident-decline.png"),
    ("village-village", "village-home.png"),
    ("village-receipt", "village-receipt.png"),
    ("season-admin-home", "admin-home.png"),
    ("season-admin-accounts", "admin-accounts.png"),
    ("season-admin-campaign", "admin-campaign.png"),
    ("season-admin-panel-links", "admin-panel-links.png"),
    ("season-admin-village-results", "admin-village-results.png"),
    ("season-admin-purged", "admin-archive.png"),
    ("season-staff-seed-commitment", "surveyor-seed.png"),
    ("season-staff-outbox", "surveyor-outbox.png"),
    ("season-staff-attempt", "surveyor-case.png"),
    ("season-staff-interview", "surveyor-interview.png"),
    ("season-staff-panel-form", "panel-form.png"),
];

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
        Self::start_on(name, false).await
    }

    /// A browser at a desktop's size (`desktop`) or the phone's.
    async fn start_on(name: &'static str, desktop: bool) -> Option<Browser> {
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
            let (width, height) = if desktop {
                (DESKTOP_WIDTH, DESKTOP_HEIGHT)
            } else {
                (PHONE_WIDTH, PHONE_HEIGHT)
            };
            let mut chrome = json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--lang=zh-CN",
                    format!("--window-size={width},{height}"),
                ],
                "prefs": {"intl.accept_languages": "zh-CN,zh"},
            });
            if !desktop {
                chrome["mobileEmulation"] = json!({"deviceMetrics": {
                    "width": PHONE_WIDTH, "height": PHONE_HEIGHT, "pixelRatio": 2,
                }});
            }
            let capabilities = json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "pageLoadStrategy": "normal",
                "goog:chromeOptions": chrome,
                // The console, for the Content-Security-Policy check.
                "goog:loggingPrefs": {"browser": "ALL"},
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

    /// Fill the fields of the form `form` (a CSS selector) as a person would — type into
    /// text fields, pick options, tick boxes, choose files — and submit it with its button;
    /// then check that the next page loaded and is no error page.
    async fn submit(&self, form: &str, fields: &[(&str, &str)]) {
        self.fill(form, fields).await;
        let button = self
            .find(&format!(
                "{form} button[type=submit], {form} button:not([type]), {form} input[type=submit]"
            ))
            .await;
        self.scroll_into_view(&button).await;
        self.click_and_wait(&button).await;
        self.assert_page_ok(form).await;
    }

    /// Fill the fields of the form `form` as [`Browser::submit`] does, without submitting.
    async fn fill(&self, form: &str, fields: &[(&str, &str)]) {
        for (name, value) in fields {
            let field = format!("{form} [name=\"{name}\"]");
            let el = self.find(&field).await;
            let kind = self
                .script(
                    "var e = arguments[0]; return e.tagName.toLowerCase() + ':' + (e.type || '')",
                    vec![Self::el_json(&el)],
                )
                .await;
            match kind.as_str().unwrap_or_default() {
                "select:select-one" | "select:select-multiple" => {
                    // An option's value is its text when it has no value attribute.
                    let mut picked = false;
                    for option in self.find_all(&format!("{field} option")).await {
                        if self.property(&option, "value").await == json!(value) {
                            self.click(&option).await;
                            picked = true;
                            break;
                        }
                    }
                    assert!(picked, "{form}: no option {value:?} in {name}");
                }
                "input:radio" | "input:checkbox" => {
                    let choice = self
                        .find(&format!("{form} [name=\"{name}\"][value=\"{value}\"]"))
                        .await;
                    self.scroll_into_view(&choice).await;
                    if !self.is_selected(&choice).await {
                        self.click(&choice).await;
                    }
                }
                "input:file" => self.type_into(&el, value).await,
                "input:date" | "input:datetime-local" | "input:time" => {
                    // Typing into these follows the locale's order of fields; a date picker
                    // sets the value the same way this does.
                    self.script(
                        "arguments[0].value = arguments[1];
                         arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
                        vec![Self::el_json(&el), json!(value)],
                    )
                    .await;
                }
                _ => {
                    self.scroll_into_view(&el).await;
                    self.post(&format!("/element/{}/clear", el.0), json!({}))
                        .await;
                    self.type_into(&el, value).await;
                }
            }
        }
    }

    /// The page just loaded is no error: its HTTP status (after redirects) is below 400.
    async fn assert_page_ok(&self, what: &str) {
        let status = self
            .script(
                "var n = performance.getEntriesByType('navigation')[0];
                 return n ? n.responseStatus : 0;",
                vec![],
            )
            .await;
        let status = status.as_u64().unwrap_or(0);
        if !(200..400).contains(&status) {
            let heading = self.text_of("h1").await;
            panic!(
                "{what}: the browser got HTTP {status} ({heading}) at {}",
                self.current_url().await
            );
        }
    }

    /// Let downloads go to `dir` (headless Chromium drops them otherwise).
    async fn allow_downloads(&self, dir: &Path) {
        self.post(
            "/goog/cdp/execute",
            json!({"cmd": "Browser.setDownloadBehavior", "params": {
                "behavior": "allow", "downloadPath": dir.to_str().unwrap(),
            }}),
        )
        .await;
    }

    /// Click something that downloads a file into `dir`, and wait for the file whose name
    /// ends in `suffix` to be complete; returns its path.
    async fn download(&self, el: &El, dir: &Path, suffix: &str) -> PathBuf {
        let before: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        self.scroll_into_view(el).await;
        self.click(el).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found = std::fs::read_dir(dir).ok().and_then(|d| {
                d.flatten().map(|e| e.path()).find(|p| {
                    !before.contains(p)
                        && p.to_string_lossy().ends_with(suffix)
                        && !p.to_string_lossy().ends_with(".crdownload")
                })
            });
            if let Some(path) = found {
                return path;
            }
            assert!(
                Instant::now() < deadline,
                "{}: no *{suffix} downloaded into {}",
                self.name,
                dir.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The `action` of the form in the table row that mentions `text`, whose action ends with
    /// `suffix` (e.g. the reset button of one account).
    async fn action_in_row(&self, text: &str, suffix: &str) -> String {
        let v = self
            .script(
                "var rows = document.querySelectorAll('tr');
                 for (var i = 0; i < rows.length; i++) {
                   if (rows[i].textContent.indexOf(arguments[0]) < 0) continue;
                   var forms = rows[i].querySelectorAll('form');
                   for (var j = 0; j < forms.length; j++)
                     if (forms[j].getAttribute('action').endsWith(arguments[1]))
                       return forms[j].getAttribute('action');
                 }
                 return null;",
                vec![json!(text), json!(suffix)],
            )
            .await;
        v.as_str()
            .unwrap_or_else(|| panic!("no form …{suffix} in the row of {text}"))
            .to_string()
    }

    fn artifact(&self, file: &str) -> PathBuf {
        artifacts_dir().join(format!("{}-{file}", self.name))
    }

    /// The console has reported no Content-Security-Policy violation since the last check: no
    /// blocked inline script or style, so every page shown so far ran and looked as written.
    async fn assert_no_csp_violation(&self, what: &str) {
        let entries = self.post("/se/log", json!({"type": "browser"})).await;
        let violations: Vec<&str> = entries
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["message"].as_str())
            .filter(|m| m.contains("Content Security Policy"))
            .collect();
        assert!(
            violations.is_empty(),
            "{what}: the browser reported CSP violations at {}:\n{}",
            self.current_url().await,
            violations.join("\n")
        );
    }

    /// Keep what the phone's screen shows now as `<test>-<nn>-<step>.png`, and the whole page
    /// (beyond the screen) as `<test>-<nn>-<step>-full.png`; and check that no page so far
    /// broke the Content-Security-Policy.
    async fn screenshot(&mut self, step: &str) {
        self.assert_no_csp_violation(step).await;
        self.step += 1;
        let shown = self.get("/screenshot").await;
        let path = self.artifact(&format!("{:02}-{step}.png", self.step));
        write_png(&path, shown.as_str().unwrap_or_default());
        // The pictures of the Chinese user guide are these screenshots, refreshed with
        // MINYI_GUIDE=1 (docs/guide-zh.md).
        let key = format!("{}-{step}", self.name);
        if std::env::var("MINYI_GUIDE").is_ok_and(|v| v == "1")
            && let Some((_, file)) = GUIDE_PICTURES.iter().find(|(k, _)| *k == key)
        {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/guide-zh");
            std::fs::create_dir_all(&dir).expect("docs/guide-zh");
            write_png(&dir.join(file), shown.as_str().unwrap_or_default());
        }
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
#[ignore = "needs Chromium: run with --ignored (.ci/run does)"]
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
    assert!(b.text_of("h1").await.contains("办事情况调查"));
    let privacy = b.text_of(".privacy").await;
    assert!(privacy.contains("看不到谁参加了调查"), "{privacy}");
    assert!(privacy.contains("一村"), "names the village: {privacy}");
    b.assert_fits_phone_width("the survey form").await;
    // The screener first: the scored questions wait until it is answered 办过.
    assert!(
        !b.is_displayed(&b.find("#q-attitude").await).await,
        "the scored questions wait for the screener"
    );
    let served = b.find(&choice("served", "yes")).await;
    b.click(&served).await;
    assert!(b.is_displayed(&b.find("#q-attitude").await).await);
    let legend = b.find("#q-attitude legend").await;
    assert!(b.font_px(&legend).await >= 16.0, "question text is large");
    // 说不清 is a plain option for the respondent (only the interviewer does not read it).
    assert!(!b.text_of("#q-attitude").await.contains("不读出"));
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
        ("served", "yes"),
        ("attitude", "满意"),
        ("fairness", "比较满意"),
        ("promptness", "不太满意"),
        ("coached", "no"),
        ("age_band", "60plus"),
    ];
    for (q, v) in chosen {
        let input = b.find(&choice(q, v)).await;
        b.click(&input).await;
    }
    let comment = "希望村务公开栏按月更新。";
    let textarea = b.find("textarea[name=comment]").await;
    b.type_into(&textarea, comment).await;
    b.screenshot("answered-some").await;
    let submit = b
        .find("main > form:first-of-type button[type=submit]")
        .await;
    b.click_and_wait(&submit).await;

    // Back with a message in Chinese next to each unanswered question; the answers kept.
    let alert = b.text_of("[role=alert]").await;
    assert!(alert.contains("还有 2 道题需要修改"), "{alert}");
    for q in ["convenience", "no_favours"] {
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
    for (q, v) in [("convenience", "满意"), ("no_favours", "dont_know")] {
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

    // Another resident taps 我不想参加: a page asks first; 返回问卷 goes back, and only
    // 确认不参加 records it.
    let other = format!("{}/s/{}", app.base, tokens[1]);
    b.open(&other).await;
    let decline = format!("form[action='/s/{}/decline'] button", tokens[1]);
    b.click_and_wait(&b.find(&decline).await).await;
    assert!(b.text_of("h1").await.contains("确定不参加"));
    b.assert_fits_phone_width("the decline confirmation").await;
    b.screenshot("decline-confirm").await;
    b.click_and_wait(
        &b.find(&format!(
            "form[method=get][action='/s/{}'] button",
            tokens[1]
        ))
        .await,
    )
    .await;
    assert!(
        b.try_find("fieldset").await.is_some(),
        "back at the questions"
    );
    b.click_and_wait(&b.find(&decline).await).await;
    b.click_and_wait(
        &b.find(&format!(
            "form[method=post][action='/s/{}/decline'] button",
            tokens[1]
        ))
        .await,
    )
    .await;
    assert!(b.text_of("main").await.contains("已记录"));
    b.screenshot("declined").await;
    let declined = app
        .db
        .cases(t.campaign, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.status == minyi::domain::CaseStatus::Refused)
        .count();
    assert_eq!(declined, 1, "one refusal recorded");
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
#[ignore = "needs Chromium: run with --ignored (.ci/run does)"]
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

/// Log in for the first time with the one-time password `first`, and replace it.
async fn log_in(b: &Browser, base: &str, user: &str, first: &str, password: &str) {
    b.open(&format!("{base}/login")).await;
    b.submit(
        "form[action='/login']",
        &[("username", user), ("password", first)],
    )
    .await;
    assert!(b.current_url().await.ends_with("/password"), "{user}");
    b.submit(
        "form[action='/password']",
        &[("current", first), ("new", password), ("repeat", password)],
    )
    .await;
}

/// A whole season through every state-changing staff form, each submitted by Chromium as a
/// person would (so the origin and CSRF checks see what a real browser sends): the
/// administrator on a desktop screen, the village operator, the surveyor and a panel member
/// on a phone. Each step checks its effect on the next page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: run with --ignored (.ci/run does)"]
async fn a_whole_season_through_every_staff_form_in_a_real_browser() {
    let Some(mut a) = Browser::start_on("season-admin", true).await else {
        return;
    };
    let Some(mut s) = Browser::start_on("season-staff", false).await else {
        return;
    };
    let app = spawn().await;
    let base = app.base.clone();
    let files = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    a.allow_downloads(downloads.path()).await;
    s.allow_downloads(downloads.path()).await;
    let file = |name: &str, text: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };

    // The administrator's first login replaces the one-time password.
    a.open(&format!("{base}/login")).await;
    a.submit(
        "form[action='/login']",
        &[("username", "admin"), ("password", &app.admin_password)],
    )
    .await;
    assert!(a.current_url().await.ends_with("/password"));
    let admin_password = "Qiu-Ji-Diao-Cha-2026";
    a.submit(
        "form[action='/password']",
        &[
            ("current", &app.admin_password),
            ("new", admin_password),
            ("repeat", admin_password),
        ],
    )
    .await;
    a.screenshot("home").await;

    // Villages: one typed in, one from a file.
    a.open(&format!("{base}/admin/villages")).await;
    a.submit(
        "form[action='/admin/villages']",
        &[("code", "V1"), ("name", "一村")],
    )
    .await;
    let villages = file("村名单.csv", "编码,名称\nV2,二村\n");
    a.submit(
        "form[action='/admin/villages/import']",
        &[("file", &villages)],
    )
    .await;
    a.open(&format!("{base}/admin/villages")).await;
    let page = a.text_of("main").await;
    assert!(page.contains("一村") && page.contains("二村"), "{page}");

    // The holiday calendar: a file in, one day deleted again.
    a.open(&format!("{base}/admin/calendar")).await;
    let calendar = file(
        "节假日.csv",
        "日期,类型,名称\n2026-10-01,放假,国庆节\n2026-10-02,放假,国庆节\n",
    );
    a.submit("form[action='/admin/calendar']", &[("file", &calendar)])
        .await;
    assert!(a.text_of("main").await.contains("2026-10-02"));
    a.submit(
        "form[action='/admin/calendar/delete']:has(input[value='2026-10-02'])",
        &[],
    )
    .await;
    let page = a.text_of("main").await;
    assert!(
        page.contains("2026-10-01") && !page.contains("2026-10-02"),
        "{page}"
    );

    // A campaign every village with a roster takes part in (the application step has its own
    // tests; its due date, 30 September, may be past when this runs).
    a.open(&format!("{base}/admin")).await;
    a.submit(
        "form[action='/admin/campaigns']",
        &[
            ("name", "2026年验收"),
            ("town", "唐家坊镇"),
            ("year", "2026"),
            ("participation", "all"),
        ],
    )
    .await;
    let url = a.current_url().await;
    let id: CampaignId = url
        .rsplit('/')
        .next()
        .and_then(|t| t.split(['?', '#']).next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("a campaign page: {url}"));
    let campaign = format!("{base}/admin/campaigns/{id}");

    // Accounts: a village operator, a surveyor, and one disabled and enabled again.
    let mut once = std::collections::HashMap::new();
    for (user, role, village) in [
        ("op1", "village", Some("V1")),
        ("survey", "surveyor", None),
        ("op2", "village", Some("V2")),
    ] {
        a.open(&format!("{base}/admin/accounts")).await;
        let mut fields = vec![
            ("username", user),
            ("display_name", "工作人员"),
            ("role", role),
        ];
        if let Some(v) = village {
            fields.push(("village", v));
        }
        a.submit("form[action='/admin/accounts']", &fields).await;
        once.insert(user, a.text_of("span.secret").await);
    }
    a.screenshot("accounts").await;
    let reset = a.action_in_row("survey", "/reset").await;
    a.submit(&format!("form[action='{reset}']"), &[]).await;
    once.insert("survey", a.text_of("span.secret").await);
    a.open(&format!("{base}/admin/accounts")).await;
    let disable = a.action_in_row("op2", "/disable").await;
    a.submit(&format!("form[action='{disable}']"), &[]).await;
    a.open(&format!("{base}/admin/accounts")).await;
    let enable = a.action_in_row("op2", "/enable").await;
    a.submit(&format!("form[action='{enable}']"), &[]).await;
    a.open(&format!("{base}/admin/accounts")).await;
    a.action_in_row("op2", "/disable").await;

    // The village operator hands in V1's roster on a phone, then logs out.
    log_in(&s, &base, "op1", &once["op1"], "Yi-Cun-Ming-Dan-2026").await;
    let roster = files.path().join("一村名单.xlsx");
    write_roster_xlsx(&roster);
    s.submit(
        &format!("form[action='/village/campaigns/{id}/roster']"),
        &[("file", roster.to_str().unwrap())],
    )
    .await;
    assert!(s.current_url().await.contains("/receipt"));
    s.submit("form[action='/logout']", &[]).await;
    assert!(s.current_url().await.contains("/login"));

    // The administrator uploads V2's roster for it, and sets the sample size and the
    // replacement rules.
    a.open(&campaign).await;
    let v2: String = (0..12)
        .map(|i| format!("二村居民{i},1390000{i:04}\n"))
        .collect();
    let v2 = file("二村.csv", &format!("姓名,电话\n{v2}"));
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/roster']"),
        &[("village", "V2"), ("file", &v2)],
    )
    .await;
    a.open(&campaign).await;
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/size-rule']"),
        &[("method", "fixed"), ("size", "6")],
    )
    .await;
    a.open(&campaign).await;
    assert!(
        a.text_of("main").await.contains("将抽取 12 人"),
        "the sizes the rule gives, before the freeze"
    );
    a.screenshot("campaign").await;
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/replacement-rules']"),
        &[
            ("on_refusal", "yes"),
            ("noncontact_attempts", "4"),
            ("noncontact_days", "2"),
        ],
    )
    .await;

    // The notice to respondents: the page warns until the third party and its verification
    // number are set, through the form as Chromium submits it.
    assert!(
        a.text_of("main")
            .await
            .contains("尚未填写第三方名称和核实电话")
    );
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/notice']"),
        &[("party", "示例调查中心"), ("phone", "0739-1234567")],
    )
    .await;
    assert!(
        !a.text_of("main")
            .await
            .contains("尚未填写第三方名称和核实电话"),
        "the notice was not saved from the browser"
    );

    // The surveyor commits to a seed before the freeze and reveals it after.
    let seed = "唐家坊镇 2026 秋 骰子 6 6 1 2 3 4 5 6 1 2 3";
    let commitment: String = {
        use sha2::Digest;
        sha2::Sha256::digest(seed.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    log_in(
        &s,
        &base,
        "survey",
        &once["survey"],
        "Di-San-Fang-Diao-Cha-26",
    )
    .await;
    // The page computes the commitment itself; the seed's field is in no form.
    s.open(&format!("{base}/surveyor/campaigns/{id}")).await;
    let draft = s.find("#seed-draft").await;
    assert!(
        s.is_displayed(&draft).await,
        "the helper shows with JavaScript"
    );
    assert_eq!(
        s.script(
            "return arguments[0].name + '|' + (arguments[0].form ? 'in a form' : '')",
            vec![Browser::el_json(&draft)],
        )
        .await,
        json!("|"),
        "the seed is never submitted"
    );
    s.type_into(&draft, seed).await;
    s.click(&s.find("#seed-hash").await).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.property(&s.find("#commitment").await, "value").await != json!(commitment) {
        assert!(
            Instant::now() < deadline,
            "the page computes the seed's SHA-256"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.screenshot("seed-commitment").await;
    s.submit(
        &format!("form[action='/campaigns/{id}/seed-commitment']"),
        &[],
    )
    .await;
    assert!(s.text_of("main").await.contains(&commitment), "registered");
    assert_eq!(
        app.db.seed_state(id).await.unwrap().seed,
        None,
        "the seed itself stayed on the page"
    );
    a.open(&campaign).await;
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/freeze']"),
        &[("confirm", "yes")],
    )
    .await;
    s.open(&format!("{base}/surveyor/campaigns/{id}")).await;
    s.submit(
        &format!("form[action='/campaigns/{id}/seed']"),
        &[("seed", seed)],
    )
    .await;

    // Draw, fieldwork, the panel.
    a.open(&campaign).await;
    a.submit(&format!("form[action='/admin/campaigns/{id}/draw']"), &[])
        .await;
    a.open(&campaign).await;
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/fieldwork']"),
        &[],
    )
    .await;
    a.open(&format!("{campaign}/panel")).await;
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/panel']"),
        &[("name", "李委员"), ("phone", "")],
    )
    .await;
    assert!(a.text_of("main").await.contains("李委员"));
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/panel/links']:not(:has(input[name=all]))"),
        &[],
    )
    .await;
    let page = a.script("return document.body.innerHTML", vec![]).await;
    let panel_link = page
        .as_str()
        .unwrap_or_default()
        .split(&format!("{base}/p/"))
        .nth(1)
        .and_then(|t| {
            t.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .next()
        })
        .map(|t| format!("{base}/p/{t}"))
        .expect("the panel member's link on the page");
    a.screenshot("panel-links").await;

    // The surveyor: the SMS outbox, a call attempt, a phone interview, a results import.
    s.open(&format!("{base}/surveyor/campaigns/{id}")).await;
    let outbox = s
        .download(
            &s.find(&format!(
                "form[action='/surveyor/campaigns/{id}/outbox']:has(input[value=invite]) button"
            ))
            .await,
            downloads.path(),
            ".csv",
        )
        .await;
    let outbox = std::fs::read_to_string(&outbox).unwrap();
    assert!(outbox.matches("/s/").count() >= 12, "{outbox}");
    // Reminders (none due yet: a file with its header only), then the lost file again.
    s.open(&format!("{base}/surveyor/campaigns/{id}")).await;
    assert!(s.text_of("main").await.contains("已发送、尚未回答"));
    s.screenshot("outbox").await;
    s.fill(
        &format!("form[action='/surveyor/campaigns/{id}/outbox']:has(input[value=remind])"),
        &[("days", "1")],
    )
    .await;
    let reminders = s
        .download(
            &s.find(&format!(
                "form[action='/surveyor/campaigns/{id}/outbox']:has(input[value=remind]) button"
            ))
            .await,
            downloads.path(),
            ".csv",
        )
        .await;
    assert!(
        std::fs::read_to_string(&reminders)
            .unwrap()
            .contains("phone,message")
    );
    // The same as an Excel workbook (the form's second button).
    let workbook = s
        .download(
            &s.find(&format!(
                "form[action='/surveyor/campaigns/{id}/outbox']:has(input[value=remind]) button[value=xlsx]"
            ))
            .await,
            downloads.path(),
            ".xlsx",
        )
        .await;
    assert!(
        std::fs::read(&workbook).unwrap().starts_with(b"PK"),
        "an .xlsx"
    );
    let reissue =
        format!("form[action='/surveyor/campaigns/{id}/outbox']:has(input[value=reissue])");
    s.click(&s.find("details summary").await).await;
    s.fill(&reissue, &[("confirm", "yes")]).await;
    let again = s
        .download(
            &s.find(&format!("{reissue} button")).await,
            downloads.path(),
            ".csv",
        )
        .await;
    let again = std::fs::read_to_string(&again).unwrap();
    assert_eq!(again.matches("/s/").count(), outbox.matches("/s/").count());
    let old_link = outbox
        .split("http")
        .nth(1)
        .and_then(|t| t.split(['\n', '\r', '"', ',']).next())
        .map(|t| format!("http{t}"))
        .unwrap();
    assert!(!again.contains(&old_link), "new links");
    s.open(&format!("{base}/surveyor/campaigns/{id}/console/V1"))
        .await;
    let cases = s
        .script(
            "return Array.prototype.map.call(document.querySelectorAll(\"a[href^='/surveyor/cases/']\"),
               function (a) { return a.getAttribute('href'); })",
            vec![],
        )
        .await;
    let cases: Vec<String> = cases
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .filter(|h| {
            h.rsplit('/')
                .next()
                .is_some_and(|id| id.parse::<i64>().is_ok())
        })
        .collect();
    assert!(cases.len() >= 3, "{cases:?}");
    s.open(&format!("{base}{}", cases[0])).await;
    s.submit(
        &format!("form[action='{}/attempts']", cases[0]),
        &[("outcome", "busy"), ("note", "占线")],
    )
    .await;
    assert!(s.text_of("main").await.contains("占线"));
    s.screenshot("attempt").await;
    s.submit(&format!("form[action='{}/link']", cases[0]), &[])
        .await;
    assert!(s.text_of("h1").await.contains("新链接"));
    s.screenshot("link-reissued").await;
    s.open(&format!("{base}{}/interview", cases[1])).await;
    s.screenshot("interview").await;
    let answers = valid_answers(&minyi::forms::builtin().unwrap().recipients);
    let fields: Vec<(&str, &str)> = answers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    s.submit(&format!("form[action='{}/interview']", cases[1]), &fields)
        .await;
    s.screenshot("interview-saved").await;
    s.open(&format!("{base}{}", cases[1])).await;
    assert!(
        s.text_of("main")
            .await
            .contains("当前状态:已完成(电话访问)"),
        "the interview is saved"
    );
    let case_id = cases[2].rsplit('/').next().unwrap();
    let at = minyi::domain::local_time(minyi::domain::now() - 60);
    let results = file(
        "电访结果.csv",
        &format!("case_id,attempt_time,outcome\n{case_id},{at},no_answer\n"),
    );
    s.open(&format!("{base}/surveyor/campaigns/{id}")).await;
    s.submit(
        &format!("form[action='/surveyor/campaigns/{id}/results']"),
        &[("file", &results)],
    )
    .await;
    s.screenshot("results-imported").await;
    s.open(&format!("{base}{}", cases[2])).await;
    assert!(
        s.text_of("main").await.contains("无人接听"),
        "the imported attempt is on the case"
    );

    // A panel member rates a village from the link.
    s.submit("form[action='/logout']", &[]).await;
    s.open(&panel_link).await;
    s.click_and_wait(&s.find("a[href*='/v/V1']").await).await;
    s.screenshot("panel-form").await;
    let panel_answers = valid_answers(&minyi::forms::builtin().unwrap().panel);
    let fields: Vec<(&str, &str)> = panel_answers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    s.submit("form[action*='/v/V1']", &fields).await;
    s.screenshot("panel-rated").await;

    // The administrator closes fieldwork, grades, publishes, hears an objection, approves,
    // archives and purges.
    a.open(&campaign).await;
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/close']"),
        &[("confirm", "yes")],
    )
    .await;
    let village = format!("{campaign}/results/V1");
    // The assessment group's grade, then the 领导小组's final one beside it.
    a.open(&format!("{village}?enter=group")).await;
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/results/V1/sources']"),
        &[("grade_1", "好"), ("note_1", "评估组实地查看")],
    )
    .await;
    a.open(&village).await;
    assert!(a.text_of("main").await.contains("评估组实地查看"));
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/results/V1/grades']"),
        &[("grade_1", "好"), ("note_1", "实地查看")],
    )
    .await;
    a.open(&village).await;
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/results/V1/override']"),
        &[("grade", "较好"), ("reason", "实地复核后调整")],
    )
    .await;
    a.open(&village).await;
    assert!(a.text_of("main").await.contains("实地复核后调整"));
    a.screenshot("village-results").await;
    // Where objections go, printed on the publicity notice: publishing requires it.
    a.open(&campaign).await;
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/notice-contact']"),
        &[
            ("phone", "0739-7654321"),
            ("address", "唐家坊镇人民政府二楼纪委办公室"),
            ("issuer", "中共唐家坊镇纪律检查委员会"),
        ],
    )
    .await;
    let results_page = format!("{campaign}/results");
    a.open(&results_page).await;
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/publicity']"),
        &[("start", "2026-09-01")],
    )
    .await;
    a.open(&format!("{campaign}/publicity/notice")).await;
    assert!(a.text_of("body").await.contains("0739-7654321"));
    a.open(&results_page).await;
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/objections']"),
        &[("summary", "对一村的结果有疑问")],
    )
    .await;
    a.open(&results_page).await;
    a.submit(
        &format!("form[action^='/admin/campaigns/{id}/objections/'][action$='/resolve']"),
        &[("decision", "dismissed"), ("reason", "已复核,维持结果")],
    )
    .await;
    a.open(&results_page).await;
    assert!(a.text_of("main").await.contains("已复核,维持结果"));
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/approve']"),
        &[],
    )
    .await;
    a.open(&results_page).await;
    assert!(a.text_of("main").await.contains("批准"));
    let archive = a
        .download(
            &a.find(&format!(
                "form[action='/admin/campaigns/{id}/archive'] button"
            ))
            .await,
            downloads.path(),
            ".zip",
        )
        .await;
    assert!(std::fs::metadata(&archive).unwrap().len() > 1000);
    a.open(&results_page).await;
    a.submit(
        &format!("form[action='/admin/campaigns/{id}/purge']"),
        &[("confirm", "yes")],
    )
    .await;
    a.open(&results_page).await;
    assert!(a.text_of("main").await.contains("已于"), "purged");
    a.screenshot("purged").await;
    a.submit("form[action='/logout']", &[]).await;
    assert!(a.current_url().await.contains("/login"));
}

/// What a page's layout gets wrong at the browser's width: the body wider than the window
/// (sideways scrolling of the whole page), table cells squeezed to a character or two per
/// line, and badges (a warning or note inside a cell) spilling out of their cell, with every
/// toggle (`<details>`) opened. A wide table may scroll inside its own box; the page may not.
async fn layout_problems(b: &Browser) -> Vec<String> {
    let v = b
        .script(
            "document.querySelectorAll('details').forEach(function (d) { d.open = true; });
             var w = document.documentElement.clientWidth, out = [];
             var doc = document.documentElement.scrollWidth;
             function name(e) {
               return e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '') +
                 ' \"' + e.textContent.trim().slice(0, 12) + '\"';
             }
             if (doc > w) {
               var sticking = [];
               // What sticks out and is not inside a box that scrolls or clips it.
               function clipped(e) {
                 for (var a = e.parentElement; a && a !== document.body; a = a.parentElement)
                   if (getComputedStyle(a).overflowX !== 'visible') return true;
                 return false;
               }
               document.querySelectorAll('body *').forEach(function (e) {
                 if (clipped(e) || sticking.length >= 6) return;
                 if (e.getBoundingClientRect().right > w + 0.5) sticking.push(name(e));
                 else if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1 &&
                          getComputedStyle(e).overflowX === 'visible')
                   sticking.push(name(e) + ' (its text)');
               });
               out.push('the page is ' + doc + ' px wide in a ' + w + ' px window; sticking out: ' + sticking.join(', '));
             }
             document.querySelectorAll('td, th').forEach(function (c) {
               var text = c.textContent.trim();
               if (text.length < 3 || c.querySelector('input, select, svg, button')) return;
               // Squeezed: the text runs over several lines of fewer than three characters.
               var range = document.createRange(), tops = {};
               range.selectNodeContents(c);
               Array.prototype.forEach.call(range.getClientRects(), function (q) {
                 if (q.width > 0) tops[Math.round(q.top)] = 1;
               });
               var lines = Object.keys(tops).length;
               if (lines > 1 && text.length / lines < 3 && out.length < 12)
                 out.push('squeezed into ' + lines + ' lines: ' + name(c));
               var r = c.getBoundingClientRect();
               c.querySelectorAll('span, strong, em, code, a').forEach(function (e) {
                 var q = e.getBoundingClientRect();
                 if (q.width > 0 && (q.right > r.right + 1 || q.left < r.left - 1) && out.length < 12)
                   out.push('spills out of its cell: ' + name(e));
               });
             });
             return out;",
            vec![],
        )
        .await;
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(String::from))
        .collect()
}

/// Open `path`, keep its screenshot as `step`, and check the layout.
async fn check_layout(b: &mut Browser, base: &str, path: &str, step: &str) {
    b.open(&format!("{base}{path}")).await;
    b.assert_page_ok(step).await;
    b.screenshot(step).await;
    let problems = layout_problems(b).await;
    assert!(
        problems.is_empty(),
        "{} {step} ({path}):\n{}",
        b.name,
        problems.join("\n")
    );
}

/// The demo's pages at a commission clerk's 1366-px screen and on a 360-px phone: the
/// results, a village's results, the progress, the audit log, the campaign page, the
/// reports and the publicity notice for the administrator, the village operator's own pages; none scrolls the whole page sideways,
/// squeezes a table or spills a badge. Screenshots of each are kept as artifacts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: run with --ignored (.ci/run does)"]
async fn the_pages_fit_a_1366_px_screen_and_a_360_px_phone() {
    let Some(mut wide) = Browser::start_on("layout-1366", true).await else {
        return;
    };
    let Some(mut phone) = Browser::start_on("layout-360", false).await else {
        return;
    };
    let app = spawn().await;
    let base = app.base.clone();
    let made = minyi::demo::fill(&app.db).await.unwrap();
    let id = made.campaign_id;
    let code = app
        .db
        .list_villages()
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("the demo has villages")
        .code;
    let admin_password = "Kuan-Ping-Mu-2026";
    log_in(&wide, &base, "admin", &app.admin_password, admin_password).await;
    phone.open(&format!("{base}/login")).await;
    phone
        .submit(
            "form[action='/login']",
            &[("username", "admin"), ("password", admin_password)],
        )
        .await;
    let admin_pages = [
        (format!("/admin/campaigns/{id}/results"), "results"),
        (format!("/admin/campaigns/{id}/results/{code}"), "village"),
        (format!("/admin/campaigns/{id}/progress"), "progress"),
        ("/admin/audit".to_string(), "audit"),
        (format!("/admin/campaigns/{id}"), "campaign"),
        (format!("/admin/campaigns/{id}/report"), "town-report"),
        (
            format!("/admin/campaigns/{id}/results/{code}/report"),
            "village-report",
        ),
        (format!("/admin/campaigns/{id}/publicity/notice"), "notice"),
        ("/admin/villages".to_string(), "villages"),
        ("/admin/titles".to_string(), "titles"),
        (format!("/admin/villages/{code}/history"), "village-history"),
        (format!("/admin/villages/{code}/archive"), "village-archive"),
        ("/admin/archive".to_string(), "archive-reminders"),
    ];
    for b in [&mut wide, &mut phone] {
        for (path, step) in &admin_pages {
            check_layout(b, &base, path, step).await;
        }
    }

    // The village operator, on both screens.
    let village_password = "Tang-Jia-Fang-2026";
    log_out(&wide, &base).await;
    log_in(
        &wide,
        &base,
        "demo_village",
        &made.village_password,
        village_password,
    )
    .await;
    log_out(&phone, &base).await;
    phone.open(&format!("{base}/login")).await;
    phone
        .submit(
            "form[action='/login']",
            &[("username", "demo_village"), ("password", village_password)],
        )
        .await;
    for b in [&mut wide, &mut phone] {
        check_layout(b, &base, "/village", "village-home").await;
        check_layout(
            b,
            &base,
            &format!("/village/campaigns/{id}/results"),
            "village-own-results",
        )
        .await;
        check_layout(
            b,
            &base,
            &format!("/village/campaigns/{id}/self-assessment"),
            "village-self-assessment",
        )
        .await;
        check_layout(b, &base, "/village/archive", "village-own-archive").await;
    }
}

/// Log out through the header's button (of a staff page: the printable documents have none).
async fn log_out(b: &Browser, base: &str) {
    b.open(&format!("{base}/password")).await;
    let button = b.find("form[action='/logout'] button").await;
    b.click_and_wait(&button).await;
}

/// The page as headless Chromium prints it (WebDriver's print command: A4, backgrounds, the
/// page's own margins).
async fn print_pdf(b: &Browser) -> Vec<u8> {
    let v = b
        .post(
            "/print",
            json!({"page": {"width": 21.0, "height": 29.7}, "background": true,
                   "margin": {"top": 0, "bottom": 0, "left": 0, "right": 0}}),
        )
        .await;
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().expect("print returns base64"))
        .expect("the PDF decodes")
}

/// What poppler's `tool` (`pdfinfo`, `pdftotext`) says about a PDF file; `None` without
/// poppler-utils, unless the browser test is required (`MINYI_BROWSER=1`), which fails.
fn poppler(tool: &str, pdf: &Path) -> Option<String> {
    let Some(program) = on_path(tool) else {
        assert!(
            std::env::var("MINYI_BROWSER").map_or(true, |v| v != "1"),
            "MINYI_BROWSER=1 requires {tool} (apt-get install poppler-utils)"
        );
        eprintln!("warning: no {tool} on the PATH: the printed reports are not read back");
        return None;
    };
    let mut command = Command::new(program);
    command.arg(pdf);
    if tool == "pdftotext" {
        command.args(["-layout", "-"]);
    }
    let out = command.output().unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(out.status.success(), "{tool} failed on {}", pdf.display());
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The printed report as the commission files it: Chromium prints the town report, the
/// one-page village report and the publicity notice to A4 PDFs (kept as artifacts), which
/// poppler reads back: page size, number of pages and the text that must be on them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: run with --ignored (.ci/run does)"]
async fn the_reports_and_the_notice_print_to_a4_pdf_with_their_text() {
    let Some(b) = Browser::start_on("print", true).await else {
        return;
    };
    let app = spawn().await;
    let base = app.base.clone();
    let made = minyi::demo::fill(&app.db).await.unwrap();
    let id = made.campaign_id;
    let campaign = app.db.campaign(id).await.unwrap();
    let village = app
        .db
        .list_villages()
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("the demo has villages");
    log_in(
        &b,
        &base,
        "admin",
        &app.admin_password,
        "Yin-Shua-Bao-Gao-2026",
    )
    .await;
    let phone = app
        .db
        .objection_contact(id)
        .await
        .unwrap()
        .phone
        .expect("the demo sets where to object");
    // (page, file, fewest pages, most pages, text each must hold)
    let documents: [(String, &str, u32, u32, Vec<String>); 3] = [
        (
            format!("/admin/campaigns/{id}/report"),
            "town-report.pdf",
            2,
            12,
            vec![
                campaign.name.clone(),
                "应答率".into(),
                "签字".into(),
                village.name.clone(),
            ],
        ),
        (
            format!("/admin/campaigns/{id}/results/{}/report", village.code),
            "village-report.pdf",
            1,
            1,
            vec![village.name.clone(), "应答率".into(), "签字".into()],
        ),
        (
            format!("/admin/campaigns/{id}/publicity/notice"),
            "notice.pdf",
            1,
            2,
            vec!["公示".into(), phone.clone()],
        ),
    ];
    for (path, file, fewest, most, texts) in documents {
        b.open(&format!("{base}{path}")).await;
        b.assert_page_ok(file).await;
        let pdf = print_pdf(&b).await;
        assert!(pdf.starts_with(b"%PDF-"), "{file}: not a PDF");
        let out = b.artifact(file);
        std::fs::write(&out, &pdf).unwrap();
        let Some(info) = poppler("pdfinfo", &out) else {
            return;
        };
        let pages: u32 = info
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("{file}: no page count in {info}"));
        assert!(
            (fewest..=most).contains(&pages),
            "{file}: {pages} pages, expected {fewest}–{most}"
        );
        assert!(info.contains("(A4)"), "{file}: not A4: {info}");
        let text = poppler("pdftotext", &out).unwrap_or_default();
        // pdftotext may break a line inside a long name; compare without white space.
        let flat: String = text.split_whitespace().collect();
        for t in &texts {
            let t: String = t.split_whitespace().collect();
            assert!(
                flat.contains(&t),
                "{file}: {t} missing from the printed text:\n{text}"
            );
        }
    }
}

//! What keeps the servers standing under abuse:
//! - [`HashGate`]: at most a few password checks (argon2, ~19 MiB and ~40 ms each) at once
//!   per server; a login that cannot get a turn within [`HASH_WAIT`] is answered 503 with
//!   `Retry-After`.
//! - [`LoginGuard`]: increasing delays per account after repeated failed logins, counted
//!   before the password is checked. The counts are in the database (`login_throttle`), so
//!   several servers on one PostgreSQL enforce one delay per account. Only existing accounts are tracked (by id), so a made-up
//!   or differently spelt name never delays anyone, and an attacker's burst only delays the
//!   real owner by at most [`LOGIN_MAX_DELAY`]. Keyed by account only: the server does not
//!   read the client's address (behind nginx every request comes from the proxy, and mobile
//!   carriers put many people behind one address anyway).
//! - request counts per survey or panel link, and unknown link tokens overall.
//!
//! The link counts are kept in memory: every table has a hard size bound (the oldest entry
//! is evicted when it is full), entries exist only for known links, and expired entries are
//! pruned by a timer task ([`Limiter::start`]), never by a scan inside a request. On
//! PostgreSQL, where several servers can share one database, each server also adds its counts
//! to the shared ones (`rate_counts`) once every [`SYNC_EVERY`] and takes back the total of
//! all servers, so N servers enforce one limit — give or take the requests each server takes
//! between two of its syncs. The shared key of a link is [`crate::secrets::limit_key`], which
//! cannot be joined to the invitation. (An SQLite file belongs to one server.)

use crate::db::{Db, DbError, RateHits};
use crate::ids::AccountId;

/// Why a login could not have its password checked now.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// Every password-check turn stayed taken for [`HASH_WAIT`] (answered 503).
    #[error("password checks are saturated")]
    Busy,
    /// The account must wait this many seconds after repeated failures (answered 429).
    #[error("the account must wait {secs} s after repeated failed logins")]
    Delayed { secs: u64 },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Internal(String),
}
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Failed logins of one account that are checked without any delay.
pub const LOGIN_FREE: u32 = 5;
/// The delay after the first failure beyond [`LOGIN_FREE`]; it doubles with each further one.
pub const LOGIN_BASE_DELAY: Duration = Duration::from_secs(1);
/// The longest delay: after an attacker stops, the owner gets in within this time at most.
pub const LOGIN_MAX_DELAY: Duration = Duration::from_secs(5 * 60);
/// An account without a failed login for this long starts afresh.
pub const LOGIN_FORGET: Duration = Duration::from_secs(15 * 60);
/// How long a login waits for a turn at the password check before it is answered 503.
pub const HASH_WAIT: Duration = Duration::from_secs(2);
/// Requests (pages and submits) per survey or panel link within [`LINK_WINDOW`]. A person
/// answering needs a handful; a panel member rating thirty villages about a hundred.
pub const LINK_REQUESTS: u32 = 300;
pub const LINK_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Unknown link tokens per server within [`UNKNOWN_WINDOW`] (guessing; a 128-bit token
/// cannot be guessed, but each guess costs a database lookup).
pub const UNKNOWN_TOKENS: u32 = 600;
pub const UNKNOWN_WINDOW: Duration = Duration::from_secs(60);
/// Hard bound on each table (links, accounts): far above any campaign's links or accounts.
pub const TABLE_BOUND: usize = 100_000;
/// How often a server adds its link counts to the shared ones (PostgreSQL only).
pub const SYNC_EVERY: Duration = Duration::from_secs(1);
/// How often the timer task drops expired entries.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// At most this many links are added to the shared counts in one sync (the rest wait).
const SYNC_BATCH: usize = 5_000;
/// The shared key of the unknown-token count.
const UNKNOWN_KEY: &str = "unknown tokens";

/// All the limits of one server.
pub struct Limiter {
    links: Table<String, Window>,
    unknown: Mutex<Window>,
    /// Links to sync: those with hits not yet added to the shared counts, and those that had
    /// some at the last sync (synced once more with none, to learn the other servers' hits
    /// that arrived after their own sync). A link may appear twice; the sync counts it once.
    dirty: Mutex<Vec<String>>,
    /// The unknown-token count is synced once more after it had hits, too.
    unknown_refresh: std::sync::atomic::AtomicBool,
    /// Requests refused since the last summary in the log: (over a link's limit, unknown).
    refused: (AtomicU64, AtomicU64),
    pub logins: LoginGuard,
    pub hashing: HashGate,
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter {
            links: Table::new(TABLE_BOUND),
            unknown: Mutex::new(Window::new(now_ms())),
            dirty: Mutex::new(Vec::new()),
            unknown_refresh: std::sync::atomic::AtomicBool::new(false),
            refused: (AtomicU64::new(0), AtomicU64::new(0)),
            logins: LoginGuard::default(),
            hashing: HashGate::new(default_hash_permits()),
        }
    }
}

/// One password check per core: more at once only queue for the same cores and add memory.
fn default_hash_permits() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().max(1))
}

impl Limiter {
    /// The limits, with their timer task (must be called inside a Tokio runtime): it prunes
    /// expired entries and, on PostgreSQL, shares the link counts through `db`. The task holds
    /// only a weak reference and ends when the server's state is dropped.
    pub fn start(db: Db) -> Arc<Self> {
        let limiter = Arc::new(Limiter::default());
        let weak: Weak<Limiter> = Arc::downgrade(&limiter);
        let shared = matches!(db, Db::Postgres(_));
        tokio::spawn(async move {
            let tick = if shared { SYNC_EVERY } else { PRUNE_EVERY };
            let prune_every = (PRUNE_EVERY.as_millis() / tick.as_millis()).max(1) as u64;
            let mut every = tokio::time::interval(tick);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            for n in 0u64.. {
                every.tick().await;
                let Some(limiter) = weak.upgrade() else {
                    break;
                };
                if shared {
                    limiter.sync(&db).await;
                }
                if n % prune_every == prune_every - 1 {
                    limiter.prune(now_ms());
                    limiter.summarise();
                    if shared && let Err(e) = db.prune_rate_counts(now_ms()).await {
                        tracing::warn!(error = %e, "could not drop expired shared link counts");
                    }
                }
            }
        });
        limiter
    }

    /// Counts a request on a known link (by its [`crate::secrets::limit_key`]); false when
    /// the link already had [`LINK_REQUESTS`] in its window, on this server or, as of the
    /// last sync, on all servers. Call only after the token was found.
    pub fn hit_link(&self, key: &str) -> bool {
        let now = now_ms();
        let mut t = self.links.lock();
        let w = t.entry(key.to_string(), || Window::new(now));
        let allowed = w.hit(now, LINK_REQUESTS, millis(LINK_WINDOW));
        let first_unsynced = allowed && w.unsynced == 1;
        drop(t);
        if first_unsynced {
            lock(&self.dirty).push(key.to_string());
        }
        if !allowed {
            self.refused.0.fetch_add(1, Ordering::Relaxed);
        }
        allowed
    }

    /// Adds this server's new counts to the shared ones and takes back the totals of all
    /// servers. On a database error the counts are kept for the next sync.
    pub async fn sync(&self, db: &Db) {
        let mut keys = std::mem::take(&mut *lock(&self.dirty));
        keys.sort_unstable();
        keys.dedup();
        let later = keys.split_off(keys.len().min(SYNC_BATCH));
        let link_window = millis(LINK_WINDOW);
        let mut batch = Vec::new();
        {
            let mut t = self.links.lock();
            for key in keys {
                if let Some(w) = t.map.get_mut(&key) {
                    batch.push(RateHits {
                        key,
                        hits: i64::from(w.unsynced),
                        window_ms: link_window,
                    });
                    w.unsynced = 0;
                }
            }
        }
        {
            let mut u = lock(&self.unknown);
            if u.unsynced > 0 || self.unknown_refresh.swap(false, Ordering::Relaxed) {
                batch.push(RateHits {
                    key: UNKNOWN_KEY.to_string(),
                    hits: i64::from(u.unsynced),
                    window_ms: millis(UNKNOWN_WINDOW),
                });
                u.unsynced = 0;
            }
        }
        lock(&self.dirty).extend(later);
        if batch.is_empty() {
            return;
        }
        let result = db.add_rate_hits(now_ms(), &batch).await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, "could not share link counts; kept for the next sync");
        }
        let mut t = self.links.lock();
        let mut u = lock(&self.unknown);
        let mut again = Vec::new();
        for (k, b) in batch.into_iter().enumerate() {
            let unknown = b.key == UNKNOWN_KEY;
            let w = if unknown {
                &mut *u
            } else if let Some(w) = t.map.get_mut(&b.key) {
                w
            } else {
                continue;
            };
            match &result {
                Ok(totals) => {
                    let (total, expires_at) = totals[k];
                    // All servers' hits, plus this one's since the snapshot.
                    w.count = u32::try_from(total)
                        .unwrap_or(u32::MAX)
                        .saturating_add(w.unsynced);
                    w.start = expires_at - b.window_ms;
                }
                Err(_) => w.unsynced = w.unsynced.saturating_add(b.hits as u32),
            }
            // Hits added (or kept): sync once more next time.
            if b.hits > 0 {
                if unknown {
                    self.unknown_refresh.store(true, Ordering::Relaxed);
                } else {
                    again.push(b.key);
                }
            }
        }
        drop((t, u));
        lock(&self.dirty).extend(again);
    }

    /// Counts an unknown token (one counter for the whole server, so guesses create nothing);
    /// false when [`UNKNOWN_TOKENS`] were already seen in the window.
    pub fn hit_unknown(&self) -> bool {
        let now = now_ms();
        let allowed = lock(&self.unknown).hit(now, UNKNOWN_TOKENS, millis(UNKNOWN_WINDOW));
        if !allowed {
            self.refused.1.fetch_add(1, Ordering::Relaxed);
        }
        allowed
    }

    /// Logs how many requests the limits refused since the last call, if any: one line a
    /// minute rather than one per refused request, which a flood would turn into a full disk.
    fn summarise(&self) {
        let links = self.refused.0.swap(0, Ordering::Relaxed);
        let unknown = self.refused.1.swap(0, Ordering::Relaxed);
        if links > 0 {
            tracing::warn!(
                refused = links,
                "link requests over their limit in the last minute"
            );
        }
        if unknown > 0 {
            tracing::warn!(
                refused = unknown,
                "unknown-token requests over the server's limit in the last minute"
            );
        }
        self.hashing.summarise();
    }

    /// Entries in the per-link table (for tests and the bench).
    pub fn sizes(&self) -> usize {
        self.links.lock().len()
    }

    /// Drops entries whose window or delay is over.
    pub fn prune(&self, now_ms: i64) {
        let window = millis(LINK_WINDOW);
        self.links.lock().retain(|w| now_ms - w.start < window);
    }
}

/// A poisoned lock (a panic while held) still guards consistent-enough counters.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fixed window: the count starts at the first hit and resets when the window ends.
/// Times in milliseconds since the Unix epoch, so a window shared by servers can be adopted.
#[derive(Clone, Copy)]
struct Window {
    start: i64,
    /// Hits in the window: this server's, plus the other servers' as of the last sync.
    count: u32,
    /// This server's hits not yet added to the shared count.
    unsynced: u32,
}

impl Window {
    fn new(now_ms: i64) -> Self {
        Window {
            start: now_ms,
            count: 0,
            unsynced: 0,
        }
    }

    fn hit(&mut self, now_ms: i64, max: u32, window_ms: i64) -> bool {
        if now_ms - self.start >= window_ms {
            *self = Window::new(now_ms);
        }
        if self.count >= max {
            return false;
        }
        self.count += 1;
        self.unsynced += 1;
        true
    }
}

/// A map with a hard size bound: when full, the entry inserted first is evicted. Lookups and
/// inserts are O(1); only the timer's prune walks the table.
struct Table<K, V> {
    inner: Mutex<TableInner<K, V>>,
}

struct TableInner<K, V> {
    map: HashMap<K, V>,
    /// Keys in insertion order (each key of `map` exactly once).
    order: VecDeque<K>,
    bound: usize,
}

impl<K: Hash + Eq + Clone, V> Table<K, V> {
    fn new(bound: usize) -> Self {
        Table {
            inner: Mutex::new(TableInner {
                map: HashMap::new(),
                order: VecDeque::new(),
                bound: bound.max(1),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, TableInner<K, V>> {
        lock(&self.inner)
    }
}

impl<K: Hash + Eq + Clone, V> TableInner<K, V> {
    fn entry(&mut self, key: K, new: impl FnOnce() -> V) -> &mut V {
        if !self.map.contains_key(&key) {
            while self.map.len() >= self.bound {
                let Some(oldest) = self.order.pop_front() else {
                    break;
                };
                self.map.remove(&oldest);
            }
            self.order.push_back(key.clone());
        }
        self.map.entry(key).or_insert_with(new)
    }

    fn retain(&mut self, keep: impl Fn(&V) -> bool) {
        self.map.retain(|_, v| keep(v));
        let map = &self.map;
        self.order.retain(|k| map.contains_key(k));
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

/// Increasing delays per account after failed logins (see the module documentation). The
/// counts are kept in the database (`login_throttle`, [`crate::db::Db::count_login_attempt`]),
/// so several servers on one PostgreSQL enforce one delay; this holds only the schedule.
pub struct LoginGuard {
    /// How long the `k`th counted attempt makes the account wait, in milliseconds (index
    /// `k - 1`; the last entry, [`LOGIN_MAX_DELAY`], for all beyond).
    schedule: Vec<i64>,
}

impl Default for LoginGuard {
    fn default() -> Self {
        let mut schedule: Vec<i64> = (1..LOGIN_FREE).map(|_| 0).collect();
        let mut n = 0;
        loop {
            let d = login_delay(n);
            schedule.push(millis(d));
            if d >= LOGIN_MAX_DELAY {
                break;
            }
            n += 1;
        }
        LoginGuard { schedule }
    }
}

/// The delay imposed after the `n`th failure beyond [`LOGIN_FREE`] (n = 0 for the first):
/// doubling from [`LOGIN_BASE_DELAY`], never more than [`LOGIN_MAX_DELAY`].
pub fn login_delay(n: u32) -> Duration {
    LOGIN_BASE_DELAY
        .checked_mul(1u32.checked_shl(n).unwrap_or(u32::MAX))
        .unwrap_or(LOGIN_MAX_DELAY)
        .min(LOGIN_MAX_DELAY)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Now, in milliseconds since the Unix epoch. Servers sharing a database must keep their
/// clocks in step (NTP), as they must for sessions anyway.
fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The time left until `at_ms`, if any.
fn until(at_ms: i64, now_ms: i64) -> Option<Duration> {
    (at_ms > now_ms).then(|| Duration::from_millis((at_ms - now_ms) as u64))
}

impl LoginGuard {
    /// How long the account must still wait, without counting anything.
    pub async fn waiting(&self, db: &Db, account: AccountId) -> Result<Option<Duration>, DbError> {
        let now = now_ms();
        Ok(db
            .login_allowed_at(account)
            .await?
            .and_then(|at| until(at, now)))
    }

    /// Takes one password check for the account, counted as a failure until
    /// [`LoginGuard::succeeded`] says otherwise — so parallel attempts, on this server or
    /// another, cannot all pass the check before any of them is counted. `Ok(Err(wait))`
    /// when the account must wait first.
    pub async fn reserve(
        &self,
        db: &Db,
        account: AccountId,
    ) -> Result<Result<(), Duration>, DbError> {
        let now = now_ms();
        let forget = now - millis(LOGIN_FORGET);
        match db
            .count_login_attempt(account, now, forget, &self.schedule)
            .await?
        {
            None => Ok(Ok(())),
            // (refused, but the delay just ended: at least a millisecond, so still a 429)
            Some(at) => Ok(Err(until(at, now).unwrap_or(Duration::from_millis(1)))),
        }
    }

    /// The right password: the account's failures are forgotten.
    pub async fn succeeded(&self, db: &Db, account: AccountId) -> Result<(), DbError> {
        db.forget_login_failures(account).await
    }

    /// The accounts that must wait now (for the administrator's list).
    pub async fn delayed(&self, db: &Db) -> Result<Vec<AccountId>, DbError> {
        db.delayed_accounts(now_ms()).await
    }

    /// Drops the rows of accounts whose delay is over and whose failures are forgotten.
    pub async fn prune(&self, db: &Db) -> Result<u64, DbError> {
        let now = now_ms();
        db.prune_login_failures(now, now - millis(LOGIN_FORGET))
            .await
    }
}

/// At most a fixed number of password checks at once, whatever the number of logins.
///
/// The checks run on the gate's own threads, one per turn: argon2 allocates ~19 MiB per
/// check and the allocator keeps a freed block per thread, so checks spread over Tokio's
/// growing blocking pool would leave memory behind on every thread that ever ran one.
///
/// Names that are no account (checked against the dummy hash) may hold all turns but one
/// (when there are two or more), so a flood of made-up names cannot keep real accounts, whose
/// attempts [`LoginGuard`] bounds, from a turn. Under such a flood this answers made-up names
/// 503 sooner than real ones: the price of letting the real users in.
pub struct HashGate {
    permits: Arc<Semaphore>,
    /// Turns names that are no account may hold (all but one of `permits`).
    unknown_lane: Arc<Semaphore>,
    size: usize,
    jobs: Option<std::sync::mpsc::Sender<HashJob>>,
    counts: Arc<HashCounts>,
}

type HashJob = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct HashCounts {
    total: AtomicU64,
    running: AtomicUsize,
    peak: AtomicUsize,
    /// Logins answered 503 since the last summary in the log.
    busy: AtomicU64,
    /// Logins refused for an account's delay since the last summary.
    delayed: AtomicU64,
    /// Failed logins with a name that is no account since the last summary.
    unknown_names: AtomicU64,
}

/// A turn at the password check (released when dropped).
pub struct HashTurn {
    _permit: OwnedSemaphorePermit,
    _lane: Option<OwnedSemaphorePermit>,
}

/// Whose password a turn is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Claimant {
    /// An existing account (its attempts are bounded by [`LoginGuard`]).
    Account,
    /// A name that is no account.
    Unknown,
}

impl HashGate {
    pub fn new(size: usize) -> Self {
        let size = size.max(1);
        let (tx, rx) = std::sync::mpsc::channel::<HashJob>();
        let rx = Arc::new(Mutex::new(rx));
        let mut started = 0;
        for i in 0..size {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-check-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only to take the next job, not while it runs.
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "could not start a password-check thread"),
            }
        }
        HashGate {
            permits: Arc::new(Semaphore::new(size)),
            unknown_lane: Arc::new(Semaphore::new(size.saturating_sub(1).max(1))),
            size,
            // Without any thread of its own the gate falls back to Tokio's blocking pool.
            jobs: (started > 0).then_some(tx),
            counts: Arc::default(),
        }
    }

    /// Waits up to [`HASH_WAIT`] for a turn; [`LimitError::Busy`] if none came.
    pub async fn turn(&self, who: Claimant) -> Result<HashTurn, LimitError> {
        let deadline = tokio::time::Instant::now() + HASH_WAIT;
        let lane = match who {
            Claimant::Account => None,
            Claimant::Unknown => {
                let lane = self.unknown_lane.clone().acquire_owned();
                match tokio::time::timeout_at(deadline, lane).await {
                    Ok(Ok(permit)) => Some(permit),
                    _ => return Err(self.busy()),
                }
            }
        };
        match tokio::time::timeout_at(deadline, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(HashTurn {
                _permit: permit,
                _lane: lane,
            }),
            _ => Err(self.busy()),
        }
    }

    fn busy(&self) -> LimitError {
        // Counted, and summed up in the log once a minute: a line per refused login would
        // let a flood fill the disk.
        self.counts.busy.fetch_add(1, Ordering::Relaxed);
        tracing::debug!("password checks saturated; login answered 503");
        LimitError::Busy
    }

    /// Counts a login refused because its account must wait (for the summary in the log).
    pub fn count_delayed(&self) {
        self.counts.delayed.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a failed login with a name that is no account (for the summary in the log).
    pub fn count_unknown_name(&self) {
        self.counts.unknown_names.fetch_add(1, Ordering::Relaxed);
    }

    /// Checks `password` against the argon2 `hash` on one of the gate's threads. The turn is
    /// held until the check ends, even if the client hangs up meanwhile.
    pub async fn verify(
        &self,
        turn: HashTurn,
        password: String,
        hash: String,
    ) -> Result<bool, LimitError> {
        let counts = self.counts.clone();
        let check = move || {
            let _turn = turn;
            let running = counts.running.fetch_add(1, Ordering::SeqCst) + 1;
            counts.peak.fetch_max(running, Ordering::SeqCst);
            counts.total.fetch_add(1, Ordering::SeqCst);
            let ok = crate::secrets::verify_password(&password, &hash);
            counts.running.fetch_sub(1, Ordering::SeqCst);
            ok
        };
        let Some(jobs) = &self.jobs else {
            return tokio::task::spawn_blocking(check)
                .await
                .map_err(|e| LimitError::Internal(e.to_string()));
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: HashJob = Box::new(move || {
            let _ = tx.send(check());
        });
        if jobs.send(job).is_err() {
            return Err(LimitError::Internal(
                "the password-check threads have stopped".into(),
            ));
        }
        rx.await
            .map_err(|_| LimitError::Internal("a password check ended without an answer".into()))
    }

    /// Logs, once per interval, how many logins were refused, if any.
    fn summarise(&self) {
        let busy = self.counts.busy.swap(0, Ordering::Relaxed);
        let delayed = self.counts.delayed.swap(0, Ordering::Relaxed);
        let unknown_names = self.counts.unknown_names.swap(0, Ordering::Relaxed);
        if unknown_names > 0 {
            tracing::warn!(
                failed = unknown_names,
                "failed logins with names that are no account in the last minute"
            );
        }
        if busy > 0 {
            tracing::warn!(
                refused = busy,
                "logins answered 503 in the last minute: password checks were saturated"
            );
        }
        if delayed > 0 {
            tracing::warn!(
                refused = delayed,
                "logins refused in the last minute: their accounts must wait after repeated failures"
            );
        }
    }

    /// How many checks may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Checks run so far.
    pub fn checks(&self) -> u64 {
        self.counts.total.load(Ordering::SeqCst)
    }

    /// The most checks that ran at the same time.
    pub fn peak(&self) -> usize {
        self.counts.peak.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_refuses_after_its_maximum_and_then_ends() {
        let t0 = now_ms();
        let mut w = Window::new(t0);
        for _ in 0..3 {
            assert!(w.hit(t0, 3, 60_000));
        }
        assert!(!w.hit(t0, 3, 60_000));
        assert_eq!(w.unsynced, 3, "a refused hit is not counted");
        assert!(w.hit(t0 + 60_000, 3, 60_000));
        assert_eq!((w.count, w.unsynced), (1, 1));
    }

    #[test]
    fn a_full_table_evicts_its_oldest_entry() {
        let t: Table<u32, u32> = Table::new(3);
        let mut g = t.lock();
        for k in 0..10 {
            *g.entry(k, || 0) += 1;
            assert!(g.len() <= 3);
        }
        assert_eq!(g.len(), 3);
        assert!(!g.map.contains_key(&6));
        assert!(g.map.contains_key(&9));
        assert_eq!(g.order.len(), 3);
    }

    #[test]
    fn delays_double_and_stop_at_the_maximum() {
        assert_eq!(login_delay(0), LOGIN_BASE_DELAY);
        assert_eq!(login_delay(1), LOGIN_BASE_DELAY * 2);
        let mut last = Duration::ZERO;
        for n in 0..100 {
            let d = login_delay(n);
            assert!(d >= last && d <= LOGIN_MAX_DELAY, "{n}: {d:?}");
            last = d;
        }
        assert_eq!(login_delay(u32::MAX), LOGIN_MAX_DELAY);
    }

    #[tokio::test]
    async fn made_up_names_leave_a_turn_for_real_accounts() {
        let gate = HashGate::new(2);
        let held = gate.turn(Claimant::Unknown).await.unwrap();
        let quick = Duration::from_millis(50);
        let second = tokio::time::timeout(quick, gate.turn(Claimant::Unknown)).await;
        assert!(second.is_err(), "a second made-up name waits");
        let account = tokio::time::timeout(quick, gate.turn(Claimant::Account)).await;
        let account = account
            .expect("a real account gets the reserved turn")
            .unwrap();
        let dummy = crate::ops::accounts::DUMMY_HASH.to_string();
        assert!(!gate.verify(account, "x".into(), dummy).await.unwrap());
        drop(held);
        assert!(gate.turn(Claimant::Unknown).await.is_ok());
        assert_eq!((gate.checks(), gate.peak()), (1, 1));
    }

    #[test]
    fn pruning_drops_only_what_is_over() {
        let l = Limiter::default();
        assert!(l.hit_link("a"));
        l.prune(now_ms());
        assert_eq!(l.sizes(), 1);
        l.prune(now_ms() + millis(LINK_WINDOW));
        assert_eq!(l.sizes(), 0);
    }

    #[test]
    fn the_schedule_is_free_then_doubles_up_to_the_longest_delay() {
        let s = LoginGuard::default().schedule;
        assert_eq!(&s[..6], &[0, 0, 0, 0, 1000, 2000]);
        assert_eq!(s.len(), LOGIN_FREE as usize + 9);
        assert_eq!(s.last(), Some(&millis(LOGIN_MAX_DELAY)));
    }
}

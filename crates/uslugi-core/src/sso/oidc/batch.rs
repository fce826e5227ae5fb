//! Group commit for the token endpoint.
//!
//! Every code exchange and refresh grant writes: it uses up a code or a refresh token and stores
//! new tokens. One by one, each pays a transaction of its own and — on SQLite with
//! `synchronous=FULL` — an `fsync`, and SQLite has a single connection, so under load they queue
//! behind each other. Here one task writes: the requests that arrive while a batch is being written
//! go into the next one, which uses up all their codes in one `UPDATE … RETURNING`, their refresh
//! tokens in another, stores all their new tokens in one `INSERT` and commits once. Durability is
//! unchanged — no request is answered before the commit that holds its tokens — and each
//! request's outcome is what it would have been alone: a code or token that two requests present
//! goes to the first, and the second sees it used.

use std::{
    collections::HashMap,
    panic::AssertUnwindSafe,
    sync::{Mutex, PoisonError},
};

use sea_orm::TransactionTrait;
use tokio::sync::{mpsc, oneshot};
use uslugi_store::{Db, StoreError, now_ms, sso::oidc as store};

use super::flow::{TokenError, internal};

/// At most this many requests share a transaction (the statements stay far below the
/// databases' bound-parameter limits).
const MAX_BATCH: usize = 256;

/// What a request uses up: a code, or a refresh token (by hash).
pub(crate) enum Claim {
    /// An authorization code.
    Code(String),
    /// A refresh token.
    Refresh(String),
}

/// What the batch used up for a request.
#[derive(Debug)]
pub(crate) enum Claimed {
    /// The code.
    Code(store::CodeRow),
    /// The refresh token (now revoked).
    Refresh(store::TokenRow),
}

/// Given what was just used up, the tokens to store, or why the request fails (what it used up
/// is then made usable again, as if the request had never come).
pub(crate) type Issue =
    Box<dyn FnOnce(&Claimed) -> Result<Vec<store::TokenRow>, TokenError> + Send>;

type Reply = oneshot::Sender<Result<Option<Claimed>, TokenError>>;

struct Job {
    claim: Claim,
    issue: Issue,
    reply: Reply,
}

/// The single writer of exchanges and refresh grants for one database (held in the application
/// state; its task starts with the first request — and again should it ever have ended — and
/// ends when the writer is dropped).
#[derive(Debug)]
pub struct TokenWriter {
    db: Db,
    sender: Mutex<Option<mpsc::Sender<Job>>>,
}

impl TokenWriter {
    /// A writer for this database.
    pub fn new(db: Db) -> TokenWriter {
        TokenWriter {
            db,
            sender: Mutex::new(None),
        }
    }

    /// The running writer task's queue, started anew when there is none (first use, or the task
    /// died — a panic, or the runtime it ran on ended), so that one failure does not end every
    /// later exchange in the process.
    fn sender(&self) -> mpsc::Sender<Job> {
        let mut sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        match sender.as_ref() {
            Some(tx) if !tx.is_closed() => tx.clone(),
            _ => {
                let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
                tokio::spawn(run(self.db.clone(), rx));
                *sender = Some(tx.clone());
                tx
            }
        }
    }

    /// Uses up the code or refresh token and stores the tokens `issue` makes from it, in the
    /// next batch; returns what was used up. `None`: it was not there to use — unknown, used or
    /// revoked already, or (a refresh token) expired.
    pub(crate) async fn claim(
        &self,
        claim: Claim,
        issue: Issue,
    ) -> Result<Option<Claimed>, TokenError> {
        let (reply, answer) = oneshot::channel();
        self.sender()
            .send(Job {
                claim,
                issue,
                reply,
            })
            .await
            .map_err(|_| internal("the token writer has stopped"))?;
        answer
            .await
            .map_err(|_| internal("the token writer dropped a request"))?
    }
}

async fn run(db: Db, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        write(&db, std::mem::take(&mut batch)).await;
    }
}

async fn write(db: &Db, mut jobs: Vec<Job>) {
    let now = now_ms();
    // A request whose caller has gone (timed out, or the client hung up) is not carried out:
    // nobody would receive its tokens, and its code should stay as it was.
    jobs.retain(|job| !job.reply.is_closed());
    if jobs.is_empty() {
        return;
    }
    let (mut codes, mut refreshes) = (Vec::new(), Vec::new());
    for job in &jobs {
        match &job.claim {
            Claim::Code(hash) => codes.push(hash.clone()),
            Claim::Refresh(hash) => refreshes.push(hash.clone()),
        }
    }
    let mut answers: Vec<(Reply, Result<Option<Claimed>, TokenError>)> =
        Vec::with_capacity(jobs.len());
    let written: Result<(), StoreError> = async {
        let txn = db.begin().await?;
        let mut taken: HashMap<String, Claimed> = store::take_codes(&txn, &as_strs(&codes), now)
            .await?
            .into_iter()
            .map(|row| (row.code_hash.clone(), Claimed::Code(row)))
            .chain(
                store::take_refresh_tokens(&txn, &as_strs(&refreshes), now)
                    .await?
                    .into_iter()
                    .map(|row| (row.token_hash.clone(), Claimed::Refresh(row))),
            )
            .collect();
        let mut tokens = Vec::new();
        for Job {
            claim,
            issue,
            reply,
        } in jobs
        {
            let hash = match &claim {
                Claim::Code(h) | Claim::Refresh(h) => h,
            };
            // Taken out of the map: a second request with the same code or token finds it used —
            // unless this one fails its checks, which puts it back for the next one to try.
            let answer = match taken.remove(hash) {
                None => Ok(None),
                // A panic in one request's checks must not end the writer (and with it every
                // later exchange in this process): it fails that request alone.
                Some(claimed) => {
                    match std::panic::catch_unwind(AssertUnwindSafe(|| issue(&claimed)))
                        .unwrap_or_else(|_| Err(internal("the token checks panicked")))
                    {
                        Ok(new) => {
                            tokens.extend(new);
                            Ok(Some(claimed))
                        }
                        Err(e) => {
                            taken.insert(hash.clone(), claimed);
                            Err(e)
                        }
                    }
                }
            };
            answers.push((reply, answer));
        }
        // What no request kept is made usable again, as if those requests had never come.
        let (mut untake_codes, mut untake_refreshes) = (Vec::new(), Vec::new());
        for (hash, claimed) in taken {
            match claimed {
                Claimed::Code(_) => untake_codes.push(hash),
                Claimed::Refresh(_) => untake_refreshes.push(hash),
            }
        }
        store::untake_codes(&txn, &as_strs(&untake_codes)).await?;
        store::untake_refresh_tokens(&txn, &as_strs(&untake_refreshes)).await?;
        if !tokens.is_empty() {
            store::insert_tokens(&txn, tokens).await?;
        }
        txn.commit().await?;
        Ok(())
    }
    .await;
    // A failed transaction stored nothing: every request in it fails alike (and may be retried,
    // nothing having been used up). A request whose caller has gone (the client hung up) has no
    // one to answer: its result is dropped, as a response would be.
    for (reply, answer) in answers {
        let _ = reply.send(match &written {
            Ok(()) => answer,
            Err(e) => Err(internal(e)),
        });
    }
}

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

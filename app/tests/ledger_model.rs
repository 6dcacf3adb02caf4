//! Property test: random sequences of trials, purchases, holds, captures (whole and in
//! parts), cancels, closes, extensions, clock advances with expiry, and adjustments across
//! several accounts. After every step the book
//! must agree with a deliberately simple model, the entries must sum to the balances, and no
//! account may have less than nothing available.

use app::domain::credits::Credits;
use app::domain::ledger::{Account, Book, EntryKind, NewHold, Placement};
use proptest::prelude::*;

const ACCOUNTS: usize = 3;

#[derive(Clone, Debug)]
enum Op {
    Credit {
        account: usize,
        kind: EntryKind,
        amount: i64,
    },
    Hold {
        account: usize,
        amount: i64,
        ttl: i64,
    },
    Capture {
        pick: usize,
        amount: Option<i64>,
    },
    Cancel {
        pick: usize,
    },
    CapturePart {
        pick: usize,
        amount: i64,
    },
    Extend {
        pick: usize,
        ms: i64,
    },
    Close {
        pick: usize,
    },
    Advance {
        ms: i64,
    },
    Disable {
        account: usize,
        disabled: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0..ACCOUNTS, prop_oneof![Just(EntryKind::Trial), Just(EntryKind::Purchase), Just(EntryKind::Adjustment)], -60i64..200)
            .prop_map(|(account, kind, amount)| Op::Credit { account, kind, amount }),
        3 => (0..ACCOUNTS, -5i64..90, 1i64..100).prop_map(|(account, amount, ttl)| Op::Hold { account, amount, ttl }),
        2 => (any::<usize>(), proptest::option::of(-5i64..100)).prop_map(|(pick, amount)| Op::Capture { pick, amount }),
        1 => (any::<usize>()).prop_map(|pick| Op::Cancel { pick }),
        2 => (any::<usize>(), -5i64..40).prop_map(|(pick, amount)| Op::CapturePart { pick, amount }),
        1 => (any::<usize>(), 0i64..120).prop_map(|(pick, ms)| Op::Extend { pick, ms }),
        1 => (any::<usize>()).prop_map(|pick| Op::Close { pick }),
        1 => (0i64..60).prop_map(|ms| Op::Advance { ms }),
        1 => (0..ACCOUNTS, any::<bool>()).prop_map(|(account, disabled)| Op::Disable { account, disabled }),
    ]
}

/// The simplest possible account of what should happen.
#[derive(Default)]
struct Model {
    balance: [i64; ACCOUNTS],
    disabled: [bool; ACCOUNTS],
    /// (account, amount still held, expires_at, open)
    holds: Vec<(usize, i64, i64, bool)>,
    now: i64,
}

impl Model {
    fn held(&self, account: usize) -> i64 {
        self.holds
            .iter()
            .filter(|h| h.0 == account && h.3)
            .map(|h| h.1)
            .sum()
    }

    fn available(&self, account: usize) -> i64 {
        self.balance[account] - self.held(account)
    }

    fn expire(&mut self) {
        let now = self.now;
        self.holds
            .iter_mut()
            .filter(|h| h.3 && h.2 <= now)
            .for_each(|h| h.3 = false);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn the_book_matches_a_simple_model(ops in proptest::collection::vec(op(), 1..60)) {
        let mut book = Book::new();
        for id in 0..ACCOUNTS {
            book.load_account(id as i64, Account::default());
        }
        let mut model = Model::default();
        let mut sums = [(0i64, 0i64); ACCOUNTS];

        for op in ops {
            let mut entries: Vec<_> = book.expire_due(model.now).into_iter().map(|(_, e)| e).collect();
            model.expire();
            match op {
                Op::Credit { account, kind, amount } => {
                    let ok = match kind {
                        EntryKind::Adjustment => amount != 0 && (amount > 0 || model.available(account) >= -amount),
                        _ => amount > 0,
                    };
                    let got = book.credit(account as i64, kind, Credits::from_minor(amount), "credit");
                    prop_assert_eq!(got.is_ok(), ok, "credit {:?} {}", kind, amount);
                    if let Ok(entry) = got {
                        model.balance[account] += amount;
                        entries.push(entry);
                    }
                }
                Op::Hold { account, amount, ttl } => {
                    let ok = amount > 0 && !model.disabled[account] && model.available(account) >= amount;
                    let token = format!("h{}", model.holds.len());
                    // A one-hour hold placed so that it expires at `now + ttl`.
                    let new = NewHold {
                        account: account as i64,
                        amount: Credits::from_minor(amount),
                        description: "hold".into(),
                        ttl_hours: 1,
                        idempotency_key: None,
                    };
                    let placement = Placement {
                        token,
                        now: model.now + ttl - 3_600_000,
                        idempotency: None,
                    };
                    let got = book.hold(&new, placement);
                    prop_assert_eq!(got.is_ok(), ok, "hold {} on {}", amount, account);
                    // Keep hold indexes aligned with tokens, refused holds included.
                    model.holds.push((account, amount, model.now + ttl, got.is_ok()));
                    if let Ok((_, entry)) = got {
                        entries.push(entry);
                    }
                }
                Op::Capture { pick, amount } => {
                    if model.holds.is_empty() { continue; }
                    let i = pick % model.holds.len();
                    let (account, held, _, open) = model.holds[i];
                    let take = amount.unwrap_or(held);
                    let ok = open && (0..=held).contains(&take);
                    let got = book.capture(&format!("h{i}"), amount.map(Credits::from_minor));
                    prop_assert_eq!(got.is_ok(), ok, "capture {:?} of hold {} ({} held, open {})", amount, i, held, open);
                    if let Ok((_, taken, entry)) = got {
                        prop_assert_eq!(taken, take);
                        model.balance[account] -= take;
                        model.holds[i].3 = false;
                        entries.push(entry);
                    }
                }
                Op::Cancel { pick } => {
                    if model.holds.is_empty() { continue; }
                    let i = pick % model.holds.len();
                    let got = book.cancel(&format!("h{i}"));
                    prop_assert_eq!(got.is_ok(), model.holds[i].3);
                    if let Ok((_, entry)) = got {
                        model.holds[i].3 = false;
                        entries.push(entry);
                    }
                }
                Op::CapturePart { pick, amount } => {
                    if model.holds.is_empty() { continue; }
                    let i = pick % model.holds.len();
                    let (account, held, _, open) = model.holds[i];
                    let ok = open && amount > 0 && amount <= held;
                    let got = book.capture_part(&format!("h{i}"), Credits::from_minor(amount), "part");
                    prop_assert_eq!(got.is_ok(), ok, "part {} of hold {} ({} held, open {})", amount, i, held, open);
                    if let Ok((hold, entry)) = got {
                        model.balance[account] -= amount;
                        model.holds[i].1 -= amount;
                        prop_assert_eq!(hold.remaining(), model.holds[i].1);
                        entries.push(entry);
                    }
                }
                Op::Extend { pick, ms } => {
                    if model.holds.is_empty() { continue; }
                    let i = pick % model.holds.len();
                    let got = book.extend(&format!("h{i}"), model.now + ms);
                    prop_assert_eq!(got.is_ok(), model.holds[i].3);
                    if got.is_ok() {
                        model.holds[i].2 = model.holds[i].2.max(model.now + ms);
                    }
                }
                Op::Close { pick } => {
                    if model.holds.is_empty() { continue; }
                    let i = pick % model.holds.len();
                    let got = book.close(&format!("h{i}"));
                    prop_assert_eq!(got.is_ok(), model.holds[i].3);
                    if let Ok((_, entry)) = got {
                        model.holds[i].3 = false;
                        entries.extend(entry);
                    }
                }
                Op::Advance { ms } => model.now += ms,
                Op::Disable { account, disabled } => {
                    book.set_disabled(account as i64, disabled).unwrap();
                    model.disabled[account] = disabled;
                }
            }
            for entry in &entries {
                let sum = &mut sums[entry.account as usize];
                sum.0 += entry.amount;
                sum.1 += entry.held_delta;
            }
            for (id, sum) in sums.iter().enumerate() {
                let acct = *book.account(id as i64).unwrap();
                prop_assert_eq!(acct.balance, model.balance[id]);
                prop_assert_eq!(acct.held, model.held(id));
                prop_assert!(acct.available() >= 0);
                // The ledger check: entries sum to what the book holds.
                prop_assert_eq!(*sum, (acct.balance, acct.held));
            }
        }
    }
}

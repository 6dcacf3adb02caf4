//! The access matrix: every server function and page × role (anonymous, a user of company
//! A, a user of company B, an administrator) × the company that owns the record, each cell
//! asserted allowed or denied, and denied the right way:
//! - anonymous callers are told to sign in (401; pages redirect to the login page);
//! - users are refused what only administrators may do (403);
//! - another company's records do not exist for them (404), so their ids leak nothing.
//!
//! Allowed means "not denied": the call may still fail on its merits (a hosted checkout
//! without Stripe), but never with 401, 403 or 404, and never with a 5xx.

use crate::helpers::{Reply, TestApp, spawn_app};
use http::StatusCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    UserA,
    UserB,
    Admin,
}

const EVERYONE: [Who; 4] = [Who::Anonymous, Who::UserA, Who::UserB, Who::Admin];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    A,
    B,
}

/// Who may call an endpoint.
#[derive(Clone, Copy, Debug)]
enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// Anyone signed in.
    SignedIn,
    /// Anyone signed in into the record's company; others do not see it.
    Company,
    /// Administrators only.
    Admin,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Allow,
    SignIn,
    Forbidden,
    Hidden,
}

fn expect(rule: Rule, who: Who, owner: Owner) -> Expect {
    match (rule, who) {
        (Rule::Public, _) => Expect::Allow,
        (_, Who::Anonymous) => Expect::SignIn,
        (Rule::SignedIn, _) | (_, Who::Admin) => Expect::Allow,
        (Rule::Admin, Who::UserA | Who::UserB) => Expect::Forbidden,
        (Rule::Company, Who::UserA) if owner == Owner::A => Expect::Allow,
        (Rule::Company, Who::UserB) if owner == Owner::B => Expect::Allow,
        (Rule::Company, Who::UserA | Who::UserB) => Expect::Hidden,
    }
}

fn verdict(status: StatusCode) -> Option<Expect> {
    match status.as_u16() {
        401 => Some(Expect::SignIn),
        403 => Some(Expect::Forbidden),
        404 => Some(Expect::Hidden),
        500..=599 => None,
        _ => Some(Expect::Allow),
    }
}

/// The records of each company, and the sessions of each role.
struct World {
    app: TestApp,
    cookies: [(Who, Option<String>); 4],
    company: [i64; 2],
    account: [i64; 2],
    token: [String; 2],
    pack: [i64; 2],
    contact: [i64; 2],
    order: [i64; 2],
    victim: i64,
}

impl World {
    fn of<T: Clone>(items: &[T; 2], owner: Owner) -> T {
        items[owner as usize].clone()
    }

    fn cookie(&self, who: Who) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(w, _)| *w == who)
            .and_then(|(_, c)| c.as_deref())
    }
}

async fn ok(reply: Reply, what: &str) -> Reply {
    assert_eq!(reply.status, StatusCode::OK, "{what}: {}", reply.body);
    reply
}

async fn scalar(app: &TestApp, sql: &'static str, bind: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_one(&app.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn world() -> World {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    // Developer mode, and both companies active, so the administrator sees everything.
    let reply = app.get("/?debug=1", Some(&admin)).await;
    assert!(reply.status.is_success(), "{}", reply.status);
    let sf = scalar(&app, "SELECT id FROM companies WHERE name LIKE $1", "%San%").await;
    let chicago = scalar(
        &app,
        "SELECT id FROM companies WHERE name LIKE $1",
        "%Chicago%",
    )
    .await;
    ok(
        app.call(
            "switch_company",
            &[("company_id", &chicago.to_string()), ("toggle", "true")],
            Some(&admin),
        )
        .await,
        "activate Chicago",
    )
    .await;
    let password = "a long enough password 42";
    for (login, company) in [("bob", chicago), ("victim", sf)] {
        ok(
            app.call(
                "users/create",
                &[
                    ("login", login),
                    ("name", login),
                    ("role", "user"),
                    ("companies[0]", &company.to_string()),
                    ("password", password),
                ],
                Some(&admin),
            )
            .await,
            login,
        )
        .await;
    }
    let victim = scalar(&app, "SELECT id FROM users WHERE login = $1", "victim").await;
    let user_a = app.login("demo", "demo").await;
    let user_b = app.login("bob", password).await;

    // One account per company: SMS is San Francisco's, Snailmail Chicago's.
    let mut account = [0; 2];
    let mut token = [String::new(), String::new()];
    let mut pack = [0; 2];
    for (i, (service, company)) in [("sms", sf), ("snailmail", chicago)]
        .into_iter()
        .enumerate()
    {
        account[i] = scalar(
            &app,
            "SELECT id FROM iap_accounts WHERE service = $1",
            service,
        )
        .await;
        token[i] = sqlx::query_scalar("SELECT token FROM iap_accounts WHERE id = $1")
            .bind(account[i])
            .fetch_one(&app.pool)
            .await
            .expect("token");
        pack[i] = scalar(
            &app,
            "SELECT MIN(id) FROM packs WHERE service = $1",
            service,
        )
        .await;
        ok(
            app.call(
                "iap/admin/save",
                &[
                    ("id", &account[i].to_string()),
                    ("name", service),
                    ("token", &token[i]),
                    ("companies[0]", &company.to_string()),
                ],
                Some(&admin),
            )
            .await,
            "restrict the account",
        )
        .await;
    }
    let mut contact = [0; 2];
    let mut order = [0; 2];
    for (i, company) in [sf, chicago].into_iter().enumerate() {
        let reply = ok(
            app.call(
                "contacts/save",
                &[
                    ("input[name]", &format!("Contact of {company}")),
                    ("input[company_name]", ""),
                    ("input[email]", ""),
                    ("input[phone]", ""),
                    ("input[mobile]", "+32 470 12 34 56"),
                    ("input[country_code]", "BE"),
                    ("input[owner_company_id]", &company.to_string()),
                ],
                Some(&admin),
            )
            .await,
            "contact",
        )
        .await;
        contact[i] = reply.body.trim().parse().expect("contact id");
        let reply = ok(
            app.call(
                "store/order",
                &[
                    ("account_id", &account[i].to_string()),
                    ("pack_id", &pack[i].to_string()),
                ],
                Some(&admin),
            )
            .await,
            "order",
        )
        .await;
        order[i] = reply.body.trim().parse().expect("order id");
    }
    World {
        app,
        cookies: [
            (Who::Anonymous, None),
            (Who::UserA, Some(user_a)),
            (Who::UserB, Some(user_b)),
            (Who::Admin, Some(admin)),
        ],
        company: [sf, chicago],
        account,
        token,
        pack,
        contact,
        order,
        victim,
    }
}

type Form = Vec<(&'static str, String)>;

/// Each server function, its rule, and its arguments aimed at `owner`'s records.
fn server_functions(w: &World, owner: Owner) -> Vec<(&'static str, Rule, Form)> {
    let account = World::of(&w.account, owner).to_string();
    let token = World::of(&w.token, owner);
    let pack = World::of(&w.pack, owner).to_string();
    let contact = World::of(&w.contact, owner).to_string();
    let order = World::of(&w.order, owner).to_string();
    let company = World::of(&w.company, owner).to_string();
    let victim = w.victim.to_string();
    let s = |v: &str| v.to_owned();
    vec![
        ("login/demo", Rule::Public, vec![]),
        ("session", Rule::Public, vec![]),
        ("iap/accounts", Rule::SignedIn, vec![]),
        ("iap/account", Rule::Company, vec![("id", account.clone())]),
        ("iap/warning", Rule::Company, vec![("id", account.clone())]),
        ("iap/alerts", Rule::Company, vec![("id", account.clone())]),
        (
            "iap/auto-recharge",
            Rule::Company,
            vec![("id", account.clone())],
        ),
        ("notifications", Rule::SignedIn, vec![]),
        ("notifications/unread", Rule::SignedIn, vec![]),
        (
            "notifications/read",
            Rule::SignedIn,
            vec![("up_to", s("0"))],
        ),
        ("contacts/list", Rule::SignedIn, vec![("search", s(""))]),
        ("contacts/get", Rule::Company, vec![("id", contact.clone())]),
        (
            "contacts/save",
            Rule::Company,
            vec![
                ("id", contact.clone()),
                ("input[name]", s("Renamed")),
                ("input[company_name]", s("")),
                ("input[email]", s("")),
                ("input[phone]", s("")),
                ("input[mobile]", s("+32 470 12 34 56")),
                ("input[country_code]", s("BE")),
                ("input[owner_company_id]", company.clone()),
            ],
        ),
        (
            "sms/quote",
            Rule::Company,
            vec![("contact_ids[0]", contact.clone()), ("field", s("Mobile"))],
        ),
        (
            "store",
            Rule::Company,
            vec![("account_id", account.clone())],
        ),
        ("store/payment_mode", Rule::SignedIn, vec![]),
        (
            "store/order",
            Rule::Company,
            vec![("account_id", account.clone()), ("pack_id", pack)],
        ),
        (
            "store/get_order",
            Rule::Company,
            vec![("id", order.clone())],
        ),
        (
            "store/pay_hosted",
            Rule::Company,
            vec![("id", order.clone())],
        ),
        (
            "store/account_orders",
            Rule::Company,
            vec![("account_id", account.clone())],
        ),
        (
            "users/change_password",
            Rule::SignedIn,
            vec![
                (
                    "current_password",
                    s("wrong password, refused on its merits"),
                ),
                ("new_password", s("another long password 7")),
                ("confirm_password", s("another long password 7")),
            ],
        ),
        ("iap/admin/accounts", Rule::Admin, vec![]),
        (
            "iap/admin/account",
            Rule::Admin,
            vec![("id", account.clone())],
        ),
        (
            "iap/admin/save",
            Rule::Admin,
            vec![
                ("id", account.clone()),
                ("name", s("Renamed")),
                ("token", token),
                ("companies[0]", company),
            ],
        ),
        (
            "iap/admin/adjust",
            Rule::Admin,
            vec![
                ("id", account.clone()),
                ("amount", s("1")),
                ("reason", s("matrix")),
            ],
        ),
        (
            "iap/warning/save",
            Rule::Admin,
            vec![
                ("id", account.clone()),
                ("enabled", s("false")),
                ("threshold", s("0")),
                ("emails", s("")),
            ],
        ),
        (
            "iap/alerts/add",
            Rule::Admin,
            vec![
                ("id", account.clone()),
                ("threshold", s("1")),
                ("emails", s("")),
                ("in_app", s("true")),
                ("webhook", s("false")),
            ],
        ),
        (
            "iap/auto-recharge/save",
            Rule::Admin,
            vec![
                ("id", account.clone()),
                ("threshold", s("")),
                ("monthly_cap", s("")),
            ],
        ),
        (
            "iap/auto-recharge/card",
            Rule::Admin,
            vec![
                ("id", account.clone()),
                ("cardholder", s("")),
                ("card_number", s("")),
                ("expiry", s("")),
                ("cvc", s("")),
            ],
        ),
        (
            "iap/auto-recharge/off",
            Rule::Admin,
            vec![("id", account.clone())],
        ),
        // No Stripe here: refused on its merits.
        (
            "iap/auto-recharge/stripe-card",
            Rule::Admin,
            vec![("id", account.clone())],
        ),
        (
            "iap/auto-recharge/stripe-card/finish",
            Rule::Admin,
            vec![("id", account.clone()), ("session", s("cs_test_x"))],
        ),
        ("admin/emails", Rule::Admin, vec![]),
        ("admin/webhooks", Rule::Admin, vec![]),
        // A private address: refused on its merits, without a DNS lookup.
        (
            "admin/webhooks/add",
            Rule::Admin,
            vec![("url", s("http://10.0.0.1/x"))],
        ),
        ("sms/outbox", Rule::Admin, vec![]),
        ("sms/reports", Rule::Admin, vec![]),
        ("store/all_orders", Rule::Admin, vec![]),
        ("settings/overview", Rule::Admin, vec![]),
        ("settings/database", Rule::Admin, vec![]),
        ("services/overview", Rule::Admin, vec![]),
        (
            "services/hosting_type",
            Rule::Admin,
            vec![("hosting", s("On-premise"))],
        ),
        ("users/list", Rule::Admin, vec![]),
        ("users/form", Rule::Admin, vec![("id", victim.clone())]),
        (
            "users/update",
            Rule::Admin,
            vec![
                ("id", victim.clone()),
                ("name", s("Victim")),
                ("role", s("user")),
                ("active", s("true")),
            ],
        ),
        (
            "users/set_password",
            Rule::Admin,
            vec![("id", victim), ("password", s("a new long password 99"))],
        ),
    ]
}

/// Each page, its rule, and its path aimed at `owner`'s records.
fn pages(w: &World, owner: Owner) -> Vec<(Rule, String)> {
    let account = World::of(&w.account, owner);
    let contact = World::of(&w.contact, owner);
    let order = World::of(&w.order, owner);
    let victim = w.victim;
    vec![
        (Rule::Public, "/login".into()),
        (Rule::SignedIn, "/".into()),
        (Rule::SignedIn, "/iap-accounts".into()),
        (Rule::SignedIn, "/contacts".into()),
        (Rule::SignedIn, "/contacts/new".into()),
        (Rule::Company, format!("/iap-accounts/{account}")),
        (Rule::Company, format!("/iap-accounts/{account}/buy")),
        (Rule::Company, format!("/contacts/{contact}")),
        (Rule::Company, format!("/orders/{order}")),
        (Rule::Company, format!("/orders/{order}/checkout")),
        (Rule::Admin, "/settings".into()),
        (Rule::Admin, "/settings/orders".into()),
        (Rule::Admin, "/settings/webhooks".into()),
        (Rule::Admin, "/settings/technical/database".into()),
        (Rule::Admin, "/settings/technical/emails".into()),
        (Rule::Admin, "/settings/technical/iap-accounts".into()),
        (
            Rule::Admin,
            format!("/settings/technical/iap-accounts/{account}"),
        ),
        (Rule::Admin, "/settings/technical/iap-services".into()),
        (Rule::Admin, "/settings/technical/sms".into()),
        (Rule::Admin, "/settings/users".into()),
        (Rule::Admin, format!("/settings/users/{victim}")),
        (Rule::Admin, "/settings/users/new".into()),
    ]
}

#[tokio::test]
async fn every_server_function_and_page_allows_and_denies_each_role_and_company() {
    let w = world().await;
    let mut wrong = Vec::new();
    let mut cells = 0;
    for owner in [Owner::A, Owner::B] {
        for (endpoint, rule, form) in server_functions(&w, owner) {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            for who in EVERYONE {
                let reply = w.app.call(endpoint, &form, w.cookie(who)).await;
                let want = expect(rule, who, owner);
                let got = verdict(reply.status);
                cells += 1;
                if got != Some(want) {
                    wrong.push(format!(
                        "{endpoint} as {who:?} on {owner:?}'s record: want {want:?}, got {} {}",
                        reply.status,
                        &reply.body[..reply.body.len().min(160)]
                    ));
                }
            }
        }
        for (rule, path) in pages(&w, owner) {
            for who in EVERYONE {
                let reply = w.app.get(&path, w.cookie(who)).await;
                let want = expect(rule, who, owner);
                let got = match reply.status.as_u16() {
                    // Pages send the anonymous to the login page, and back afterwards.
                    303 | 302 | 307
                        if reply
                            .location()
                            .is_some_and(|l| l.starts_with("/login?next=")) =>
                    {
                        Some(Expect::SignIn)
                    }
                    // The login page sends the signed-in home.
                    303 | 302 | 307 if path == "/login" => Some(Expect::Allow),
                    _ => verdict(reply.status),
                };
                cells += 1;
                if got != Some(want) {
                    wrong.push(format!(
                        "GET {path} as {who:?}: want {want:?}, got {} {:?}",
                        reply.status,
                        reply.location()
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {cells} cells are wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // 2 owners × (33 functions + 21 pages) × 4 roles.
    assert!(cells >= 400, "{cells} cells");
}

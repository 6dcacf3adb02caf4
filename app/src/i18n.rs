//! Every user-visible string, looked up through one mechanism, and rendered at the edge.
//!
//! Messages are an enum, so a missing translation is a compile error rather than a blank
//! label. Each locale is one `match` arm of [`Msg::text`]. Templates name their placeholders
//! (`{max}`), so a translation may put them in any order.
//!
//! Code below the pages never builds user-visible strings: it returns a [`Msg`] with named
//! [`Arg`]s (see [`Text`] and `domain::FieldError`), and the page, mail or API answer that
//! shows it renders it in its reader's locale.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A language the interface can be shown in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    En,
}

macro_rules! messages {
    ($($key:ident => $en:literal,)*) => {
        /// One user-visible message. Templates use named `{placeholders}`, filled by [`tf`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Msg { $($key,)* }

        impl Msg {
            /// The message in `locale`.
            pub const fn text(self, locale: Locale) -> &'static str {
                match locale {
                    Locale::En => match self { $(Msg::$key => $en,)* },
                }
            }

            #[cfg(test)]
            const ALL: &'static [Msg] = &[$(Msg::$key,)*];
        }
    };
}

messages! {
    AppName => "iapd",
    // Sign-in
    LoginTitle => "Log in",
    LoginSubtitle => "Prepaid credits for SMS, OCR and every other in-app service.",
    LoginField => "Login",
    PasswordField => "Password",
    LoginButton => "Log in",
    LogoutButton => "Log out",
    DemoHint => "Demo logins: admin / admin and demo / demo.",
    // Shell
    Apps => "Apps",
    AppContacts => "Contacts",
    AppSettings => "Settings",
    SwitchCompany => "Switch company",
    UserMenu => "User menu",
    DeveloperModeOn => "Developer mode",
    Loading => "Loading…",
    // Contacts
    ContactsTitle => "Contacts",
    NewButton => "New",
    SaveButton => "Save",
    DiscardButton => "Discard",
    EditButton => "Edit",
    SearchPlaceholder => "Search...",
    ColName => "Name",
    ColCompany => "Company",
    ColEmail => "Email",
    ColPhone => "Phone",
    ColMobile => "Mobile",
    ColCountry => "Country",
    ColVisibleTo => "Visible to",
    AllCompanies => "All companies",
    NoContacts => "No contacts match.",
    NewContact => "New contact",
    ContactSaved => "Contact saved.",
    Chatter => "Chatter",
    ChatterEmpty => "No messages yet.",
    ContactCreatedLog => "Contact created",
    ContactChangedLog => "{field} changed from “{old}” to “{new}”",
    RecordCount => "{count} records",
    // Settings
    SettingsTitle => "Settings",
    GeneralSettings => "General Settings",
    Technical => "Technical",
    SectionContacts => "Contacts",
    SectionUsersCompanies => "Users & Companies",
    CompanyCount => "{count} Companies",
    UserCount => "{count} Active Users",
    ManageUsers => "Manage Users",
    OdooIap => "Odoo IAP",
    OdooIapHelp => "View your IAP Services and recharge your credits",
    ViewMyServices => "View My Services",
    SectionDeveloperTools => "Developer Tools",
    ActivateDeveloperMode => "Activate the developer mode",
    DeactivateDeveloperMode => "Deactivate the developer mode",
    DeveloperModeHelp => "Shows the Technical menu with low-level records.",
    NoSettingMatches => "No setting matches your search.",
    DatabaseInformation => "Database Information",
    DatabaseEdition => "Edition",
    DatabaseUuid => "Database UUID",
    // IAP
    AppIap => "In-App Purchases",
    IapAccountTitle => "IAP Account",
    AccountInformation => "Account Information",
    ColService => "Service",
    ColCompanies => "Companies",
    ColBalance => "Balance",
    ColToken => "Token",
    Available => "Available",
    Held => "Held",
    AvailableHeld => "{available} available · {held} held",
    BuyCredit => "Buy Credit",
    History => "Consumption history",
    HistoryEmpty => "Nothing has been recorded on this account yet.",
    ColDate => "Date",
    ColType => "Type",
    ColDescription => "Description",
    ColCredits => "Credits",
    Newer => "Newer",
    Older => "Older",
    KindTrial => "Free trial credits",
    KindPurchase => "Purchase",
    KindHold => "Hold",
    KindCapture => "Capture",
    KindRelease => "Release",
    KindExpiry => "Expiry",
    KindAdjustment => "Adjustment",
    Disabled => "Disabled",
    NoIapAccounts => "No IAP account is usable by your companies yet. Accounts appear on first use of a service.",
    IapAccounts => "IAP Accounts",
    AdjustCredits => "Adjust credits",
    AdjustHelp => "A positive amount adds credits, a negative one removes them. The reason is kept in the ledger.",
    Amount => "Amount",
    Reason => "Reason",
    ApplyAdjustment => "Apply adjustment",
    AccountSaved => "Account saved.",
    AdjustmentApplied => "Adjustment applied.",
    TokenHelp => "Append +disabled to the token to disable the account; remove it to enable it again.",
    CompaniesHelp => "Leave every company unticked to share the account with all companies.",
    // Store and orders
    BuyCreditsFor => "Buy Credits for {account}",
    StoreIntro => "Credits are available as soon as the payment is confirmed.",
    Buy => "Buy",
    PerCredit => "{price} per credit",
    SuggestedPack => "Covers what you need",
    Checkout => "Checkout",
    OrderSummary => "Order summary",
    PaymentDetails => "Payment details",
    Cardholder => "Cardholder",
    CardNumber => "Card number",
    Expiry => "Expiry (MM/YY)",
    Cvc => "CVC",
    Pay => "Pay {amount}",
    DemoCards => "Demo provider: 4242 4242 4242 4242 is approved, 4000 0000 0000 0002 is declined, 4000 0000 0000 9995 has insufficient funds.",
    PaymentSuccessful => "Payment successful",
    CreditsAdded => "{credits} added to {account}.",
    NewBalance => "New balance",
    Receipt => "Receipt",
    ColOrder => "Order",
    ColPack => "Pack",
    ColAmount => "Amount",
    ColCard => "Card",
    ColStatus => "Status",
    ColBuyer => "Bought by",
    BackToAccount => "Back to the account",
    PaymentFailed => "Payment failed",
    NewOrder => "Choose a pack again",
    Orders => "Orders",
    NoOrders => "No orders yet.",
    StateDraft => "Draft",
    StatePending => "Pending",
    StatePaid => "Paid",
    StateFailed => "Failed",
    ContinueToPayment => "Continue to payment",
    InsufficientTitle => "Insufficient credit to perform this service.",
    InsufficientDetail => "This needs {required}; {available} are available.",
    BuyCredits => "Buy credits",
    Cancel => "Cancel",
    // Ledger, credits, payments
    ErrAmountEmpty => "Enter an amount of credits.",
    ErrAmountNotNumber => "Enter a number, such as 10 or 2.5.",
    ErrAmountDecimals => "Use at most 4 decimal places.",
    ErrAmountNotPositive => "The amount must be positive.",
    ErrAmountTooLarge => "The amount is too large.",
    ErrUnknownAccount => "The IAP account does not exist.",
    ErrUnknownHold => "The transaction does not exist.",
    ErrHoldExpired => "The transaction has expired; its credits were released.",
    ErrLedgerStorage => "The ledger could not store the change; nothing was changed.",
    ErrAdjustmentZero => "An adjustment cannot be zero.",
    ErrCreditKind => "Only trials, purchases and adjustments add credits.",
    ErrBalanceTooLarge => "The balance would be too large.",
    ErrCaptureNegative => "The amount to capture cannot be negative.",
    ErrCaptureAboveHold => "The amount to capture is more than the hold.",
    ErrAlreadyCapturedFor => "The transaction was already captured for {amount}.",
    ErrHoldCancelled => "The transaction was cancelled.",
    ErrAlreadyCaptured => "The transaction was already captured.",
    ErrTtl => "The TTL must be between 1 and {max} hours.",
    ErrIdempotencyKey => "The idempotency key must have 1 to 128 characters.",
    ErrIdempotencyConflict => "This idempotency key was used for a different request.",
    ErrReasonRequired => "Give a reason for the adjustment.",
    ErrUnknownService => "There is no IAP service named “{service}”.",
    ErrAccountName => "The name must have 1 to 128 characters.",
    ErrToken => "The token must have 22 to 128 characters and no spaces.",
    ErrCompanyMissing => "One of the companies does not exist.",
    ErrTokenTaken => "Another account already uses this token.",
    ErrOrderPaid => "This order is already paid.",
    ErrOrderFailed => "This order's payment failed.",
    ErrOrderFailedRetry => "This order's payment failed; start a new order.",
    ErrOrderPending => "This order is already being paid.",
    ErrPaymentReused => "This payment was already used for another order.",
    ErrPackNotSold => "This pack is not sold for this account.",
    OrderEntry => "Order {order}: {pack}",
    ErrCardholder => "Enter the name printed on the card.",
    ErrCardDigits => "Enter the 12 to 19 digits of the card number.",
    ErrCardLuhn => "This card number is not valid; check for typos.",
    ErrExpiryFormat => "Enter the expiry date as MM/YY.",
    ErrCardExpired => "This card has expired.",
    ErrCvc => "The CVC is the 3 or 4 digits on the back of the card.",
    DemoDeclined => "Your card was declined.",
    DemoInsufficientFunds => "Your card has insufficient funds.",
    ErrCrossSite => "Cross-site request refused.",
    // Errors
    ErrUnauthenticated => "Your session has ended. Please log in again.",
    ErrForbidden => "You are not allowed to do this.",
    ErrNotFound => "The record does not exist, or you are not allowed to see it.",
    ErrInternal => "Something went wrong on our side. Please try again; the details are in the server log.",
    ErrTransport => "The server could not be reached: {error}",
    ErrBadLogin => "Wrong login or password.",
    ErrInsufficientCredits => "Insufficient credit to perform this service: {required} needed, {available} available.",
    ErrAccountDisabled => "This IAP account is disabled.",
    ErrTooManyAttempts => "Too many failed attempts. Please wait a minute before trying again.",
    ErrRequired => "This field is required.",
    ErrTooLong => "At most {max} characters.",
    ErrEmail => "Enter an email address such as name@example.com.",
    ErrPhone => "Enter a phone number with digits, spaces and an optional leading +.",
    ErrCountry => "Choose a country from the list.",
    ErrUnknownCompany => "This company does not exist or is not one of yours.",
    PageNotFound => "Page not found",
    BackHome => "Back to the home screen",
    AccessDenied => "Access denied",
    SettingsAdminOnly => "Only administrators can open Settings.",
    // SMS
    SmsIcon => "📱 SMS",
    SendSmsTitle => "Send SMS Text Message",
    SendSms => "Send SMS",
    Close => "Close",
    SmsRecipient => "Recipient",
    SmsRecipientCount => "{count} recipients",
    SmsMessage => "Message",
    SmsCounter => "{characters} characters, {parts} SMS ({encoding})",
    SmsCost => "Estimated cost",
    SmsMaxHint => "Up to {max} characters. Characters outside the GSM alphabet, such as emoji, switch the message to UNICODE: 70 characters per SMS instead of 160.",
    SmsSentNotice => "{sent} SMS sent, {credits} credits charged.",
    SmsSentWithErrors => "{sent} SMS sent and {failed} failed; {credits} credits charged.",
    SmsHoldDescription => "SMS to {count} recipient(s)",
    SmsChatterLog => "SMS to {number} ({parts} SMS, {credits} credits): {body}",
    SmsOutbox => "SMS Outbox",
    SmsOutboxHelp => "Every SMS iapd has handled. The built-in provider accepts messages here; delivery to phones needs an HTTP gateway (SMS_GATEWAY_URL).",
    SmsOutboxEmpty => "No SMS has been sent yet.",
    ColNumber => "Number",
    ColContact => "Contact",
    ColMessage => "Message",
    ColParts => "SMS",
    ColProvider => "Provider",
    ColError => "Error",
    ColAuthor => "Sent by",
    SmsStateOutgoing => "Outgoing",
    SmsStateSent => "Sent",
    SmsStateError => "Error",
    SelectRow => "Select",
    SelectAll => "Select all",
    SelectedCount => "{count} selected",
    ErrSmsEmpty => "Type a message to send.",
    ErrSmsTooLong => "The message is too long: at most {max} characters.",
    ErrSmsNoNumber => "{name} has no phone or mobile number.",
    ErrSmsNumber => "The number {number} of {name} is not in a valid format; nothing was sent or charged.",
    ErrSmsCountry => "The destination country is not supported.",
    ErrSmsNoRecipient => "Select at least one contact.",
    ErrSmsTooMany => "Too many recipients for one send.",
    ErrSmsInProgress => "This message is already being sent.",
    ErrSmsNotSent => "The SMS was not sent, and nothing was charged: {error}",
    SmsGatewayStatus => "the SMS gateway answered {status}",
    SmsGatewayTimeout => "the SMS gateway did not answer in time",
    SmsGatewayUnreachable => "the SMS gateway could not be reached",
    SmsProviderError => "{error}",
    // Low-credit warnings
    WarnMe => "Warn Me",
    Threshold => "Threshold",
    WarningEmail => "Warning Email",
    LowCreditWarning => "Low-credit warning",
    WarningHelp => "An email goes to the Warning Email addresses when the available credits fall below the Threshold. Available credits are the balance minus the credits reserved by pending operations.",
    WarningEmailHelp => "One or more addresses, separated by commas.",
    WarningThresholdUnit => "An amount in {unit}, such as 20 or 2.5.",
    WarningSaved => "Warning settings saved.",
    WarningOn => "On",
    WarningOff => "Off",
    WarningAdminOnly => "Only administrators can change the warning.",
    ErrWarningEmail => "“{email}” is not a valid email address.",
    ErrWarningEmailEmpty => "Enter at least one email address.",
    ErrWarningEmailMany => "At most {max} addresses.",
    WarningSubject => "Low credits: {service} has {available} left",
    WarningGreeting => "Hello,",
    WarningIntro => "The {service} account “{account}” has {available} available, below its warning threshold of {threshold}.",
    WarningAvailableHelp => "Available credits are the balance minus the credits reserved by pending operations.",
    WarningBuyText => "Buy credits in the pack store:",
    Emails => "Emails",
    EmailsHelp => "Outgoing mail, newest first. Without an SMTP server (SMTP_HOST) mails stay queued here.",
    NoEmails => "No emails have been queued yet.",
    ColRecipients => "To",
    ColSubject => "Subject",
    ColAttempts => "Attempts",
    ColLastError => "Last error",
    ColCreated => "Created",
    MailQueued => "Queued",
    MailSent => "Sent",
    MailFailed => "Failed",
    ShowBody => "Body",
    // Service API
    ErrAmountNegative => "The amount cannot be negative.",
    RpcNotEnoughCredits => "You don't have enough credits on your account to use this service.",
    RpcBadKey => "The service key is missing or invalid.",
    RpcServiceNotOffered => "This service is not offered to this database.",
    RpcUnknownAccount => "The account token is missing or unknown.",
    RpcWrongService => "This account or transaction belongs to another service.",
    RpcUnknownTransaction => "The transaction token is missing or unknown.",
    RpcMalformed => "The request is not valid JSON-RPC 2.0.",
    RpcNoParams => "The request has no params object.",
    RpcWrongType => "The parameter {name} must be {expected}.",
    RpcMissing => "The parameter {name} is required.",
    RpcTooLarge => "The request body is too large.",
    RpcInvalid => "Invalid parameter {name}: {reason}",
    RpcInternal => "The IAP service failed; nothing was changed, try again.",
    CreditUnknownAccountTitle => "Unknown IAP account",
    CreditUnknownAccount => "No IAP account of yours matches this link. It may belong to another database, or to companies you do not work in.",
    BackToServices => "View My Services",
    IapServices => "IAP Services",
    IapServicesHelp => "The services this database offers. A service authenticates its calls to the IAP API with its key.",
    HostingTypeLabel => "Hosting type",
    HostingTypeHelp => "Online databases offer only first-party services; Odoo.sh and On-premise ones offer third-party services too.",
    HostingSaved => "Hosting type saved.",
    ColTechnicalName => "Technical name",
    ColLabel => "Label",
    ColUnit => "Unit",
    ColTrialCredits => "Trial credits",
    ColKey => "Key",
    ColPacks => "Packs",
    FirstParty => "First-party",
    ThirdParty => "Third-party",
    KeySet => "Set",
    NoKey => "None",
    CreateKey => "Create key",
    RotateKey => "Rotate key",
    NewKeyFor => "New key for {service}",
    KeyShownOnce => "Copy this key now: it is shown only once and only its hash is kept.",
    RegisterService => "Register a third-party service",
    RegisterButton => "Register",
    PackName => "Pack name",
    PackCredits => "Credits",
    PackPrice => "Price (EUR)",
    PackRow => "Pack {number}",
    ErrTechnicalName => "Use lowercase letters, digits and _, starting with a letter (64 at most).",
    ErrTrialCredits => "Enter a number of credits, 0 or more, with at most 4 decimals.",
    ErrPackNeeded => "Add at least one pack.",
    ErrPrice => "Enter a price above zero with at most 2 decimals, such as 12.50.",
    ErrServiceTaken => "A service with this technical name already exists.",
    // Users
    Users => "Users",
    NewUser => "New User",
    ColLogin => "Login",
    ColRole => "Role",
    ColState => "Status",
    ColLastLogin => "Latest authentication",
    RoleUser => "User",
    RoleAdministrator => "Administrator",
    RoleHelp => "Administrators also open Settings: users, IAP accounts and orders.",
    UserActive => "Active",
    UserInactive => "Inactive",
    ActiveHelp => "Inactive users cannot log in. Deactivating a user logs them out at once.",
    UserCompaniesHelp => "The companies whose records the user works with. The first ticked one is where a new user starts.",
    InitialPassword => "Password",
    PasswordPolicy => "At least 10 characters; common passwords are refused.",
    CreateUser => "Create user",
    UserSaved => "User saved.",
    UserCreated => "User created. They can log in now.",
    NeverLoggedIn => "Never",
    NoUsers => "No users yet.",
    SetNewPassword => "Set a new password",
    SetPasswordHelp => "The user's sessions end: they log in again with the new password.",
    SetPasswordButton => "Set password",
    PasswordSet => "Password set.",
    ChangePassword => "Change password",
    ChangePasswordHelp => "Your other sessions end; this one stays open.",
    CurrentPassword => "Current password",
    NewPasswordField => "New password",
    ConfirmPassword => "Confirm new password",
    PasswordChanged => "Password changed. Your other sessions were logged out.",
    ErrLogin => "A login has 1 to {max} characters and no spaces, such as jane or jane@example.com.",
    ErrLoginTaken => "The login “{login}” is already taken.",
    ErrCompanyNeeded => "Choose at least one company.",
    ErrPasswordShort => "Use at least {min} characters; a few words make a good password.",
    ErrPasswordCommon => "This password is among the most common ones, which attackers try first. Choose another.",
    ErrPasswordIsLogin => "The password cannot be the login.",
    ErrPasswordMismatch => "The two new passwords differ.",
    ErrCurrentPassword => "The current password is wrong.",
    ErrDemoteSelf => "You cannot remove your own administrator role; ask another administrator.",
    ErrDeactivateSelf => "You cannot deactivate yourself; ask another administrator.",
    ErrLastAdmin => "This is the last active administrator: make another user an administrator first.",
    ErrCompanyTaken => "A company named “{name}” already exists.",
    ErrUnknownCompanyName => "There is no company named “{name}”.",
    ErrCompanyChoice => "There are {count} companies: choose the user's companies with --company.",
    ErrNoCompany => "There is no company yet: create one with server company add NAME.",
    ErrUnknownLogin => "There is no user with the login “{login}”.",
    ErrPasswordInput => "Give the password on standard input, on one line.",
}

/// A value for a named placeholder. Kept typed until it is shown, so numbers and amounts
/// can be written the way the reader's locale writes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arg {
    /// Shown as is: names, numbers as typed, free text.
    Text(String),
    /// A count or a limit, written with plain digits ("1530 characters").
    Int(i64),
    /// An amount of credits in minor units (1/10,000); whole-number services show no decimals.
    Credits { minor: i64, whole: bool },
    /// Another message, shown in the same locale.
    Msg(Msg),
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Text(value.to_owned())
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Text(value)
    }
}

impl From<&String> for Arg {
    fn from(value: &String) -> Self {
        Arg::Text(value.clone())
    }
}

impl From<Msg> for Arg {
    fn from(value: Msg) -> Self {
        Arg::Msg(value)
    }
}

macro_rules! int_args {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(value: $t) -> Self {
                Arg::Int(i64::try_from(value).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_args!(i64, i32, u32, u64, usize);

/// Named arguments, in the order they were given.
pub type Args = Vec<(String, Arg)>;

/// A message with its arguments: what code below the pages hands up instead of a string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub msg: Msg,
    pub args: Args,
}

impl Text {
    pub fn new(msg: Msg) -> Self {
        Text {
            msg,
            args: Vec::new(),
        }
    }

    /// Adds the value of the placeholder `{name}`.
    pub fn arg(mut self, name: &str, value: impl Into<Arg>) -> Self {
        self.args.push((name.to_owned(), value.into()));
        self
    }

    pub fn render(&self, locale: Locale) -> String {
        render(locale, self.msg, &self.args)
    }
}

impl From<Msg> for Text {
    fn from(msg: Msg) -> Self {
        Text::new(msg)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Locale::default()))
    }
}

/// The message in the current locale.
pub fn t(msg: Msg) -> &'static str {
    msg.text(Locale::default())
}

/// The message in the current locale with its placeholders filled.
pub fn tf(msg: Msg, args: &[(&str, Arg)]) -> String {
    let args: Vec<(String, Arg)> = args
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();
    render(Locale::default(), msg, &args)
}

/// Fills `{name}` placeholders of `msg` in `locale`. A placeholder without a value is left
/// empty; a `{` that starts no placeholder is kept.
pub fn render(locale: Locale, msg: Msg, args: &[(String, Arg)]) -> String {
    let template = msg.text(locale);
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_name(&after[..close]) => {
                let name = &after[..close];
                if let Some((_, value)) = args.iter().find(|(n, _)| n == name) {
                    write_arg(&mut out, locale, value);
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_name(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

fn write_arg(out: &mut String, locale: Locale, value: &Arg) {
    match value {
        Arg::Text(text) => out.push_str(text),
        Arg::Int(n) => out.push_str(&n.to_string()),
        Arg::Credits { minor, whole } => out.push_str(&credits(locale, *minor, *whole)),
        Arg::Msg(msg) => out.push_str(msg.text(locale)),
    }
}

/// An amount of credits as `locale` writes it: thousands grouped, up to 4 decimals without
/// trailing zeros, none for whole-number services (truncated towards zero).
pub fn credits(locale: Locale, minor: i64, whole: bool) -> String {
    let scale = 10_000_i128;
    let value = i128::from(minor);
    let (int, frac) = (value / scale, (value % scale).abs());
    let sign = if value < 0 && (int == 0) && !whole && frac != 0 {
        "-"
    } else {
        ""
    };
    let mut text = format!("{sign}{}", number(locale, int));
    if !whole && frac != 0 {
        let digits = format!("{frac:04}");
        text.push_str(decimal_mark(locale));
        text.push_str(digits.trim_end_matches('0'));
    }
    text
}

/// An integer as `locale` writes it, thousands grouped.
pub fn number(locale: Locale, n: i128) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = group_separator(locale);
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * sep.len() + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

const fn group_separator(locale: Locale) -> &'static str {
    match locale {
        Locale::En => ",",
    }
}

const fn decimal_mark(locale: Locale) -> &'static str {
    match locale {
        Locale::En => ".",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_english_message_is_non_empty() {
        for msg in Msg::ALL {
            assert!(!t(*msg).trim().is_empty(), "{msg:?} has no English text");
        }
    }

    #[test]
    fn placeholders_are_filled_by_name() {
        assert_eq!(
            tf(Msg::ErrTooLong, &[("max", 128.into())]),
            "At most 128 characters."
        );
        assert_eq!(
            tf(
                Msg::ContactChangedLog,
                &[
                    ("new", "2".into()),
                    ("field", "Phone".into()),
                    ("old", "1".into())
                ]
            ),
            "Phone changed from “1” to “2”"
        );
    }

    #[test]
    fn missing_arguments_leave_the_placeholder_empty() {
        assert_eq!(tf(Msg::RecordCount, &[]), " records");
    }

    #[test]
    fn every_placeholder_is_a_lowercase_name() {
        for msg in Msg::ALL {
            let text = t(*msg);
            let mut rest = text;
            while let Some(open) = rest.find('{') {
                let after = &rest[open + 1..];
                let close = after.find('}').unwrap_or(after.len());
                assert!(is_name(&after[..close]), "{msg:?}: {text}");
                rest = &after[close.min(after.len())..];
            }
        }
    }

    #[test]
    fn numbers_and_credits_are_grouped_and_trimmed() {
        assert_eq!(number(Locale::En, 1_234_567), "1,234,567");
        assert_eq!(number(Locale::En, -1_000), "-1,000");
        assert_eq!(credits(Locale::En, 10_005_000, false), "1,000.5");
        assert_eq!(credits(Locale::En, 35_000, true), "3");
        assert_eq!(credits(Locale::En, -5_000, false), "-0.5");
        assert_eq!(credits(Locale::En, -12_345_670_000, false), "-1,234,567");
    }

    #[test]
    fn a_text_renders_its_message_with_its_arguments() {
        let text = Text::new(Msg::ErrInsufficientCredits)
            .arg(
                "required",
                Arg::Credits {
                    minor: 25_000,
                    whole: false,
                },
            )
            .arg(
                "available",
                Arg::Credits {
                    minor: 10_000,
                    whole: false,
                },
            );
        assert_eq!(
            text.to_string(),
            "Insufficient credit to perform this service: 2.5 needed, 1 available."
        );
        assert_eq!(Text::from(Msg::Buy).to_string(), "Buy");
    }
}

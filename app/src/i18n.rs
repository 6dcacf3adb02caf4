//! Every user-visible string, looked up through one mechanism.
//!
//! Messages are an enum, so a missing translation is a compile error rather than a blank
//! label. Each locale is one `match`; English is complete, French and Simplified Chinese
//! are added as further arms of [`Msg::text`] when their issue lands.

/// A language the interface can be shown in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Locale {
    #[default]
    En,
}

macro_rules! messages {
    ($($key:ident => $en:literal,)*) => {
        /// One user-visible message. Templates use `{}` placeholders, filled by [`tf`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    ContactChangedLog => "{} changed from “{}” to “{}”",
    RecordCount => "{} records",
    // Settings
    SettingsTitle => "Settings",
    GeneralSettings => "General Settings",
    Technical => "Technical",
    SectionContacts => "Contacts",
    SectionUsersCompanies => "Users & Companies",
    CompanyCount => "{} Companies",
    UserCount => "{} Users",
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
    AvailableHeld => "{} available · {} held",
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
    BuyCreditsFor => "Buy Credits for {}",
    StoreIntro => "Credits are available as soon as the payment is confirmed.",
    Buy => "Buy",
    PerCredit => "{} per credit",
    SuggestedPack => "Covers what you need",
    Checkout => "Checkout",
    OrderSummary => "Order summary",
    PaymentDetails => "Payment details",
    Cardholder => "Cardholder",
    CardNumber => "Card number",
    Expiry => "Expiry (MM/YY)",
    Cvc => "CVC",
    Pay => "Pay {}",
    DemoCards => "Demo provider: 4242 4242 4242 4242 is approved, 4000 0000 0000 0002 is declined, 4000 0000 0000 9995 has insufficient funds.",
    PaymentSuccessful => "Payment successful",
    CreditsAdded => "{} added to {}.",
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
    InsufficientDetail => "This needs {}; {} are available.",
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
    ErrAlreadyCapturedFor => "The transaction was already captured for {}.",
    ErrHoldCancelled => "The transaction was cancelled.",
    ErrAlreadyCaptured => "The transaction was already captured.",
    ErrTtl => "The TTL must be between 1 and {} hours.",
    ErrIdempotencyKey => "The idempotency key must have 1 to 128 characters.",
    ErrIdempotencyConflict => "This idempotency key was used for a different request.",
    ErrReasonRequired => "Give a reason for the adjustment.",
    ErrUnknownService => "There is no IAP service named “{}”.",
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
    OrderEntry => "Order {}: {}",
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
    ErrTransport => "The server could not be reached: {}",
    ErrBadLogin => "Wrong login or password.",
    ErrInsufficientCredits => "Insufficient credit to perform this service: {} needed, {} available.",
    ErrAccountDisabled => "This IAP account is disabled.",
    ErrTooManyAttempts => "Too many failed attempts. Please wait a minute before trying again.",
    ErrRequired => "This field is required.",
    ErrTooLong => "At most {} characters.",
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
    SmsRecipientCount => "{} recipients",
    SmsMessage => "Message",
    SmsCounter => "{} characters, {} SMS ({})",
    SmsCost => "Estimated cost",
    SmsMaxHint => "Up to {} characters. Characters outside the GSM alphabet, such as emoji, switch the message to UNICODE: 70 characters per SMS instead of 160.",
    SmsSentNotice => "{} SMS sent, {} credits charged.",
    SmsSentWithErrors => "{} SMS sent and {} failed; {} credits charged.",
    SmsHoldDescription => "SMS to {} recipient(s)",
    SmsChatterLog => "SMS to {} ({} SMS, {} credits): {}",
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
    SelectedCount => "{} selected",
    ErrSmsEmpty => "Type a message to send.",
    ErrSmsTooLong => "The message is too long: at most {} characters.",
    ErrSmsNoNumber => "{} has no phone or mobile number.",
    ErrSmsNumber => "The number {} of {} is not in a valid format; nothing was sent or charged.",
    ErrSmsCountry => "The destination country is not supported.",
    ErrSmsNoRecipient => "Select at least one contact.",
    ErrSmsTooMany => "Too many recipients for one send.",
    ErrSmsInProgress => "This message is already being sent.",
    ErrSmsNotSent => "The SMS was not sent, and nothing was charged: {}",
    SmsGatewayStatus => "the SMS gateway answered {}",
    SmsGatewayTimeout => "the SMS gateway did not answer in time",
    SmsGatewayUnreachable => "the SMS gateway could not be reached",
    // Low-credit warnings
    WarnMe => "Warn Me",
    Threshold => "Threshold",
    WarningEmail => "Warning Email",
    LowCreditWarning => "Low-credit warning",
    WarningHelp => "An email goes to the Warning Email addresses when the available credits fall below the Threshold. Available credits are the balance minus the credits reserved by pending operations.",
    WarningEmailHelp => "One or more addresses, separated by commas.",
    WarningThresholdUnit => "An amount in {}, such as 20 or 2.5.",
    WarningSaved => "Warning settings saved.",
    WarningOn => "On",
    WarningOff => "Off",
    WarningAdminOnly => "Only administrators can change the warning.",
    ErrWarningEmail => "“{}” is not a valid email address.",
    ErrWarningEmailEmpty => "Enter at least one email address.",
    ErrWarningEmailMany => "At most {} addresses.",
    WarningSubject => "Low credits: {} has {} left",
    WarningGreeting => "Hello,",
    WarningIntro => "The {} account “{}” has {} available, below its warning threshold of {}.",
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
    RpcWrongType => "The parameter {} must be {}.",
    RpcMissing => "The parameter {} is required.",
    RpcTooLarge => "The request body is too large.",
    RpcInvalid => "Invalid parameter {}: {}",
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
    NewKeyFor => "New key for {}",
    KeyShownOnce => "Copy this key now: it is shown only once and only its hash is kept.",
    RegisterService => "Register a third-party service",
    RegisterButton => "Register",
    PackName => "Pack name",
    PackCredits => "Credits",
    PackPrice => "Price (EUR)",
    PackRow => "Pack {}",
    ErrTechnicalName => "Use lowercase letters, digits and _, starting with a letter (64 at most).",
    ErrTrialCredits => "Enter a number of credits, 0 or more, with at most 4 decimals.",
    ErrPackNeeded => "Add at least one pack.",
    ErrPrice => "Enter a price above zero with at most 2 decimals, such as 12.50.",
    ErrServiceTaken => "A service with this technical name already exists.",
}

/// The message in the current locale.
pub fn t(msg: Msg) -> &'static str {
    msg.text(Locale::default())
}

/// The message with its `{}` placeholders filled in order.
pub fn tf(msg: Msg, args: &[&str]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut parts = t(msg).split("{}").peekable();
    while let Some(part) = parts.next() {
        out.push_str(part);
        if parts.peek().is_some() {
            out.push_str(args.next().copied().unwrap_or_default());
        }
    }
    out
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
    fn placeholders_are_filled_in_order() {
        assert_eq!(tf(Msg::ErrTooLong, &["128"]), "At most 128 characters.");
        assert_eq!(
            tf(Msg::ContactChangedLog, &["Phone", "1", "2"]),
            "Phone changed from “1” to “2”"
        );
    }

    #[test]
    fn missing_arguments_leave_the_placeholder_empty() {
        assert_eq!(tf(Msg::RecordCount, &[]), " records");
    }
}

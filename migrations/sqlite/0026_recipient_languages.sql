-- Each warning recipient's language (issue 14): Odoo 18 sends `lang_code` with every
-- address, kept here as {"address in lower case": "fr"}. An address without one reads the
-- warning in the language of the iapd user whose login it is, else in the account's
-- (iap_account_warnings.locale).
ALTER TABLE iap_account_warnings ADD COLUMN recipient_locales TEXT NOT NULL DEFAULT '{}'
    CHECK (json_valid(recipient_locales));

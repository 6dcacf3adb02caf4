-- Stored history in the reader's language (issue 14). A line iapd writes itself (trial
-- credits, a purchase, an SMS batch, a contact's change) keeps its message key and named
-- arguments as JSON in `note`, and each reader sees it in their own language. The English
-- text stays in `description` / `body`: API callers, logs and the CLI read it, and it is
-- shown should a note no longer parse. Typed text has no note and stays as typed.
ALTER TABLE holds ADD COLUMN note TEXT;
ALTER TABLE ledger_entries ADD COLUMN note TEXT;
ALTER TABLE messages ADD COLUMN note TEXT;

-- Sending SMS as a durable job: a batch and every message of it are committed before
-- anything is sent; a worker hands them to the provider, and the ledger charges each
-- message as it goes out. Times in Unix milliseconds.

-- A message to a contact is logged in the contact's chatter when it is queued; the line
-- follows the message's progress (queued, sent, error) through this link.
ALTER TABLE sms_messages ADD COLUMN chatter_id INTEGER REFERENCES messages (id);
CREATE INDEX sms_messages_by_chatter ON sms_messages (chatter_id) WHERE chatter_id IS NOT NULL;

-- The worker's question at start and at every round: which batches are unfinished?
CREATE INDEX sms_batches_pending ON sms_batches (id) WHERE state = 'pending';

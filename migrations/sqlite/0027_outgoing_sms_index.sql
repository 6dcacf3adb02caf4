-- `/metrics` counts the SMS still waiting for the gateway (issue 16); this keeps that count
-- to the waiting rows however many SMS were ever sent.
CREATE INDEX sms_messages_outgoing ON sms_messages (batch_id) WHERE state = 'outgoing';

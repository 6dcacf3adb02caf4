-- Languages (issue 14): each user's ('en', 'fr' or 'zh-CN'; NULL follows the browser), and
-- the one a low-credit warning mail is written in (the recipients' when Odoo sends it, else
-- that of the administrator who set the warning; NULL is English).
ALTER TABLE users ADD COLUMN locale TEXT CHECK (locale IS NULL OR locale IN ('en', 'fr', 'zh-CN'));
ALTER TABLE iap_account_warnings ADD COLUMN locale TEXT CHECK (locale IS NULL OR locale IN ('en', 'fr', 'zh-CN'));

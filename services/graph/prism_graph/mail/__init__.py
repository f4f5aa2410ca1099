"""Outgoing e-mail (issue 4 item 3, SPEC C5, R4): a mail outbox written in the caller's
transaction, templates, an SMTP sender that delivers each logical message at most once, and a
local SMTP sink for development."""

"""Outgoing e-mail (issue 4 item 3, SPEC C5, R4).

- `outbox.enqueue(session, OutgoingMail(...))` stages a message in the caller's transaction;
  the idempotency key makes a second enqueue of the same logical message a no-op.
- `templates.render(name, **context)` / `templates.compose(name, to=..., idempotency_key=...,
  **context)` give the subject, text and HTML parts of the known templates.
- `sender.MailSender` delivers due messages over SMTP, at most once, with back-off; the
  rows' state changes are `ledger`'s, the SMTP conversation `smtp`'s, the MIME form `mime`'s.
- `sink.start_sink` is the development SMTP server that keeps mail in a Maildir.
- `runner` holds what the composition root calls (`build_sender`, `start_dev_sink`,
  `received_mail_report`); `settings.MailSettings` holds the MAIL_* settings.
"""

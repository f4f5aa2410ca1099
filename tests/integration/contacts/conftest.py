from tests.integration.contacts.support import fresh_sign_in_throttle, mailbox, smtp_server

__all__ = ["fresh_sign_in_throttle", "mailbox", "smtp_server"]

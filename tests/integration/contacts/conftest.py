from tests.integration.contacts.support import mailbox, smtp_server

__all__ = ["mailbox", "smtp_server"]

"""Plumbing shared by Prism's services: settings, database engines, the broker, logging,
the mail outbox and the one renderer (and layout) of every mail.

No domain rules live here; no service module is imported from here.
"""

"""Plumbing shared by Prism's services: settings, database engines, the broker, logging.

No domain rules live here; no service module is imported from here.
"""

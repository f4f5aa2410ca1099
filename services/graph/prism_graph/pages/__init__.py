"""Prism's own HTML pages: the token flows a person completes without a portal, and the short
pages the portal screens' links open when no PORTAL_URL is set (`routes`)."""

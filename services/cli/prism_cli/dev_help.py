"""What `prism dev --help` says about the addresses it serves (argparse only: `prism --help`
stays quick), one environment variable each, with the defaults the settings use."""

from __future__ import annotations

from prism_platform.links import DEFAULT_HOST, DEFAULT_PORT
from prism_platform.settings import DEFAULT_DATABASE_URL, CommonSettings

DEFAULT_SIMULATOR_PORT = 8081
DEFAULT_SMTP_PORT = CommonSettings.model_fields["smtp_port"].default

ADDRESSES_HELP = f"""addresses, one environment variable each [default]:
  HOST, PORT          the GraphQL API, GraphiQL and Prism's pages [{DEFAULT_HOST}, {DEFAULT_PORT}]
  SMTP_PORT           the local mail sink's SMTP port, where the mail sender delivers \
[{DEFAULT_SMTP_PORT}]
  AUTOTASK_SIM_PORT   the local Autotask simulator; 0 picks a free port [{DEFAULT_SIMULATOR_PORT}]
  PUBLIC_URL          the start of every link Prism mails [http://HOST:PORT]
  PORTAL_URL          the start of links to a portal front end's screens [PUBLIC_URL]
  MAIL_SINK_DIR       where the mail sink stores what it receives [var/mail]
  DATABASE_URL        the database [{DEFAULT_DATABASE_URL}]
Read the mail that arrived with `prism mail list` and `prism mail show ID`.
e.g. PORT=8100 SMTP_PORT=8125 AUTOTASK_SIM_PORT=0 make run"""

"""The PSA behind one port (issue 7 item 11): PSA-neutral types, the Autotask adapter,
partner connections with encrypted credentials (S1) and program sync settings (S2)."""

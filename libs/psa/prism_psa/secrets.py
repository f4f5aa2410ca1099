"""Encryption at rest of a partner's PSA credentials (S1, N2) and webhook secrets (N5).

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with a key derived from SECRET_KEY by
HKDF-SHA256 under a purpose label, so the key used here is never the key used for anything
else. Changing SECRET_KEY makes stored secrets unreadable: partners re-enter them.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PURPOSE = b"prism/psa-credentials/v1"
#: Partner webhooks' signing secrets: encrypted like the credentials, under their own key.
WEBHOOK_SECRETS = b"prism/webhook-secrets/v1"


class UnreadableSecret(Exception):
    """The stored value was encrypted under another SECRET_KEY (or was tampered with)."""


class CredentialCipher:
    def __init__(self, secret_key: str, purpose: bytes = _PURPOSE) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
            secret_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def __repr__(self) -> str:
        return "CredentialCipher(***)"

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken as exc:
            raise UnreadableSecret("stored credentials cannot be decrypted") from exc

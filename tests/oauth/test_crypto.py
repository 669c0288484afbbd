from __future__ import annotations

import datetime as dt

import pytest
from cryptography.fernet import Fernet

from oauth.crypto import TokenCipher, TokenDecryptError, TokenSet
from tests.oauth.conftest import make_tokens

ACCESS, REFRESH = "eyJ.access.crypto-test-value", "AB11refresh-crypto-test-value"


def _tokens() -> TokenSet:
    return make_tokens(REFRESH, expires_in=dt.timedelta(hours=1), access_token=ACCESS)


def test_round_trip_keeps_every_field(cipher: TokenCipher) -> None:
    tokens = _tokens()
    blob = cipher.encrypt(tokens)
    assert ACCESS.encode() not in blob and REFRESH.encode() not in blob
    assert cipher.decrypt(blob) == tokens


def test_repr_and_str_never_show_token_values() -> None:
    tokens = _tokens()
    for text in (repr(tokens), str(tokens), f"{tokens}", repr([tokens])):
        assert ACCESS not in text and REFRESH not in text
        assert "9130355555555555" in text  # the realm id is not a secret and helps debugging


def test_cipher_repr_hides_keys() -> None:
    key = Fernet.generate_key().decode()
    assert key not in repr(TokenCipher([key]))


@pytest.mark.parametrize("access, refresh", [("", REFRESH), (ACCESS, "")])
def test_empty_token_is_refused(access: str, refresh: str) -> None:
    with pytest.raises(ValueError, match="both"):
        make_tokens(refresh, expires_in=dt.timedelta(hours=1), access_token=access)


def test_naive_expiry_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TokenSet(ACCESS, REFRESH, dt.datetime(2026, 1, 1), None, "1")


def test_blob_from_a_dropped_key_is_a_clear_error_without_secrets(cipher: TokenCipher) -> None:
    other = TokenCipher([Fernet.generate_key().decode()])
    with pytest.raises(TokenDecryptError, match="rotate-keys") as caught:
        other.decrypt(cipher.encrypt(_tokens()))
    assert ACCESS not in str(caught.value) and caught.value.__cause__ is None


def test_garbage_plaintext_is_a_clear_error(cipher: TokenCipher) -> None:
    key = Fernet.generate_key().decode()
    blob = Fernet(key).encrypt(b'{"format": 99, "access_token": "x"}')
    with pytest.raises(TokenDecryptError, match="not a TokenSet"):
        TokenCipher([key]).decrypt(blob)


def test_new_key_in_front_rotate_then_drop_the_old_key() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    tokens = _tokens()
    blob = TokenCipher([old]).encrypt(tokens)
    both = TokenCipher([new, old])
    assert both.decrypt(blob) == tokens  # still readable before rotation
    rotated = both.rotate(blob)
    assert TokenCipher([new]).decrypt(rotated) == tokens
    with pytest.raises(TokenDecryptError):
        TokenCipher([new]).decrypt(blob)


def test_no_keys_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TokenCipher([])


def test_expires_within() -> None:
    now = dt.datetime.now(dt.UTC)
    tokens = make_tokens(REFRESH, expires_in=dt.timedelta(minutes=4))
    assert tokens.expires_within(dt.timedelta(minutes=5), now)
    assert not tokens.expires_within(dt.timedelta(minutes=3), now)

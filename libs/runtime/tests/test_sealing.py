"""The AES-GCM helper for secrets at rest."""

from __future__ import annotations

import base64
import logging
import os

import pytest

from simfleet_runtime.sealing import Sealer, SealError


def test_a_sealed_value_opens_only_with_its_key_and_place() -> None:
    key = os.urandom(32)
    sealer = Sealer.from_setting(base64.b64encode(key).decode(), setting="X_SEALING_KEY", local_label="x")
    sealed = sealer.seal(b"123456", b"event-1")
    assert b"123456" not in sealed
    assert sealer.seal(b"123456", b"event-1") != sealed  # a fresh nonce each time
    assert Sealer(key).open(sealed, b"event-1") == b"123456"
    for wrong in (
        lambda: Sealer(os.urandom(32)).open(sealed, b"event-1"),
        lambda: sealer.open(sealed, b"event-2"),
        lambda: sealer.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), b"event-1"),
        lambda: sealer.open(sealed[:20], b"event-1"),
    ):
        with pytest.raises(SealError):
            wrong()


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_key_setting_that_is_not_32_bytes_of_base64_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="X_SEALING_KEY must be base64 of 32 bytes"):
        Sealer.from_setting(value, setting="X_SEALING_KEY", local_label="x")


def test_an_empty_setting_derives_a_local_key_and_says_so_when_first_used(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="simfleet_runtime.sealing"):
        sealer = Sealer.from_setting("", setting="X_SEALING_KEY", local_label="simfleet-local-x")
        assert caplog.messages == []
        sealed = sealer.seal(b"secret", b"a")
        sealer.open(sealed, b"a")
    assert caplog.messages == ["X_SEALING_KEY is not set: secrets at rest are encrypted with a local-only key"]
    again = Sealer.from_setting("", setting="X_SEALING_KEY", local_label="simfleet-local-x")
    assert again.open(sealed, b"a") == b"secret"  # the same label, the same key

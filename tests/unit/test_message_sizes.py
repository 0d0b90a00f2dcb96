"""The size limits of the mail path, derived from the provider's one limit (issue 13 item 5).

A held post travels to the owners inside Mailman's notice; every notice must
fit through the relay, so the intake takes less than the relay.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest
from helpers import ROOT


def load() -> ModuleType:
    path = ROOT / "plugins" / "filter" / "message_sizes.py"
    spec = importlib.util.spec_from_file_location("message_sizes", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["message_sizes"] = module
    spec.loader.exec_module(module)
    return module


SIZES = load()


def test_the_default_provider_limit_gives_the_documented_numbers() -> None:
    assert SIZES.message_sizes(10000000) == {
        "provider": 10000000,
        "relay": 10000000,
        "accept": 10065536,
        "intake": 7259748,
        "list_max_kb": 7089,
    }


@pytest.mark.parametrize("provider", [1048576, 2000000, 10000000, 10485760, 26214400, "10000000"])
def test_a_notice_carrying_the_largest_intake_post_base64_encoded_fits_the_relay(
    provider: int | str,
) -> None:
    sizes = SIZES.message_sizes(provider)
    # Worst case: the attached original base64-encoded (4 bytes per 3, 76-column
    # lines with CRLF: 78 bytes per 57), plus the notice's own parts.
    encoded = -(-sizes["intake"] // 57) * 78
    assert encoded + SIZES.NOTICE_OVERHEAD <= sizes["relay"]
    assert sizes["relay"] <= sizes["provider"]
    assert sizes["list_max_kb"] * 1024 <= sizes["intake"]
    assert sizes["intake"] < sizes["relay"]
    # Postfix refuses nothing the provider delivered (fetchmail would drop it).
    assert sizes["accept"] >= sizes["provider"] + 32 * 1024


def test_the_intake_never_equals_the_relay_limit() -> None:
    # The defect of issue 13: intake and relay both at Postfix's 10240000, so a
    # post just under it produced a notice above it ("message file too big").
    sizes = SIZES.message_sizes(10240000)
    assert sizes["intake"] + SIZES.NOTICE_OVERHEAD < sizes["relay"]


def test_a_limit_too_small_for_any_post_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1048576"):
        SIZES.message_sizes(500000)


def test_the_filter_is_registered_under_its_name() -> None:
    assert SIZES.FilterModule().filters()["message_sizes"] is SIZES.message_sizes

import gc

import pytest

import ferrograd


@pytest.fixture(autouse=True)
def _fresh_grad_mode():
    """Every test starts in the default mode, and a test that leaks a mode fails loudly."""
    assert ferrograd.is_grad_enabled(), "a previous test left grad mode off"
    assert not ferrograd.is_inference_mode_enabled(), "a previous test left inference mode on"
    yield
    gc.collect()

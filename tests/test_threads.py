"""The window's share of the CPU: torch gets one thread fewer than the usable cores."""

from __future__ import annotations

import pytest
import torch

from inspector.core import devices
from inspector.core.devices import THREAD_VARIABLES, leave_a_core_free


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture
def no_thread_variables(monkeypatch):
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("cores", "expected"), [(4, 3), (2, 1), (1, 1)])
def test_one_core_is_left_free(monkeypatch, restore_threads, no_thread_variables, cores, expected):
    monkeypatch.setattr(devices, "usable_cores", lambda: cores)
    torch.set_num_threads(cores)
    assert leave_a_core_free() == expected
    assert torch.get_num_threads() == expected


def test_a_lower_count_is_not_raised(monkeypatch, restore_threads, no_thread_variables):
    monkeypatch.setattr(devices, "usable_cores", lambda: 8)
    torch.set_num_threads(2)
    assert leave_a_core_free() == 2


def test_the_users_setting_wins(monkeypatch, restore_threads, no_thread_variables):
    monkeypatch.setattr(devices, "usable_cores", lambda: 4)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    torch.set_num_threads(4)
    assert leave_a_core_free() == 4

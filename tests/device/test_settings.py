"""The device side's settings as read from the environment: defaults, the values an
operator sets, and a wrong value refused at start with the variable's name."""

from __future__ import annotations

import pytest

from fleetyard.device.settings import DEFAULT_POLL_INTERVAL_MS, DELETED_DEVICE_LOGS_DELAY_MS, DeviceSettings


def test_defaults_are_the_references():
    s = DeviceSettings.from_env({})
    assert (s.min_poll_interval_ms, s.heartbeat_grace_ms, s.log_retention) == (DEFAULT_POLL_INTERVAL_MS, 15_000, 1000)
    assert s.deleted_device_logs_delay_ms == DELETED_DEVICE_LOGS_DELAY_MS == 55_000
    assert (s.public_url, s.vpn_endpoint, s.vpn_port, s.redis_url) == (None, None, 443, None)


def test_what_an_operator_sets():
    s = DeviceSettings.from_env({
        "FLEETYARD_MIN_POLL_INTERVAL_MS": "300", "FLEETYARD_DELETED_DEVICE_LOGS_DELAY_MS": "0",
        "FLEETYARD_PUBLIC_URL": "https://fleet.example.com/", "FLEETYARD_VPN_PORT": "1194",
        "FLEETYARD_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert (s.min_poll_interval_ms, s.deleted_device_logs_delay_ms, s.vpn_port) == (300, 0, 1194)
    assert s.public_url == "https://fleet.example.com" and s.redis_url == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(("name", "raw"), [
    ("FLEETYARD_MIN_POLL_INTERVAL_MS", "0"), ("FLEETYARD_HEARTBEAT_GRACE_MS", "soon"),
    ("FLEETYARD_DELETED_DEVICE_LOGS_DELAY_MS", "-1"), ("FLEETYARD_VPN_PORT", "443.5")])
def test_a_wrong_value_names_its_variable(name, raw):
    with pytest.raises(ValueError, match=name):
        DeviceSettings.from_env({name: raw})

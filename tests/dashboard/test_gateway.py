"""The gateway's rules that need no server: who counts as a viewer, where a sign-in may send the browser, which host
names a loopback dashboard answers."""

from __future__ import annotations

import time

from digiops.dashboard import gateway
from digiops.dashboard.gateway import Viewers


def test_viewers_count_pages_not_yet_connected_and_open_kernels_up_to_the_cap():
    viewers = Viewers(cap=2)

    first, second = viewers.admit(), viewers.admit()
    assert first and second
    assert viewers.admit() is None  # a third page beyond the cap: busy
    viewers.served(first, "k1")
    viewers.connected("k1")  # the first page's kernel connects: still two viewers
    assert viewers.count() == 2 and viewers.admit() is None
    viewers.connected("k1")  # a second socket of the same page is the same viewer
    assert viewers.count() == 2
    assert viewers.disconnected("k1") is False and viewers.disconnected("k1") is True
    assert viewers.count() == 1 and viewers.admit()


def test_a_page_that_never_connects_stops_counting_and_its_kernel_is_let_go():
    viewers = Viewers(cap=2)
    viewers.served(viewers.admit(), "k1")
    viewers.admit()  # a page that named no kernel (an error page)

    later = time.monotonic() + gateway.PENDING_S + 1
    assert viewers.expire(now=later) == ["k1"]
    assert viewers.count(now=later) == 0


def test_after_sign_in_the_browser_goes_to_a_path_of_this_site_only():
    assert gateway._safe_next("/?x=1") == "/?x=1"
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        assert gateway._safe_next(target) == "/"


def test_host_names_with_and_without_ports():
    assert [gateway._host_name(h) for h in ("localhost:8866", "127.0.0.1", "[::1]:80", "evil.example:8866")] == [
        "localhost", "127.0.0.1", "[::1]", "evil.example"]

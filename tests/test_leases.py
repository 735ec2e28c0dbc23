"""The work-division policy as pure functions: fair shares, hand-backs, claims."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from aggregator.leases import Lease, fair_share, lease_host, live_nodes, rebalance

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(seconds=30)
HOSTS = {f"h{i}" for i in range(6)}


def test_a_lease_covers_the_host_as_scrapy_keys_its_slots():
    assert lease_host("https://WWW.Rbc.ua:8443/static/rss.xml") == "www.rbc.ua"
    assert lease_host("http://127.0.0.3:8080/feed") == "127.0.0.3"


def test_fair_shares_add_up_to_every_host():
    nodes = ["a", "b", "c", "d"]
    shares = [fair_share(n, nodes, 6) for n in nodes]
    assert shares == [2, 2, 1, 1] and sum(shares) == 6
    assert fair_share("a", [], 6) == 6  # alone: everything


def test_live_nodes_are_those_heard_from_within_a_lease():
    beats = {"a": (NOW - timedelta(seconds=5), 6), "b": (NOW - timedelta(seconds=90), 6),
             "idle": (NOW, 0)}
    assert live_nodes(beats, NOW, 60) == ["a"]  # a node with no sources takes no share


def test_a_joining_node_claims_its_share_and_the_holders_hand_back_surplus():
    leases = [Lease(f"h{i}", "a" if i < 3 else "b", LATER) for i in range(6)]
    live = ["a", "b", "c"]
    assert rebalance("c", live, leases, HOSTS, set(), NOW).claim == 2
    moves = rebalance("a", live, leases, HOSTS, set(), NOW)
    assert moves.claim == 0 and len(moves.release) == 1


def test_a_busy_host_is_not_handed_back_until_its_crawl_ends():
    leases = [Lease(f"h{i}", "a", LATER) for i in range(6)]
    moves = rebalance("a", ["a", "b"], leases, HOSTS, {f"h{i}" for i in range(6)}, NOW)
    assert moves.release == ()


def test_expired_leases_of_a_dead_node_are_claimable_and_not_counted_as_held():
    leases = [Lease(f"h{i}", "dead", NOW - timedelta(seconds=1)) for i in range(6)]
    assert rebalance("a", ["a"], leases, HOSTS, set(), NOW).claim == 6


def test_hosts_no_longer_configured_are_handed_back():
    leases = [Lease("gone", "a", LATER), Lease("h0", "a", LATER)]
    moves = rebalance("a", ["a"], leases, {"h0"}, set(), NOW)
    assert moves.release == ("gone",) and moves.claim == 0


def test_a_host_free_for_longer_than_a_lease_is_taken_beyond_the_share():
    leases = [Lease(f"h{i}", "a" if i < 3 else "b", LATER) for i in range(5)]
    leases.append(Lease("h5", None, NOW - timedelta(seconds=61)))
    moves = rebalance("a", ["a", "b"], leases, HOSTS, set(), NOW, ttl=60)
    assert moves.claim == 1 and moves.release == ()


def test_captures_are_claimed_within_each_host_s_room():
    from types import SimpleNamespace

    from aggregator.db.capture_queue import within_room

    rows = [(SimpleNamespace(requested_url=f"http://{host}/{n}"), "src")
            for n, host in enumerate(["a.ua", "a.ua", "a.ua", "b.ua", "c.ua"])]
    room = {"a.ua": 2, "b.ua": 0, "c.ua": 2}
    picked = within_room(rows, 10, room.__getitem__)
    assert [r[0].requested_url for r in picked] == ["http://a.ua/0", "http://a.ua/1",
                                                    "http://c.ua/4"]
    assert len(within_room(rows, 1, room.__getitem__)) == 1

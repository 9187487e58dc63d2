"""Alertmanager as an HA cluster: the flags that make peers gossip, and the rule for senders.

Peers share silences and the notification log by gossip (memberlist). Every rule evaluator sends
every alert to every peer; each peer groups on its own and the peer at position n in the cluster
waits n × ``peer_timeout`` before notifying, then skips what the notification log says another
peer already sent. Gossip is best effort: a notification can still go out from two peers (a peer
dies before its log entry spreads, or a partition), so the receiver must be idempotent — the
tickets webhook is: one alert instance is (fingerprint, startsAt).
"""

from __future__ import annotations

from collections.abc import Sequence

from sharpeyes.cli import host_port


def _hostport(value: str) -> str:
    host, port = host_port(value, default_host="")
    if not host:
        raise ValueError(f"{value!r}: an Alertmanager peer needs an explicit HOST:PORT")
    return f"{host}:{port}"


def cluster_flags(listen: str, peers: Sequence[str], *, peer_timeout: str = "15s",
                  gossip_interval: str | None = None, pushpull_interval: str | None = None) -> list[str]:
    """Alertmanager command-line flags for one peer listening for gossip on ``listen``
    (HOST:PORT, an explicit address: Alertmanager cannot advertise a wildcard on a host without a
    private address) and joining ``peers`` (the others; itself may be listed, it is skipped)."""
    listen = _hostport(listen)
    others = [_hostport(p) for p in peers if p != listen]
    if not others:
        raise ValueError("an Alertmanager cluster needs at least one other peer")
    flags = [f"--cluster.listen-address={listen}", f"--cluster.advertise-address={listen}",
             f"--cluster.peer-timeout={peer_timeout}"]
    flags += [f"--cluster.peer={p}" for p in others]
    if gossip_interval:
        flags.append(f"--cluster.gossip-interval={gossip_interval}")
    if pushpull_interval:
        flags.append(f"--cluster.pushpull-interval={pushpull_interval}")
    return flags

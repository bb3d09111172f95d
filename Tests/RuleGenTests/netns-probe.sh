#!/usr/bin/env bash
# Proves a generated ruleset in network namespaces of its own (root only).
# Usage: netns-probe.sh nft|iptables RULES_FILE "tcp:5061 udp:3478 tcp6:5061 tcp:5999 ..."
# Two namespaces joined by veth: the server (192.0.2.1/24, 2001:db8::1/64) loads RULES_FILE,
# generated with --policy drop; a listener answers "pong" on each port; the client
# (192.0.2.2, 2001:db8::2) probes each port and the script prints "PROTO PORT open|closed",
# judged by the reply (socat exits 0 for UDP even when the datagram is dropped).
# Only addresses of these namespaces are used; every step is bounded by timeout; the
# namespaces are removed on exit.
set -u
kind=$1
rules=$2
ports=$3
id="ocs$$"
server="${id}s"
client="${id}c"
listeners=()
cleanup() {
    for pid in "${listeners[@]}" $(ip netns pids "$server" 2>/dev/null) $(ip netns pids "$client" 2>/dev/null); do
        kill -9 "$pid" 2>/dev/null
    done
    ip netns del "$server" 2>/dev/null
    ip netns del "$client" 2>/dev/null
}
trap cleanup EXIT
set -e
ip netns add "$server"
ip netns add "$client"
ip link add "${id}a" type veth peer name "${id}b"
ip link set "${id}a" netns "$server"
ip link set "${id}b" netns "$client"
ip -n "$server" addr add 192.0.2.1/24 dev "${id}a"
ip -n "$client" addr add 192.0.2.2/24 dev "${id}b"
ip -n "$server" addr add 2001:db8::1/64 dev "${id}a" nodad
ip -n "$client" addr add 2001:db8::2/64 dev "${id}b" nodad
for ns in "$server" "$client"; do ip -n "$ns" link set lo up; done
ip -n "$server" link set "${id}a" up
ip -n "$client" link set "${id}b" up
case "$kind" in
    nft) timeout 10 ip netns exec "$server" nft -f "$rules" ;;
    iptables)
        timeout 10 ip netns exec "$server" iptables-restore --noflush < "$rules"
        timeout 10 ip netns exec "$server" iptables -I INPUT -j OCSLOG-INPUT
        ;;
    *) echo "unknown kind $kind" >&2; exit 2 ;;
esac
set +e
for spec in $ports; do
    proto=${spec%%:*}
    port=${spec##*:}
    case "$proto" in
        tcp) address="TCP4-LISTEN:$port,reuseaddr,fork" ;;
        tcp6) address="TCP6-LISTEN:$port,reuseaddr,fork,ipv6only=1" ;;
        udp) address="UDP4-RECVFROM:$port,reuseaddr,fork" ;;
    esac
    # Listeners never hold the caller's output open, and end by themselves if all else fails.
    ip netns exec "$server" timeout -s KILL 60 socat "$address" SYSTEM:'echo pong' > /dev/null 2>&1 < /dev/null &
    listeners+=("$!")
done
# Wait (at most 10 s) until every listener is bound: on a loaded machine one second is not enough.
for _ in $(seq 50); do
    bound=$(ip netns exec "$server" ss -Hlntu 2>/dev/null)
    missing=0
    for spec in $ports; do
        echo "$bound" | grep -q ":${spec##*:} " || missing=1
    done
    [ "$missing" -eq 0 ] && break
    sleep 0.2
done
for spec in $ports; do
    proto=${spec%%:*}
    port=${spec##*:}
    case "$proto" in
        tcp) reply=$(ip netns exec "$client" timeout -s KILL 4 socat -T2 - "TCP4:192.0.2.1:$port,connect-timeout=2" < /dev/null 2>/dev/null) ;;
        tcp6) reply=$(ip netns exec "$client" timeout -s KILL 4 socat -T2 - "TCP6:[2001:db8::1]:$port,connect-timeout=2" < /dev/null 2>/dev/null) ;;
        udp)
            # A datagram may be lost while the neighbour is resolved, and a loaded machine answers
            # late: three tries of three seconds (a closed port costs nine).
            for _ in 1 2 3; do
                reply=$(echo ping | ip netns exec "$client" timeout -s KILL 5 socat -T3 - "UDP4:192.0.2.1:$port" 2>/dev/null)
                [ "$reply" = pong ] && break
            done
            ;;
    esac
    if [ "$reply" = pong ]; then echo "$proto $port open"; else echo "$proto $port closed"; fi
done

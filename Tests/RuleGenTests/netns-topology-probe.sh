#!/usr/bin/env bash
# Proves a forward ruleset (ocslog rules --topology corpus/topology/contoso.yaml) in network
# namespaces of its own (root only): an internet client, the firewall that loads the ruleset and
# routes, an Edge with an external and an internal side, and a Front End behind the firewall.
# Usage: netns-topology-probe.sh MODE FILE [FILE6]
# In every mode the operator's own rules guard the firewall itself first (input: policy drop,
# SSH on 22 accepted, 2222 not), and still do afterwards.
#   nft          FILE is a complete firewall (--policy drop): it owns the forward hook.
#   nft-compose  FILE has no base chain (--no-base-chain): loaded into the operator's own
#                table inet filter whose forward chain drops, then hooked with the header's jump.
#   iptables     FILE (IPv4, with *nat) and FILE6: the operator's FORWARD policy is DROP; the
#                header's hook lines jump to OCSLOG-FORWARD and the nat chains.
# Each probe line is "FROM PROTO ADDRESS PORT REPLY": "pong" from the Edge and the Front End,
# the address the internet client saw for connections from the Edge (proves SNAT), "closed".
# Documentation addresses only, inside these namespaces; every step under timeout; the
# namespaces are removed on exit.
set -u
mode=$1
rules=$2
rules6=${3:-}
id="ot$$"
inet="${id}i"; fw="${id}f"; edge="${id}e"; fe="${id}b"
namespaces=("$inet" "$fw" "$edge" "$fe")
work=$(mktemp -d)
cleanup() {
    for ns in "${namespaces[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    done
    for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
set -e
for ns in "${namespaces[@]}"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
done
link() {  # NS_A IF_A NS_B IF_B
    ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
    ip -n "$1" link set "$2" up
    ip -n "$3" link set "$4" up
}
address() {  # NS IF ADDRESS...
    local ns=$1 interface=$2
    shift 2
    for a in "$@"; do
        case "$a" in
            *:*) ip -n "$ns" addr add "$a" dev "$interface" nodad ;;
            *) ip -n "$ns" addr add "$a" dev "$interface" ;;
        esac
    done
}
link "$inet" eth0 "$fw" eth0
link "$fw" eth1 "$edge" ext0
link "$fw" eth3 "$edge" int0
link "$fw" eth2 "$fe" eth0
address "$inet" eth0 203.0.113.50/24 2001:db8:3::50/64
address "$fw" eth0 203.0.113.1/24 203.0.113.10/32 2001:db8:3::1/64
address "$fw" eth1 198.51.100.1/24 2001:db8:1::1/64
address "$fw" eth3 192.0.2.1/26 2001:db8:4::1/64
address "$fw" eth2 192.0.2.129/25 2001:db8:2::1/64
address "$edge" ext0 198.51.100.10/24 198.51.100.11/24 198.51.100.12/24 2001:db8:1::10/64
address "$edge" int0 192.0.2.10/26 2001:db8:4::10/64
address "$fe" eth0 192.0.2.140/25 2001:db8:2::140/64
ip -n "$inet" route add default via 203.0.113.1
ip -n "$inet" -6 route add default via 2001:db8:3::1
ip -n "$edge" route add default via 198.51.100.1 src 198.51.100.10
ip -n "$edge" route add 192.0.2.128/25 via 192.0.2.1
ip -n "$edge" -6 route add default via 2001:db8:1::1
ip -n "$edge" -6 route add 2001:db8:2::/64 via 2001:db8:4::1
ip -n "$fe" route add default via 192.0.2.129
ip -n "$fe" -6 route add default via 2001:db8:2::1
ip netns exec "$fw" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# (An input chain that drops must let neighbour discovery in, or IPv6 stops, forwarding too.)
own_input='  chain input { type filter hook input priority 0; policy drop; ct state established,related accept; meta l4proto ipv6-icmp accept; tcp dport 22 accept; }'
case "$mode" in
    nft)
        printf '%s\n' 'table inet filter {' "$own_input" '}' > "$work/own.nft"
        timeout 10 ip netns exec "$fw" nft -f "$work/own.nft"
        timeout 10 ip netns exec "$fw" nft -f "$rules"
        ;;
    nft-compose)
        printf '%s\n' 'table inet filter {' "$own_input" \
            '  chain forward { type filter hook forward priority 0; policy drop; ct state established,related accept; }' \
            '}' > "$work/own.nft"
        timeout 10 ip netns exec "$fw" nft -f "$work/own.nft"
        timeout 10 ip netns exec "$fw" nft -f "$rules"
        timeout 10 ip netns exec "$fw" nft add rule inet filter forward jump ocslog_forward
        ;;
    iptables)
        for tool in iptables ip6tables; do
            ip netns exec "$fw" "$tool" -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
            ip netns exec "$fw" "$tool" -A INPUT -p tcp --dport 22 -j ACCEPT
            [ "$tool" = ip6tables ] && ip netns exec "$fw" ip6tables -A INPUT -p ipv6-icmp -j ACCEPT
            ip netns exec "$fw" "$tool" -P INPUT DROP
            ip netns exec "$fw" "$tool" -P FORWARD DROP
        done
        timeout 10 ip netns exec "$fw" iptables-restore --noflush < "$rules"
        timeout 10 ip netns exec "$fw" ip6tables-restore --noflush < "$rules6"
        # The hook lines the files' headers print.
        grep -h -o -E '(ip6?tables) (-t nat )?-C [A-Z]+ -j OCSLOG-[A-Z]+ 2>/dev/null \|\| .*$' "$rules" "$rules6" |
            sed -e 's/ 2>\/dev\/null / /' | while read -r line; do
                check=${line%% || *}
                insert=${line##* || }
                # shellcheck disable=SC2086
                ip netns exec "$fw" $check 2>/dev/null || ip netns exec "$fw" $insert
            done
        ;;
    *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
set +e
listen() {  # NS SPEC REPLY-COMMAND
    ip netns exec "$1" timeout -s KILL 90 socat "$2" SYSTEM:"$3" > /dev/null 2>&1 < /dev/null &
    disown
}
for port in 443 5061 5062 8057; do listen "$edge" "TCP4-LISTEN:$port,reuseaddr,fork" 'echo pong'; done
for port in 443 5061 8057; do listen "$edge" "TCP6-LISTEN:$port,reuseaddr,fork,ipv6only=1" 'echo pong'; done
listen "$edge" "UDP4-RECVFROM:3478,reuseaddr,fork" 'echo pong'
for port in 5061 5062; do listen "$fe" "TCP4-LISTEN:$port,reuseaddr,fork" 'echo pong'; done
listen "$fe" "TCP6-LISTEN:5061,reuseaddr,fork,ipv6only=1" 'echo pong'
listen "$fe" "UDP4-RECVFROM:50000,reuseaddr,fork" 'echo pong'
for port in 5061 5062; do listen "$inet" "TCP4-LISTEN:$port,reuseaddr,fork" 'echo $SOCAT_PEERADDR'; done
for port in 22 2222; do listen "$fw" "TCP4-LISTEN:$port,reuseaddr,fork" 'echo pong'; done
# Wait (at most 30 s: a loaded machine is slow) until every listener is bound.
expected_listeners="$edge:8 $fe:4 $inet:2 $fw:2"
for _ in $(seq 150); do
    ready=1
    for pair in $expected_listeners; do
        count=$(ip netns exec "${pair%%:*}" ss -Hlntu 2>/dev/null | wc -l)
        [ "$count" -ge "${pair##*:}" ] || ready=0
    done
    [ "$ready" -eq 1 ] && break
    sleep 0.2
done
probes=(
    "i tcp 203.0.113.10 443" "i tcp 198.51.100.12 443" "i udp 198.51.100.10 3478" "i tcp6 2001:db8:1::10 443"
    "i tcp 198.51.100.10 5062" "i tcp 192.0.2.10 5061" "i tcp 192.0.2.140 5061" "i tcp6 2001:db8:2::140 5061"
    "b tcp 192.0.2.10 5061" "b tcp6 2001:db8:4::10 8057" "b udp 192.0.2.10 3478" "b tcp 192.0.2.10 443"
    "e tcp 192.0.2.140 5061" "e udp 192.0.2.140 50000" "e tcp 192.0.2.140 5062" "e tcp6 2001:db8:2::140 5061"
    "e tcp 203.0.113.50 5061" "e tcp 203.0.113.50 5062" "i tcp 203.0.113.1 22" "i tcp 203.0.113.1 2222"
)
probe() {  # FROM PROTO ADDRESS PORT
    local ns
    case "$1" in i) ns=$inet ;; b) ns=$fe ;; e) ns=$edge ;; esac
    local reply=""
    case "$2" in
        tcp | tcp6)
            local target="TCP4:$3:$4"
            [ "$2" = tcp6 ] && target="TCP6:[$3]:$4"
            # Two tries: a loaded machine may drop the first while neighbours are resolved.
            for _ in 1 2; do
                reply=$(ip netns exec "$ns" timeout -s KILL 6 socat -T4 - "$target,connect-timeout=4" < /dev/null 2>/dev/null)
                [ -n "$reply" ] && break
            done
            ;;
        udp)
            for _ in 1 2 3; do
                reply=$(echo ping | ip netns exec "$ns" timeout -s KILL 5 socat -T3 - "UDP4:$3:$4" 2>/dev/null)
                [ -n "$reply" ] && break
            done
            ;;
    esac
    echo "$1 $2 $3 $4 ${reply:-closed}"
}
index=0
pids=()
for spec in "${probes[@]}"; do
    # shellcheck disable=SC2086
    probe $spec > "$work/probe.$index" &
    pids+=("$!")
    index=$((index + 1))
done
wait "${pids[@]}"
for ((n = 0; n < index; n++)); do cat "$work/probe.$n"; done

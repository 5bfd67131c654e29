#!/usr/bin/env bash
# eng/bench-peers.sh - the Yarp.Tunnels gateway (samples/InternalListenerChain, Release) as rows of
# the shared peer-proxy benchmark ../shared/bench/peers.sh (override its path with PEERS_SH).
#
#   bash eng/bench-peers.sh           # full peers.sh run (installs all peers, workloads A-D) + our rows
#   bash eng/bench-peers.sh --quick   # only iperf3 + socat: bulk TCP, best of 2, 1 and 4 streams, for
#                                     # direct, socat relay, gateway 1 hop, gateway 2 hops
#   bash eng/bench-peers.sh --tunnel  # TCP tunnelling, one run (about 4 minutes): TCP -> samples/TcpTunnel L1 ->
#                                     # iperf3 (bulk, 1 and 4 streams) / echo (tunnels/s) through
#                                     #   h1-connect -> squid, against the socat shim -> squid baseline;
#                                     #   h2-connect -> node's http2 CONNECT server (the functional tests' script),
#                                     #     with node's default windows and with NODE_WINDOW (default 1 MiB);
#                                     #   h2-connect -> the sample's own L2 (TUNNEL_ROLE=l2, its own process);
#                                     # each L1 row warmed up first (WARMUP_SECS, default 5 s, of bulk, then of
#                                     # tunnels/s load), ratios printed; needs node (apt-get install nodejs)
#
# Gateway rows (plain TCP relays to iperf3 on 127.0.0.1:$P_IPERF, logging as shipped):
#   1 hop : 127.0.0.1:16501 (listener added by overrides) -> cluster_0 -> iperf3
#   2 hops: 127.0.0.1:16500 (the sample's 9999 listener) -> internal listener "encap" -> cluster_0 -> iperf3
# The sample's other listener (19000) is moved to 16502 so that everything stays in 16000-16999.
# Every gateway process is warmed up with WARMUP_SECS (default 5) s of its load before it is measured.
# peers.sh settings (PEERS_SECS, PEERS_REPEAT, ...) apply; work dir PEERS_RUN (default below).
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS_SH=${PEERS_SH:-$REPO/../shared/bench/peers.sh}
export PEERS_RUN=${PEERS_RUN:-/tmp/peers-bench-yarp}   # own PID list: never stops another run's servers
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
[[ -f $PEERS_SH ]] || { echo "peers.sh not found at $PEERS_SH (set PEERS_SH)" >&2; exit 1; }

# every gateway process first gets this long of the load it is measured with (.NET keeps JIT-compiling for seconds)
WARMUP_SECS=${WARMUP_SECS:-5}

GW_DIR=$REPO/samples/InternalListenerChain
GW_BIN=$GW_DIR/bin/Release/net10.0
P_GW_1HOP=${P_GW_1HOP:-16501}
P_GW_2HOP=${P_GW_2HOP:-16500}
P_GW_SPARE=${P_GW_SPARE:-16502}
R_GW1="yarp-tunnels tcp proxy (1 hop)"
R_GW2="yarp-tunnels tcp proxy via internal listener (2 hops)"

dotnet build -c Release -v q -nologo "$GW_DIR" >&2 || { echo "build failed" >&2; exit 1; }
# shellcheck source=/dev/null
source "$PEERS_SH"

start_gateway() {
    _need_free "$P_GW_1HOP" "$P_GW_2HOP" "$P_GW_SPARE" || return 1
    # --contentRoot: appsettings.json (listeners, logging) is read from the content root, not the dll's folder
    peers_start yarp-tunnels dotnet "$GW_BIN/InternalListenerChain.dll" --contentRoot "$GW_BIN" \
        --ReverseProxy:Listeners:internal_listener_proxy_9999:Address="tcp://127.0.0.1:$P_GW_2HOP" \
        --ReverseProxy:Listeners:outbound_tcp_svc_19000:Address="tcp://127.0.0.1:$P_GW_SPARE" \
        --ReverseProxy:Listeners:peer_direct:Address="tcp://127.0.0.1:$P_GW_1HOP" \
        --ReverseProxy:Listeners:peer_direct:TcpProxy:ClusterId=cluster_0 \
        --ReverseProxy:Clusters:cluster_0:Destinations:backend:Address="tcp://127.0.0.1:$P_IPERF"
    wait_port "$P_GW_2HOP" 30 && wait_port "$P_GW_1HOP" 30
}

peers_extra_rows() {
    local rt
    rt=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" {v = $2} END {print v}')
    local note=".NET $rt, Release, shipped logging; a ${WARMUP_SECS} s warm-up run (JIT) before the measured runs"
    results_set "$R_GW1" NOTE "$note"
    results_set "$R_GW2" NOTE "$note; internal hop: in-process pipe, BufferSizeKb 1024"
    if ! start_gateway; then
        results_set "$R_GW1" NOTE "did not start: see $PEERS_RUN/logs/yarp-tunnels.log"
        return
    fi
    local p
    for p in "$P_GW_1HOP" "$P_GW_2HOP"; do PEERS_SECS=$WARMUP_SECS bulk_tcp "$p" 4 "warmup-$p" >/dev/null; done
    _run_bulk_row "$R_GW1" bulk_tcp "$P_GW_1HOP"
    _run_bulk_row "$R_GW2" bulk_tcp "$P_GW_2HOP"
    peers_stop_name yarp-tunnels
}

quick() {
    local t0=$SECONDS
    mkdir -p "$PEERS_RUN/logs"
    peers_stop_all   # leftovers of an interrupted earlier run of this script
    if ! command -v iperf3 >/dev/null || ! command -v socat >/dev/null; then   # the minimal install
        peers_log "installing iperf3 socat"
        apt-get update -q >"$PEERS_RUN/logs/apt-update.log" 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends iperf3 socat \
            >"$PEERS_RUN/logs/apt-install.log" 2>&1 || { peers_log "apt-get install failed"; return 1; }
    fi
    trap 'peers_stop_all' EXIT
    trap 'peers_stop_all; exit 130' INT TERM
    start_iperf_server || return 1   # bulk_tcp needs only iperf3 (start_backends adds echo/sink/nginx)
    local r_direct="direct (no proxy)" r_socat="socat $(_ver socat) relay (fork, -b 64K)"
    _run_bulk_row "$r_direct" bulk_tcp "$P_IPERF"
    if start_socat_relay; then _run_bulk_row "$r_socat" bulk_tcp "$P_SOCAT"; peers_stop_name socat-relay; fi
    peers_extra_rows
    peers_stop_all
    PEERS_KEYS=(A1 A4 NOTE)
    {
        echo "# yarp-tunnels vs relays, bulk TCP ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load at end $(cut -d' ' -f1-3 /proc/loadavg))"
        echo
        echo "iperf3 -t $PEERS_SECS -P 1/4 over 127.0.0.1, best of $PEERS_REPEAT; all on one machine; $((SECONDS - t0)) s."
        echo
        results_table
        echo
        results_samples
    } | tee "$PEERS_RUN/results-quick.md"
}

# --tunnel: the TcpTunnel sample's L1 half as shipped (TUNNEL_ROLE=l1), its two listeners moved into 16000-16999 and
# aimed at iperf3 / the echo server through the row's CONNECT proxy (one L1 process per row, stopped after it):
#   16510 (listener_0) -> CONNECT 127.0.0.1:$P_IPERF    16511 (listener_1) -> CONNECT 127.0.0.1:$P_ECHO
# The proxies: squid (h1-connect); node's http2 CONNECT server, the functional tests' own script, with its default
# 65,535-octet windows and with --window $NODE_WINDOW (h2-connect); the sample's own L2 (TUNNEL_ROLE=l2, its own process,
# CONNECT policy opened to the iperf3 and echo ports; h2-connect).
TUN_DIR=$REPO/samples/TcpTunnel
TUN_BIN=$TUN_DIR/bin/Release/net10.0
NODE_CONNECT=$REPO/test/Yarp.Tunnels.FunctionalTests/Interop/node/h2-connect-server.js
P_TUN_BULK=${P_TUN_BULK:-16510}
P_TUN_RATE=${P_TUN_RATE:-16511}
P_NODE=${P_NODE:-16520}
P_L2=${P_L2:-16521}
NODE_WINDOW=${NODE_WINDOW:-1048576}

start_l1() {   # MODE PROXYPORT
    _need_free "$P_TUN_BULK" "$P_TUN_RATE" || return 1
    peers_start yarp-tunnels-l1 env TUNNEL_ROLE=l1 TUNNEL_MODE="$1" dotnet "$TUN_BIN/TcpTunnel.dll" --contentRoot "$TUN_BIN" \
        --ReverseProxy:Listeners:listener_0:Address="tcp://127.0.0.1:$P_TUN_BULK" \
        --ReverseProxy:Listeners:listener_0:TcpProxy:Tunneling:Hostname="127.0.0.1:$P_IPERF" \
        --ReverseProxy:Listeners:listener_1:Address="tcp://127.0.0.1:$P_TUN_RATE" \
        --ReverseProxy:Listeners:listener_1:TcpProxy:Tunneling:Hostname="127.0.0.1:$P_ECHO" \
        --ReverseProxy:Clusters:cluster_0:Destinations:l2:Address="tcp://127.0.0.1:$2"
    wait_port "$P_TUN_BULK" 30 && wait_port "$P_TUN_RATE" 30
}

start_l2() {
    _need_free "$P_L2" || return 1
    peers_start yarp-tunnels-l2 env TUNNEL_ROLE=l2 dotnet "$TUN_BIN/TcpTunnel.dll" --contentRoot "$TUN_BIN" \
        --ReverseProxy:Listeners:l2:Address="tcp://127.0.0.1:$P_L2" \
        --ReverseProxy:Routes:terminate_connect:Connect:Policy:AllowedHosts:1="127.0.0.1:$P_IPERF" \
        --ReverseProxy:Routes:terminate_connect:Connect:Policy:AllowedHosts:2="127.0.0.1:$P_ECHO"
    wait_port "$P_L2" 30
}

start_node() {   # [--window BYTES]
    _need_free "$P_NODE" || return 1
    peers_start node-connect node "$NODE_CONNECT" --port "$P_NODE" "$@"
    wait_port "$P_NODE"
}

# tunnels/s of a plain TCP port that reaches the echo server (connbench "direct": open, 64 B echo, close)
rate_plain() {
    local port=$1 conc=${2:-$PEERS_CONC} secs=${3:-$PEERS_SECS} out
    out=$(timeout 10 "$PEERS_BIN" direct "$port" "$conc" "$secs" "$PEERS_PAYLOAD" 2>&1)
    peers_detail "rate_plain port=$port conc=$conc: $out"
    if [[ $(_kv ok "$out") == 0 ]]; then echo ERR; else _kv rate "$out"; fi
}

_run_rate_row() {   # PEER PORT
    local peer=$1 port=$2 d
    peers_log "B: $peer (x$PEERS_REPEAT)"
    best_of "$PEERS_REPEAT" rate_plain "$port"
    d=$(peers_last_detail)
    results_set "$peer" S_B "$PEERS_SAMPLES"
    _note_disturbed "$peer" B
    if [[ $PEERS_BEST == ERR* ]]; then
        results_set "$peer" B ERR; results_set "$peer" NOTE "B: $d"
    else
        results_set "$peer" B "$(printf '%.0f' "$PEERS_BEST") ($(_kv p50_ms "$d")/$(_kv p99_ms "$d"))"
    fi
}

# one gateway row: L1 in MODE through the proxy on PROXYPORT, warmed up, then bulk 1/4 streams and tunnels/s
_run_l1_row() {   # PEER MODE PROXYPORT
    local peer=$1
    if ! start_l1 "$2" "$3"; then
        results_set "$peer" NOTE "did not start: see $PEERS_RUN/logs/yarp-tunnels-l1.log"
        return
    fi
    peers_log "warm-up: $peer (${WARMUP_SECS} s bulk, ${WARMUP_SECS} s tunnels/s)"
    PEERS_SECS=$WARMUP_SECS bulk_tcp "$P_TUN_BULK" 4 warmup-l1 >/dev/null
    PEERS_SECS=$WARMUP_SECS rate_plain "$P_TUN_RATE" >/dev/null
    _run_bulk_row "$peer" bulk_tcp "$P_TUN_BULK"
    _run_rate_row "$peer" "$P_TUN_RATE"
    peers_stop_name yarp-tunnels-l1
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else printf "n/a" }'; }
first() { printf '%s' "${1%% *}"; }   # "2187 (3.70/6.54)" -> 2187

_ratio_row() {   # LABEL ROW BASEROW TARGET
    local k cells=""
    for k in A1 A4 B; do cells+=" $(ratio "$(first "${PEERS_R[$2|$k]:-}")" "$(first "${PEERS_R[$3|$k]:-}")") |"; done
    echo "| $1 |$cells $4 |"
}

tunnel() {
    local t0=$SECONDS load0
    dotnet build -c Release -v q -nologo "$TUN_DIR" >&2 || { echo "build failed" >&2; return 1; }
    command -v node >/dev/null || { echo "node not found (Debian/Ubuntu: apt-get install nodejs)" >&2; return 1; }
    peers_setup || return 1
    start_iperf_server && start_echo_server && start_squid || { peers_log "backends or squid did not start"; return 1; }
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    local rt
    rt=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" {v = $2} END {print v}')
    local r_base="socat $(_ver socat) shim -> squid $(_ver squid) (baseline)"
    local r_h1="yarp-tunnels L1 h1-connect -> squid $(_ver squid)"
    local r_node="yarp-tunnels L1 h2-connect -> node $(node --version) http2 CONNECT"
    local r_nodew="yarp-tunnels L1 h2-connect -> node http2 CONNECT, --window $NODE_WINDOW"
    local r_l2="yarp-tunnels L1 h2-connect -> yarp-tunnels L2"
    local note=".NET $rt, Release, TcpTunnel sample as shipped (logging Information); ${WARMUP_SECS} s bulk + ${WARMUP_SECS} s tunnels/s warm-up"
    results_set "$r_base" NOTE "socat -b 128K TCP-LISTEN,fork PROXY: (one socat process per tunnel)"
    results_set "$r_h1" NOTE "$note"
    results_set "$r_node" NOTE "$note; node's default windows (65,535 octets per stream and connection)"
    results_set "$r_nodew" NOTE "$note; node's stream and connection windows $NODE_WINDOW octets"
    results_set "$r_l2" NOTE "$note; L2: TUNNEL_ROLE=l2, its own process (Kestrel HTTP/2, Protocols Auto), warmed by the same load"

    _run_bulk_row "$r_base" bulk_through_connect "$P_SQUID"
    peers_start shim-rate socat -b 131072 "TCP-LISTEN:$P_SHIM,bind=127.0.0.1,fork,reuseaddr" "PROXY:127.0.0.1:127.0.0.1:$P_ECHO,proxyport=$P_SQUID"
    local shim=$PEERS_LAST_PID
    if wait_port "$P_SHIM"; then _run_rate_row "$r_base" "$P_SHIM"; fi
    peers_stop_pid "$shim"

    _run_l1_row "$r_h1" h1-connect "$P_SQUID"
    if start_node; then
        _run_l1_row "$r_node" h2-connect "$P_NODE"
        peers_stop_name node-connect
    else
        results_set "$r_node" NOTE "node did not start: see $PEERS_RUN/logs/node-connect.log"
    fi
    if start_node --window "$NODE_WINDOW"; then
        _run_l1_row "$r_nodew" h2-connect "$P_NODE"
        peers_stop_name node-connect
    else
        results_set "$r_nodew" NOTE "node did not start: see $PEERS_RUN/logs/node-connect.log"
    fi
    if start_l2; then
        _run_l1_row "$r_l2" h2-connect "$P_L2"
        peers_stop_name yarp-tunnels-l2
    else
        results_set "$r_l2" NOTE "L2 did not start: see $PEERS_RUN/logs/yarp-tunnels-l2.log"
    fi
    peers_stop_all
    PEERS_KEYS=(A1 A4 B NOTE)
    {
        echo "# TCP tunnelling: yarp-tunnels L1 vs socat shim ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load at start $load0, at end $(cut -d' ' -f1-3 /proc/loadavg))"
        echo
        echo "A1/A4: iperf3 -t $PEERS_SECS -P 1/4 Gbit/s; B: tunnels/s (open, $PEERS_PAYLOAD B echo, close; $PEERS_CONC concurrent; p50/p99 ms); best of $PEERS_REPEAT; $((SECONDS - t0)) s."
        echo
        results_table
        echo
        echo "| ratio (same run) | bulk 1 stream | bulk 4 streams | tunnels/s | target |"
        echo "|---|---:|---:|---:|---|"
        _ratio_row "L1 h1-connect -> squid / socat shim -> squid" "$r_h1" "$r_base" ">= 1.0"
        _ratio_row "L1 h2-connect -> node / socat shim -> squid" "$r_node" "$r_base" "(reference)"
        _ratio_row "L1 h2-connect -> node, windows $NODE_WINDOW / node defaults" "$r_nodew" "$r_node" "(node's windows)"
        _ratio_row "L1 h2-connect -> L2 / L1 h2-connect -> node" "$r_l2" "$r_node" "(reference)"
        _ratio_row "L1 h2-connect -> L2 / socat shim -> squid" "$r_l2" "$r_base" "(reference)"
        echo
        results_samples
    } | tee "$PEERS_RUN/results-tunnel.md"
}

case ${1:-} in
    --quick) quick ;;
    --tunnel) tunnel ;;
    "") peers_main ;;
    *) sed -n '2,19p' "$0"; exit 2 ;;
esac

#!/usr/bin/env bash
# eng/bench-peers.sh - the Yarp.Tunnels gateway (samples/InternalListenerChain, Release) as rows of
# the shared peer-proxy benchmark ../shared/bench/peers.sh (override its path with PEERS_SH).
#
#   bash eng/bench-peers.sh           # full peers.sh run (installs all peers, workloads A-D) + our rows
#   bash eng/bench-peers.sh --quick   # only iperf3 + socat: bulk TCP, best of 2, 1 and 4 streams, for
#                                     # direct, socat relay, gateway 1 hop, gateway 2 hops
#   bash eng/bench-peers.sh --tunnel  # TCP tunnelling: TCP -> samples/TcpTunnel L1 (h1-connect) -> squid ->
#                                     # iperf3 (bulk, 1 and 4 streams) / echo (tunnels/s), against the
#                                     # socat shim -> squid baseline, in the same run
#
# Gateway rows (plain TCP relays to iperf3 on 127.0.0.1:$P_IPERF, logging as shipped):
#   1 hop : 127.0.0.1:16501 (listener added by overrides) -> cluster_0 -> iperf3
#   2 hops: 127.0.0.1:16500 (the sample's 9999 listener) -> internal listener "encap" -> cluster_0 -> iperf3
# The sample's other listener (19000) is moved to 16502 so that everything stays in 16000-16999.
# peers.sh settings (PEERS_SECS, PEERS_REPEAT, ...) apply; work dir PEERS_RUN (default below).
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS_SH=${PEERS_SH:-$REPO/../shared/bench/peers.sh}
export PEERS_RUN=${PEERS_RUN:-/tmp/peers-bench-yarp}   # own PID list: never stops another run's servers
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
[[ -f $PEERS_SH ]] || { echo "peers.sh not found at $PEERS_SH (set PEERS_SH)" >&2; exit 1; }

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
    local note=".NET $rt, Release, shipped logging; one 1 s warm-up run (JIT) before the measured runs"
    results_set "$R_GW1" NOTE "$note"
    results_set "$R_GW2" NOTE "$note; internal hop: in-process pipe, BufferSizeKb 1024"
    if ! start_gateway; then
        results_set "$R_GW1" NOTE "did not start: see $PEERS_RUN/logs/yarp-tunnels.log"
        return
    fi
    local p
    for p in "$P_GW_1HOP" "$P_GW_2HOP"; do PEERS_SECS=1 bulk_tcp "$p" 4 "warmup-$p" >/dev/null; done
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

# --tunnel: the TcpTunnel sample's L1 half as shipped (TUNNEL_ROLE=l1 TUNNEL_MODE=h1-connect), its two listeners moved
# into 16000-16999 and aimed at iperf3 / the echo server through squid:
#   16510 (listener_0) -> CONNECT 127.0.0.1:$P_IPERF via squid    16511 (listener_1) -> CONNECT 127.0.0.1:$P_ECHO via squid
TUN_DIR=$REPO/samples/TcpTunnel
TUN_BIN=$TUN_DIR/bin/Release/net10.0
P_TUN_BULK=${P_TUN_BULK:-16510}
P_TUN_RATE=${P_TUN_RATE:-16511}

start_l1() {
    _need_free "$P_TUN_BULK" "$P_TUN_RATE" || return 1
    peers_start yarp-tunnels-l1 env TUNNEL_ROLE=l1 TUNNEL_MODE=h1-connect dotnet "$TUN_BIN/TcpTunnel.dll" --contentRoot "$TUN_BIN" \
        --ReverseProxy:Listeners:listener_0:Address="tcp://127.0.0.1:$P_TUN_BULK" \
        --ReverseProxy:Listeners:listener_0:TcpProxy:Tunneling:Hostname="127.0.0.1:$P_IPERF" \
        --ReverseProxy:Listeners:listener_1:Address="tcp://127.0.0.1:$P_TUN_RATE" \
        --ReverseProxy:Listeners:listener_1:TcpProxy:Tunneling:Hostname="127.0.0.1:$P_ECHO" \
        --ReverseProxy:Clusters:cluster_0:Destinations:l2:Address="tcp://127.0.0.1:$P_SQUID"
    wait_port "$P_TUN_BULK" 30 && wait_port "$P_TUN_RATE" 30
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
    if [[ $PEERS_BEST == ERR* ]]; then
        results_set "$peer" B ERR; results_set "$peer" NOTE "B: $d"
    else
        results_set "$peer" B "$(printf '%.0f' "$PEERS_BEST") ($(_kv p50_ms "$d")/$(_kv p99_ms "$d"))"
    fi
}

tunnel() {
    local t0=$SECONDS
    dotnet build -c Release -v q -nologo "$TUN_DIR" >&2 || { echo "build failed" >&2; return 1; }
    peers_setup || return 1
    start_iperf_server && start_echo_server && start_squid || { peers_log "backends or squid did not start"; return 1; }
    local r_base="socat $(_ver socat) shim -> squid $(_ver squid) (baseline)" r_l1="yarp-tunnels L1 h1-connect (TcpTunnel sample) -> squid $(_ver squid)"
    local rt
    rt=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" {v = $2} END {print v}')
    results_set "$r_base" NOTE "socat -b 128K TCP-LISTEN,fork PROXY: (one socat process per tunnel)"
    results_set "$r_l1" NOTE ".NET $rt, Release, sample as shipped (logging Information); 1 s warm-up"
    _run_bulk_row "$r_base" bulk_through_connect "$P_SQUID"
    peers_start shim-rate socat -b 131072 "TCP-LISTEN:$P_SHIM,bind=127.0.0.1,fork,reuseaddr" "PROXY:127.0.0.1:127.0.0.1:$P_ECHO,proxyport=$P_SQUID"
    local shim=$PEERS_LAST_PID
    if wait_port "$P_SHIM"; then _run_rate_row "$r_base" "$P_SHIM"; fi
    peers_stop_pid "$shim"
    if start_l1; then
        PEERS_SECS=1 bulk_tcp "$P_TUN_BULK" 4 warmup-l1 >/dev/null
        PEERS_SECS=1 rate_plain "$P_TUN_RATE" >/dev/null
        _run_bulk_row "$r_l1" bulk_tcp "$P_TUN_BULK"
        _run_rate_row "$r_l1" "$P_TUN_RATE"
    else
        results_set "$r_l1" NOTE "did not start: see $PEERS_RUN/logs/yarp-tunnels-l1.log"
    fi
    peers_stop_all
    PEERS_KEYS=(A1 A4 B NOTE)
    {
        echo "# TCP tunnelling: yarp-tunnels L1 vs socat shim, both through squid ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load at end $(cut -d' ' -f1-3 /proc/loadavg))"
        echo
        echo "A1/A4: iperf3 -t $PEERS_SECS -P 1/4 Gbit/s; B: tunnels/s (open, $PEERS_PAYLOAD B echo, close; $PEERS_CONC concurrent; p50/p99 ms); best of $PEERS_REPEAT; $((SECONDS - t0)) s."
        echo
        results_table
        echo
        results_samples
    } | tee "$PEERS_RUN/results-tunnel.md"
}

case ${1:-} in
    --quick) quick ;;
    --tunnel) tunnel ;;
    "") peers_main ;;
    *) sed -n '2,13p' "$0"; exit 2 ;;
esac

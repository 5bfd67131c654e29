#!/usr/bin/env bash
# eng/bench-connect.sh - the Yarp.Tunnels CONNECT gateway (samples/TcpTunnel L2, Release, as shipped) as rows of
# the shared peer benchmark ../shared/bench/peers.sh (override its path with PEERS_SH), in one run with squid and
# tinyproxy and the no-proxy ceiling of the same clients:
#
#   bash eng/bench-connect.sh      # about 2.5 minutes; installs squid/tinyproxy if missing (root + apt-get)
#
#   bulk_connect 1 and 4 streams: the client speaks CONNECT itself (no shim) and uploads to a discard server
#   connect_rate: tunnels/s, 32 concurrent (open, CONNECT, 64 B echo, close); direct = client -> echo, no proxy
#
# The gateway is the sample's L2 (TUNNEL_ROLE=l2) with its port moved into 16000-16999 and its CONNECT policy
# opened to the benchmark's echo and discard ports (the shipped policy allows 127.0.0.1:10003 and public :443).
# Targets (same run): bulk >= 1.1x squid; tunnels/s >= 1.3x tinyproxy and >= 0.8x direct.
# The gateway is warmed up with WARMUP_SECS (default 5) s of bulk and of tunnels/s load before it is measured.
# peers.sh settings apply (PEERS_SECS default 4 here, PEERS_REPEAT 2); work dir PEERS_RUN (default below).
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS_SH=${PEERS_SH:-$REPO/../shared/bench/peers.sh}
export PEERS_RUN=${PEERS_RUN:-/tmp/peers-bench-connect}   # own PID list: never stops another run's servers
export PEERS_SECS=${PEERS_SECS:-4}
WARMUP_SECS=${WARMUP_SECS:-5}   # .NET keeps JIT-compiling for seconds: the gateway gets this long of each load first
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
[[ -f $PEERS_SH ]] || { echo "peers.sh not found at $PEERS_SH (set PEERS_SH)" >&2; exit 1; }

GW_DIR=$REPO/samples/TcpTunnel
GW_BIN=$GW_DIR/bin/Release/net10.0
P_GW=${P_GW:-16510}
GATEWAY_OVERRIDES=(
    --ReverseProxy:Listeners:l2:Address="tcp://127.0.0.1:$P_GW"
    --ReverseProxy:Routes:terminate_connect:Connect:Policy:AllowedHosts:1="127.0.0.1:${P_ECHO:-16002}"
    --ReverseProxy:Routes:terminate_connect:Connect:Policy:AllowedHosts:2="127.0.0.1:${P_SINK:-16003}"
)

dotnet build -c Release -v q -nologo "$GW_DIR" >&2 || { echo "build failed" >&2; exit 1; }
# shellcheck source=/dev/null
source "$PEERS_SH"

start_gateway() {
    _need_free "$P_GW" || return 1
    # --contentRoot: appsettings*.json (routes, policy, logging) are read from the content root, not the dll's folder
    TUNNEL_ROLE=l2 peers_start yarp-tunnels dotnet "$GW_BIN/TcpTunnel.dll" --contentRoot "$GW_BIN" \
        "${GATEWAY_OVERRIDES[@]}"
    wait_port "$P_GW" 30
}

install_peers() {
    command -v squid >/dev/null || [[ -x /usr/sbin/squid ]] || need+=(squid)
    command -v tinyproxy >/dev/null || need+=(tinyproxy)
    ((${#need[@]})) || return 0
    peers_log "installing ${need[*]}"
    local made_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then   # keep Debian from starting the services on their default ports
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
    fi
    apt-get update -q >"$PEERS_RUN/logs/apt-update.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" \
        >"$PEERS_RUN/logs/apt-install.log" 2>&1 || peers_log "apt-get install failed"
    ((made_policy)) && rm -f /usr/sbin/policy-rc.d
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else printf "n/a" }'; }
first() { printf '%s' "${1%% *}"; }   # "8515 (3.70/6.54)" -> 8515

main() {
    local t0=$SECONDS need=()
    mkdir -p "$PEERS_RUN/logs"
    peers_stop_all
    install_peers
    peers_build || return 1
    trap 'peers_stop_all' EXIT
    trap 'peers_stop_all; exit 130' INT TERM
    start_echo_server && start_sink_server || { peers_log "backends failed to start"; return 1; }
    local ok_squid=0 ok_tiny=0 ok_gw=0
    start_squid && ok_squid=1
    start_tinyproxy && ok_tiny=1
    start_gateway && ok_gw=1

    local rt load0
    rt=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" {v = $2} END {print v}')
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    local R_DIRECT="direct (no proxy)" R_SQUID="squid $(_ver squid) CONNECT" R_TINY="tinyproxy $(_ver tinyproxy) CONNECT"
    local R_GW="yarp-tunnels CONNECT terminate (TcpTunnel L2)"
    results_set "$R_DIRECT" NOTE "the same clients without a proxy: the ceiling"
    results_set "$R_SQUID" NOTE "1 process (-N), no cache"
    results_set "$R_TINY" NOTE "thread per connection"
    results_set "$R_GW" NOTE ".NET $rt, Release, shipped logging, Protocols Auto; ${WARMUP_SECS} s of each load (JIT) before the measured runs"
    ((ok_gw)) || results_set "$R_GW" NOTE "did not start: see $PEERS_RUN/logs/yarp-tunnels.log"

    if ((ok_gw)); then
        PEERS_SECS=$WARMUP_SECS bulk_connect "$P_GW" 4 >/dev/null
        PEERS_SECS=$WARMUP_SECS connect_rate "$P_GW" >/dev/null
    fi
    _run_bulk_row "$R_DIRECT" bulk_connect 0
    ((ok_squid)) && _run_bulk_row "$R_SQUID" bulk_connect "$P_SQUID"
    ((ok_tiny)) && _run_bulk_row "$R_TINY" bulk_connect "$P_TINYPROXY"
    ((ok_gw)) && _run_bulk_row "$R_GW" bulk_connect "$P_GW"
    _run_connect_row "$R_DIRECT" direct
    ((ok_squid)) && _run_connect_row "$R_SQUID" "$P_SQUID"
    ((ok_tiny)) && _run_connect_row "$R_TINY" "$P_TINYPROXY"
    ((ok_gw)) && _run_connect_row "$R_GW" "$P_GW"
    peers_stop_all

    PEERS_KEYS=(A1 A4 B NOTE)
    PEERS_HDR[A1]="bulk_connect 1 stream (Gbit/s)"
    PEERS_HDR[A4]="bulk_connect 4 streams (Gbit/s)"
    PEERS_HDR[B]="connect_rate tunnels/s (p50/p99 ms)"
    local g=$R_GW
    {
        echo "# CONNECT: yarp-tunnels vs squid and tinyproxy ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load at start $load0, at end $(cut -d' ' -f1-3 /proc/loadavg))"
        echo
        echo "Clients, proxies and servers share this machine on loopback; compare ratios within this run only."
        echo "Settings: best of $PEERS_REPEAT runs per cell, $PEERS_SECS s each; connbench bulk (client sends CONNECT, uploads to a"
        echo "discard server), connbench connect ($PEERS_CONC concurrent tunnels, $PEERS_PAYLOAD B echo). Total $((SECONDS - t0)) s."
        echo
        results_table
        echo
        echo "| ratio (same run) | value | target |"
        echo "|---|---:|---:|"
        echo "| bulk 1 stream / squid | $(ratio "${PEERS_R[$g|A1]:-}" "${PEERS_R[$R_SQUID|A1]:-}") | >= 1.1 |"
        echo "| bulk 4 streams / squid | $(ratio "${PEERS_R[$g|A4]:-}" "${PEERS_R[$R_SQUID|A4]:-}") | >= 1.1 |"
        echo "| tunnels/s / tinyproxy | $(ratio "$(first "${PEERS_R[$g|B]:-}")" "$(first "${PEERS_R[$R_TINY|B]:-}")") | >= 1.3 |"
        echo "| tunnels/s / direct | $(ratio "$(first "${PEERS_R[$g|B]:-}")" "$(first "${PEERS_R[$R_DIRECT|B]:-}")") | >= 0.8 |"
        echo
        results_samples
    } | tee "$PEERS_RUN/results-connect.md"
}

main

#!/usr/bin/env bash
# eng/bench-frontproxy.sh - HTTP/1.1 (h2load --h1) and h2c (h2load) req/s through the FrontProxy sample, in one run with:
#   internal : the sample as shipped (Release, shipped logging): front -> sidecar (h2c) -> service (HTTP/1.1), both hops
#              over internal listeners, in one process
#   loopback : the same sample and hosts, both hops over loopback TCP (FrontProxy:EmbeddedTransport=Loopback)
#   plain YARP, 2 hops / 1 hop: the sample's routes on plain YARP 2.3 (no Yarp.Tunnels), same greeting service, loopback
#              TCP, one process (the benchmark program's plain-yarp mode); front on two ports (h1, h2c: plain Kestrel has no Auto)
#              with the sample's host (WebApplication.CreateBuilder and its log levels) and GC settings (below)
#   1 hop, like for like: the sample's front (--role front, as shipped but for its clusters' HTTP version: HTTP/1.1, as a
#              service speaks) and plain YARP (--hops 1 --upstream), both forwarding to the same service process (the
#              sample's --role service) over loopback TCP: the issue's "plain YARP with the same routes" comparison
#   nginx, haproxy: ../shared/bench/peers.sh's reverse proxies in front of its nginx static backend (100-byte body)
# Every row is first warmed up with WARMUP s (default 20: after 8 s of load a profile still showed 17 % of the front's
# samples in the JIT and its hot paths at the instrumented PGO tier; at 25 s none) of the same load
# per protocol; then each cell: h2load -t1 -c50 for SECS s (-m 1 for HTTP/1.1, -m 10 streams for h2c); ROUNDS
# interleaved rounds, the best req/s shown, and the row's process CPU time per request (the lowest; for the 1-hop rows
# the front's alone). About 8 minutes. ROWS="gw1 yarp1ext" runs a subset. Run it alone
# (flock -o /tmp/yarp-bench.lock bash eng/bench-frontproxy.sh).
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS_SH=${PEERS_SH:-$REPO/../shared/bench/peers.sh}
export PEERS_RUN=${PEERS_RUN:-/tmp/peers-bench-frontproxy}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
SECS=${SECS:-4}
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-20}
LOAD_START=$(cut -d" " -f1-3 /proc/loadavg)
[[ -f $PEERS_SH ]] || { echo "peers.sh not found at $PEERS_SH (set PEERS_SH)" >&2; exit 1; }
command -v h2load >/dev/null || { echo "h2load is required (apt-get install nghttp2-client)" >&2; exit 1; }
if ! command -v haproxy >/dev/null || [[ ! -f /usr/lib/nginx/modules/ngx_stream_module.so ]]; then
    apt-get update -q >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx libnginx-mod-stream haproxy >/dev/null 2>&1 \
        || { echo "apt-get install nginx libnginx-mod-stream haproxy failed" >&2; exit 1; }
fi

FP_BIN=$REPO/samples/FrontProxy/bin/Release/net10.0
BENCH_BIN=$REPO/eng/Yarp.Tunnels.Benchmarks/bin/Release/net10.0
dotnet build -c Release -v q -nologo "$REPO/samples/FrontProxy" >&2 && dotnet build -c Release -v q -nologo "$REPO/eng/Yarp.Tunnels.Benchmarks" >&2 \
    || { echo "build failed" >&2; exit 1; }
# Plain YARP runs with the sample's garbage collector settings (its runtimeconfig: Server GC as in any Web SDK app, and
# the sample's DATAS choice), so the ratios compare the libraries, not GC modes (the benchmark program itself is a
# console app: workstation GC, which in one side-by-side run gave plain YARP 4-13 % more HTTP/1.1 req/s than Server GC with DATAS).
SAMPLE_GC_ENV=$(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["runtimeOptions"].get("configProperties", {})
env = ["DOTNET_gcServer=%d" % bool(c.get("System.GC.Server", False))]
if "System.GC.DynamicAdaptationMode" in c:
    env.append("DOTNET_GCDynamicAdaptationMode=%d" % c["System.GC.DynamicAdaptationMode"])
print(" ".join(env))' "$FP_BIN/FrontProxy.runtimeconfig.json") || { echo "cannot read $FP_BIN/FrontProxy.runtimeconfig.json" >&2; exit 1; }
# shellcheck source=/dev/null
source "$PEERS_SH"
mkdir -p "$PEERS_RUN/logs"
peers_stop_all
trap 'peers_stop_all' EXIT
trap 'peers_stop_all; exit 130' INT TERM

start_front_proxy() {   # NAME PORT [extra args]: h1 + h2c on PORT, HTTPS on PORT+1, admin on PORT+2
    local name=$1 port=$2
    shift 2
    peers_start "$name" dotnet "$FP_BIN/FrontProxy.dll" --contentRoot "$FP_BIN" \
        --ReverseProxy:Listeners:front_http:Address="tcp://127.0.0.1:$port" \
        --ReverseProxy:Listeners:front_https:Address="tcp://127.0.0.1:$((port + 1))" \
        --ReverseProxy:Admin:Address="127.0.0.1:$((port + 2))" --FrontProxy:SidecarAdminBasePort=0 "$@"
    wait_port "$port" 60
}

h2load_args() {   # h1|h2c -> the load's h2load options
    if [[ $1 == h1 ]]; then echo "-t 1 -c 50 --h1 -m 1"; else echo "-t 1 -c 50 -m 10"; fi
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }   # PID -> user + system clock ticks

# load PORT PATH h1|h2c [PID] -> "req/s CPU-us-per-request" (ERR when any request failed; the CPU figure, of process
# PID over the whole cell, is - without a PID). The row was warmed up before, so no h2load warm-up: every request the
# CPU time pays for is counted.
load() {
    local port=$1 path=$2 proto=$3 pid=${4:-} out args ticks=0
    read -ra args <<<"$(h2load_args "$proto") -D $SECS"
    [[ -n $pid ]] && ticks=$(cpu_ticks "$pid")
    out=$(timeout $((SECS + 10)) h2load "${args[@]}" "http://127.0.0.1:$port$path" 2>&1)
    echo "$out" >"$PEERS_RUN/logs/h2load-$port-$proto.log"
    local rps requests cpu=-
    rps=$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out" | head -1)
    requests=$(sed -n 's/^requests: \([0-9]*\) total.*/\1/p' <<<"$out" | head -1)
    if ! grep -q ' 0 failed, 0 errored' <<<"$out" || ! grep -q 'status codes: [0-9]* 2xx, 0 3xx, 0 4xx, 0 5xx' <<<"$out" || [[ -z $rps || -z $requests ]]; then
        echo "ERR -"
        return
    fi
    if [[ -n $pid ]]; then
        cpu=$(awk -v a="$ticks" -v b="$(cpu_ticks "$pid")" -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) * 1e6 / hz / n }')
    fi
    printf '%.0f %s\n' "$rps" "$cpu"
}

declare -A BEST CPU PID
read -ra ROWS <<<"${ROWS:-internal loopback yarp2 yarp1 gw1 yarp1ext nginx haproxy}"
declare -A LABEL=(
    [internal]="Yarp.Tunnels FrontProxy, 2 hops over internal listeners (as shipped)"
    [loopback]="Yarp.Tunnels FrontProxy, 2 hops over loopback TCP"
    [yarp2]="plain YARP 2.3, same routes, 2 hops over loopback TCP"
    [yarp1]="plain YARP 2.3, same routes, 1 hop (front -> service)"
    [gw1]="Yarp.Tunnels FrontProxy --role front, 1 hop to a --role service process"
    [yarp1ext]="plain YARP 2.3, same routes, 1 hop to the same --role service process"
    [nginx]="nginx $(_ver nginx) (peers.sh; static backend)"
    [haproxy]="haproxy $(_ver haproxy) (peers.sh; static backend)"
)
declare -A H1PORT=([internal]=16600 [loopback]=16610 [yarp2]=16620 [yarp1]=16630 [gw1]=16640 [yarp1ext]=16650 [nginx]=$P_NGINX [haproxy]=$P_HAPROXY)
declare -A H2PORT=([internal]=16600 [loopback]=16610 [yarp2]=16621 [yarp1]=16631 [gw1]=16640 [yarp1ext]=16651 [nginx]=$P_NGINX_H2 [haproxy]=$P_HAPROXY_H2)
declare -A PATHS=([internal]=/service/1 [loopback]=/service/1 [yarp2]=/service/1 [yarp1]=/service/1 [gw1]=/service/1 [yarp1ext]=/service/1 [nginx]=/ [haproxy]=/)
SERVICE_PORT=16660
has_row() { [[ " ${ROWS[*]} " == *" $1 "* ]]; }

if has_row nginx || has_row haproxy; then
    start_web_backend && start_nginx_proxy && start_haproxy || { peers_log "peers did not start"; exit 1; }
fi
if has_row internal; then start_front_proxy fp-internal 16600 && PID[internal]=$PEERS_LAST_PID || exit 1; fi
if has_row loopback; then start_front_proxy fp-loopback 16610 --FrontProxy:EmbeddedTransport=Loopback && PID[loopback]=$PEERS_LAST_PID || exit 1; fi
if has_row yarp2; then
    peers_start plain-yarp-2 env $SAMPLE_GC_ENV dotnet "$BENCH_BIN/Yarp.Tunnels.Benchmarks.dll" plain-yarp --port 16620 --hops 2
    PID[yarp2]=$PEERS_LAST_PID
    wait_port 16621 60 || exit 1
fi
if has_row yarp1; then
    peers_start plain-yarp-1 env $SAMPLE_GC_ENV dotnet "$BENCH_BIN/Yarp.Tunnels.Benchmarks.dll" plain-yarp --port 16630 --hops 1
    PID[yarp1]=$PEERS_LAST_PID
    wait_port 16631 60 || exit 1
fi
if has_row gw1 || has_row yarp1ext; then
    peers_start fp-service dotnet "$FP_BIN/FrontProxy.dll" --contentRoot "$FP_BIN" --role service --service 1 --replica service1-1 \
        --listen "127.0.0.1:$SERVICE_PORT"
    wait_port "$SERVICE_PORT" 60 || exit 1
fi
if has_row gw1; then
    start_front_proxy fp-front 16640 --role front --service1 "127.0.0.1:$SERVICE_PORT" --service2 "127.0.0.1:$SERVICE_PORT" \
        --ReverseProxy:Clusters:service1:HttpRequest:Version=1.1 --ReverseProxy:Clusters:service2:HttpRequest:Version=1.1 || exit 1
    PID[gw1]=$PEERS_LAST_PID
fi
if has_row yarp1ext; then
    peers_start plain-yarp-1ext env $SAMPLE_GC_ENV dotnet "$BENCH_BIN/Yarp.Tunnels.Benchmarks.dll" plain-yarp --port 16650 --hops 1 --upstream "127.0.0.1:$SERVICE_PORT"
    PID[yarp1ext]=$PEERS_LAST_PID
    wait_port 16651 60 || exit 1
fi

# Warm-up, the same for every row: WARMUP s of the measured load per protocol (the JIT's tier-1 and PGO recompiles
# take seconds; a shorter one leaves them running during the measurement).
for row in "${ROWS[@]}"; do
    for proto in h1 h2c; do
        if [[ $proto == h1 ]]; then port=${H1PORT[$row]}; else port=${H2PORT[$row]}; fi
        read -ra args <<<"$(h2load_args "$proto")"
        timeout $((WARMUP + 10)) h2load "${args[@]}" -D "$WARMUP" "http://127.0.0.1:$port${PATHS[$row]}" >/dev/null 2>&1
    done
done

for ((round = 1; round <= ROUNDS; round++)); do
    for proto in h1 h2c; do
        for row in "${ROWS[@]}"; do
            if [[ $proto == h1 ]]; then port=${H1PORT[$row]}; else port=${H2PORT[$row]}; fi
            read -r rps cpu <<<"$(load "$port" "${PATHS[$row]}" "$proto" "${PID[$row]:-}")"
            peers_log "round $round $proto $row: $rps req/s, $cpu us CPU per request"
            cur=${BEST[$row,$proto]:-}
            if [[ -z $cur ]] || { [[ $rps != ERR ]] && { [[ $cur == ERR ]] || ((rps > cur)); }; }; then BEST[$row,$proto]=$rps; fi
            cur=${CPU[$row,$proto]:-}
            if [[ $cpu != - ]] && { [[ -z $cur ]] || awk -v a="$cpu" -v b="$cur" 'BEGIN { exit !(a < b) }'; }; then CPU[$row,$proto]=$cpu; fi
        done
    done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
{
    echo "FrontProxy benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end; h2load -t1 -c50, plain YARP with the sample's GC settings ($SAMPLE_GC_ENV), ${WARMUP} s warm-up per row and protocol, ${SECS} s per cell, best of $ROUNDS interleaved rounds; CPU: the row's process (the front's, for the 1-hop rows), user + system, per request, lowest of the rounds"
    echo
    echo "| row | HTTP/1.1 req/s | h2c req/s | HTTP/1.1 CPU µs/req | h2c CPU µs/req |"
    echo "|---|---:|---:|---:|---:|"
    for row in "${ROWS[@]}"; do echo "| ${LABEL[$row]} | ${BEST[$row,h1]:-} | ${BEST[$row,h2c]:-} | ${CPU[$row,h1]:--} | ${CPU[$row,h2c]:--} |"; done
    echo
    echo "| ratio | HTTP/1.1 | h2c |"
    echo "|---|---:|---:|"
    echo "| 1 hop gateway / plain YARP 1 hop, same service process (target >= 0.97) | $(ratio "${BEST[gw1,h1]:-}" "${BEST[yarp1ext,h1]:-}") | $(ratio "${BEST[gw1,h2c]:-}" "${BEST[yarp1ext,h2c]:-}") |"
    echo "| 1 hop, CPU per request: plain YARP / gateway (the same ratio by cost, less sensitive to a busy machine) | $(ratio "${CPU[yarp1ext,h1]:-}" "${CPU[gw1,h1]:-}") | $(ratio "${CPU[yarp1ext,h2c]:-}" "${CPU[gw1,h2c]:-}") |"
    echo "| internal / plain YARP 2 hops (target >= 0.97) | $(ratio "${BEST[internal,h1]:-}" "${BEST[yarp2,h1]:-}") | $(ratio "${BEST[internal,h2c]:-}" "${BEST[yarp2,h2c]:-}") |"
    echo "| internal / plain YARP 1 hop | $(ratio "${BEST[internal,h1]:-}" "${BEST[yarp1,h1]:-}") | $(ratio "${BEST[internal,h2c]:-}" "${BEST[yarp1,h2c]:-}") |"
    echo "| internal / loopback 2 hops (target >= 1.3) | $(ratio "${BEST[internal,h1]:-}" "${BEST[loopback,h1]:-}") | $(ratio "${BEST[internal,h2c]:-}" "${BEST[loopback,h2c]:-}") |"
    echo "| internal / nginx (stretch >= 1.0) | $(ratio "${BEST[internal,h1]:-}" "${BEST[nginx,h1]:-}") | $(ratio "${BEST[internal,h2c]:-}" "${BEST[nginx,h2c]:-}") |"
    echo "| internal / haproxy | $(ratio "${BEST[internal,h1]:-}" "${BEST[haproxy,h1]:-}") | $(ratio "${BEST[internal,h2c]:-}" "${BEST[haproxy,h2c]:-}") |"
} | tee "$PEERS_RUN/results-frontproxy.md"

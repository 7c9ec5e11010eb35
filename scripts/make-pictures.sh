#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Make the pictures the README shows, from real traffic (as root):
#   1. record a small capture of real connections between two network
#      namespaces (a client and a server linked by veth): an active close,
#      a passive close, a reset, a SYN and a data retransmission (forced by
#      nftables drops in the server's INPUT hook), a refused connect;
#   2. keep it as tests/data/pictures.cap;
#   3. render it with the project's own commands: the --diagram text
#      (docs/img/diagram.txt), the HTML page (docs/img/pictures.html) and
#      its screenshot by headless Chromium (docs/img/pictures-html.png), and
#      the Perfetto trace (docs/img/pictures.perfetto.json).
# usage: scripts/make-pictures.sh [--render] [BUILD_DIR]   (default build/)
#   --render: only step 3, from the committed tests/data/pictures.cap
set -euo pipefail
cd "$(dirname "$0")/.."
render_only=
if [[ ${1:-} == --render ]]; then
	render_only=1
	shift
fi
build=${1:-build}
bin=$build/tcpscope
kit=tests/e2e/tcpkit.py
port=8080
[[ $(id -u) -eq 0 ]] || { echo "make-pictures: needs root (namespaces, BPF)" >&2; exit 1; }
[[ -x $bin ]] || { echo "make-pictures: no $bin: run scripts/build.sh first" >&2; exit 1; }
command -v chromium >/dev/null || { echo "make-pictures: needs chromium (scripts/setup.sh)" >&2; exit 1; }

render() {
	mkdir -p docs/img
	LANG=C.UTF-8 LC_ALL= LC_CTYPE= "$bin" report tests/data/pictures.cap --timeline --diagram \
		>docs/img/diagram.txt
	"$bin" report tests/data/pictures.cap --html docs/img/pictures.html \
		--perfetto docs/img/pictures.perfetto.json
	# The screenshot: headless Chromium in a namespace without a network.
	local web=tspic-w-$$
	ip netns add "$web"
	ip netns exec "$web" chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$tmp/chromium" --hide-scrollbars \
		--window-size=1200,1100 --screenshot="$PWD/docs/img/pictures-html.png" \
		"file://$PWD/docs/img/pictures.html" >/dev/null 2>&1 || true
	ip netns del "$web"
	[[ -s docs/img/pictures-html.png ]] || { echo "make-pictures: no screenshot" >&2; exit 1; }
	echo "make-pictures: docs/img/diagram.txt, docs/img/pictures.html," \
		"docs/img/pictures-html.png, docs/img/pictures.perfetto.json"
}

tmp=$(mktemp -d /tmp/tspic.XXXXXX)
if [[ -n $render_only ]]; then
	trap 'rm -rf "$tmp"' EXIT
	render
	exit 0
fi
cli=tspic-c-$$
srv=tspic-s-$$
rec=
cleanup() {
	[[ -n $rec ]] && kill "$rec" 2>/dev/null && wait "$rec" 2>/dev/null || true
	for ns in "$cli" "$srv"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$cli"
ip netns add "$srv"
ip link add tspc$$ netns "$cli" type veth peer name tsps$$ netns "$srv"
ip -n "$cli" addr add 198.18.0.1/24 dev tspc$$
ip -n "$srv" addr add 198.18.0.2/24 dev tsps$$
for ns in "$cli" "$srv"; do
	ip -n "$ns" link set lo up
done
ip -n "$cli" link set tspc$$ up
ip -n "$srv" link set tsps$$ up

# Both namespaces are traced (no --netns): each connection has both ends.
"$bin" record -w "$tmp/pictures.cap" --port $port --duration 60 -v 2>"$tmp/rec.err" &
rec=$!
for _ in $(seq 100); do
	grep -q "recording (" "$tmp/rec.err" && break
	sleep 0.1
done
grep -q "recording (" "$tmp/rec.err" || { cat "$tmp/rec.err" >&2; exit 1; }

serve() { # MODE COUNT
	ip netns exec "$srv" python3 $kit server --addr 198.18.0.2 --port $port \
		--mode "$1" --count "$2" --size 200 --ready "$tmp/ready" &
	srvpid=$!
	for _ in $(seq 100); do [[ -e $tmp/ready ]] && break; sleep 0.05; done
	rm -f "$tmp/ready"
}
connect() { # MODE [ARGS...]
	local mode=$1
	shift
	ip netns exec "$cli" python3 $kit client --addr 198.18.0.2 --port $port \
		--mode "$mode" --size 200 "$@"
}
drop() { # NFT-MATCH...: drop matching segments to the server for a while
	ip netns exec "$srv" nft -f - <<-EOF
	table inet tspic {
	 chain input {
	  type filter hook input priority 0; policy accept;
	  tcp dport $port $* drop
	 }
	}
	EOF
}
undrop() { ip netns exec "$srv" nft delete table inet tspic; }

serve client-close 1; connect client-close; wait $srvpid || true
serve server-close 1; connect server-close; wait $srvpid || true
serve rst 1; connect rst; wait $srvpid || true
# The first SYN is lost: the client retransmits it after 1 s.
serve client-close 1
drop "tcp flags syn"
( sleep 1.5; undrop ) &
undropper=$!
connect client-close
wait $srvpid $undropper || true
# A data segment is lost: the client retransmits it.
serve client-close 1
( sleep 0.05; drop "meta length > 150"; sleep 0.4; undrop ) &
undropper=$!
connect client-close --chunks 2 --chunk-gap 0.2
wait $srvpid $undropper || true
# Nobody listens any more: refused.
connect client-close --expect-fail 2>/dev/null || true
sleep 0.3
kill -INT "$rec"
wait "$rec" || true
rec=
cp "$tmp/pictures.cap" tests/data/pictures.cap

echo "make-pictures: tests/data/pictures.cap ($(stat -c %s tests/data/pictures.cap) bytes)"
render

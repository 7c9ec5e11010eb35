#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The kernel matrix: boot Debian's own kernels under qemu (software
# emulation) and run tcpscope's end-to-end tests inside each; one line per
# kernel, then a table.  See docs/KERNELS.md.
#
#   scripts/kernel-matrix.sh [--full] [--kernels bullseye,sid] [--tests LIST]
#                            [--build DIR] [--timeout SECS] [--jobs N]
#                            [--report FILE]
#
# Exit status: 0 every kernel passed, 1 a kernel failed (fetch, boot, hang or
# a test), 2 usage.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
KDIR=$SRC/tests/kernels
export PATH=$PATH:/usr/sbin:/sbin # modprobe, depmod

usage() {
	sed -n '7,13p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

full=0 only_kernels= tests_override= build=$SRC/build timeout_override=
jobs=2 report= one=
CACHE=${TS_KERNEL_CACHE:-/var/cache/tcpscope-kernels}
while (($#)); do
	case "$1" in
	--kernels|--tests|--build|--timeout|--jobs|--report|--one)
		[[ $# -ge 2 && -n $2 ]] ||
			{ echo "kernel-matrix: $1 needs a value" >&2; exit 2; } ;;
	esac
	case "$1" in
	--full) full=1 ;;
	--kernels) only_kernels=$2; shift ;;
	--tests) tests_override=$2; shift ;;
	--build) build=$(realpath -m "$2"); shift ;;
	--timeout) timeout_override=$2; shift ;;
	--jobs) jobs=$2; shift ;;
	--report) report=$(realpath -m "$2"); shift ;;
	--one) one=$2; shift ;; # internal: one kernel "SUITE LIST LIMIT APPEND" into $RUN
	-h|--help) usage ;;
	*) echo "kernel-matrix: unknown option $1" >&2; usage ;;
	esac
	shift
done
[[ $jobs =~ ^[1-4]$ ]] || { echo "kernel-matrix: --jobs takes 1 to 4" >&2; exit 2; }
[[ -z $timeout_override || ($timeout_override =~ ^[0-9]+$ && $timeout_override -ge 10) ]] ||
	{ echo "kernel-matrix: --timeout takes seconds, 10 or more" >&2; exit 2; }
if [[ $(id -u) -ne 0 ]]; then
	echo "kernel-matrix: needs root (apt downloads, the guests run the tracer as root)" >&2
	exit 1
fi
for tool in qemu-system-x86_64 busybox apt-get modprobe depmod cpio xz zstd; do
	command -v "$tool" >/dev/null ||
		{ echo "kernel-matrix: $tool is missing: run scripts/setup.sh" >&2; exit 1; }
done
[[ -x $build/tcpscope ]] ||
	{ echo "kernel-matrix: no tcpscope in $build: run scripts/build.sh build" >&2; exit 1; }
BUSYBOX=$(command -v busybox)
# The initramfs has no libraries: busybox must be the static build.
! ldd "$BUSYBOX" >/dev/null 2>&1 ||
	{ echo "kernel-matrix: $BUSYBOX is not static: install busybox-static" >&2; exit 1; }

# The Debian mirror that the machine's own apt sources name.
mirror=${TS_KERNEL_MIRROR:-}
if [[ -z $mirror ]]; then
	mirror=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
	[[ -n $mirror ]] || mirror=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' \
		/etc/apt/sources.list 2>/dev/null | head -1)
fi
[[ -n $mirror ]] || { echo "kernel-matrix: no Debian mirror in the apt sources; set TS_KERNEL_MIRROR" >&2; exit 1; }
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

mkdir -p "$CACHE"
# One run at a time owns the cache (downloads, trees, last/): others wait.
if [[ -z $one ]]; then
	exec 9>"$CACHE/.lock"
	flock 9
fi
pids=()
cleanup() {
	[[ -n $one || -z $RUN ]] && return
	# Each kernel runs in a session of its own (timeout puts qemu in a
	# process group of its own inside it): end whole sessions.
	for p in "${pids[@]}"; do pkill -KILL -s "$p" 2>/dev/null || true; done
	# The logs of the last run stay for a look (console.log, results.log).
	rm -rf "$CACHE/last"
	mv "$RUN" "$CACHE/last" 2>/dev/null || rm -rf "$RUN"
}
trap cleanup EXIT
RUN=${RUN:-}
trap 'exit 130' INT TERM

# ---- fetching a kernel: a private apt configuration per suite ----

apt_opts() {
	local d=$CACHE/apt/$1
	echo "-o Dir::Etc::sourcelist=$d/sources.list -o Dir::Etc::sourceparts=-" \
		"-o Dir::State::Lists=$d/lists -o Dir::Cache=$d/cache" \
		"-o Dir::Etc::preferences=$d/preferences -o Dir::Etc::preferencesparts=-" \
		"-o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1"
}

# Field $2 of package $1's candidate in suite $3.
pkg_field() {
	# shellcheck disable=SC2046
	apt-cache $(apt_opts "$3") show --no-all-versions "$1" 2>/dev/null |
		sed -n "s/^$2: //p" | head -1
}

# Names in a Depends field, alternatives split, versions dropped.
dep_names() {
	tr ',|' '\n\n' | awk 'NF { print $1 }'
}

# fetch SUITE -> sets K_ABI K_TREE K_BASE K_VMLINUZ K_VERSION, or fails
# with a reason in K_ERR.
fetch_kernel() {
	local suite=$1 d=$CACHE/apt/$1 image abi pkgs p deb
	K_ERR=
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	echo "deb [signed-by=$KEYRING] $mirror $suite main" >"$d/sources.list"
	: >"$d/preferences"
	# shellcheck disable=SC2046
	apt-get -q $(apt_opts "$suite") update >"$d/update.log" 2>&1 || true
	# apt says "W: Failed to fetch" and may still exit 0: the lists tell.
	if grep -qE '^(E:|W: Failed to fetch|Err:)' "$d/update.log"; then
		if ! compgen -G "$d/lists/*_Packages*" >/dev/null; then
			K_ERR="cannot fetch the package lists of $suite from $mirror: $( (grep -E '^(E:|W:)' "$d/update.log"; grep '^Err:' "$d/update.log") | head -1 | cut -c1-200)"
			return 1
		fi
		echo "kernel-matrix: $suite: apt update failed, using the lists of an earlier run" >&2
	fi
	# The metapackage names the current ABI; match the image package
	# exactly (linux-image-6.1.0-N-amd64, never a 6.12 backport).
	image=$(pkg_field linux-image-amd64 Depends "$suite" | dep_names |
		grep -E '^linux-image-[0-9][^ ]*-amd64$' | head -1 || true)
	if [[ -z $image ]]; then
		K_ERR="no linux-image-amd64 in $suite"
		return 1
	fi
	abi=${image#linux-image-}
	K_VERSION=$(pkg_field "$image" Version "$suite")
	pkgs=("$image")
	# Newer suites split the image package: the kernel binary and the
	# modules live in packages of their own with the same ABI.
	while read -r p; do
		[[ $p == "linux-binary-$abi" || $p == "linux-binary-unsigned-$abi" ||
			$p == "linux-modules-$abi" ]] && pkgs+=("$p")
	done < <(pkg_field "$image" Depends "$suite" | dep_names)
	mkdir -p "$CACHE/deb/$abi"
	for p in "${pkgs[@]}"; do
		if ! compgen -G "$CACHE/deb/$abi/${p}_*.deb" >/dev/null; then
			# shellcheck disable=SC2046
			(cd "$CACHE/deb/$abi" && apt-get -q $(apt_opts "$suite") download "$p") \
				>"$CACHE/deb/$abi/download.log" 2>&1 ||
				{ K_ERR="cannot download $p: $(grep -E '^E:' "$CACHE/deb/$abi/download.log" | head -1)"; return 1; }
		fi
	done
	K_TREE=$CACHE/tree/$abi
	if [[ ! -e $K_TREE/.complete ]]; then
		rm -rf "$K_TREE"
		mkdir -p "$K_TREE"
		for deb in "$CACHE/deb/$abi/"*.deb; do
			dpkg-deb -x "$deb" "$K_TREE" || { K_ERR="cannot unpack $deb"; return 1; }
		done
		touch "$K_TREE/.complete"
	fi
	K_ABI=$abi
	if [[ -d $K_TREE/usr/lib/modules/$abi ]]; then
		K_BASE=$K_TREE/usr
	else
		K_BASE=$K_TREE
	fi
	K_VMLINUZ=
	for p in "$K_TREE/boot/vmlinuz-$abi" "$K_BASE/lib/modules/$abi/vmlinuz" \
		"$K_BASE/lib/modules/$abi/vmlinuz.unsigned"; do
		[[ -f $p ]] && { K_VMLINUZ=$p; break; }
	done
	[[ -n $K_VMLINUZ ]] || { K_ERR="no kernel image in ${pkgs[*]}"; return 1; }
	[[ -d $K_BASE/lib/modules/$abi ]] || { K_ERR="no modules in ${pkgs[*]}"; return 1; }
	[[ -s $K_BASE/lib/modules/$abi/modules.dep ]] ||
		depmod -b "$K_BASE" "$abi" 2>/dev/null ||
		{ K_ERR="depmod failed"; return 1; }
}

# ---- the guest ----

# Modules the tests need that Debian's generic kernels build as modules
# (9p and virtio for the root, veth, nftables with the expressions the
# tests use, the tbf qdisc, tcp_diag for ss).  crc32c must be loadable before nf_tables
# (its dependency libcrc32c asks for it by name).  Built-in or absent
# ones are skipped.
MODULES=(virtio_pci 9pnet_virtio 9p crc32c_generic nf_tables nft_counter nft_numgen
	 veth sch_tbf tcp_diag)

build_initramfs() {
	local out=$1 dir m line path name keep
	dir=$(mktemp -d "$RUN/initrd.XXXXXX")
	mkdir -p "$dir"/{bin,dev,proc,sys,tmp,modules,newroot}
	cp "$BUSYBOX" "$dir/bin/busybox"
	cp "$KDIR/init" "$dir/init"
	: >"$dir/modules/order"
	# Paths the guest must see even where it mounts a tmpfs (/tmp...).
	for keep in "$SRC" "$build" "$RUN"; do
		realpath -m "$keep"
	done >"$dir/keep"
	for m in "${MODULES[@]}"; do
		while read -r line; do
			[[ $line == insmod* ]] || continue
			path=${line#insmod }
			path=${path%% *}
			name=$(basename "$path")
			name=${name%.xz}
			name=${name%.zst}
			grep -qxF "$name" "$dir/modules/order" && continue
			case "$path" in
			*.xz) xz -dc "$path" >"$dir/modules/$name" ;;
			*.zst) zstd -qdc "$path" >"$dir/modules/$name" ;;
			*) cp "$path" "$dir/modules/$name" ;;
			esac
			echo "$name" >>"$dir/modules/order"
		done < <(modprobe -d "$K_BASE" -S "$K_ABI" --show-depends "$m" 2>/dev/null || true)
	done
	(cd "$dir" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
	rm -rf "$dir"
}

# The tests a kernel runs: --tests; else every e2e test (--full, or the
# list "full" of matrix.conf) but those of host-only.list, which check this
# machine rather than the kernel; else the lists tests/kernels/NAME.list
# of NAME+NAME (each entry once, in order).
tests_for() {
	local list=$1
	if [[ -n $tests_override ]]; then
		echo "${tests_override//,/ }"
	elif ((full)) || [[ $list == full ]]; then
		(cd tests/e2e && ls test_*.py | sed 's/\.py$//' |
			grep -vxF -f <(grep -v '^#' "$KDIR/host-only.list" | awk 'NF { print $1 }') |
			tr '\n' ' ')
	else
		local names=() n
		IFS=+ read -ra names <<<"$list"
		for n in "${names[@]}"; do
			[[ -f $KDIR/$n.list ]] ||
				{ echo "kernel-matrix: no list $KDIR/$n.list" >&2; exit 1; }
			grep -v '^#' "$KDIR/$n.list"
		done | awk 'NF && !seen[$1]++ { print $1 }' | tr '\n' ' '
	fi
}

# $1 is a suite of Debian's, or SUITE@TAG: that suite's kernel booted with
# $4 added to its command line ("-": nothing).
run_kernel() {
	local suite=$1 list=$2 limit=$3 append=${4:--} out=$RUN/$1 t0
	[[ $append == - ]] && append=
	mkdir -p "$out"
	t0=$(date +%s)
	{
		echo "suite=$suite"
		[[ -n $append ]] && echo "append=$append"
		if ! fetch_kernel "${suite%@*}"; then
			echo "error=$K_ERR"
			exit 0
		fi
		echo "abi=$K_ABI"
		echo "version=$K_VERSION"
		echo "fetch_secs=$(($(date +%s) - t0))"
	} >"$out/meta"
	grep -q '^error=' "$out/meta" && return 0
	build_initramfs "$out/initrd.gz"
	cat >"$out/plan" <<-EOF
		TCPSCOPE=$build/tcpscope
		TS_BUILD=$build
		TS_SRC=$SRC
		TS_TEST_TIMEOUT=600
		TESTS="$(tests_for "$list")"
	EOF
	boot_guest "$suite" "$limit" "$append" "$out"
	# A guest that stopped on a watchdog's stall (both vCPUs held up by
	# the host: emulation) runs once more, and says so; a stall that
	# comes back is the verdict.
	local stall
	if stall=$(python3 "$KDIR/report.py" --stalled "$out"); then
		mv "$out/console.log" "$out/console-stall1.log"
		mv "$out/results.log" "$out/results-stall1.log"
		echo "stall_retry=$stall" >>"$out/meta"
		echo "kernel-matrix: $suite stalled under emulation ($stall); running it once more" >&2
		boot_guest "$suite" "$limit" "$append" "$out"
	fi
}

# One guest run of run_kernel's kernel: appends qemu_rc, guest_secs and
# limit to meta.
boot_guest() {
	local suite=$1 limit=$2 append=$3 out=$4 t0 rc
	local attempt qpid booted boot_limit=${TS_KERNEL_BOOT_LIMIT:-240}
	for attempt in 1 2; do
		t0=$(date +%s)
		rc=0 booted=0
		: >"$out/results.log"
		# The guest's time limit; it powers itself off when done (-no-reboot
		# turns the reboot of a panic into an exit too).
		timeout -k 5 "$limit" qemu-system-x86_64 -accel "${TS_KERNEL_ACCEL:-tcg}" -cpu "${TS_KERNEL_QEMU_CPU:-max}" \
			-smp "${TS_KERNEL_CPUS:-2}" -m 2048 -nodefaults -no-reboot \
			-display none -monitor none -no-user-config \
			-kernel "$K_VMLINUZ" -initrd "$out/initrd.gz" \
			-append "console=ttyS0 panic=-1 loglevel=5 softlockup_panic=1 $append ${TS_KERNEL_APPEND:-} ts.guest=$KDIR/guest.sh ts.plan=$out/plan" \
			-virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap \
			-serial "file:$out/console.log" -serial "file:$out/results.log" \
			>"$out/qemu.log" 2>&1 &
		qpid=$!
		# A boot takes seconds; under emulation one in a few dozen stops
		# early in the kernel's own start (seen on 7.2 after its ACPI
		# lines): the first attempt gets boot_limit seconds to say BOOTED,
		# then the guest boots once more.
		while ((attempt == 1)) && kill -0 "$qpid" 2>/dev/null; do
			grep -q '^tsguest: BOOTED' "$out/results.log" 2>/dev/null && { booted=1; break; }
			(($(date +%s) - t0 < boot_limit)) || break
			sleep 1
		done
		if ((attempt == 2 || booted)) || ! kill -0 "$qpid" 2>/dev/null; then
			wait "$qpid" || rc=$?
			break
		fi
		kill "$qpid" 2>/dev/null || true
		wait "$qpid" || true
		mv "$out/console.log" "$out/console-boot1.log"
		echo "boot_retry=not booted after ${boot_limit}s (console-boot1.log)" >>"$out/meta"
		echo "kernel-matrix: $suite did not boot in ${boot_limit}s; booting once more" >&2
	done
	{
		echo "qemu_rc=$rc"
		echo "guest_secs=$(($(date +%s) - t0))"
		echo "limit=$limit"
	} >>"$out/meta"
}

if [[ -n $one ]]; then
	# shellcheck disable=SC2086
	run_kernel $one
	exit 0
fi

# ---- the matrix ----

RUN=$(mktemp -d "$CACHE/run.XXXXXX")
export RUN
SUITES=() LISTS=() LIMITS=() APPENDS=()
while read -r suite list limit append _; do
	[[ -z $suite || $suite == \#* ]] && continue
	if [[ -n $only_kernels && ",$only_kernels," != *",$suite,"* ]]; then
		continue
	fi
	((full)) && limit=$((limit * 3))
	[[ -n $timeout_override ]] && limit=$timeout_override
	SUITES+=("$suite")
	LISTS+=("$list")
	LIMITS+=("$limit")
	APPENDS+=("${append:--}")
done <"$KDIR/matrix.conf"
((${#SUITES[@]})) || { echo "kernel-matrix: no kernel matches --kernels $only_kernels" >&2; exit 2; }

running=0
for i in "${!SUITES[@]}"; do
	args=(--build "$build" --one "${SUITES[$i]} ${LISTS[$i]} ${LIMITS[$i]} ${APPENDS[$i]}")
	((full)) && args+=(--full)
	[[ -n $tests_override ]] && args+=(--tests "$tests_override")
	setsid "$0" "${args[@]}" &
	pids+=($!)
	running=$((running + 1))
	if ((running >= jobs)); then
		wait -n || true
		running=$((running - 1))
	fi
done
wait || true
pids=()

echo "kernel-matrix: logs in $CACHE/last/SUITE/{results,console}.log" >&2
status=0
python3 "$KDIR/report.py" ${report:+--markdown "$report"} \
	"${SUITES[@]/#/$RUN/}" || status=1
exit $status

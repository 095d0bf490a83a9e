#!/usr/bin/env bash
# Flash, static RAM and stack the OpenPAYGO verifier, the Nexus keycode device, the AST v1
# verifiers (one per suite), the device-lock engine and the OpenPAYGO Metrics device side (a
# signed report; a signed report and a verified answer) add to a bare-metal Cortex-M firmware.
#
#   bash firmware/size.sh
#
# Builds every stub in src/bin for Cortex-M4F (thumbv7em, opt-level "s" and "z") and Cortex-M0
# (thumbv6m, no 64-bit multiply or divide), and prints each one's sizes and its delta over
# `baseline` (the runtime alone). Then the device-lock engine: each `engine_<scheme>` stub runs
# a scheme's verifier inside `paylock::device::Engine` over `RamFlash` (the stand-in flash
# driver in src/lib.rs); its `verifier_<scheme>` stub calls the same verifier through the
# `Verifier` trait and writes its state through the same `RamFlash`, as a product without the
# engine must. The engine's overhead is the difference, and the persisted record's size is read
# from the measuring build (`Engine::record_len()`, as the size of a probe symbol).
#
# FLASH_BUDGET turns on the budget check: the script fails when a stub adds more flash than its
# budget on thumbv7em at "s". Budgets are per stub (`openpaygo` names both OpenPAYGO decoders;
# `openpaygo_any_form` has none, it only shows what a constant form saves). Each `access_<suite>`
# stub is built on its own with only its suite's feature, as firmware for one suite would be,
# and every build uses the compact AES and SHA-256 software backends. An `engine_<scheme>`
# budget is on the engine's overhead, `engine` names them all, and `record` is the budget of
# the OpenPAYGO and Nexus records; `target` checks the issue's targets (overhead 1536 B):
#   FLASH_BUDGET=default                                   the budgets below
#   FLASH_BUDGET=2048                                      OpenPAYGO decoders 2048 B, others below
#   FLASH_BUDGET="openpaygo=2048 nexus_full=4096 nexus_small=4505"
#   FLASH_BUDGET="engine=1536 record=64"                   every engine overhead and record
#   FLASH_BUDGET=target                                    the engine's targets
set -euo pipefail
shopt -s inherit_errexit # a failed build inside $(...) stops the script too
cd "$(dirname "$0")"

# AST v1 suites, by the stub's and the Cargo feature's suffix.
ast_suites=(cmac hmac siphash)
# The engine stubs and the verifier-only stub each is measured against. AST's pair is built
# with SipHash-2-4, the suite of the smallest devices.
engines=(engine_openpaygo engine_nexus_full engine_nexus_small engine_access)
declare -A reference=([engine_openpaygo]=verifier_openpaygo [engine_nexus_full]=verifier_nexus_full
    [engine_nexus_small]=verifier_nexus_small [engine_access]=verifier_access)
siphash_bins=(verifier_access engine_access)
bins=(baseline openpaygo_standard openpaygo_restricted openpaygo_any_form nexus_full nexus_small
    "${ast_suites[@]/#/access_}" metrics_sign metrics_device)
for engine in "${engines[@]}"; do bins+=("${reference[$engine]}" "$engine"); done
# Flash budgets in bytes over `baseline` (thumbv7em, "s"); 4505 is 4.4 KiB.
declare -A budget=([openpaygo_standard]=2048 [openpaygo_restricted]=2048
    [nexus_full]=4096 [nexus_small]=4505
    [access_cmac]=8192 [access_hmac]=8192 [access_siphash]=3072
    [metrics_sign]=9216 [metrics_device]=16384)
# The engine's overhead over its verifier stub (thumbv7em, "s"), and the persisted record, in
# bytes. The issue's target for the overhead is 1536 (FLASH_BUDGET=target); no scheme's engine
# meets it yet, so each default budget holds its overhead where it is (lower a budget to the
# target once its scheme meets it). Counting each attempt before its verdict, the record MAC
# its key derivation and the zeroized SipHash state raised them from 1676 / 1896 / 1896 / 3440;
# the engine relying on the Verifier contract instead of comparing scheme states lowered them
# from 2476 / 2548 / 2548 / 4060. OpenPAYGO's chain point (record format 3: 12 more bytes of
# state, packed and checked on load, and the walk from the point) raised its overhead from 2308.
# The stubs' lockout policy fixed at build time (`OpenPaygoLockout`, ...: `LockoutPolicy`)
# lowered them from 2700 / 2500 / 2468 / 3700 (the Nexus pair had been 2424 / 2380 until the
# Nexus frame parser was inlined for a fixed protocol: 84 B off their verifier stubs, 8 B off
# their engine stubs). The record buffers aligned as the scheme's state (`RecordBuf`: the
# zeroing routine OpenPAYGO's decoder links, no `__aeabi_memclr4` beside it) lowered OpenPAYGO's
# from 2488. Each scheme's `Persist::load` inlined into the record decoding (its field checks
# folded), the record key built in place and a doubling lockout's wait inlined lowered them
# from 2312 / 2204 / 2200 / 3448 to 2036 / 2104 / 2104 / 3144; a checkpoint written from the
# snapshot in place (no copy of it) to 1992 / 2092 / 2092 / 3144; SipHash's blocks taken in one
# loop (`split_first_chunk`, the last block in its arm) to the figures below.
engine_target=1536
declare -A engine_budget=([engine_openpaygo]=1968 [engine_nexus_full]=2076 [engine_nexus_small]=2076
    [engine_access]=3124)
declare -A record_budget=([engine_openpaygo]=64 [engine_nexus_full]=64 [engine_nexus_small]=64)
# The RustCrypto crates' small software backends (aes 0.9, sha2 0.11): about half the flash.
compact='--cfg aes_backend_soft="compact" --cfg sha2_backend_soft="compact"'
bad_budget() {
    echo "FLASH_BUDGET: cannot read \"$1\" (want bytes, stub=bytes, engine=, record=, default or target)" >&2
    exit 2
}
check=0
for word in ${FLASH_BUDGET-}; do
    check=1
    case $word in
    default) ;;
    target) for name in "${!engine_budget[@]}"; do engine_budget[$name]=$engine_target; done ;;
    openpaygo=* | [0-9]*)
        budget[openpaygo_standard]=${word#openpaygo=} budget[openpaygo_restricted]=${word#openpaygo=}
        ;;
    engine=*) for name in "${!engine_budget[@]}"; do engine_budget[$name]=${word#engine=}; done ;;
    record=*) for name in "${!record_budget[@]}"; do record_budget[$name]=${word#record=}; done ;;
    engine_*=*) engine_budget[${word%%=*}]=${word#*=} ;;
    *=*) budget[${word%%=*}]=${word#*=} ;;
    *) bad_budget "$word" ;;
    esac
done
for name in "${!budget[@]}"; do
    [[ " ${bins[*]} " == *" $name "* && $name != engine_* && ${budget[$name]} =~ ^[0-9]+$ ]] ||
        bad_budget "$name=${budget[$name]}"
done
for name in "${!engine_budget[@]}" "${!record_budget[@]}"; do
    [[ " ${engines[*]} " == *" $name "* && ${engine_budget[$name]-0}${record_budget[$name]-0} =~ ^[0-9]+$ ]] ||
        bad_budget "$name=${engine_budget[$name]-}"
done

rustup -q target add thumbv7em-none-eabihf thumbv6m-none-eabi
rustup -q component add llvm-tools
tools="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin"

# Worst-case stack depth from `main`: the frames from `.stack_sizes`, summed along the deepest
# path of the static call graph (direct `bl`/`b` to a function start). "?" marks a path through
# a function without a recorded frame (precompiled compiler-builtins) or an indirect call.
stack_of() {
    {
        "$tools/llvm-readobj" --stack-sizes "$1" | awk '
            /Functions:/ { gsub(/[][,]/, ""); sub(/^ *Functions: */, ""); names = $0 }
            /Size:/ { n = split(names, f, " "); for (i = 1; i <= n; i++) print "S", f[i], $2 }'
        "$tools/llvm-objdump" -d --no-show-raw-insn "$1" | awk '
            /^[0-9a-f]+ <[^>]+>:$/ { fn = substr($2, 2, length($2) - 3) }
            $2 ~ /^(bl|b|b\.w|blx)$/ && $4 ~ /^<[^+]+>$/ { print "C", fn, substr($4, 2, length($4) - 2) }
            $2 ~ /^(blx|bx)$/ && $3 ~ /^r[0-9]/ { print "I", fn }'
    } | awk '
        function hex(s,   i, v) { v = 0; s = tolower(substr(s, 3))
            for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
            return v }
        function depth(f,   i, d, best) {
            if (f in busy) { unknown = 1; return 0 }   # recursion: no static bound
            if (!(f in size)) { unknown = 1; return 0 }
            busy[f] = 1; best = 0
            if (f in indirect) unknown = 1
            for (i = 1; i <= ncall[f]; i++) { d = depth(call[f, i]); if (d > best) best = d }
            delete busy[f]
            return size[f] + best }
        $1 == "S" { size[$2] = hex($3) }
        $1 == "C" && $2 != $3 { call[$2, ++ncall[$2]] = $3 }
        $1 == "I" { indirect[$2] = 1 }
        END { d = depth("main"); print d (unknown ? "+?" : "") }'
}

# build <target> <profile>: builds every stub, prints the directory of the ELFs. The AST stubs
# need their suite's feature (`required-features`), so `--bins` leaves them out: one build each.
# RUSTFLAGS replaces the config's flags, hence -Tlink.x again when the caller set none.
build() {
    local flags="${RUSTFLAGS:--C link-arg=-Tlink.x} $compact" suite extra
    RUSTFLAGS=$flags cargo build -q --profile "$2" --target "$1" --bins >&2
    for suite in "${ast_suites[@]}"; do
        extra=()
        [[ $suite == siphash ]] && extra=("${siphash_bins[@]/#/--bin=}")
        RUSTFLAGS=$flags cargo build -q --profile "$2" --target "$1" \
            --bin "access_$suite" "${extra[@]}" --features "ast-$suite" >&2
    done
    echo "${CARGO_TARGET_DIR:-target}/$1/$2"
}

# Flash (text + data) of each stub per build, by "<target>/<profile>/<bin>".
declare -A flash_of

table() { # table <target> <profile> <opt-level> [stack elf dir]
    local dir base_flash base_ram
    dir=$(build "$1" "$2")
    printf '\n%s, opt-level "%s"\n' "$1" "$3"
    printf '%-22s %6s %6s %6s %9s %7s %7s %7s\n' bin text data bss "flash Δ" "RAM Δ" stack budget
    for bin in "${bins[@]}"; do
        read -r text data bss _ < <("$tools/llvm-size" "$dir/$bin" | tail -n 1)
        # .data's initial image lives in flash too.
        flash_of[$1/$2/$bin]=$((text + data))
        if [[ $bin == baseline ]]; then base_flash=$((text + data)) base_ram=$((data + bss)); fi
        local flash=$((text + data - base_flash)) ram=$((data + bss - base_ram)) stack=- limit=-
        if [[ -n ${4:-} ]]; then
            stack=$(stack_of "$4/$bin")
            limit=${budget[$bin]:--}
            if [[ $limit != - ]] && ((flash > limit)); then
                over+=("$bin ($flash B > $limit B)") limit="$limit !"
            fi
        fi
        printf '%-22s %6d %6d %6d %+9d %+7d %7s %7s\n' "$bin" "$text" "$data" "$bss" "$flash" "$ram" "$stack" "$limit"
    done
}

# The persisted record of an engine stub: the size of its probe symbol in the measuring build.
record_of() {
    local hex
    hex=$("$tools/llvm-nm" -S --demangle "$stack_dir/$1" | awk '/RECORD_BYTES/ { print $2 }')
    [[ -n $hex ]] || { echo "size.sh: no record probe in $1" >&2; exit 1; }
    echo $((16#$hex))
}

# The engine's overhead (flash of the engine stub minus its verifier stub) per build, and the
# persisted record, each against its budget on thumbv7em at "s".
engine_table() {
    local engine verifier overhead record limit rlimit build builds=(
        thumbv7em-none-eabihf/release thumbv7em-none-eabihf/release-z thumbv6m-none-eabi/release)
    printf '\ndevice-lock engine: overhead = engine stub - verifier stub (flash, bytes)\n'
    printf '%-20s %-22s %9s %9s %9s %7s %7s %7s\n' stub "verifier stub" 'v7em "s"' 'v7em "z"' \
        'v6m "s"' budget record budget
    for engine in "${engines[@]}"; do
        verifier=${reference[$engine]}
        printf '%-20s %-22s' "$engine" "$verifier"
        for build in "${builds[@]}"; do
            overhead=$((flash_of[$build/$engine] - flash_of[$build/$verifier]))
            printf ' %+9d' "$overhead"
            if [[ $build == thumbv7em-none-eabihf/release ]]; then engine_overhead[$engine]=$overhead; fi
        done
        overhead=${engine_overhead[$engine]} record=$(record_of "$engine")
        limit=${engine_budget[$engine]:--} rlimit=${record_budget[$engine]:--}
        if [[ $limit != - ]] && ((overhead > limit)); then
            over+=("$engine overhead ($overhead B > $limit B)") limit="$limit !"
        fi
        if [[ $rlimit != - ]] && ((record > rlimit)); then
            over+=("$engine record ($record B > $rlimit B)") rlimit="$rlimit !"
        fi
        printf ' %7s %7s %7s\n' "$limit" "$record" "$rlimit"
    done
}

# -Z emit-stack-sizes is unstable; RUSTC_BOOTSTRAP lets this stable toolchain take it for this one
# measuring build. It only adds a non-loaded section, and `--cfg size_probe` a symbol the size of
# each engine stub's persisted record: the code is otherwise the plain build's. RUSTFLAGS replaces
# the config's flags, hence -Tlink.x again; its own target dir keeps the plain build cached.
stack_dir=$(CARGO_TARGET_DIR=target/stack-sizes RUSTC_BOOTSTRAP=1 \
    RUSTFLAGS="-C link-arg=-Tlink.x -Z emit-stack-sizes --cfg size_probe" \
    build thumbv7em-none-eabihf release)

over=()
declare -A engine_overhead
table thumbv7em-none-eabihf release s "$stack_dir"
table thumbv7em-none-eabihf release-z z
table thumbv6m-none-eabi release s
engine_table

echo
echo 'flash Δ = (text + data) - baseline; RAM Δ = static (data + bss) - baseline;'
echo 'stack = worst case from main in bytes, "+?" where a callee has no recorded frame;'
echo 'budget = flash Δ allowed on thumbv7em "s" with FLASH_BUDGET set, "!" where exceeded;'
echo 'engine: the overhead and record budgets are on thumbv7em "s"; RAM Δ of the engine and'
echo 'verifier stubs includes the 256 B of RamFlash.'
far=()
for engine in "${engines[@]}"; do
    [[ -n ${engine_budget[$engine]-} ]] && ((engine_overhead[$engine] > engine_target)) &&
        far+=("$engine +$((engine_overhead[$engine] - engine_target)) B")
done
((${#far[@]} == 0)) || echo "engine overhead target ($engine_target B) not met yet: ${far[*]}"
# OpenPAYGO Metrics on the device, next to the token verifier (thumbv7em, "s", over baseline).
m4=thumbv7em-none-eabihf/release
over_base() { echo $((flash_of[$m4/$1] - flash_of[$m4/baseline])); }
echo "metrics (thumbv7em \"s\"): signer (metrics_sign) +$(over_base metrics_sign) B," \
    "signer + answer (metrics_device) +$(over_base metrics_device) B;" \
    "token verifier (openpaygo_standard) +$(over_base openpaygo_standard) B"
# The C firmware examples linking the paylock-ffi staticlib (firmware/c/), with their budgets.
c_status=0
CHECK=$check bash c/size.sh || c_status=$?
if ((check && ${#over[@]})); then
    echo "FAIL: over the flash budget on thumbv7em: ${over[*]}" >&2
    exit 1
fi
exit "$c_status"

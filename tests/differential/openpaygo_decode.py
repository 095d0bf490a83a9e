#!/usr/bin/env python3
"""Differential test: OpenPAYGO token decoding over token sequences, paylock against `openpaygo` 0.6.3.

For each random device, the reference generates a series of tokens. They are entered in order,
sometimes swapped within a small window, sometimes replayed, sometimes with a typo, sometimes
dropped, plus the occasional "count-0" token (the starting code with a value folded in), into:

* the reference decoder `openpaygo.decode_token`, driven like the upstream device simulator
  (test/simulators/device_simulator.py): the device count becomes the token's count when that is
  higher OR when the token is a counter sync (value 999), and `used_counts` becomes the list the
  decoder returns. The initial list is `[initial count]`; about 10 % of the devices start with the
  simulator's own initial `[]` to exercise the empty-list bug;
* paylock's `decode` op, carrying paylock's own state (max_count + 16-bit used-count mask).

Each step must give the same status, value and count, and paylock's meaning must be the one its
spec assigns (value first: 998 = DISABLE_PAYG and 999 = COUNTER_SYNC for standard tokens, 996/997 =
RESERVED, otherwise the count's parity). After every step the two device states are compared as
"which count is the maximum and which older ADD_TIME counts are still open".

Differences the paylock spec documents on purpose ("paylock decisions" 4 and 5) are counted per
kind instead of failing; after one, the reference device is re-based on paylock's state so the rest
of the sequence is still compared:

* count-0 token: the reference accepts it as credit, paylock never does;
* sync lowering the count: the reference device lowers its count after a counter sync below it
  (and would then re-accept old tokens, which is probed and counted); paylock's count never drops;
* sync taken again: the reference takes a counter sync at or below the count again (VALID, every
  older count spent, so a pending older ADD is lost); paylock's device model answers ALREADY_USED
  and changes nothing (the vectors' behaviour is only behind `"allow_sync_replays":true`);
* empty / None used_counts: `update_used_counts` returns None for an empty list, and the next replay
  or older token makes the reference raise TypeError;
* extended 998/999: the reference special-cases them (sync window, every older count spent),
  paylock treats them as ordinary extended values.

Independently of the reference, paylock must never accept the same token text twice in a sequence,
counter syncs included. One exception is counted instead: a chance collision, where the text is
also the token of a later count (only 6 digits of a token are authenticated, so about 1 in 10^6
per count scanned); the reference encoder must confirm that the text is that count's token, and
the count must be a new one.

    python3 tests/differential/openpaygo_decode.py --paylock target/release/paylock [--sequences N] [--seed S]

Exit code 0 when everything agrees, 1 otherwise. The last line is `N passed, M failed`.
"""

import argparse
import random
import sys
import time
from collections import Counter

from common import BatchSession, import_reference

openpaygo = import_reference()
from openpaygo import TokenType  # noqa: E402
from openpaygo.token_encode import OpenPAYGOTokenEncoder  # noqa: E402
from openpaygo.token_shared import OpenPAYGOTokenShared  # noqa: E402
from openpaygo.token_shared_extended import OpenPAYGOTokenSharedExtended  # noqa: E402

SYNC_VALUE = 999
TYPE_NAMES = {number: name for name, number in vars(TokenType).items() if name.isupper()}
DISABLE_VALUE = 998
MAX_SHOWN_FAILURES = 20

COUNT_ZERO = "count-0 token accepted by the reference (decision 4)"
SYNC_LOWERED = "counter sync lowered the reference's count (decision 4)"
REACCEPTED = "old token re-accepted by the reference after that, refused by paylock (decision 4)"
NONE_LIST = "reference used_counts [] -> None, then TypeError (decision 4)"
EXTENDED_SPECIAL = "extended 998/999 special-cased by the reference (decision 5)"
EXTENDED_CRASH = "reference UnboundLocalError on an invalid extended token, taken as INVALID"
EVEN_SPECIAL_TYPE = "reference type by count parity (even 998/999, any 996/997), paylock meaning by value"
SYNC_TAKEN_ONCE = "counter sync at or below the count: VALID again in the reference, ALREADY_USED in paylock (decision 4)"
COLLISION = "token text also valid at a later count, accepted there (chance collision, confirmed by the reference)"


# --- the reference side ----------------------------------------------------------------------


def reference_token(device, count, token_type, value):
    """(new_count, token) from the reference server."""
    return openpaygo.generate_token(
        secret_key=device["key"],
        count=count,
        value=value,
        token_type=token_type,
        starting_code=device["starting_code"],
        restricted_digit_set=device["restricted"],
        extended_token=device["extended"],
    )


def raw_standard_token(device, count, value, rng):
    """(new_count, token) from the reference's lower-level encoder, which takes any value."""
    mode = rng.choice([TokenType.ADD_TIME, TokenType.SET_TIME])
    return OpenPAYGOTokenEncoder.generate_standard_token(
        starting_code=device["starting_code"],
        key=OpenPAYGOTokenShared.load_secret_key_from_hex(device["key"]),
        value=value,
        count=count,
        mode=mode,
        restricted_digit_set=device["restricted"],
    )


def reference_token_at(device, count, value):
    """The reference's token text for `value` at exactly `count` (>= 1), any value."""
    mode = TokenType.SET_TIME if count % 2 else TokenType.ADD_TIME
    encode = (
        OpenPAYGOTokenEncoder.generate_extended_token
        if device["extended"]
        else OpenPAYGOTokenEncoder.generate_standard_token
    )
    key = OpenPAYGOTokenShared.load_secret_key_from_hex(device["key"])
    new_count, token = encode(device["starting_code"], key, value, count - 1, mode, device["restricted"])
    assert new_count == count
    return token


def count_zero_token(device, value):
    """The token a generator never emits: the starting code with `value` folded into its base."""
    shared = OpenPAYGOTokenSharedExtended if device["extended"] else OpenPAYGOTokenShared
    modulus = 1_000_000 if device["extended"] else 1000
    sc = device["starting_code"]
    token = sc - sc % modulus + (sc % modulus + value) % modulus
    if device["restricted"]:
        return f"{shared.convert_to_4_digit_token(token):0{20 if device['extended'] else 15}d}"
    return f"{token:0{12 if device['extended'] else 9}d}"


def reference_decode(device, state, token):
    """(status, value, count, type name, crash name) and the decoder's returned used_counts."""
    try:
        value, token_type, count, used = openpaygo.decode_token(
            token=token,
            secret_key=device["key"],
            count=state["count"],
            used_counts=state["used_counts"],
            starting_code=device["starting_code"],
            restricted_digit_set=device["restricted"],
        )
    except UnboundLocalError:
        if device["extended"]:  # upstream bug: no match at all in extended mode
            return ("INVALID", None, None, None, "UnboundLocalError"), None
        raise
    except TypeError:
        if state["used_counts"] is None:  # upstream bug: `count not in None`
            return (None, None, None, None, "TypeError"), None
        raise
    if token_type == TokenType.INVALID:
        return ("INVALID", None, None, None, None), None
    if token_type == TokenType.ALREADY_USED:
        return ("ALREADY_USED", None, None, None, None), None
    return ("VALID", int(value or 0), count, TYPE_NAMES.get(token_type, str(token_type)), None), used


def simulator_update(state, result, used):
    """The upstream device simulator's state rule."""
    _, value, count, _, _ = result
    if count > state["count"] or value == SYNC_VALUE:
        state["count"] = count
    state["used_counts"] = used


# --- states ----------------------------------------------------------------------------------


def open_older_counts(maximum, is_used):
    """Even counts 1.. in the 15 below the maximum that an ADD_TIME token may still use."""
    return frozenset(n for n in range(max(1, maximum - 15), maximum) if n % 2 == 0 and not is_used(n))


def reference_view(state):
    used = state["used_counts"]
    if used is None:
        return state["count"], None
    return state["count"], open_older_counts(state["count"], lambda n: n in used)


def paylock_view(state):
    maximum, mask = state["max_count"], state["used_counts_bitmask"]
    return maximum, open_older_counts(maximum, lambda n: (mask >> (maximum - 1 - n)) & 1 == 1)


def rebase_reference(ref_state, pl_state):
    """Makes the reference device hold paylock's state (kept None if the reference list is None)."""
    maximum, mask = pl_state["max_count"], pl_state["used_counts_bitmask"]
    ref_state["count"] = maximum
    if ref_state["used_counts"] is not None:
        older = [maximum - 1 - i for i in range(16) if (mask >> i) & 1 and maximum - 1 - i >= 0]
        ref_state["used_counts"] = [maximum] + older


def views_agree(ref_state, pl_state):
    ref_count, ref_open = reference_view(ref_state)
    pl_count, pl_open = paylock_view(pl_state)
    return ref_count == pl_count and (ref_open is None or ref_open == pl_open)


def expected_meaning(device, value, count):
    """paylock's meaning for a valid token: the value first, then the count's parity."""
    if not device["extended"]:
        special = {SYNC_VALUE: "COUNTER_SYNC", DISABLE_VALUE: "DISABLE_PAYG", 996: "RESERVED", 997: "RESERVED"}
        if value in special:
            return special[value]
    return "SET_TIME" if count % 2 else "ADD_TIME"


# --- sequences -------------------------------------------------------------------------------


def random_device(rng):
    extended = rng.random() < 0.2
    starting_code = rng.randint(1, 999_999_999)
    if rng.random() < 0.3:  # the base wraps for most values
        starting_code = max(1, starting_code - starting_code % 1000 + rng.randrange(900, 1000))
    return {
        "key": rng.randbytes(16).hex(),
        "starting_code": starting_code,
        "restricted": rng.random() < 0.4,
        "extended": extended,
        "initial_count": rng.randint(30, 600) if rng.random() < 0.1 else rng.choice([0, 1, 1, 2] + list(range(3, 30))),
        "empty_list": rng.random() < 0.1,
    }


def random_server_tokens(rng, device):
    """[(token, count)] from the reference server, in the order it issued them."""
    tokens = []
    count = device["initial_count"]
    for _ in range(rng.randint(4, 18)):
        if rng.random() < 0.04:  # tokens issued but never delivered: a jump near the window edge
            count += rng.randint(50, 90)
        if device["extended"]:
            token_type = TokenType.ADD_TIME if rng.random() < 0.7 else TokenType.SET_TIME
            value = rng.choice([DISABLE_VALUE, SYNC_VALUE]) if rng.random() < 0.12 else rng.randint(0, 999_999)
        else:
            pick = rng.random()
            token_type = (
                TokenType.ADD_TIME if pick < 0.6
                else TokenType.SET_TIME if pick < 0.8
                else TokenType.DISABLE_PAYG if pick < 0.88
                else TokenType.COUNTER_SYNC
            )
            value = rng.randint(0, 995) if token_type in (TokenType.ADD_TIME, TokenType.SET_TIME) else None
        if not device["extended"] and rng.random() < 0.04:
            # what `generate_token` refuses but a device can still be sent: 996/997 (reserved) and
            # 998/999 at either parity (the official test procedure enters an even-count 998)
            count, token = raw_standard_token(device, count, rng.choice([996, 997, 998, 999]), rng)
        else:
            count, token = reference_token(device, count, token_type, value)
        tokens.append((token, count))
    return tokens


def typo(rng, token, restricted):
    position = rng.randrange(len(token))
    digits = "1234" if restricted else "0123456789"
    replacement = rng.choice([d for d in digits if d != token[position]])
    return token[:position] + replacement + token[position + 1:]


def random_entries(rng, device, issued):
    """[(label, token)]: the issued tokens, perturbed."""
    order = list(issued)
    for i in range(len(order) - 1):  # swap within a small window
        if rng.random() < 0.15:
            j = min(len(order) - 1, i + rng.randint(1, 2))
            order[i], order[j] = order[j], order[i]
    entries = []
    if device["initial_count"] < 16 and rng.random() < 0.3:
        entries.append(("count-0", count_zero_token(device, rng.randint(0, 995))))
    for token, _ in order:
        if rng.random() < 0.05:
            continue  # never entered
        if rng.random() < 0.1:
            entries.append(("typo", typo(rng, token, device["restricted"])))
        entries.append(("issued", token))
        if entries and rng.random() < 0.15:
            earlier = [t for label, t in entries if label == "issued"]
            entries.append(("replay", rng.choice(earlier)))
    if rng.random() < 0.2 and issued:
        entries.append(("replay", rng.choice(issued)[0]))
    return entries


# --- the run ---------------------------------------------------------------------------------


class Run:
    def __init__(self, paylock):
        self.session = BatchSession(paylock)
        self.passed = 0
        self.failed = 0
        self.divergences = Counter()
        self.labels = Counter()
        self.statuses = Counter()
        self.steps = 0

    def fail(self, what, **details):
        self.failed += 1
        if self.failed <= MAX_SHOWN_FAILURES:
            print(f"FAIL {what}")
            for name, text in details.items():
                print(f"  {name}: {text}")

    def paylock_decode(self, device, state, token):
        request = {
            "scheme": "openpaygo",
            "op": "decode",
            "key": device["key"],
            "starting_code": device["starting_code"],
            "restricted_digit_set": device["restricted"],
            "extended_token": device["extended"],
            "token": token,
            "state": dict(state),
        }
        return self.session.ask(request)

    def sequence(self, rng, number):
        device = random_device(rng)
        issued = random_server_tokens(rng, device)
        entries = random_entries(rng, device, issued)
        ref_state = {
            "count": device["initial_count"],
            "used_counts": [] if device["empty_list"] else [device["initial_count"]],
        }
        pl_state = {"max_count": device["initial_count"], "used_counts_bitmask": 0}
        accepted_by_paylock = {}  # token -> the counts paylock accepted it at
        history = []  # (token, count, value) accepted by both
        header = (
            f"sequence {number}: key {device['key']} starting_code {device['starting_code']} "
            f"restricted {device['restricted']} extended {device['extended']} "
            f"initial count {device['initial_count']} initial used_counts {ref_state['used_counts']}"
        )

        for step, (label, token) in enumerate(entries):
            self.steps += 1
            self.labels[label] += 1
            before = (dict(ref_state), dict(pl_state))
            ref, ref_used = reference_decode(device, ref_state, token)
            line, answer = self.paylock_decode(device, pl_state, token)
            where = f"{header}; step {step} ({label}) token {token}"
            if answer.get("ok") is not True:
                self.fail("paylock refused a well-formed token", where=where, request=line, paylock=answer)
                continue
            pl = (answer["status"], answer["value"], answer["count"], answer["meaning"])
            self.statuses[pl[0]] += 1
            ref_status, ref_value, ref_count, ref_type, crash = ref

            explained = self.explain(device, token, ref, pl, before[1])
            agree = ref_status == pl[0] and ref_value == pl[1] and ref_count == pl[2]
            if agree and pl[0] == "VALID" and pl[3] != expected_meaning(device, ref_value, ref_count):
                agree = False
            if agree or explained:
                self.passed += 1
                if explained:
                    self.divergences[explained] += 1
            else:
                self.fail(
                    "decode result differs",
                    where=where,
                    request=line,
                    reference=f"status {ref_status} value {ref_value} count {ref_count} type {ref_type} "
                              f"(state count {before[0]['count']} used_counts {before[0]['used_counts']})",
                    paylock=answer,
                )

            if agree and pl[0] == "VALID" and ref_type != pl[3]:
                self.divergences[EVEN_SPECIAL_TYPE] += 1

            # paylock must never take the same token twice (sync replays and collisions excepted)
            if pl[0] == "VALID":
                if token in accepted_by_paylock:
                    self.check_second_acceptance(device, token, pl, accepted_by_paylock[token], where, line, answer)
                accepted_by_paylock.setdefault(token, set()).add(pl[2])

            # move both devices on
            if ref_status == "VALID":
                simulator_update(ref_state, ref, ref_used)
            pl_state = dict(answer["state"])
            if agree and pl[0] == "VALID":
                history.append((token, pl[2], pl[1]))

            if not views_agree(ref_state, pl_state):
                lowered = ref_status == "VALID" and ref_value == SYNC_VALUE and not device["extended"] \
                    and ref_state["count"] < pl_state["max_count"]
                if lowered and explained in (None, SYNC_TAKEN_ONCE):
                    # whether paylock took the sync (above its count) or not (at or below it)
                    self.divergences[SYNC_LOWERED] += 1
                    self.probe_reaccept(device, ref_state, pl_state, history, where)
                elif explained:
                    pass  # the step's own divergence moved the reference elsewhere
                elif device["extended"] and ref_status == "VALID" and ref_value in (SYNC_VALUE, DISABLE_VALUE):
                    self.divergences[EXTENDED_SPECIAL] += 1
                else:
                    self.fail(
                        "device states differ after the step",
                        where=where,
                        reference=f"count {ref_state['count']} used_counts {ref_state['used_counts']} "
                                  f"(open older counts {sorted(reference_view(ref_state)[1] or [])})",
                        paylock=f"{pl_state} (open older counts {sorted(paylock_view(pl_state)[1])})",
                    )
                rebase_reference(ref_state, pl_state)

    def check_second_acceptance(self, device, token, pl, earlier_counts, where, line, answer):
        """paylock accepted a token text it had accepted before: fine only at a new count where the
        reference confirms the text is that count's token too (a chance collision: only 6 digits
        of a token are authenticated, so about 1 in 10^6 per count)."""
        _, value, count, _ = pl
        if count not in earlier_counts and reference_token_at(device, count, value) == token:
            self.divergences[COLLISION] += 1
            return True
        self.fail(
            "paylock accepted the same token twice",
            where=where,
            earlier=f"accepted at count(s) {sorted(earlier_counts)}",
            request=line,
            paylock=answer,
        )
        return False

    def explain(self, device, token, ref, pl, pl_before):
        """The documented divergence behind a differing result, or None (`pl_before`: paylock's
        state before the step)."""
        ref_status, ref_value, ref_count, _, crash = ref
        if crash == "TypeError":
            return NONE_LIST
        if crash == "UnboundLocalError":
            return EXTENDED_CRASH if pl[0] == "INVALID" else None
        if ref_status == pl[0] and ref_value == pl[1] and ref_count == pl[2]:
            return None
        if ref_status == "VALID" and ref_count == 0 and pl[0] != "VALID":
            return COUNT_ZERO
        if device["extended"] and ref_status == "VALID" and ref_value in (SYNC_VALUE, DISABLE_VALUE):
            return EXTENDED_SPECIAL
        if (ref_status, ref_value, pl[0]) == ("VALID", SYNC_VALUE, "ALREADY_USED") \
                and ref_count <= pl_before["max_count"]:
            return SYNC_TAKEN_ONCE
        if pl[0] == "VALID" and pl[2] > pl_before["max_count"] and pl[2] != ref_count \
                and reference_token_at(device, pl[2], pl[1]) == token:
            # The text is also the token of a new count, which the reference's encoder confirms
            # (paylock scans the new counts; the reference can stop at an older one first).
            return COLLISION
        return None

    def probe_reaccept(self, device, ref_state, pl_state, history, where):
        """After a sync lowered the reference's count: would it take an old token again? paylock must not."""
        candidates = [
            (token, count) for token, count, value in history
            if ref_state["count"] < count <= pl_state["max_count"] and value != SYNC_VALUE
        ]
        if not candidates:
            return
        if ref_state["used_counts"] is None:
            return
        token, count = max(candidates, key=lambda c: c[1])
        probe_state = {"count": ref_state["count"], "used_counts": list(ref_state["used_counts"])}
        ref, _ = reference_decode(device, probe_state, token)
        line, answer = self.paylock_decode(device, pl_state, token)
        if answer.get("status") == "VALID":
            pl = (answer["status"], answer["value"], answer["count"], answer["meaning"])
            if self.check_second_acceptance(device, token, pl, {count}, where, line, answer):
                self.passed += 1
            return
        self.passed += 1
        if ref[0] == "VALID":
            self.divergences[REACCEPTED] += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--paylock", default="target/release/paylock", help="the paylock binary")
    parser.add_argument("--sequences", type=int, default=300, help="random devices")
    parser.add_argument("--seed", type=int, default=None, help="replay a run (default: random)")
    args = parser.parse_args()

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"seed {seed}  (replay: --seed {seed} --sequences {args.sequences})")
    rng = random.Random(seed)
    run = Run(args.paylock)
    start = time.perf_counter()
    for number in range(args.sequences):
        run.sequence(rng, number)
    run.session.close()
    seconds = time.perf_counter() - start

    print(f"{args.sequences} sequences, {run.steps} entries in {seconds:.1f} s")
    print("entries: " + ", ".join(f"{k} {v}" for k, v in sorted(run.labels.items())))
    print("paylock verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(run.statuses.items())))
    print("documented divergences (counted, not failed):")
    for name in (COUNT_ZERO, SYNC_LOWERED, REACCEPTED, NONE_LIST, EXTENDED_SPECIAL, EXTENDED_CRASH,
                 EVEN_SPECIAL_TYPE, SYNC_TAKEN_ONCE, COLLISION):
        print(f"  {run.divergences[name]:6d}  {name}")
    print(f"{run.passed} passed, {run.failed} failed")
    return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""paylock.openpaygo against the reference ``openpaygo`` 0.6.3, call for call.

``generate_token`` must return exactly what the reference returns, for random calls over the
whole range the reference accepts. ``decode_token`` must agree with the reference except where
``docs/openpaygo.md`` decided to fix a bug; each such difference is asserted as the documented
one (README: "Decoding: differences from openpaygo 0.6.3"), never skipped.
"""

from __future__ import annotations

from importlib.metadata import version

import openpaygo as reference
import pytest
from openpaygo.token_encode import OpenPAYGOTokenEncoder as RefEncoder
from openpaygo.token_shared import OpenPAYGOTokenShared as RefShared
from openpaygo.token_shared_extended import OpenPAYGOTokenSharedExtended as RefSharedExt

import paylock
from paylock.openpaygo import OpenPAYGOTokenDecoder, OpenPAYGOTokenEncoder, TokenType, decode_token, generate_token

GENERATE_CASES = 6_000
DECODE_CASES = 5_000
TYPES = [TokenType.ADD_TIME, TokenType.SET_TIME, TokenType.DISABLE_PAYG, TokenType.COUNTER_SYNC]


def test_reference_version():
    assert version("openpaygo") == "0.6.3"


# --- generation ----------------------------------------------------------------------------


def random_generate_call(rng):
    """Keyword arguments of one ``generate_token`` call the reference accepts."""
    extended = rng.random() < 0.25
    token_type = rng.choice(TYPES)
    pick = rng.random()
    if pick < 0.03:
        starting_code = None  # derived from the key
    elif pick < 0.05:
        starting_code = 0  # "not given" in openpaygo, so derived too
    elif pick < 0.25:  # the base wraps for most values
        starting_code = (
            rng.randrange(1, 1_000_000) * 1000 - rng.randint(1, 60)
            if rng.random() < 0.5
            else rng.choice([1, 999, 1000, 999_999_999])
        )
        starting_code = max(1, min(starting_code, 999_999_999))
    else:
        starting_code = rng.randint(1, 999_999_999)
    count = rng.randint(0, 120) if rng.random() < 0.97 else rng.randint(120, 3_000)
    kwargs = {
        "secret_key": rng.randbytes(16).hex(),
        "count": count,
        "token_type": token_type,
        "starting_code": starting_code,
        "restricted_digit_set": rng.random() < 0.4,
        "extended_token": extended,
    }
    if token_type in (TokenType.ADD_TIME, TokenType.SET_TIME):
        top = 999_999 if extended else 995
        if rng.random() < 0.15:  # days × divider, rounded half to even
            divider = rng.choice([1, 2, 4, 10, 255])
            kwargs["value_divider"] = divider
            kwargs["value"] = rng.choice([rng.randint(0, top * 4) / 8, rng.random() * top / divider])
            if round(kwargs["value"] * divider) > top:
                kwargs["value"] = top // divider
        else:
            kwargs["value"] = rng.choice([0, 1, top, top - 1, rng.randint(0, top), rng.randint(0, 50)])
    elif rng.random() < 0.3:
        kwargs["value"] = rng.choice([None, 0])  # openpaygo takes a falsy value for these types
    return kwargs


def test_generate_matches_the_reference(rng):
    mismatches = []
    for _ in range(GENERATE_CASES):
        kwargs = random_generate_call(rng)
        expected = reference.generate_token(**kwargs)
        got = generate_token(**kwargs)
        if got != expected:
            mismatches.append((kwargs, expected, got))
    assert not mismatches, mismatches[:5]


def test_generate_at_extreme_counts(rng):
    for count in [65_533, 65_534, 65_535, 131_068, 131_069]:
        kwargs = random_generate_call(rng)
        kwargs.update(count=count, token_type=TokenType.ADD_TIME, value=1)
        assert generate_token(**kwargs) == reference.generate_token(**kwargs)


def test_encoder_classes_match_the_reference(rng):
    for _ in range(200):
        kwargs = random_generate_call(rng)
        expected = reference.OpenPAYGOTokenEncoder.generate_token(**kwargs)
        assert OpenPAYGOTokenEncoder.generate_token(**kwargs) == expected
        args = [kwargs[k] for k in ("secret_key", "count")] + [kwargs.get("value"), kwargs["token_type"]]
        assert (
            generate_token(
                *args,
                starting_code=kwargs["starting_code"],
                restricted_digit_set=kwargs["restricted_digit_set"],
                extended_token=kwargs["extended_token"],
                value_divider=kwargs.get("value_divider", 1),
            )
            == expected
        )


def test_truthy_flags_and_bytes_keys_as_upstream():
    key = "a29ab82edc5fbbc41ec9530f6dac86b1"
    for flag in (1, "yes", [0]):
        kwargs = dict(secret_key=key, count=3, value=7, starting_code=123456789, restricted_digit_set=flag)
        assert generate_token(**kwargs) == reference.generate_token(**kwargs)
    kwargs = dict(secret_key=key.encode(), count=3, value=7, starting_code=123456789)
    assert generate_token(**kwargs) == reference.generate_token(**kwargs)


# --- decoding ------------------------------------------------------------------------------

SYNC, DISABLE = 999, 998


def raw_token(device, count, value):
    """The token at exactly ``count`` for ``value``, from the reference's own lower-level code
    (``generate_token`` picks the count from the parity and refuses 996-999)."""
    key = bytes.fromhex(device["key"])
    sc = device["starting_code"]
    if count == 0:  # the starting code with the value folded in; no generator emits it
        shared = RefSharedExt if device["extended"] else RefShared
        modulus = 1_000_000 if device["extended"] else 1000
        code = shared.put_base_in_token(sc, (shared.get_token_base(sc) + value) % modulus)
        if device["restricted"]:
            code = shared.convert_to_4_digit_token(code)
            return f"{code:0{20 if device['extended'] else 15}d}"
        return f"{code:0{12 if device['extended'] else 9}d}"
    mode = TokenType.ADD_TIME if count % 2 == 0 else TokenType.SET_TIME
    build = RefEncoder.generate_extended_token if device["extended"] else RefEncoder.generate_standard_token
    new_count, token = build(sc, key, value, count - 1, mode, device["restricted"])
    assert new_count == count
    return token


def random_device(rng):
    return {
        "key": rng.randbytes(16).hex(),
        "starting_code": rng.randint(1, 999_999_999),
        "restricted": rng.random() < 0.35,
        "extended": rng.random() < 0.2,
    }


def random_state(rng):
    """``(count, used_counts)`` as the upstream device simulator keeps them: the count is the
    highest used count, older used counts are listed."""
    count = rng.choice([0, 1, 2, rng.randint(0, 20), rng.randint(0, 60), rng.randint(20, 70)])
    used = [count] + [n for n in range(max(0, count - 16), count) if rng.random() < 0.5]
    return count, sorted(used)


def random_entry(rng, device, count):
    """A token: genuine at a count around the window, or a typo of one."""
    if device["extended"]:
        value = rng.choice([rng.randint(0, 999_999), SYNC, DISABLE]) if rng.random() < 0.1 else rng.randint(0, 999_999)
    else:
        value = (
            rng.choice([SYNC, DISABLE, 996, 997, rng.randint(0, 995)]) if rng.random() < 0.15 else rng.randint(0, 995)
        )
    pick = rng.random()
    if pick < 0.05:
        at = 0
    elif pick < 0.4:
        at = rng.randint(max(0, count - 18), count)
    else:
        at = rng.randint(count, count + 70)
    token = raw_token(device, at, value)
    if rng.random() < 0.1:  # a one-digit typo
        i = rng.randrange(len(token))
        digits = "1234" if device["restricted"] else "0123456789"
        token = token[:i] + rng.choice([d for d in digits if d != token[i]]) + token[i + 1 :]
    return token


def reference_decode(device, token, count, used):
    try:
        return reference.decode_token(
            token=token,
            secret_key=device["key"],
            count=count,
            used_counts=list(used),
            starting_code=device["starting_code"],
            restricted_digit_set=device["restricted"],
        ), None
    except (TypeError, UnboundLocalError) as e:
        return None, type(e).__name__


def open_older(maximum, used):
    """Older even counts (1 and up, in the 16 below the maximum) a device still accepts."""
    return {n for n in range(max(1, maximum - 15), maximum) if n % 2 == 0 and n not in used}


def explain(device, ref, mine, crash, maximum):
    """The documented difference behind a differing decode, or None (``maximum``: the device's
    count before the entry)."""
    if crash == "UnboundLocalError":  # upstream crashes on an invalid extended token
        return "extended invalid: upstream raises UnboundLocalError" if mine[1] == TokenType.INVALID else None
    r_value, r_type, r_count, _ = ref
    m_value, m_type, m_count, _ = mine
    if r_type not in (TokenType.INVALID, TokenType.ALREADY_USED) and r_count == 0 and m_type == TokenType.ALREADY_USED:
        return "count-0 token: never credit"
    if not device["extended"] and (r_value, r_count) == (m_value, m_count) and r_count % 2 == 0:
        want = {SYNC: TokenType.COUNTER_SYNC, DISABLE: TokenType.DISABLE_PAYG}.get(r_value)
        if want is not None and (r_type, m_type) == (TokenType.ADD_TIME, want):
            return "even-count 998/999: typed by the value"
    if device["extended"] and r_value in (SYNC, DISABLE):
        return "extended 998/999: plain values"
    if r_value == SYNC and m_type == TokenType.ALREADY_USED and r_count <= maximum:
        return "counter sync at or below the count: already used"
    return None


def test_decode_matches_the_reference_except_documented_fixes(rng):
    differences = {}
    failures = []
    for _ in range(DECODE_CASES):
        device = random_device(rng)
        count, used = random_state(rng)
        token = random_entry(rng, device, count)
        ref, crash = reference_decode(device, token, count, used)
        mine = decode_token(
            token=token,
            secret_key=device["key"],
            count=count,
            used_counts=list(used),
            starting_code=device["starting_code"],
            restricted_digit_set=device["restricted"],
        )
        agree = crash is None and ref[:3] == mine[:3]
        if agree and ref[3] is not None:
            agree = max(ref[3]) == max(mine[3]) and open_older(max(ref[3]), ref[3]) == open_older(max(mine[3]), mine[3])
        if agree:
            continue
        why = explain(device, ref, mine, crash, max([count, *used]))
        if why is None:
            failures.append((device, count, used, token, ref, crash, mine))
        differences[why] = differences.get(why, 0) + 1
    assert not failures, failures[:5]
    print("documented differences:", differences)


def test_used_counts_round_trip_like_upstream():
    key, sc = "a29ab82edc5fbbc41ec9530f6dac86b1", 123456789
    _, first = generate_token(secret_key=key, count=0, value=1, starting_code=sc)
    count_b, second = generate_token(secret_key=key, count=2, value=2, starting_code=sc)
    # the later token first, then the earlier one (out of order), then both again
    value, kind, count, used = decode_token(token=second, secret_key=key, count=0, used_counts=[0], starting_code=sc)
    assert (value, kind, count, used) == (2.0, TokenType.ADD_TIME, 4, [0, 4])
    value, kind, count, used = decode_token(token=first, secret_key=key, count=4, used_counts=used, starting_code=sc)
    assert (value, kind, count, used) == (1.0, TokenType.ADD_TIME, 2, [0, 2, 4])
    for token in (first, second):
        assert decode_token(token=token, secret_key=key, count=4, used_counts=used, starting_code=sc) == (
            None,
            TokenType.ALREADY_USED,
            None,
            None,
        )
    assert OpenPAYGOTokenDecoder.decode_token(second, key, 4, used, sc) == (None, TokenType.ALREADY_USED, None, None)


# --- the documented differences, one by one -----------------------------------------------

KEY, SC = "a29ab82edc5fbbc41ec9530f6dac86b1", 123456789


def both(token, count, used, **kwargs):
    args = dict(token=token, secret_key=KEY, count=count, used_counts=used, starting_code=SC, **kwargs)
    try:
        ref = reference.decode_token(**dict(args, used_counts=None if used is None else list(used)))
    except Exception as e:  # noqa: BLE001 - the reference's own failures are what is compared
        ref = type(e).__name__
    return ref, decode_token(**args)


def test_difference_count_zero_token_is_never_credit():
    # "123456789" is the starting code itself: the count-0 token for value 0 (docs §5.3 row 1)
    ref, mine = both("123456789", 0, [])
    assert ref == (0, TokenType.ADD_TIME, 0, None)  # free credit upstream
    assert mine == (None, TokenType.ALREADY_USED, None, None)


def test_difference_empty_list_cannot_replay():
    # docs §5.3 row 2: with [] upstream takes the same older token again and again
    _, token = generate_token(secret_key=KEY, count=0, value=5, starting_code=SC)  # count 2
    ref, mine = both(token, 4, [])
    assert ref[:3] == (5, TokenType.ADD_TIME, 2)
    assert mine == (None, TokenType.ALREADY_USED, None, None)
    ref, mine = both(token, 4, None)
    assert ref == "TypeError"
    assert mine == (None, TokenType.ALREADY_USED, None, None)


def test_difference_the_list_keeps_the_highest_count():
    # docs §5.3 rows 3-4: a caller that stores the (lower) count of an older token or of a
    # counter sync keeps the list, whose highest count is the device's maximum
    _, old = generate_token(secret_key=KEY, count=0, value=5, starting_code=SC)  # count 2
    ref, mine = both(old, 2, [22])  # count lowered to 2 by the caller, list still says 22
    assert ref[:3] == (5, TokenType.ADD_TIME, 2)  # accepted again upstream
    assert mine == (None, TokenType.ALREADY_USED, None, None)
    sync_count, sync = generate_token(secret_key=KEY, count=30, token_type=TokenType.COUNTER_SYNC, starting_code=SC)
    value, kind, count, used = decode_token(
        token=sync, secret_key=KEY, count=60, used_counts=[60], starting_code=SC, allow_sync_replays=True
    )
    assert (kind, count, max(used)) == (TokenType.COUNTER_SYNC, sync_count, 60)


def test_difference_a_counter_sync_is_taken_once():
    # docs decision 4: upstream takes a sync at or below the count again and then spends every
    # older count, so a pending older ADD entered afterwards is lost
    _, sync = generate_token(secret_key=KEY, count=2, token_type=TokenType.COUNTER_SYNC, starting_code=SC)  # 3
    _, add_4 = generate_token(secret_key=KEY, count=3, value=2, starting_code=SC)
    _, add_6 = generate_token(secret_key=KEY, count=4, value=3, starting_code=SC)
    _, _, _, used = decode_token(token=add_6, secret_key=KEY, count=3, used_counts=[3], starting_code=SC)
    assert max(used) == 6 and 4 not in used
    ref, mine = both(sync, 6, used)
    assert ref[:3] == (999, TokenType.COUNTER_SYNC, 3)
    assert mine == (None, TokenType.ALREADY_USED, None, None)
    value, kind, count, _ = decode_token(token=add_4, secret_key=KEY, count=6, used_counts=used, starting_code=SC)
    assert (value, kind, count) == (2.0, TokenType.ADD_TIME, 4)
    # the vectors' model, on request: the sync again, and the pending ADD is lost
    _, kind, count, after = decode_token(
        token=sync, secret_key=KEY, count=6, used_counts=used, starting_code=SC, allow_sync_replays=True
    )
    assert (kind, count, max(after)) == (TokenType.COUNTER_SYNC, 3, 6)
    assert decode_token(token=add_4, secret_key=KEY, count=6, used_counts=after, starting_code=SC)[1] == (
        TokenType.ALREADY_USED
    )


def test_difference_even_count_998_999_typed_by_value():
    # docs §4.2: the device acts on the value; upstream reports ADD_TIME with value 998
    device = {"key": KEY, "starting_code": SC, "restricted": False, "extended": False}
    for value, want in ((DISABLE, TokenType.DISABLE_PAYG), (SYNC, TokenType.COUNTER_SYNC)):
        token = raw_token(device, 4, value)
        ref, mine = both(token, 2, [2])
        assert ref[:3] == (value, TokenType.ADD_TIME, 4)
        assert mine[:3] == (value, want, 4)


def test_difference_extended_998_999_are_plain_values():
    # paylock decision 5: extended tokens carry ADD_TIME / SET_TIME only
    # (upstream applies the counter-sync window to them, so an old one is accepted again)
    device = {"key": KEY, "starting_code": SC, "restricted": False, "extended": True}
    token = raw_token(device, 3, SYNC)
    ref, mine = both(token, 1, [1])
    assert ref[:3] == mine[:3] == (SYNC, TokenType.SET_TIME, 3)
    ref, mine = both(token, 10, [10])
    assert ref[:3] == (SYNC, TokenType.SET_TIME, 3)
    assert mine == (None, TokenType.ALREADY_USED, None, None)


def test_difference_invalid_extended_token_is_invalid_not_a_crash():
    ref, mine = both("000000000000", 1, [1])
    assert ref == "UnboundLocalError"
    assert mine == (None, TokenType.INVALID, None, None)


@pytest.mark.parametrize(
    ("token", "position"),
    [("62486790", None), ("66248679x", 8), (" 62486790", 0), ("1234567890123", None), ("6624867901", None)],
)
def test_difference_malformed_tokens_are_errors(token, position):
    # paylock decision 7: upstream converts whatever it gets (leading zeros dropped, spaces...)
    with pytest.raises(paylock.MalformedToken) as caught:
        decode_token(token=token, secret_key=KEY, count=0, used_counts=[0], starting_code=SC)
    assert caught.value.field == "token"
    assert caught.value.position == position
    assert isinstance(caught.value, ValueError)


def test_difference_restricted_digits_outside_the_keypad():
    _, token = generate_token(secret_key=KEY, count=0, value=1, starting_code=SC, restricted_digit_set=True)
    bad = token[:4] + "5" + token[5:]
    with pytest.raises(paylock.MalformedToken) as caught:
        decode_token(token=bad, secret_key=KEY, count=0, starting_code=SC, restricted_digit_set=True)
    assert caught.value.position == 4


def test_value_divider_divides_like_upstream():
    _, token = generate_token(secret_key=KEY, count=0, value=2.5, value_divider=4, starting_code=SC)
    ref, mine = both(token, 0, [0], value_divider=4)
    assert ref == mine == (2.5, TokenType.ADD_TIME, 2, [0, 2])

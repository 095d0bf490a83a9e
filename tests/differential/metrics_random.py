"""Random OpenPAYGO Metrics inputs, and how to recognise the inputs paylock refuses by decision.

Shared by the two differential checks against `openpaygo` 0.6.3: `metrics_compare.py` (through
one batch co-process) and `python/tests/test_metrics_differential.py` (through the Python API).
Both import the reference before this module.
"""

import json
import math
import struct

from openpaygo.metrics_shared import OpenPAYGOMetricsShared

#: The frozen clock of every case.
NOW = 1_700_000_000
METHODS = ["sa", "ta", "ca", "da", "ra"]

ALPHABETS = [
    "abcdefghijklmnopqrstuvwxyz_",
    "ABCXYZ0123456789-. /",
    "\"\\\n\r\t\b\f\x00\x01\x1f\x7f",
    "\u00e9\u00fc\u00df\u20ac\u2600\u4e2d\u6587\u0416\uffff\ufeff",
    "\U0001f600\U0001f50b\U00010000\U0010ffff\U0001d11e",
]
#: Names the condensed key map and the expansion treat specially.
SPECIAL_NAMES = ["token_count", "tc", "autsr", "aslr", "active_until_timestamp_requested",
                 "active_seconds_left_requested", "sn", "ts", "d", "auth", "timestamp"]


def dumps(value):
    """Python's compact JSON, the form 0.6.3 signs."""
    return json.dumps(value, separators=(",", ":"))


def text(rng, low=0, high=12):
    return "".join(rng.choice(rng.choices(ALPHABETS, weights=[50, 20, 8, 12, 10])[0])
                   for _ in range(rng.randint(low, high)))


def name(rng):
    while True:
        candidate = rng.choice(SPECIAL_NAMES) if rng.random() < 0.1 else text(rng, 1, 10)
        # Non-ASCII digit keys: 0.6.3's isdigit() reads them as positions, paylock does not
        # (decision M5); not generated.
        if not (candidate.isdigit() and not candidate.isascii()):
            return candidate


def floating(rng):
    pick = rng.random()
    if pick < 0.2:
        return rng.choice([0.0, -0.0, 1.0, -1.0, 1e16, 1e15, 1e-5, 1e-4, 1e22, -1e22, 5e-324,
                           1.7976931348623157e308, 2.2250738585072014e-308, 0.1, 1.5e300, 123456.0])
    if pick < 0.45:
        while True:
            number = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
            if math.isfinite(number):
                return number
    if pick < 0.7:
        return round(rng.uniform(-1000, 1000), rng.randint(0, 6))
    return rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30)


def value(rng, nested=False, depth=0):
    """A JSON value; lists and objects (to depth 3) only when `nested`."""
    pick = rng.random()
    if pick < 0.22:
        return floating(rng)
    if pick < 0.45:
        return rng.choice([rng.randint(-1000, 1000), rng.randint(-2**63, 2**64 - 1), 0, 1])
    if pick < 0.65:
        return text(rng)
    if pick < 0.8:
        return rng.random() < 0.5
    if pick < 0.9 or not nested or depth > 2:
        return None
    if pick < 0.95:
        return [value(rng, nested, depth + 1) for _ in range(rng.randint(0, 3))]
    return {name(rng): value(rng, nested, depth + 1) for _ in range(rng.randint(0, 3))}


def data_format(rng):
    fmt = {"id": rng.randint(1, 10**6)}
    names = []
    while len(names) < rng.randint(0, 7):
        candidate = name(rng)
        if candidate not in names:
            names.append(candidate)
    rows = []
    if rng.random() < 0.5:
        rows.append("relative_time")
    if rng.random() < 0.3:
        rows.append("timestamp")
    while len(rows) < rng.randint(len(rows), len(rows) + 5):
        candidate = name(rng)
        if candidate not in rows and candidate not in ("relative_time", "timestamp"):
            rows.append(candidate)
    rng.shuffle(rows)
    if names or rng.random() < 0.8:
        fmt["data_order"] = names
    if rows or rng.random() < 0.8:
        fmt["historical_data_order"] = rows
    if rng.random() < 0.7:
        fmt["historical_data_interval"] = rng.choice([60, -60, 3600, 86400, 0, rng.randint(-10**5, 10**5)])
    return fmt


def report_values(rng, order, condensed, nested=False):
    """A data dict: names of the order (condensed) or any names (simple), in random order."""
    names = list(order)
    if not condensed:
        names += [name(rng) for _ in range(rng.randint(0, 3))]
    chosen = [n for n in names if rng.random() < 0.75]
    rng.shuffle(chosen)
    return {n: value(rng, nested) for n in chosen}


def row_values(rng, fmt, condensed, timestamp, nested=False):
    order = fmt.get("historical_data_order") or []
    row = report_values(rng, [n for n in order if n not in ("relative_time", "timestamp")], condensed, nested)
    if ("relative_time" in order or not condensed) and rng.random() < 0.4:
        row["relative_time"] = rng.choice([0, 30, -30, rng.randint(-10**6, 10**6)])
    if ("timestamp" in order or not condensed) and (not fmt.get("historical_data_interval") or rng.random() < 0.2):
        row["timestamp"] = rng.choice([timestamp or NOW, rng.randint(1_000_000_000, 2_000_000_000)])
    if condensed:
        row = {k: v for k, v in row.items() if k in order}
    return row


def mutate(rng, report):
    """(the report changed in one way, how): a digit, a value, or only its layout."""
    pick = rng.random()
    if pick < 0.4:
        spots = [i for i, c in enumerate(report) if c.isdigit()]
        if spots:
            i = rng.choice(spots)
            return report[:i] + rng.choice([d for d in "0123456789" if d != report[i]]) + report[i + 1:], "digit"
    if pick < 0.7:
        # Same content, another layout: the server re-serializes what it parsed.
        return json.dumps(json.loads(report), indent=rng.choice([None, 1, 2]), ensure_ascii=rng.random() < 0.5), "layout"
    parsed = json.loads(report)
    data_key = "d" if "d" in parsed else "data"
    if isinstance(parsed.get(data_key), list) and parsed[data_key]:
        parsed[data_key][rng.randrange(len(parsed[data_key]))] = value(rng)
    elif isinstance(parsed.get(data_key), dict) and parsed[data_key]:
        parsed[data_key][rng.choice(list(parsed[data_key]))] = value(rng)
    return dumps(parsed), "value"


# --- inputs paylock refuses by decision (docs/openpaygo.md) ----------------------------------


def unkept_number(report):
    """M5: "integer" for an integer Python keeps beyond 64 bits or a -0, "float" for a float
    beyond the double range; None when the report has neither."""
    found = []

    def integer(literal):
        number = int(literal)
        if literal == "-0" or not -(2**63) <= number <= 2**64 - 1:
            found.append("integer")
        return number

    def floating_literal(literal):
        number = float(literal)
        if math.isinf(number):
            found.append("float")
        return number

    json.loads(report, parse_int=integer, parse_float=floating_literal)
    return found[0] if found else None


def lone_surrogate(report):
    """M5: a string holding an unpaired surrogate escape, which is not JSON (RFC 8259)."""

    def walk(node):
        if isinstance(node, str):
            return any(0xD800 <= ord(c) <= 0xDFFF for c in node)
        if isinstance(node, list):
            return any(walk(item) for item in node)
        if isinstance(node, dict):
            return any(walk(k) or walk(v) for k, v in node.items())
        return False

    return walk(json.loads(report))


def loose_row_time(handler):
    """M5: a row's time that is a bool or a string of digits, which Python's int() takes and
    paylock refuses (it wants numbers)."""
    try:
        rows = handler._get_simple_historical_data()
    except Exception:  # noqa: BLE001 - the reference fails on these rows anyway
        return False
    for row in rows:
        relative, stamp = row.get("relative_time"), row.get("timestamp")
        if relative is not None:
            if isinstance(relative, bool):
                return True
            if isinstance(relative, str):
                try:
                    int(relative)
                    return True
                except ValueError:
                    pass
        elif isinstance(stamp, bool) and stamp:
            return True
    return False


def too_long(report, fmt):
    """M2: condensed data or a row with more values than the format names (0.6.3 drops them)."""
    parsed = OpenPAYGOMetricsShared.convert_dict_keys_to_simple(json.loads(report))
    if not fmt:
        return False
    data = parsed.get("data")
    if isinstance(data, list) and fmt.get("data_order") and len(data) > len(fmt["data_order"]):
        return True
    rows = parsed.get("historical_data")
    order = fmt.get("historical_data_order")
    return isinstance(rows, list) and bool(order) and any(isinstance(r, list) and len(r) > len(order) for r in rows)

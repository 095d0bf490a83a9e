/*
 * Replays the published OpenPAYGO decode vectors through paylock.h's native device API
 * (lines from ffi/tests/openpaygo_lines.py on stdin), carrying the device state, chain point
 * included, from one line to the next where the vectors' counts continue. Each entry goes
 * through the per-form function and through paylock_openpaygo_verify with the form chosen at
 * run time; both must give the vector's verdict, value, count and state. Then the boundary:
 * null pointers, short buffers and bad arguments are error codes that change nothing.
 * Built with -fsanitize=address,undefined by ffi/tests/run_c.sh.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "paylock.h"

static int status_of(const char *name) {
    if (strcmp(name, "VALID") == 0) return PAYLOCK_VALID;
    if (strcmp(name, "INVALID") == 0) return PAYLOCK_INVALID;
    if (strcmp(name, "ALREADY_USED") == 0) return PAYLOCK_ALREADY_USED;
    return -100;
}

static void boundary(void) {
    PaylockOpenPaygoSecret secret = {{0}, 123456789};
    PaylockOpenPaygoState state = {0}, before;
    PaylockOpenPaygoActivation out = {0};
    const uint8_t token[] = "123456789";
    before = state;
    CHECK(paylock_openpaygo_verify_standard(NULL, &state, token, 9, &out) == PAYLOCK_ERR_NULL, "null secret");
    CHECK(paylock_openpaygo_verify_standard(&secret, NULL, token, 9, &out) == PAYLOCK_ERR_NULL, "null state");
    CHECK(paylock_openpaygo_verify_standard(&secret, &state, NULL, 9, &out) == PAYLOCK_ERR_NULL, "null token");
    CHECK(paylock_openpaygo_verify_standard(&secret, &state, token, 8, &out) == PAYLOCK_ERR_FORMAT, "short token");
    CHECK(paylock_openpaygo_verify_standard(&secret, &state, token, 0, &out) == PAYLOCK_ERR_FORMAT, "empty token");
    CHECK(paylock_openpaygo_verify_standard(&secret, &state, (const uint8_t *)"12345678x", 9, &out) == PAYLOCK_ERR_FORMAT, "letter");
    CHECK(paylock_openpaygo_verify_standard_restricted(&secret, &state, token, 9, &out) == PAYLOCK_ERR_FORMAT, "restricted");
    CHECK(paylock_openpaygo_verify(7, &secret, &state, token, 9, &out) == PAYLOCK_ERR_ARGUMENT, "unknown form");
    secret.starting_code = 1000000000u;
    CHECK(paylock_openpaygo_verify_standard(&secret, &state, token, 9, NULL) == PAYLOCK_ERR_ARGUMENT, "starting code");
    CHECK(memcmp(&state, &before, sizeof state) == 0, "an error changed the state");
}

int main(void) {
    char line[512];
    int entries = 0, carried = 0, valid = 0;
    PaylockOpenPaygoState carry = {0};
    char carry_key[40] = "";
    uint32_t carry_sc = 0;
    while (fgets(line, sizeof line, stdin)) {
        int form;
        char key_hex[40], token[32], status[16], value_s[16], count_s[16];
        uint32_t sc, max, used, max_after, used_after;
        if (sscanf(line, "%d %39s %" SCNu32 " %" SCNu32 " %" SCNu32 " %31s %15s %15s %15s %" SCNu32 " %" SCNu32,
                   &form, key_hex, &sc, &max, &used, token, status, value_s, count_s, &max_after, &used_after) != 11) {
            CHECK(0, "unreadable line: %s", line);
            continue;
        }
        PaylockOpenPaygoSecret secret;
        hex_key(key_hex, secret.key);
        secret.starting_code = sc;
        PaylockOpenPaygoState state = {0};
        state.max_count = max;
        state.used_counts = (uint16_t)used;
        if (strcmp(key_hex, carry_key) == 0 && sc == carry_sc && carry.max_count == max && carry.used_counts == used) {
            state = carry; /* the device's own state, chain point included */
            carried += state.has_point;
        }
        PaylockOpenPaygoState runtime = state;
        PaylockOpenPaygoActivation a = {0}, b = {0};
        size_t len = strlen(token);
        int got = form == 0
            ? paylock_openpaygo_verify_standard(&secret, &state, (const uint8_t *)token, len, &a)
            : paylock_openpaygo_verify_standard_restricted(&secret, &state, (const uint8_t *)token, len, &a);
        int again = paylock_openpaygo_verify(form == 0 ? PAYLOCK_OPENPAYGO_STANDARD : PAYLOCK_OPENPAYGO_STANDARD_RESTRICTED,
                                             &secret, &runtime, (const uint8_t *)token, len, &b);
        int want = status_of(status);
        entries++;
        CHECK(got == want, "line %d token %s: status %d, want %s", entries, token, got, status);
        CHECK(again == got && memcmp(&runtime, &state, sizeof state) == 0 && memcmp(&a, &b, sizeof a) == 0,
              "line %d: the run-time form disagrees", entries);
        if (got == PAYLOCK_VALID && want == PAYLOCK_VALID) {
            valid++;
            CHECK(a.value == strtoul(value_s, NULL, 10) && a.count == strtoul(count_s, NULL, 10),
                  "line %d: value %" PRIu32 " count %" PRIu32 ", want %s %s", entries, a.value, a.count, value_s, count_s);
        }
        CHECK(state.max_count == max_after && state.used_counts == used_after,
              "line %d: state %" PRIu32 "/%u, want %" PRIu32 "/%" PRIu32, entries, state.max_count,
              (unsigned)state.used_counts, max_after, used_after);
        carry = state;
        carry_sc = sc;
        snprintf(carry_key, sizeof carry_key, "%s", key_hex);
    }
    boundary();
    printf("openpaygo native API: %d entries (%d valid, %d from a carried chain point), %d failures\n",
           entries, valid, carried, failures);
    return failures != 0 || entries != 444;
}

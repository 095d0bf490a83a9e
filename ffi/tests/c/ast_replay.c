/*
 * Replays the published AST v1 decode vectors (lines from ffi/tests/ast_lines.py on stdin)
 * through paylock.h's paylock_ast_verify, all three suites: verdict, token type, counter,
 * value, retry time and the whole state after must be the vector's. Then the boundary.
 * Built with -fsanitize=address,undefined.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "paylock.h"


/* Reads a state's 9 fields from `*p` (advancing it); 0 on a malformed line. */
static int read_state(char **p, PaylockAstState *s) {
    char used[32], params[128];
    unsigned mode, fails, count;
    uint32_t max, credit, lock, window;
    int n = 0;
    if (sscanf(*p, "%" SCNu32 " %31s %u %" SCNu32 " %u %" SCNu32 " %" SCNu32 " %u %127s%n", &max, used, &mode,
               &credit, &fails, &lock, &window, &count, params, &n) != 9)
        return 0;
    *p += n;
    memset(s, 0, sizeof *s);
    s->max_counter = max;
    s->used = strtoull(used, NULL, 16);
    s->mode = (uint8_t)mode;
    s->credit = credit;
    s->fails = (uint8_t)fails;
    s->lock_until = lock;
    s->test_window_start = window;
    s->test_count = (uint8_t)count;
    if (strcmp(params, "-") != 0) {
        for (char *item = strtok(params, ","); item; item = strtok(NULL, ",")) {
            unsigned id, value;
            if (sscanf(item, "%u=%u", &id, &value) != 2 || id > 15) return 0;
            s->params[id] = (uint16_t)value;
            s->params_set |= (uint16_t)(1u << id);
        }
    }
    return 1;
}

static int status_of(const char *s) {
    if (!strcmp(s, "APPLIED")) return PAYLOCK_AST_APPLIED;
    if (!strcmp(s, "DUPLICATE")) return PAYLOCK_AST_DUPLICATE;
    if (!strcmp(s, "INVALID")) return PAYLOCK_AST_INVALID;
    if (!strcmp(s, "MALFORMED")) return PAYLOCK_AST_MALFORMED;
    if (!strcmp(s, "LOCKED")) return PAYLOCK_AST_LOCKED;
    return -100;
}

static void boundary(void) {
    PaylockAstSecret secret = {{0}, 7, 2, 0, 0, 0};
    PaylockAstState state = {0}, before = {0};
    PaylockAstResult r;
    const uint8_t token[] = "12345678901234567890";
    CHECK(paylock_ast_verify(NULL, &state, token, 20, 0, &r) == PAYLOCK_ERR_NULL, "null secret");
    CHECK(paylock_ast_verify(&secret, NULL, token, 20, 0, &r) == PAYLOCK_ERR_NULL, "null state");
    CHECK(paylock_ast_verify(&secret, &state, NULL, 20, 0, &r) == PAYLOCK_ERR_NULL, "null token");
    secret.suite = 9;
    CHECK(paylock_ast_verify(&secret, &state, token, 20, 0, &r) == PAYLOCK_ERR_ARGUMENT, "unknown suite");
    secret.suite = 2;
    secret.device_id = 0xFFFFFFFFu;
    CHECK(paylock_ast_verify(&secret, &state, token, 20, 0, &r) == PAYLOCK_ERR_ARGUMENT, "TEST device id");
    secret.device_id = 7;
    CHECK(paylock_ast_verify(&secret, &state, token, 5, 0, NULL) == PAYLOCK_AST_MALFORMED, "short token");
    CHECK(memcmp(&state, &before, sizeof state) == 0, "an error or a malformed token changed the state");
}

int main(void) {
    char line[1024];
    int cases = 0;
    while (fgets(line, sizeof line, stdin)) {
        unsigned suite, profile, key_rev, unit;
        uint32_t device_id, now;
        char key_hex[40], input[96], status[16], type_s[8], counter_s[16], value_s[16], retry_s[16];
        int n = 0;
        if (sscanf(line, "%u %u %" SCNu32 " %39s %u %u%n", &suite, &profile, &device_id, key_hex, &key_rev, &unit, &n) != 6) {
            CHECK(0, "unreadable line: %s", line);
            continue;
        }
        char *p = line + n;
        PaylockAstState state, want;
        int m = 0;
        if (!read_state(&p, &state) ||
            sscanf(p, "%95s %" SCNu32 " %15s %7s %15s %15s %15s%n", input, &now, status, type_s, counter_s, value_s, retry_s, &m) != 7) {
            CHECK(0, "unreadable line: %s", line);
            continue;
        }
        p += m;
        if (!read_state(&p, &want)) {
            CHECK(0, "unreadable state after: %s", line);
            continue;
        }
        PaylockAstSecret secret = {{0}, device_id, (uint8_t)suite, (uint8_t)profile, (uint8_t)key_rev, (uint8_t)unit};
        for (int i = 0; i < 16; i++) {
            unsigned byte;
            sscanf(key_hex + 2 * i, "%2x", &byte);
            secret.key[i] = (uint8_t)byte;
        }
        if (!strcmp(input, "@")) input[0] = 0;
        for (char *c = input; *c; c++)
            if (*c == '~') *c = ' ';
        PaylockAstResult r = {0};
        cases++;
        int got = paylock_ast_verify(&secret, &state, (const uint8_t *)input, strlen(input), now, &r);
        CHECK(got == status_of(status), "case %d (%s): verdict %d, want %s", cases, input, got, status);
        if (strcmp(type_s, "-") != 0) {
            CHECK(r.token_type == strtoul(type_s, NULL, 10) && r.counter == strtoul(counter_s, NULL, 10) &&
                      r.value == strtoul(value_s, NULL, 10),
                  "case %d: type %" PRIu32 " counter %" PRIu32 " value %" PRIu32 ", want %s %s %s", cases, r.token_type,
                  r.counter, r.value, type_s, counter_s, value_s);
        }
        if (strcmp(retry_s, "-") != 0) {
            CHECK(r.retry_at == strtoul(retry_s, NULL, 10), "case %d: retry %" PRIu32 ", want %s", cases, r.retry_at, retry_s);
        }
        CHECK(memcmp(&state, &want, sizeof state) == 0, "case %d (%s): state after differs", cases, input);
    }
    boundary();
    printf("AST native API: %d cases (3 suites), %d failures\n", cases, failures);
    return failures != 0 || cases != 294;
}

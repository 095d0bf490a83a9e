/*
 * Replays the published Nexus device vectors (lines from ffi/tests/nexus_lines.py on stdin)
 * through paylock.h's Nexus API: a product behind a PaylockNexusPort of C function pointers
 * (credit, PAYG state, feedback, restricted flag, passthrough, NV write), whole codes and key
 * by key. Every response, platform call, feedback and the state after must be the vector's,
 * and every state change must reach nv_write. Then the boundary: null pointers, a missing
 * required port function, a device never initialised. Built with -fsanitize=address,undefined.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "paylock.h"


typedef struct Product {
    uint64_t credit;
    int unlocked;
    char calls[1024];
    char feedback[512];
    int keys_feedback; /* 1: record KEY_ACCEPTED / KEY_REJECTED too */
    PaylockNexusState saved;
    int writes;
} Product;

static void append(char *buf, size_t cap, const char *item) {
    size_t len = strlen(buf);
    snprintf(buf + len, cap - len, "%s%s", len ? "," : "", item);
}

static uint8_t payg_state_get(void *ctx) {
    Product *p = ctx;
    return p->unlocked ? PAYLOCK_NEXUS_PAYG_UNLOCKED : p->credit ? PAYLOCK_NEXUS_PAYG_ENABLED : PAYLOCK_NEXUS_PAYG_DISABLED;
}
static void credit_add(void *ctx, uint32_t s) {
    Product *p = ctx;
    char item[32];
    snprintf(item, sizeof item, "add:%" PRIu32, s);
    append(p->calls, sizeof p->calls, item);
    p->credit += s;
}
static void credit_set(void *ctx, uint32_t s) {
    Product *p = ctx;
    char item[32];
    snprintf(item, sizeof item, "set:%" PRIu32, s);
    append(p->calls, sizeof p->calls, item);
    p->credit = s;
    p->unlocked = 0;
}
static void credit_unlock(void *ctx) {
    Product *p = ctx;
    append(p->calls, sizeof p->calls, "unlock");
    p->unlocked = 1;
}
static uint32_t user_facing_id(void *ctx) {
    (void)ctx;
    return 123456789u;
}
static void feedback_start(void *ctx, uint8_t f) {
    static const char *names[] = {"?", "MESSAGE_INVALID", "MESSAGE_VALID", "?", "MESSAGE_APPLIED",
                                  "KEY_ACCEPTED", "KEY_REJECTED", "DISPLAY_SERIAL_ID"};
    Product *p = ctx;
    if ((f == 5 || f == 6) && !p->keys_feedback) return;
    append(p->feedback, sizeof p->feedback, f < 8 ? names[f] : "?");
}
static void flag_changed(void *ctx, uint8_t v) {
    Product *p = ctx;
    append(p->calls, sizeof p->calls, v ? "flag:1" : "flag:0");
}
static uint8_t passthrough(void *ctx, const uint8_t *digits, size_t len) {
    Product *p = ctx;
    char item[96] = "passthrough:";
    size_t at = strlen(item);
    for (size_t i = 0; i < len && at + 1 < sizeof item; i++) item[at++] = (char)digits[i];
    item[at] = 0;
    append(p->calls, sizeof p->calls, item);
    return 1;
}
static void nv_write(void *ctx, const PaylockNexusState *s) {
    Product *p = ctx;
    p->saved = *s;
    p->writes++;
}

static const char *response_name(int r) {
    switch (r) {
    case PAYLOCK_NEXUS_INVALID: return "INVALID";
    case PAYLOCK_NEXUS_VALID_DUPLICATE: return "VALID_DUPLICATE";
    case PAYLOCK_NEXUS_VALID_APPLIED: return "VALID_APPLIED";
    case PAYLOCK_NEXUS_DISPLAY_DEVICE_ID: return "DISPLAY_DEVICE_ID";
    case PAYLOCK_NEXUS_NONE: return "NONE";
    case PAYLOCK_NEXUS_PENDING: return "PENDING";
    default: return "ERROR";
    }
}

static PaylockNexusPort port_for(Product *p) {
    PaylockNexusPort port = {p, payg_state_get, credit_add, credit_set, credit_unlock, user_facing_id,
                             feedback_start, flag_changed, passthrough, nv_write};
    return port;
}

static void boundary(void) {
    Product p = {0};
    PaylockNexusPort port = port_for(&p);
    PaylockNexusState state;
    PaylockNexusDevice dev;
    PaylockNexusConfig config = {PAYLOCK_NEXUS_FULL, 5, 5, 1, 1, 16};
    uint8_t key[16] = {0};
    CHECK(paylock_nexus_state_fresh(&state) == 0 && state.pd_index == 23, "fresh state");
    memset(&dev, 0, sizeof dev);
    CHECK(paylock_nexus_press_key(&dev, key, &state, &port, '*', 0, NULL) == PAYLOCK_ERR_ARGUMENT, "uninitialised device");
    config.protocol = 9;
    CHECK(paylock_nexus_init(&dev, &config, &state) == PAYLOCK_ERR_ARGUMENT, "unknown protocol");
    config.protocol = PAYLOCK_NEXUS_FULL;
    CHECK(paylock_nexus_init(NULL, &config, &state) == PAYLOCK_ERR_NULL, "null device");
    CHECK(paylock_nexus_init(&dev, &config, &state) == 0, "init");
    CHECK(paylock_nexus_press_key(&dev, NULL, &state, &port, '*', 0, NULL) == PAYLOCK_ERR_NULL, "null key");
    CHECK(paylock_nexus_enter_keycode(&dev, key, &state, &port, NULL, 3, 0, NULL) == PAYLOCK_ERR_NULL, "null keys");
    port.payg_credit_add = NULL;
    CHECK(paylock_nexus_press_key(&dev, key, &state, &port, '*', 0, NULL) == PAYLOCK_ERR_NULL, "missing add");
    port = port_for(&p);
    /* A garbage code and the rate limiter: 6 grace attempts, then keys are refused. */
    int limited = 0;
    for (int i = 0; i < 10; i++) {
        int r = paylock_nexus_enter_keycode(&dev, key, &state, &port, (const uint8_t *)"*12345678901234#", 16, 0, NULL);
        limited += r == PAYLOCK_NEXUS_INVALID;
    }
    CHECK(limited == 10 && state.grace_keycodes == 0 && p.writes > 0 && p.saved.grace_keycodes == 0,
          "rate limit: grace %u, writes %d", (unsigned)state.grace_keycodes, p.writes);
}

int main(void) {
    char line[1024];
    int entries = 0, keyed = 0;
    Product product = {0};
    PaylockNexusState state = {0};
    PaylockNexusDevice dev;
    uint8_t key[16] = {0};
    int protocol = 0;
    while (fgets(line, sizeof line, stdin)) {
        char mode[16], key_hex[40], keys[64], resp[32], calls[512], fb[256], recv[16], payg[16];
        unsigned pd, qs, ql, restricted, unlocked;
        unsigned long long credit;
        if (sscanf(line, "device %d %39s %u %15s %u %u %u %llu %u", &protocol, key_hex, &pd, recv, &qs, &ql,
                   &restricted, &credit, &unlocked) == 9) {
            hex_key(key_hex, key);
            paylock_nexus_state_fresh(&state);
            state.pd_index = pd;
            state.received = (uint32_t)strtoul(recv, NULL, 16);
            state.qc_short_count = (uint8_t)qs;
            state.qc_long_count = (uint8_t)ql;
            state.restricted = (uint8_t)restricted;
            memset(&product, 0, sizeof product);
            product.credit = credit;
            product.unlocked = (int)unlocked;
            PaylockNexusConfig config = {(uint8_t)protocol, 5, 5, 0, 1, 16};
            CHECK(paylock_nexus_init(&dev, &config, &state) == 0, "init");
            continue;
        }
        if (strncmp(line, "flag", 4) == 0) {
            state.restricted = 1;
            continue;
        }
        if (sscanf(line, "%15s %63s %31s %511s %255s %u %15s %llu %u %15s %u %u %u", mode, keys, resp, calls, fb,
                   &pd, recv, &credit, &unlocked, payg, &qs, &ql, &restricted) != 13) {
            CHECK(0, "unreadable line: %s", line);
            continue;
        }
        entries++;
        PaylockNexusPort port = port_for(&product);
        product.calls[0] = product.feedback[0] = 0;
        product.writes = 0;
        PaylockNexusState before = state;
        int r;
        if (strcmp(mode, "enter") == 0) {
            r = paylock_nexus_enter_keycode(&dev, key, &state, &port, (const uint8_t *)keys, strlen(keys),
                                            (uint32_t)entries * 100u, NULL);
        } else {
            keyed++;
            r = PAYLOCK_NEXUS_PENDING;
            for (size_t i = 0; keys[i]; i++) {
                int k = paylock_nexus_press_key(&dev, key, &state, &port, (uint8_t)keys[i], (uint32_t)i, NULL);
                CHECK(k == PAYLOCK_NEXUS_PENDING || keys[i + 1] == 0, "line %d: finished early at key %zu", entries, i);
                r = k;
            }
        }
        CHECK(strcmp(response_name(r), resp) == 0, "line %d %s %s: %s, want %s", entries, mode, keys, response_name(r), resp);
        CHECK(strcmp(product.calls[0] ? product.calls : "-", calls) == 0, "line %d: calls %s, want %s", entries,
              product.calls, calls);
        CHECK(strcmp(product.feedback[0] ? product.feedback : "-", fb) == 0, "line %d: feedback %s, want %s",
              entries, product.feedback, fb);
        char got_recv[16];
        snprintf(got_recv, sizeof got_recv, "%06" PRIx32, state.received);
        const char *got_payg = payg_state_get(&product) == PAYLOCK_NEXUS_PAYG_UNLOCKED ? "UNLOCKED"
                               : payg_state_get(&product) == PAYLOCK_NEXUS_PAYG_ENABLED ? "ENABLED" : "DISABLED";
        CHECK(state.pd_index == pd && strcmp(got_recv, recv) == 0 && product.credit == credit &&
                  product.unlocked == (int)unlocked && strcmp(got_payg, payg) == 0 && state.qc_short_count == qs &&
                  state.qc_long_count == ql && state.restricted == restricted,
              "line %d: state after %s", entries, keys);
        int changed = memcmp(&before, &state, sizeof state) != 0;
        CHECK(changed == (product.writes > 0) && (!changed || memcmp(&product.saved, &state, sizeof state) == 0),
              "line %d: nv_write %d times for a change %d", entries, product.writes, changed);
    }
    boundary();
    printf("nexus native API: %d codes (%d typed key by key), %d failures\n", entries, keyed, failures);
    return failures != 0 || entries != 691;
}

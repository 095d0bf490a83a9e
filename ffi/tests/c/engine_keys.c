/*
 * The key-entry rules of the Nexus device-lock engine fed key by key
 * (paylock_nexus_engine_press_key), as spec §6 states them for nexus-embedded's keypad:
 * - keys before a start key are rejected, and so is every key after an end key until the next
 *   start key;
 * - the start key (`*`, small `1`) pressed inside a code restarts it: a half-typed code before
 *   a published one does not spoil it;
 * - more than ENTRY_TIMEOUT (16 s, the configuration's default) between two keys drops the
 *   code silently (its keys write nothing, nothing is counted), exactly 16 s does not; the
 *   timeout runs from the last key, not from the start key;
 * - a frame longer than 30 keys is INVALID: nothing is written while it is typed, and its end
 *   key counts one wrong code, the same writes and verdict as that whole code entered at once;
 * - a reboot drops a half-typed code.
 * Then the boundary: null, never booted and other schemes' engines are error codes. Tokens and
 * credits are published vectors (SCEN-FULL-WINDOW and SCEN-SMALL-WINDOW steps 1 and 3).
 * Built with -fsanitize=address,undefined.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "support.h"
#include "flash.h"

static const PaylockEngineConfig CONFIG = {0, 1, 0, 3600};
static const uint8_t NX_KEY[16] = {0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef,
                                   0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef};
static const PaylockNexusConfig NX_FULL = {PAYLOCK_NEXUS_FULL, 5, 5, 1, 0, 16};
static const PaylockNexusConfig NX_SMALL = {PAYLOCK_NEXUS_SMALL, 5, 5, 1, 0, 16};
/* SCEN-FULL-WINDOW steps 1 and 3: one day, then two more; SCEN-SMALL-WINDOW steps 1 and 3. */
#define FULL_T1 "*86350364459508#"
#define FULL_T2 "*52513129112624#"
#define SMALL_T1 "155334523533432"
#define FULL_T1_CREDIT 86400u
#define FULL_T2_CREDIT (259200u - 86400u)
#define SMALL_T1_CREDIT 86400u
#define TIMEOUT 16u /* spec §6: ENTRY_TIMEOUT, 16 s by default */

typedef struct Device {
    PaylockNexusEngine engine;
    Flash flash;
} Device;

static void boot(Device *d, const PaylockNexusConfig *nexus, int blank, uint32_t clock) {
    PaylockStoragePort port = flash_port(&d->flash, SLOT_LEN);
    if (blank) flash_blank(&d->flash);
    int32_t found = -1;
    CHECK(paylock_nexus_engine_boot(&d->engine, NX_KEY, nexus, 123456789u, &CONFIG, &port, clock, &found) == 0,
          "boot (%d)", found);
}

/* One key; returns its entry's kind (or -100 + the error code). */
static int press(Device *d, char key, uint32_t clock, PaylockEntry *out) {
    PaylockEntry e = {-1, 0, 0, 0, 0};
    int32_t r = paylock_nexus_engine_press_key(&d->engine, (uint8_t)key, clock, &e);
    if (out) *out = e;
    return r == 0 ? e.kind : -100 + r;
}

/* Every key of `keys` at `clock` must answer `kind` and write nothing. */
static void keys_answer(Device *d, const char *keys, uint32_t clock, int kind, const char *what) {
    for (size_t i = 0; keys[i]; i++) {
        long programs = d->flash.programs;
        int got = press(d, keys[i], clock, NULL);
        CHECK(got == kind && d->flash.programs == programs, "%s: key %zu '%c' gave %d (want %d), %ld writes", what, i,
              keys[i], got, kind, d->flash.programs - programs);
    }
}

/* `keys` at `clock`: all but the last PENDING with no write; the last key's entry into `out`. */
static int code(Device *d, const char *keys, uint32_t clock, PaylockEntry *out) {
    size_t n = strlen(keys);
    char head[64];
    snprintf(head, sizeof head, "%.*s", (int)(n - 1), keys);
    keys_answer(d, head, clock, PAYLOCK_ENTRY_PENDING, keys);
    return press(d, keys[n - 1], clock, out);
}

static uint32_t credit(Device *d, uint32_t clock) {
    PaylockStatus st;
    CHECK(paylock_nexus_engine_status(&d->engine, clock, &st) == 0, "status");
    return st.credit_seconds_left;
}

static void rejected_keys(void) {
    Device d;
    PaylockEntry e;
    boot(&d, &NX_FULL, 1, 0);
    keys_answer(&d, "86350364459508#", 10, PAYLOCK_ENTRY_KEY_REJECTED, "no start key");
    CHECK(code(&d, FULL_T1, 10, &e) == PAYLOCK_ENTRY_APPLIED && e.seconds == FULL_T1_CREDIT, "t1 after rejected keys");
    long programs = d.flash.programs;
    keys_answer(&d, "5250#", 11, PAYLOCK_ENTRY_KEY_REJECTED, "keys after an end key");
    CHECK(press(&d, ' ', 11, NULL) == PAYLOCK_ENTRY_KEY_REJECTED, "space");
    CHECK(d.flash.programs == programs, "keys outside a code wrote");
    CHECK(code(&d, FULL_T1, 12, &e) == PAYLOCK_ENTRY_DUPLICATE, "t1 again: %d", e.kind);
}

static void restart(void) {
    Device d;
    PaylockEntry e;
    boot(&d, &NX_FULL, 1, 0);
    /* A half-typed code, restarted twice by the start key, then a published one. */
    CHECK(code(&d, "*1234*99999" FULL_T1, 10, &e) == PAYLOCK_ENTRY_APPLIED && e.seconds == FULL_T1_CREDIT &&
              credit(&d, 10) == FULL_T1_CREDIT,
          "full: restarted code: kind %d, %" PRIu32 " s", e.kind, e.seconds);
    boot(&d, &NX_SMALL, 1, 0);
    CHECK(code(&d, "12345" SMALL_T1, 10, &e) == PAYLOCK_ENTRY_APPLIED && e.seconds == SMALL_T1_CREDIT &&
              credit(&d, 10) == SMALL_T1_CREDIT,
          "small: restarted code: kind %d, %" PRIu32 " s", e.kind, e.seconds);
}

/* FULL_T1 typed from `clock` with `gap` seconds before key `at` (other keys 1 s apart). */
static int typed_with_gap(Device *d, uint32_t clock, size_t at, uint32_t gap, PaylockEntry *out) {
    const char *keys = FULL_T1;
    size_t n = strlen(keys);
    int kind = -1;
    for (size_t i = 0; i < n; i++) {
        clock += i == at ? gap : 1;
        long programs = d->flash.programs;
        kind = press(d, keys[i], clock, out);
        if (i + 1 < n)
            CHECK(d->flash.programs == programs && (kind == PAYLOCK_ENTRY_PENDING || kind == PAYLOCK_ENTRY_KEY_REJECTED),
                  "key %zu after a gap of %" PRIu32 " s: %d", i, gap, kind);
    }
    return kind;
}

static void timeout(void) {
    Device d;
    PaylockEntry e;
    /* Exactly the timeout between two keys: the code stands. */
    boot(&d, &NX_FULL, 1, 0);
    CHECK(typed_with_gap(&d, 100, 7, TIMEOUT, &e) == PAYLOCK_ENTRY_APPLIED && e.seconds == FULL_T1_CREDIT,
          "a %u s gap dropped the code (%d)", TIMEOUT, e.kind);
    /* One second more: the half code is dropped, its remaining keys are rejected, nothing is
     * counted (the token applies afterwards, all six attempts remain). */
    boot(&d, &NX_FULL, 1, 0);
    long programs = d.flash.programs;
    CHECK(typed_with_gap(&d, 100, 7, TIMEOUT + 1, &e) == PAYLOCK_ENTRY_KEY_REJECTED && d.flash.programs == programs,
          "a %u s gap kept the code (%d)", TIMEOUT + 1, e.kind);
    for (int i = 0; i < 5; i++)
        CHECK(code(&d, "*69979149319443#", 200, &e) == PAYLOCK_ENTRY_INVALID, "wrong code %d: %d", i + 1, e.kind);
    CHECK(code(&d, FULL_T1, 200, &e) == PAYLOCK_ENTRY_APPLIED && e.seconds == FULL_T1_CREDIT,
          "the dropped code was counted (%d)", e.kind);
    /* The gap at the end key, and a timeout measured from the last key, not the start key. */
    boot(&d, &NX_FULL, 1, 0);
    CHECK(typed_with_gap(&d, 100, 15, TIMEOUT + 1, &e) == PAYLOCK_ENTRY_KEY_REJECTED, "late end key: %d", e.kind);
    uint32_t clock = 1000;
    for (const char *k = FULL_T1; *k; k++) {
        clock += TIMEOUT - 1;
        press(&d, *k, clock, &e);
    }
    CHECK(e.kind == PAYLOCK_ENTRY_APPLIED && credit(&d, clock) == FULL_T1_CREDIT,
          "keys %u s apart, %" PRIu32 " s in all: %d", TIMEOUT - 1, clock - 1000, e.kind);
}

static void too_long(void) {
    const char *over = "*1111111111111111111111111111111#"; /* 31 keys (NEG: a frame over 30) */
    Device keys, whole;
    PaylockEntry e, w;
    boot(&keys, &NX_FULL, 1, 0);
    boot(&whole, &NX_FULL, 1, 0);
    long programs = keys.flash.programs;
    int kind = code(&keys, over, 10, &e);
    CHECK(kind == PAYLOCK_ENTRY_INVALID && keys.flash.programs == programs + 1,
          "31 keys: %d, %ld writes (one counted attempt)", kind, keys.flash.programs - programs);
    CHECK(paylock_nexus_engine_enter(&whole.engine, (const uint8_t *)over, strlen(over), 10, &w) == 0 &&
              w.kind == e.kind && whole.flash.programs == keys.flash.programs &&
              memcmp(whole.flash.slot, keys.flash.slot, sizeof whole.flash.slot) == 0,
          "key by key and whole differ: %d / %d, %ld / %ld writes", e.kind, w.kind, keys.flash.programs,
          whole.flash.programs);
    /* Keys far past 30 still write nothing; the bucket (6 attempts) then locks out. */
    programs = keys.flash.programs;
    keys_answer(&keys, "*11111111111111111111111111111111111111111111111111", 20, PAYLOCK_ENTRY_PENDING, "50 keys");
    CHECK(keys.flash.programs == programs, "keys past 30 wrote");
    CHECK(press(&keys, '#', 20, &e) == PAYLOCK_ENTRY_INVALID, "second over-long code: %d", e.kind);
    for (int i = 0; i < 4; i++) code(&keys, over, 30, &e);
    CHECK(e.kind == PAYLOCK_ENTRY_INVALID, "sixth attempt: %d", e.kind);
    CHECK(code(&keys, FULL_T1, 30, &e) == PAYLOCK_ENTRY_LOCKED_OUT && e.seconds_left > 0 && e.seconds_left <= 720,
          "locked out after six: %d, %" PRIu32 " s", e.kind, e.seconds_left);
}

static void reboot_drops_a_half_code(void) {
    Device d;
    PaylockEntry e;
    boot(&d, &NX_FULL, 1, 0);
    keys_answer(&d, "*8635036", 10, PAYLOCK_ENTRY_PENDING, "half code");
    boot(&d, &NX_FULL, 0, 10);
    keys_answer(&d, "4459508#", 10, PAYLOCK_ENTRY_KEY_REJECTED, "after a reboot");
    CHECK(code(&d, FULL_T2, 10, &e) == PAYLOCK_ENTRY_APPLIED && e.seconds == FULL_T2_CREDIT, "t2: %d", e.kind);
}

static void boundary(void) {
    Device d;
    PaylockEntry e;
    union {
        PaylockNexusEngine nexus;
        PaylockOpenPaygoEngine openpaygo;
        PaylockAstEngine ast;
    } other;
    memset(&d, 0, sizeof d);
    CHECK(paylock_nexus_engine_press_key(NULL, '*', 0, &e) == PAYLOCK_ERR_NULL, "null engine");
    CHECK(paylock_nexus_engine_press_key(&d.engine, '*', 0, &e) == PAYLOCK_ERR_ARGUMENT, "never booted");
    boot(&d, &NX_FULL, 1, 0);
    CHECK(paylock_nexus_engine_press_key(&d.engine, '*', 0, NULL) == PAYLOCK_ERR_NULL, "null entry");
    PaylockOpenPaygoSecret op = {{0}, 123456789u};
    Flash f;
    flash_blank(&f);
    PaylockStoragePort port = flash_port(&f, SLOT_LEN);
    CHECK(paylock_openpaygo_engine_boot(&other.openpaygo, &op, &CONFIG, &port, 0, NULL) == 0, "OpenPAYGO boot");
    CHECK(paylock_nexus_engine_press_key(&other.nexus, '*', 0, &e) == PAYLOCK_ERR_ARGUMENT, "OpenPAYGO engine");
    PaylockAstSecret ast = {{0}, 1u, 2, 0, 0, 0};
    flash_blank(&f);
    CHECK(paylock_ast_engine_boot(&other.ast, &ast, &CONFIG, &port, 0, NULL) == 0, "AST boot");
    CHECK(paylock_nexus_engine_press_key(&other.nexus, '*', 0, &e) == PAYLOCK_ERR_ARGUMENT, "AST engine");
    /* The keys before the errors above were not taken: the code still goes in whole. */
    CHECK(code(&d, FULL_T1, 10, &e) == PAYLOCK_ENTRY_APPLIED, "after the errors: %d", e.kind);
}

int main(void) {
    rejected_keys();
    restart();
    timeout();
    too_long();
    reboot_drops_a_half_code();
    boundary();
    printf("engine key entry: rejected keys, restarts, the %u s timeout, over-long codes, reboots, boundary: "
           "%d failures\n",
           TIMEOUT, failures);
    return failures != 0;
}

/*
 * The device fault suite's power-cut scenario through paylock.h's device-lock engine: an
 * OpenPAYGO device on two RAM "flash" slots behind a PaylockStoragePort whose programming
 * stops after N bytes (the power fails mid-write; the call reports an error). For every N from
 * 0 to past both writes of an applied token: enter a first token, cut power N bytes into the
 * second's writes, boot again from whatever the slots hold, and enter the second token again.
 * It must count exactly once: DUPLICATE if it had taken effect, APPLIED otherwise, and the
 * credit must be the two tokens' whatever N was; boot is never CORRUPT. Then the boundary.
 * Built with -fsanitize=address,undefined.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "support.h"
#include "paylock.h"

#define SLOT_LEN 64
#define DAY 86400u


typedef struct Flash {
    uint8_t slot[2][SLOT_LEN];
    long budget; /* bytes that may still be programmed; < 0: no limit */
    long programmed;
} Flash;

static int32_t flash_read(void *ctx, uint8_t slot, size_t offset, uint8_t *buf, size_t len) {
    Flash *f = ctx;
    if (slot > 1 || offset > SLOT_LEN || len > SLOT_LEN - offset) return -1;
    memcpy(buf, f->slot[slot] + offset, len);
    return 0;
}
static int32_t flash_erase(void *ctx, uint8_t slot) {
    Flash *f = ctx;
    if (slot > 1) return -1;
    if (f->budget == 0) return -1; /* no power left to erase */
    memset(f->slot[slot], 0xFF, SLOT_LEN);
    return 0;
}
static int32_t flash_program(void *ctx, uint8_t slot, size_t offset, const uint8_t *data, size_t len) {
    Flash *f = ctx;
    if (slot > 1 || offset > SLOT_LEN || len > SLOT_LEN - offset) return -1;
    for (size_t i = 0; i < len; i++) {
        if (f->budget == 0) return -1; /* the power fails here */
        f->slot[slot][offset + i] = data[i];
        f->programmed++;
        if (f->budget > 0) f->budget--;
    }
    return 0;
}

static const PaylockOpenPaygoSecret SECRET = {
    {0xa2, 0x9a, 0xb8, 0x2e, 0xdc, 0x5f, 0xbb, 0xc4, 0x1e, 0xc9, 0x53, 0x0f, 0x6d, 0xac, 0x86, 0xb1}, 123456789u};
static const PaylockEngineConfig CONFIG = {0, 1, 0, 3600};
/* The published doc_quick_test tokens: ADD 1 day at count 2, ADD 29 days at count 4. */
static const char *T1 = "662486790", *T2 = "927706818";

static int boot(PaylockOpenPaygoEngine *e, Flash *f, uint32_t clock, int32_t *found) {
    PaylockStoragePort port = {f, SLOT_LEN, flash_read, flash_erase, flash_program};
    return paylock_openpaygo_engine_boot(e, &SECRET, &CONFIG, &port, clock, found);
}

static int enter(PaylockOpenPaygoEngine *e, const char *t, uint32_t clock, PaylockEntry *out) {
    return paylock_openpaygo_engine_enter(e, (const uint8_t *)t, strlen(t), clock, out);
}

static void boundary(void) {
    PaylockOpenPaygoEngine e;
    PaylockEntry entry;
    PaylockStatus status;
    Flash f;
    memset(&f, 0xFF, sizeof f.slot);
    f.budget = -1;
    memset(&e, 0, sizeof e);
    CHECK(enter(&e, T1, 0, &entry) == PAYLOCK_ERR_ARGUMENT, "an engine never booted");
    CHECK(paylock_openpaygo_engine_status(&e, 0, &status) == PAYLOCK_ERR_ARGUMENT, "status before boot");
    PaylockStoragePort port = {&f, SLOT_LEN, flash_read, NULL, flash_program};
    CHECK(paylock_openpaygo_engine_boot(&e, &SECRET, &CONFIG, &port, 0, NULL) == PAYLOCK_ERR_NULL, "no erase");
    port.erase = flash_erase;
    port.slot_len = PAYLOCK_OPENPAYGO_RECORD_SIZE - 1;
    CHECK(paylock_openpaygo_engine_boot(&e, &SECRET, &CONFIG, &port, 0, NULL) == PAYLOCK_ERR_ARGUMENT, "small slots");
    CHECK(boot(&e, &f, 0, NULL) == 0, "boot");
    CHECK(paylock_openpaygo_engine_enter(&e, NULL, 9, 0, &entry) == PAYLOCK_ERR_NULL, "null token");
    CHECK(enter(&e, "12345", 0, &entry) == 0 && entry.kind == PAYLOCK_ENTRY_MALFORMED, "malformed");
    /* Wrong codes: two free, then the lockout; it survives a reboot. */
    int kinds[4];
    for (int i = 0; i < 4; i++) {
        CHECK(enter(&e, "111111111", 100, &entry) == 0, "wrong code");
        kinds[i] = entry.kind;
    }
    CHECK(kinds[0] == PAYLOCK_ENTRY_INVALID && kinds[2] == PAYLOCK_ENTRY_INVALID && kinds[3] == PAYLOCK_ENTRY_LOCKED_OUT,
          "lockout: %d %d %d %d", kinds[0], kinds[1], kinds[2], kinds[3]);
    CHECK(boot(&e, &f, 110, NULL) == 0 && enter(&e, T1, 110, &entry) == 0 && entry.kind == PAYLOCK_ENTRY_LOCKED_OUT,
          "the lockout survives a reboot (%d)", entry.kind);
    /* A slot damaged by hand (not a power cut): the MAC refuses it, the other slot serves. */
    f.slot[0][10] ^= 1;
    f.slot[1][10] ^= 1;
    int32_t found = -1;
    CHECK(boot(&e, &f, 120, &found) == 0 && found == PAYLOCK_BOOT_CORRUPT, "tampered slots: %d", found);
    CHECK(enter(&e, T1, 120, &entry) == 0 && entry.kind == PAYLOCK_ENTRY_UNAVAILABLE, "a corrupt store refuses tokens");
}

int main(void) {
    int cuts = 0, took_effect = 0, interrupted = 0;
    for (long n = 0; n <= 2 * PAYLOCK_OPENPAYGO_RECORD_SIZE + 4; n++) {
        Flash f;
        memset(f.slot, 0xFF, sizeof f.slot);
        f.budget = -1;
        f.programmed = 0;
        PaylockOpenPaygoEngine e;
        PaylockEntry entry;
        PaylockStatus status;
        int32_t found = -1;
        CHECK(boot(&e, &f, 0, &found) == 0 && found == PAYLOCK_BOOT_BLANK, "n=%ld: first boot", n);
        CHECK(enter(&e, T1, 10, &entry) == 0 && entry.kind == PAYLOCK_ENTRY_APPLIED && entry.seconds == DAY,
              "n=%ld: first token", n);
        f.budget = n;
        f.programmed = 0;
        int r = enter(&e, T2, 20, &entry);
        int cut = r == PAYLOCK_ERR_STORAGE;
        CHECK(cut || (r == 0 && entry.kind == PAYLOCK_ENTRY_APPLIED), "n=%ld: second token %d", n, r);
        interrupted += cut;
        /* Power cycle: RAM is lost, the slots decide. */
        f.budget = -1;
        CHECK(boot(&e, &f, 30, &found) == 0 && found == PAYLOCK_BOOT_RESTORED, "n=%ld: boot after the cut (%d)", n, found);
        CHECK(enter(&e, T2, 30, &entry) == 0, "n=%ld: again", n);
        int applied_again = entry.kind == PAYLOCK_ENTRY_APPLIED;
        CHECK(applied_again || entry.kind == PAYLOCK_ENTRY_DUPLICATE, "n=%ld: again gives %d", n, entry.kind);
        took_effect += !applied_again;
        CHECK(!applied_again || cut, "n=%ld: a completed entry applied twice", n);
        CHECK(paylock_openpaygo_engine_status(&e, 30, &status) == 0 &&
                  status.credit_seconds_left == 10 + 30 * DAY - 30,
              "n=%ld: credit %" PRIu32, n, status.credit_seconds_left);
        CHECK(enter(&e, T2, 40, &entry) == 0 && entry.kind == PAYLOCK_ENTRY_DUPLICATE, "n=%ld: third entry", n);
        cuts++;
    }
    boundary();
    printf("engine power cuts: %d cut points (%d interrupted a write, %d left the token applied), %d failures\n",
           cuts, interrupted, took_effect, failures);
    return failures != 0 || interrupted != 2 * PAYLOCK_OPENPAYGO_RECORD_SIZE;
}

/* Two RAM "flash" slots behind a PaylockStoragePort, for the engine tests: erased to 0xFF,
 * a power budget (bytes that may still be programmed) after which every erase and program
 * fails mid-way, as when the power is cut, and a count of program calls. */
#ifndef PAYLOCK_TEST_FLASH_H
#define PAYLOCK_TEST_FLASH_H

#include <stdint.h>
#include <string.h>

#include "paylock.h"

#define SLOT_LEN 128

typedef struct Flash {
    uint8_t slot[2][SLOT_LEN];
    long budget;   /* bytes that may still be programmed; < 0: no limit */
    long programs; /* program calls, failed ones included */
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
    f->programs++;
    if (slot > 1 || offset > SLOT_LEN || len > SLOT_LEN - offset) return -1;
    for (size_t i = 0; i < len; i++) {
        if (f->budget == 0) return -1; /* the power fails here */
        f->slot[slot][offset + i] = data[i];
        if (f->budget > 0) f->budget--;
    }
    return 0;
}

static void flash_blank(Flash *f) {
    memset(f->slot, 0xFF, sizeof f->slot);
    f->budget = -1;
    f->programs = 0;
}

static PaylockStoragePort flash_port(Flash *f, size_t slot_len) {
    PaylockStoragePort port = {f, slot_len, flash_read, flash_erase, flash_program};
    return port;
}

#endif

/*
 * A Cortex-M4 AST v1 keypad device in C on paylock.h's device-lock engine: the keypad loop collects
 * a token (its 20 digits of profile L, then `#`; `*` starts over) and enters it whole; the engine keeps the credit clock, AST's wrong-code lockout (spec §10)
 * and the MAC'd record in two flash pages through the product's storage port, each attempt
 * counted before its verdict. The clock is a runtime counter (seconds since power-on, no
 * battery): credit runs only while on, and device time resumes at the last checkpoint, so the
 * main loop ticks the engine (a checkpoint every hour) and writes one at once on a brown-out
 * warning. firmware/c/size.sh builds it with arm-none-eabi-gcc, and with -DPAYLOCK_BASELINE
 * (stand-ins for the paylock calls that only touch their arguments and the port) to measure
 * what paylock adds.
 */
#include <stdint.h>
#include <string.h>

#include "paylock.h"

#define KEYPAD_DATA (*(volatile uint32_t *)0x40010000u)   /* last key pressed, 0 if none */
#define UPTIME_SECONDS (*(volatile uint32_t *)0x40002800u) /* seconds since power-on */
#define OUTPUT_ENABLE (*(volatile uint32_t *)0x40010C0Cu) /* the load switch */
#define LED (*(volatile uint32_t *)0x40010C10u)           /* feedback pattern */
#define BROWN_OUT (*(volatile uint32_t *)0x40007004u)     /* bit 2: supply below threshold */
#define PAGE_LEN 1024u
#define PAGES ((const volatile uint8_t *)0x0800F800u)     /* two flash pages, the slots */
#define FLASH_ERASE (*(volatile uint32_t *)0x40022014u)   /* flash controller: erase a page */
#define FLASH_PROGRAM (*(volatile uint32_t *)0x40022020u) /* flash controller: program a byte */
#define FLASH_ADDRESS (*(volatile uint32_t *)0x40022024u)

/* SipHash-2-4 (suite 2, the default build's), profile L, credit in hours. */
static const PaylockAstSecret SECRET = {
    {0x67, 0x99, 0x17, 0x7f, 0x8b, 0xc7, 0x24, 0xaf, 0x03, 0xd2, 0x6a, 0x3c, 0x8c, 0xf2, 0x07, 0xd3}, 95272978u, 2, 0, 0, 0};

static PaylockAstEngine engine;

static int32_t slot_read(void *ctx, uint8_t slot, size_t offset, uint8_t *buf, size_t len) {
    (void)ctx;
    if (slot > 1 || offset > PAGE_LEN || len > PAGE_LEN - offset) return -1;
    for (size_t i = 0; i < len; i++) buf[i] = PAGES[slot * PAGE_LEN + offset + i];
    return 0;
}
static int32_t slot_erase(void *ctx, uint8_t slot) {
    (void)ctx;
    if (slot > 1) return -1;
    FLASH_ERASE = 0x0800F800u + slot * PAGE_LEN;
    return 0;
}
static int32_t slot_program(void *ctx, uint8_t slot, size_t offset, const uint8_t *data, size_t len) {
    (void)ctx;
    if (slot > 1 || offset > PAGE_LEN || len > PAGE_LEN - offset) return -1;
    for (size_t i = 0; i < len; i++) {
        FLASH_ADDRESS = 0x0800F800u + slot * PAGE_LEN + offset + i;
        FLASH_PROGRAM = data[i];
    }
    return 0;
}

#ifdef PAYLOCK_BASELINE
/* The measuring stand-ins: touch every argument and the port, decide nothing. */
int32_t paylock_ast_engine_boot(PaylockAstEngine *e, const PaylockAstSecret *secret, const PaylockEngineConfig *config,
                              const PaylockStoragePort *storage, uint32_t clock, int32_t *boot) {
    uint8_t byte = 0;
    storage->read(storage->ctx, 0, 0, &byte, 1);
    e->opaque[0] = secret->key[byte & 15u] ^ secret->device_id ^ config->lockout ^ config->clock_runtime ^ clock;
    e->opaque[1] = (uint64_t)(uintptr_t)storage->program ^ (uint64_t)(uintptr_t)storage->erase;
    if (boot) *boot = PAYLOCK_BOOT_BLANK;
    return 0;
}
int32_t paylock_ast_engine_enter(PaylockAstEngine *e, const uint8_t *token, size_t len, uint32_t clock,
                               PaylockEntry *out) {
    e->opaque[2] += token[len - 1] ^ clock;
    out->kind = (int32_t)(e->opaque[2] & 3u);
    return 0;
}
int32_t paylock_ast_engine_status(PaylockAstEngine *e, uint32_t clock, PaylockStatus *out) {
    out->active = (uint8_t)(e->opaque[2] > clock);
    return 0;
}
int32_t paylock_ast_engine_tick(PaylockAstEngine *e, uint32_t clock) { return (int32_t)(e->opaque[3] ^= clock); }
int32_t paylock_ast_engine_power_down(PaylockAstEngine *e, uint32_t clock) { return (int32_t)(e->opaque[4] ^= clock); }
#endif

int main(void) {
    static const PaylockEngineConfig config = {1, 1, 0, 3600};
    const PaylockStoragePort port = {NULL, PAGE_LEN, slot_read, slot_erase, slot_program};
    if (paylock_ast_engine_boot(&engine, &SECRET, &config, &port, UPTIME_SECONDS, NULL) != 0)
        for (;;) LED = 0xFF; /* the flash does not answer: service */
    uint8_t keys[24];
    size_t len = 0;
    for (;;) {
        uint32_t key = KEYPAD_DATA;
        uint32_t now = UPTIME_SECONDS;
        if (key == '*') len = 0;
        if (key >= '0' && key <= '9' && len < sizeof keys) keys[len++] = (uint8_t)key;
        if (key == '#' && len > 0) {
            PaylockEntry entry;
            int32_t r = paylock_ast_engine_enter(&engine, keys, len, now, &entry);
            if (r == PAYLOCK_ERR_STORAGE) paylock_ast_engine_boot(&engine, &SECRET, &config, &port, now, NULL);
            LED = r == 0 ? (uint32_t)entry.kind : 0xFFu;
            len = 0;
        }
        if (BROWN_OUT & 4u) {
            /* Power is going: the clock's checkpoint now, then wait for the end or recovery. */
            OUTPUT_ENABLE = 0;
            paylock_ast_engine_power_down(&engine, now);
            while (BROWN_OUT & 4u) {
            }
        } else if (paylock_ast_engine_tick(&engine, now) == PAYLOCK_ERR_STORAGE) {
            paylock_ast_engine_boot(&engine, &SECRET, &config, &port, now, NULL);
        }
        PaylockStatus status;
        paylock_ast_engine_status(&engine, now, &status);
        OUTPUT_ENABLE = status.active;
    }
}

/*
 * A Cortex-M4 Nexus keycode device in C on paylock.h's device-lock engine (full protocol: `*`,
 * digits, `#`): the keypad loop hands the engine each key as it comes; the engine applies the
 * keypad rules (the start key restarts, `#` finishes, the 16 s timeout between keys, at most 30
 * digits), and keeps the credit clock, Nexus's wrong-code bucket and the MAC'd record in two
 * flash pages through the product's storage port, each attempt counted before its verdict. The main loop ticks the
 * engine (a clock checkpoint every hour) and writes one at once on a brown-out warning, so a
 * power cut costs the clock nothing. firmware/c/size.sh builds it with arm-none-eabi-gcc, and
 * with -DPAYLOCK_BASELINE (stand-ins for the paylock calls that only touch their arguments and
 * the port) to measure what paylock adds.
 */
#include <stdint.h>
#include <string.h>

#include "paylock.h"

#define KEYPAD_DATA (*(volatile uint32_t *)0x40010000u)   /* last key pressed, 0 if none */
#define RTC_SECONDS (*(volatile uint32_t *)0x40002800u)   /* battery-backed seconds */
#define OUTPUT_ENABLE (*(volatile uint32_t *)0x40010C0Cu) /* the load switch */
#define LED (*(volatile uint32_t *)0x40010C10u)           /* feedback pattern */
#define BROWN_OUT (*(volatile uint32_t *)0x40007004u)     /* bit 2: supply below threshold */
#define PAGE_LEN 1024u
#define PAGES ((const volatile uint8_t *)0x0800F800u)     /* two flash pages, the slots */
#define FLASH_ERASE (*(volatile uint32_t *)0x40022014u)   /* flash controller: erase a page */
#define FLASH_PROGRAM (*(volatile uint32_t *)0x40022020u) /* flash controller: program a byte */
#define FLASH_ADDRESS (*(volatile uint32_t *)0x40022024u)

static const uint8_t DEVICE_KEY[16] = {0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef,
                                       0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef};
static const uint32_t USER_FACING_ID = 123456789u;

static PaylockNexusEngine engine;

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
int32_t paylock_nexus_engine_boot(PaylockNexusEngine *e, const uint8_t *key, const PaylockNexusConfig *nexus,
                                  uint32_t user_facing_id, const PaylockEngineConfig *config,
                                  const PaylockStoragePort *storage, uint32_t clock, int32_t *boot) {
    uint8_t byte = 0;
    storage->read(storage->ctx, 0, 0, &byte, 1);
    e->opaque[0] = key[byte & 15u] ^ nexus->protocol ^ user_facing_id ^ config->lockout ^ clock;
    e->opaque[1] = (uint64_t)(uintptr_t)storage->program ^ (uint64_t)(uintptr_t)storage->erase;
    if (boot) *boot = PAYLOCK_BOOT_BLANK;
    return 0;
}
int32_t paylock_nexus_engine_press_key(PaylockNexusEngine *e, uint8_t pressed, uint32_t clock,
                                       PaylockEntry *entry_out) {
    e->opaque[2] += pressed ^ clock;
    entry_out->kind = (int32_t)(e->opaque[2] & 7u);
    return 0;
}
int32_t paylock_nexus_engine_status(PaylockNexusEngine *e, uint32_t clock, PaylockStatus *out) {
    out->active = (uint8_t)(e->opaque[2] > clock);
    return 0;
}
int32_t paylock_nexus_engine_tick(PaylockNexusEngine *e, uint32_t clock) { return (int32_t)(e->opaque[3] ^= clock); }
int32_t paylock_nexus_engine_power_down(PaylockNexusEngine *e, uint32_t clock) {
    return (int32_t)(e->opaque[4] ^= clock);
}
#endif

int main(void) {
    static const PaylockNexusConfig nexus = {PAYLOCK_NEXUS_FULL, 5, 5, 1, 0, 16};
    static const PaylockEngineConfig config = {0, 1, 0, 3600};
    const PaylockStoragePort port = {NULL, PAGE_LEN, slot_read, slot_erase, slot_program};
    if (paylock_nexus_engine_boot(&engine, DEVICE_KEY, &nexus, USER_FACING_ID, &config, &port, RTC_SECONDS, NULL) != 0)
        for (;;) LED = 0xFF; /* the flash does not answer: service */
    for (;;) {
        uint32_t key = KEYPAD_DATA;
        uint32_t now = RTC_SECONDS;
        if (key) {
            /* PENDING or KEY_REJECTED until a key finishes a code, then the verdict. */
            PaylockEntry entry;
            int32_t r = paylock_nexus_engine_press_key(&engine, (uint8_t)key, now, &entry);
            if (r == PAYLOCK_ERR_STORAGE)
                paylock_nexus_engine_boot(&engine, DEVICE_KEY, &nexus, USER_FACING_ID, &config, &port, now, NULL);
            LED = r == 0 ? (uint32_t)entry.kind : 0xFFu;
        }
        if (BROWN_OUT & 4u) {
            /* Power is going: the clock's checkpoint now, then wait for the end or recovery. */
            OUTPUT_ENABLE = 0;
            paylock_nexus_engine_power_down(&engine, now);
            while (BROWN_OUT & 4u) {
            }
        } else if (paylock_nexus_engine_tick(&engine, now) == PAYLOCK_ERR_STORAGE) {
            paylock_nexus_engine_boot(&engine, DEVICE_KEY, &nexus, USER_FACING_ID, &config, &port, now, NULL);
        }
        PaylockStatus status;
        paylock_nexus_engine_status(&engine, now, &status);
        OUTPUT_ENABLE = status.active;
    }
}

/*
 * A Cortex-M4 Nexus keycode device in C (full protocol: `*`, digits, `#`), on paylock.h's
 * Nexus API and libpaylock_ffi.a, in nexus-embedded's style: the product implements the port
 * functions (credit, PAYG state, feedback, NV write) and feeds keys with a seconds clock.
 * firmware/c/size.sh builds it with arm-none-eabi-gcc, and with -DPAYLOCK_BASELINE (stand-ins
 * for the three paylock calls that only touch their arguments) to measure what paylock adds.
 */
#include <stdint.h>
#include <string.h>

#include "paylock.h"

#define KEYPAD_DATA (*(volatile uint32_t *)0x40010000u)   /* last key pressed, 0 if none */
#define RTC_SECONDS (*(volatile uint32_t *)0x40002800u)   /* seconds since power-on */
#define OUTPUT_ENABLE (*(volatile uint32_t *)0x40010C0Cu) /* the load switch */
#define LED (*(volatile uint32_t *)0x40010C10u)           /* feedback pattern */
#define NVM ((const volatile uint32_t *)0x0800FC00u)      /* the persisted state, 3 words */
#define NVM_PROGRAM ((volatile uint32_t *)0x40022020u)    /* flash controller: program 3 words */

static const uint8_t DEVICE_KEY[16] = {0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef,
                                       0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef};
static const uint32_t USER_FACING_ID = 123456789u;

typedef struct Product {
    uint32_t active_until;
    uint8_t unlocked;
} Product;

static Product product;
static PaylockNexusState state;
static PaylockNexusDevice device;

#ifdef PAYLOCK_BASELINE
/* The measuring stand-ins: touch every argument, decode nothing. */
int32_t paylock_nexus_state_fresh(PaylockNexusState *out) {
    memset(out, 0, sizeof *out);
    out->pd_index = 23;
    return 0;
}
int32_t paylock_nexus_init(PaylockNexusDevice *d, const PaylockNexusConfig *c, const PaylockNexusState *s) {
    d->opaque[0] = c->protocol ^ s->pd_index;
    return 0;
}
int32_t paylock_nexus_press_key(PaylockNexusDevice *d, const uint8_t *key, PaylockNexusState *s,
                                const PaylockNexusPort *port, uint8_t pressed, uint32_t now, uint32_t *id) {
    d->opaque[1] += pressed ^ key[pressed & 15u] ^ now;
    if (pressed == '#') {
        uint8_t payg = port->payg_state_get(port->ctx);
        port->payg_credit_add(port->ctx, now);
        port->payg_credit_set(port->ctx, payg);
        if (now == 7u) port->payg_credit_unlock(port->ctx);
        port->feedback_start(port->ctx, (uint8_t)port->user_facing_id_get(port->ctx));
        s->received ^= pressed;
        port->nv_write(port->ctx, s);
        if (id) *id = (uint32_t)d->opaque[1];
        return PAYLOCK_NEXUS_VALID_APPLIED;
    }
    return PAYLOCK_NEXUS_PENDING;
}
#endif

static uint8_t payg_state_get(void *ctx) {
    Product *p = ctx;
    if (p->unlocked) return PAYLOCK_NEXUS_PAYG_UNLOCKED;
    return RTC_SECONDS < p->active_until ? PAYLOCK_NEXUS_PAYG_ENABLED : PAYLOCK_NEXUS_PAYG_DISABLED;
}
static void credit_add(void *ctx, uint32_t seconds) {
    Product *p = ctx;
    uint32_t now = RTC_SECONDS;
    p->active_until = (p->active_until > now ? p->active_until : now) + seconds;
}
static void credit_set(void *ctx, uint32_t seconds) {
    Product *p = ctx;
    p->unlocked = 0;
    p->active_until = RTC_SECONDS + seconds;
}
static void credit_unlock(void *ctx) { ((Product *)ctx)->unlocked = 1; }
static uint32_t user_facing_id(void *ctx) {
    (void)ctx;
    return USER_FACING_ID;
}
static void feedback_start(void *ctx, uint8_t feedback) {
    (void)ctx;
    LED = feedback;
}
static void nv_write(void *ctx, const PaylockNexusState *s) {
    (void)ctx;
    uint32_t words[3];
    memcpy(words, s, sizeof words);
    for (int i = 0; i < 3; i++) NVM_PROGRAM[i] = words[i];
}

int main(void) {
    static const PaylockNexusConfig config = {PAYLOCK_NEXUS_FULL, 5, 5, 1, 0, 16};
    const PaylockNexusPort port = {&product, payg_state_get, credit_add, credit_set, credit_unlock,
                                   user_facing_id, feedback_start, NULL, NULL, nv_write};
    if (NVM[0] == 0xFFFFFFFFu) {
        paylock_nexus_state_fresh(&state);
    } else {
        uint32_t words[3] = {NVM[0], NVM[1], NVM[2]};
        memcpy(&state, words, sizeof state);
    }
    paylock_nexus_init(&device, &config, &state);
    for (;;) {
        uint32_t key = KEYPAD_DATA;
        uint32_t now = RTC_SECONDS;
        if (key) paylock_nexus_press_key(&device, DEVICE_KEY, &state, &port, (uint8_t)key, now, NULL);
        OUTPUT_ENABLE = payg_state_get(&product) != PAYLOCK_NEXUS_PAYG_DISABLED;
    }
}

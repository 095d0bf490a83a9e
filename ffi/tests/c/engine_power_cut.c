/*
 * The device fault suite's power-cut scenario through paylock.h's device-lock engine, for each
 * scheme (OpenPAYGO, Nexus full and small, AST v1): two RAM "flash" slots behind a
 * PaylockStoragePort whose programming stops after N bytes (the power fails mid-write; the call
 * reports an error). Tokens and credits are published vectors.
 * - Never a replay, never lost credit: for every N from 0 to past both writes of an applied
 *   token, enter a first token, cut power N bytes into the second's writes, boot again from
 *   whatever the slots hold, and enter the second token again. It must count exactly once:
 *   DUPLICATE if it had taken effect, APPLIED otherwise, and the credit must be the two
 *   tokens' whatever N was; boot is never CORRUPT.
 * - Never an uncounted verdict: an attacker enters a wrong code again and again, cutting the
 *   power after every possible byte in turn and rebooting; the engine answers no entry whose
 *   write failed, and the verdicts it does answer are counted: the device locks out after
 *   exactly as many INVALID answers as it gives uncut (OpenPAYGO 3, Nexus 6, AST 4).
 * - Clock checkpoints (tick, power_down) on a runtime clock, which restarts at 0 at every boot:
 *   after a first token (its published credit), time run before a power cut is consumed after
 *   the reboot exactly when a checkpoint was written, and lost back to the last write when not
 *   (the documented rule: device time resumes at the last checkpoint); tick writes only once
 *   checkpoint_seconds of device time passed (program calls counted); a cut at every byte of a
 *   checkpoint's write (and in its erase) boots to the old or the new checkpoint, never a
 *   corrupt store or a replay.
 * Nexus runs twice: whole codes (paylock_nexus_engine_enter) and key by key
 * (paylock_nexus_engine_press_key), where every key before the end key must answer PENDING and
 * write nothing, so the cuts fall in the end key's writes.
 * Then the boundary. Built with -fsanitize=address,undefined.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "support.h"
#include "flash.h"

#define DAY 86400u

typedef union Engine {
    PaylockOpenPaygoEngine openpaygo;
    PaylockNexusEngine nexus;
    PaylockAstEngine ast;
} Engine;

static const PaylockEngineConfig CONFIG = {0, 1, 0, 3600};
/* A runtime clock (credit runs only while on), checkpoints every hour. */
static const PaylockEngineConfig RUNTIME = {1, 1, 0, 3600};
static const PaylockEngineConfig *config = &CONFIG;

/* OpenPAYGO: the published doc_quick_test tokens, ADD 1 day at count 2, ADD 29 days at count 4. */
static const PaylockOpenPaygoSecret OP_SECRET = {
    {0xa2, 0x9a, 0xb8, 0x2e, 0xdc, 0x5f, 0xbb, 0xc4, 0x1e, 0xc9, 0x53, 0x0f, 0x6d, 0xac, 0x86, 0xb1}, 123456789u};
/* Nexus: the scenarios' key (SCEN-FULL-WINDOW, SCEN-SMALL-WINDOW). */
static const uint8_t NX_KEY[16] = {0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef,
                                   0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef};
static const PaylockNexusConfig NX_FULL = {PAYLOCK_NEXUS_FULL, 5, 5, 1, 0, 16};
static const PaylockNexusConfig NX_SMALL = {PAYLOCK_NEXUS_SMALL, 5, 5, 1, 0, 16};
/* AST: the device of ast_v1_sequences.json's in_order/L/2 (SipHash-2-4, profile L, hours) for the
 * tokens, and of lockout/L/2 for the wrong code. */
static const PaylockAstSecret AST_TOKENS = {
    {0x67, 0x99, 0x17, 0x7f, 0x8b, 0xc7, 0x24, 0xaf, 0x03, 0xd2, 0x6a, 0x3c, 0x8c, 0xf2, 0x07, 0xd3}, 95272978u, 2, 0, 0,
    0};
static const PaylockAstSecret AST_WRONG = {
    {0x87, 0xbf, 0x7f, 0x8c, 0xc5, 0x9f, 0xa9, 0x87, 0x02, 0xac, 0xa7, 0x5b, 0x5f, 0xbd, 0xcb, 0x2d}, 3169958344u, 2, 0, 0,
    0};

typedef struct Scheme {
    const char *name;
    size_t record;
    /* boot with the tokens' secret (attack 0) or the wrong code's (attack 1) */
    int32_t (*boot)(Engine *e, int attack, const PaylockStoragePort *port, uint32_t clock, int32_t *found);
    int32_t (*enter)(Engine *e, const uint8_t *t, size_t len, uint32_t clock, PaylockEntry *out);
    int32_t (*status)(Engine *e, uint32_t clock, PaylockStatus *out);
    int32_t (*tick)(Engine *e, uint32_t clock);
    int32_t (*power_down)(Engine *e, uint32_t clock);
    const char *t1, *t2, *wrong;
    uint32_t t1_credit, credit; /* seconds after the first token, after both */
    int allowance;              /* INVALID answers before the lockout, uncut */
} Scheme;

static int32_t op_boot(Engine *e, int attack, const PaylockStoragePort *port, uint32_t clock, int32_t *found) {
    (void)attack;
    return paylock_openpaygo_engine_boot(&e->openpaygo, &OP_SECRET, config, port, clock, found);
}
static int32_t op_enter(Engine *e, const uint8_t *t, size_t len, uint32_t clock, PaylockEntry *out) {
    return paylock_openpaygo_engine_enter(&e->openpaygo, t, len, clock, out);
}
static int32_t op_status(Engine *e, uint32_t clock, PaylockStatus *out) {
    return paylock_openpaygo_engine_status(&e->openpaygo, clock, out);
}
static int32_t op_tick(Engine *e, uint32_t clock) { return paylock_openpaygo_engine_tick(&e->openpaygo, clock); }
static int32_t op_power_down(Engine *e, uint32_t clock) {
    return paylock_openpaygo_engine_power_down(&e->openpaygo, clock);
}
static int32_t full_boot(Engine *e, int attack, const PaylockStoragePort *port, uint32_t clock, int32_t *found) {
    (void)attack;
    return paylock_nexus_engine_boot(&e->nexus, NX_KEY, &NX_FULL, 123456789u, config, port, clock, found);
}
static int32_t small_boot(Engine *e, int attack, const PaylockStoragePort *port, uint32_t clock, int32_t *found) {
    (void)attack;
    return paylock_nexus_engine_boot(&e->nexus, NX_KEY, &NX_SMALL, 123456789u, config, port, clock, found);
}
static int32_t nx_enter(Engine *e, const uint8_t *t, size_t len, uint32_t clock, PaylockEntry *out) {
    return paylock_nexus_engine_enter(&e->nexus, t, len, clock, out);
}
/* The flash of the engine booted last (for the key-by-key entries' write count). */
static Flash *booted_flash;
/* The code key by key: each key before the last PENDING, with no flash write; the last key's
 * answer is the entry's. */
static int32_t nx_keys(Engine *e, const uint8_t *t, size_t len, uint32_t clock, PaylockEntry *out) {
    for (size_t i = 0; i + 1 < len; i++) {
        PaylockEntry k = {-1, 0, 0, 0, 0};
        long programs = booted_flash->programs;
        CHECK(paylock_nexus_engine_press_key(&e->nexus, t[i], clock, &k) == 0 && k.kind == PAYLOCK_ENTRY_PENDING &&
                  booted_flash->programs == programs,
              "key %zu of %.*s: kind %d, %ld writes", i, (int)len, (const char *)t, k.kind,
              booted_flash->programs - programs);
    }
    return len ? paylock_nexus_engine_press_key(&e->nexus, t[len - 1], clock, out) : PAYLOCK_ERR_ARGUMENT;
}
static int32_t nx_status(Engine *e, uint32_t clock, PaylockStatus *out) {
    return paylock_nexus_engine_status(&e->nexus, clock, out);
}
static int32_t nx_tick(Engine *e, uint32_t clock) { return paylock_nexus_engine_tick(&e->nexus, clock); }
static int32_t nx_power_down(Engine *e, uint32_t clock) {
    return paylock_nexus_engine_power_down(&e->nexus, clock);
}
static int32_t ast_boot(Engine *e, int attack, const PaylockStoragePort *port, uint32_t clock, int32_t *found) {
    return paylock_ast_engine_boot(&e->ast, attack ? &AST_WRONG : &AST_TOKENS, config, port, clock, found);
}
static int32_t ast_enter(Engine *e, const uint8_t *t, size_t len, uint32_t clock, PaylockEntry *out) {
    return paylock_ast_engine_enter(&e->ast, t, len, clock, out);
}
static int32_t ast_status(Engine *e, uint32_t clock, PaylockStatus *out) {
    return paylock_ast_engine_status(&e->ast, clock, out);
}
static int32_t ast_tick(Engine *e, uint32_t clock) { return paylock_ast_engine_tick(&e->ast, clock); }
static int32_t ast_power_down(Engine *e, uint32_t clock) {
    return paylock_ast_engine_power_down(&e->ast, clock);
}

static const Scheme SCHEMES[] = {
    {"OpenPAYGO", PAYLOCK_OPENPAYGO_RECORD_SIZE, op_boot, op_enter, op_status, op_tick, op_power_down, "662486790", "927706818", "111111111",
     DAY, 30 * DAY, 3},
    /* SCEN-FULL-WINDOW steps 1 and 3; NEG-FULL-001 */
    {"Nexus full", PAYLOCK_NEXUS_RECORD_SIZE, full_boot, nx_enter, nx_status, nx_tick, nx_power_down, "*86350364459508#", "*52513129112624#",
     "*69979149319443#", 86400, 259200, 6},
    /* SCEN-SMALL-WINDOW steps 1 and 3; the negative vector "symbol 1 changed" */
    {"Nexus small", PAYLOCK_NEXUS_RECORD_SIZE, small_boot, nx_enter, nx_status, nx_tick, nx_power_down, "155334523533432", "145532554443522",
     "124253225343542", 86400, 345600, 6},
    /* The same two, key by key. */
    {"Nexus full key by key", PAYLOCK_NEXUS_RECORD_SIZE, full_boot, nx_keys, nx_status, nx_tick, nx_power_down, "*86350364459508#",
     "*52513129112624#", "*69979149319443#", 86400, 259200, 6},
    {"Nexus small key by key", PAYLOCK_NEXUS_RECORD_SIZE, small_boot, nx_keys, nx_status, nx_tick, nx_power_down, "155334523533432",
     "145532554443522", "124253225343542", 86400, 345600, 6},
    /* in_order/L/2 steps 1 and 2 (10 and 20 hours); lockout/L/2's wrong code */
    {"AST", PAYLOCK_AST_RECORD_SIZE, ast_boot, ast_enter, ast_status, ast_tick, ast_power_down, "4545 1088 1027 5743 2594",
     "5820 0114 5679 5430 5712", "2370 2888 8037 5833 4043", 10 * 3600, 30 * 3600, 4},
};

static int boot(const Scheme *s, Engine *e, int attack, Flash *f, uint32_t clock, int32_t *found) {
    PaylockStoragePort port = flash_port(f, SLOT_LEN);
    booted_flash = f;
    return s->boot(e, attack, &port, clock, found);
}

static int enter(const Scheme *s, Engine *e, const char *t, uint32_t clock, PaylockEntry *out) {
    return s->enter(e, (const uint8_t *)t, strlen(t), clock, out);
}

/* Never a replay, never lost credit. Returns the entries a cut interrupted. */
static int replays(const Scheme *s, int *took_effect) {
    int interrupted = 0;
    for (long n = 0; n <= 2 * (long)s->record + 4; n++) {
        Flash f;
        flash_blank(&f);
        Engine e;
        PaylockEntry entry;
        PaylockStatus status;
        int32_t found = -1;
        CHECK(boot(s, &e, 0, &f, 0, &found) == 0 && found == PAYLOCK_BOOT_BLANK, "%s n=%ld: first boot", s->name, n);
        CHECK(enter(s, &e, s->t1, 10, &entry) == 0 && entry.kind == PAYLOCK_ENTRY_APPLIED &&
                  entry.seconds == s->t1_credit,
              "%s n=%ld: first token", s->name, n);
        f.budget = n;
        int r = enter(s, &e, s->t2, 20, &entry);
        int cut = r == PAYLOCK_ERR_STORAGE;
        CHECK(cut || (r == 0 && entry.kind == PAYLOCK_ENTRY_APPLIED), "%s n=%ld: second token %d", s->name, n, r);
        interrupted += cut;
        /* Power cycle: RAM is lost, the slots decide. */
        f.budget = -1;
        CHECK(boot(s, &e, 0, &f, 30, &found) == 0 && found == PAYLOCK_BOOT_RESTORED, "%s n=%ld: boot after the cut (%d)",
              s->name, n, found);
        CHECK(enter(s, &e, s->t2, 30, &entry) == 0, "%s n=%ld: again", s->name, n);
        int applied_again = entry.kind == PAYLOCK_ENTRY_APPLIED;
        CHECK(applied_again || entry.kind == PAYLOCK_ENTRY_DUPLICATE, "%s n=%ld: again gives %d", s->name, n, entry.kind);
        *took_effect += !applied_again;
        CHECK(!applied_again || cut, "%s n=%ld: a completed entry applied twice", s->name, n);
        CHECK(s->status(&e, 30, &status) == 0 && status.credit_seconds_left == 10 + s->credit - 30,
              "%s n=%ld: credit %" PRIu32, s->name, n, status.credit_seconds_left);
        CHECK(enter(s, &e, s->t2, 40, &entry) == 0 && entry.kind == PAYLOCK_ENTRY_DUPLICATE, "%s n=%ld: third entry",
              s->name, n);
    }
    return interrupted;
}

/* Never an uncounted verdict: returns the INVALID answers the attacker got before the lockout. */
static int attack(const Scheme *s, int *cuts) {
    Flash f;
    flash_blank(&f);
    Engine e;
    int32_t found = -1;
    int revealed = 0, locked = 0;
    CHECK(boot(s, &e, 1, &f, 0, &found) == 0, "%s: attacker's boot", s->name);
    for (long i = 0; i < 100 * (long)s->record && !locked; i++) {
        PaylockEntry entry = {-1, 0, 0, 0, 0};
        f.budget = i % ((long)s->record + 3);
        int r = enter(s, &e, s->wrong, 100, &entry);
        f.budget = -1;
        if (r == PAYLOCK_ERR_STORAGE) {
            (*cuts)++;
            CHECK(entry.kind == -1, "%s: an entry whose write failed answered %d", s->name, entry.kind);
        } else {
            CHECK(r == 0 && (entry.kind == PAYLOCK_ENTRY_INVALID || entry.kind == PAYLOCK_ENTRY_LOCKED_OUT),
                  "%s: wrong code gave %d / %d", s->name, r, entry.kind);
            revealed += entry.kind == PAYLOCK_ENTRY_INVALID;
            locked = entry.kind == PAYLOCK_ENTRY_LOCKED_OUT;
        }
        CHECK(boot(s, &e, 1, &f, 100, &found) == 0 && found != PAYLOCK_BOOT_CORRUPT, "%s: reboot (%d)", s->name, found);
    }
    CHECK(locked && revealed == s->allowance, "%s: %d INVALID answers before the lockout (locked %d), want %d", s->name,
          revealed, locked, s->allowance);
    return revealed;
}

/* ---- Clock checkpoints on a runtime clock ---- */

/* Device time and credit after a reboot at firmware clock 0 (a runtime counter restarts). */
static void reboot_runtime(const Scheme *s, Engine *e, Flash *f, PaylockStatus *status, const char *what) {
    int32_t found = -1;
    f->budget = -1;
    CHECK(boot(s, e, 0, f, 0, &found) == 0 && found == PAYLOCK_BOOT_RESTORED, "%s %s: reboot (%d)", s->name, what,
          found);
    CHECK(s->status(e, 0, status) == 0, "%s %s: status", s->name, what);
}

/* A device with the first token entered at firmware clock 10 (device time 10, its last write). */
static void first_token(const Scheme *s, Engine *e, Flash *f, const char *what) {
    PaylockEntry entry;
    int32_t found = -1;
    flash_blank(f);
    CHECK(boot(s, e, 0, f, 0, &found) == 0 && found == PAYLOCK_BOOT_BLANK, "%s %s: first boot", s->name, what);
    CHECK(enter(s, e, s->t1, 10, &entry) == 0 && entry.kind == PAYLOCK_ENTRY_APPLIED && entry.seconds == s->t1_credit,
          "%s %s: first token", s->name, what);
}

/* Credit is consumed across a reboot exactly when a checkpoint was written; tick writes once
 * checkpoint_seconds (3,600) of device time passed since the last write. Returns the seconds a
 * power cut without a checkpoint lost. */
static uint32_t checkpoints(const Scheme *s) {
    Engine e;
    Flash f;
    PaylockStatus st;
    const uint32_t c = s->t1_credit; /* the published token's credit, expiring at 10 + c */
    /* power_down after 1,000 s on: the 1,000 s stay consumed. */
    first_token(s, &e, &f, "power_down");
    CHECK(s->status(&e, 1010, &st) == 0 && st.credit_seconds_left == c - 1000, "%s: credit before the cut", s->name);
    long before = f.programs;
    CHECK(s->power_down(&e, 1010) == 0 && f.programs == before + 1, "%s: power_down writes once (%ld calls)", s->name,
          f.programs - before);
    CHECK(s->power_down(&e, 1010) == 0 && f.programs == before + 1, "%s: power_down in the same second writes nothing",
          s->name);
    reboot_runtime(s, &e, &f, &st, "after power_down");
    CHECK(st.now == 1010 && st.credit_seconds_left == c - 1000, "%s: after power_down: now %" PRIu32 ", credit %" PRIu32,
          s->name, st.now, st.credit_seconds_left);
    CHECK(s->status(&e, 50, &st) == 0 && st.credit_seconds_left == c - 1050, "%s: credit runs on after power_down",
          s->name);
    /* The same 1,000 s and a sudden cut: device time resumes at the token's write (10). */
    first_token(s, &e, &f, "cut");
    CHECK(s->status(&e, 1010, &st) == 0 && st.credit_seconds_left == c - 1000, "%s: credit before the cut", s->name);
    reboot_runtime(s, &e, &f, &st, "after a cut");
    CHECK(st.now == 10 && st.credit_seconds_left == c, "%s: after a cut: now %" PRIu32 ", credit %" PRIu32, s->name,
          st.now, st.credit_seconds_left);
    uint32_t lost = st.credit_seconds_left - (c - 1000);
    /* tick: nothing before 3,600 s of device time since the last write, then one write. */
    first_token(s, &e, &f, "tick");
    before = f.programs;
    CHECK(s->tick(&e, 10 + 3599) == 0 && f.programs == before, "%s: tick before checkpoint_seconds wrote", s->name);
    CHECK(s->tick(&e, 10 + 3600) == 0 && f.programs == before + 1, "%s: tick at checkpoint_seconds: %ld calls", s->name,
          f.programs - before);
    CHECK(s->tick(&e, 10 + 3600) == 0 && s->tick(&e, 10 + 7199) == 0 && f.programs == before + 1,
          "%s: tick wrote again within checkpoint_seconds", s->name);
    CHECK(s->tick(&e, 10 + 7200) == 0 && f.programs == before + 2, "%s: second tick checkpoint", s->name);
    /* 500 s more, then a cut: the 7,200 s up to the checkpoint stay consumed, the 500 s are lost. */
    CHECK(s->status(&e, 10 + 7700, &st) == 0 && st.credit_seconds_left == c - 7700, "%s: credit before the cut",
          s->name);
    reboot_runtime(s, &e, &f, &st, "after ticks");
    CHECK(st.now == 10 + 7200 && st.credit_seconds_left == c - 7200,
          "%s: after ticks and a cut: now %" PRIu32 ", credit %" PRIu32, s->name, st.now, st.credit_seconds_left);
    return lost;
}

/* A cut at every byte of a checkpoint's write (n = 0 cuts its erase) by tick or power_down:
 * the slots hold the old checkpoint or the new one, never a corrupt store, and no token
 * applies twice. Returns the cut points that booted to the new checkpoint. */
static int checkpoint_cuts(const Scheme *s, int power_down, int *cuts) {
    const char *op = power_down ? "power_down" : "tick";
    const uint32_t c = s->t1_credit, later = s->credit - s->t1_credit;
    int new_state = 0;
    for (long n = 0; n <= (long)s->record + 4; n++) {
        Engine e;
        Flash f;
        PaylockStatus st;
        PaylockEntry entry;
        first_token(s, &e, &f, op);
        f.budget = n;
        int32_t r = power_down ? s->power_down(&e, 3610) : s->tick(&e, 3610);
        int cut = r == PAYLOCK_ERR_STORAGE;
        *cuts += cut;
        CHECK((r == 0 || cut) && cut == (n < (long)s->record), "%s %s n=%ld: %d", s->name, op, n, r);
        reboot_runtime(s, &e, &f, &st, op);
        int is_new = st.now == 3610;
        new_state += is_new;
        CHECK((st.now == 10 || is_new) && (is_new || cut), "%s %s n=%ld: device time %" PRIu32, s->name, op, n, st.now);
        CHECK(st.credit_seconds_left == 10 + c - st.now, "%s %s n=%ld: credit %" PRIu32, s->name, op, n,
              st.credit_seconds_left);
        CHECK(enter(s, &e, s->t1, 0, &entry) == 0 && entry.kind == PAYLOCK_ENTRY_DUPLICATE, "%s %s n=%ld: t1 again (%d)",
              s->name, op, n, entry.kind);
        CHECK(enter(s, &e, s->t2, 0, &entry) == 0 && entry.kind == PAYLOCK_ENTRY_APPLIED, "%s %s n=%ld: t2 (%d)", s->name,
              op, n, entry.kind);
        CHECK(s->status(&e, 0, &st) == 0 && st.credit_seconds_left == 10 + c - st.now + later,
              "%s %s n=%ld: credit after t2 %" PRIu32, s->name, op, n, st.credit_seconds_left);
        CHECK(enter(s, &e, s->t2, 0, &entry) == 0 && entry.kind == PAYLOCK_ENTRY_DUPLICATE, "%s %s n=%ld: t2 again",
              s->name, op, n);
    }
    return new_state;
}

static void checkpoint_suite(const Scheme *s) {
    config = &RUNTIME;
    uint32_t lost = checkpoints(s);
    int tick_cuts = 0, down_cuts = 0;
    int tick_new = checkpoint_cuts(s, 0, &tick_cuts);
    int down_new = checkpoint_cuts(s, 1, &down_cuts);
    config = &CONFIG;
    printf("%s engine checkpoints (runtime clock): a cut without one lost %" PRIu32 " s; "
           "%zu cut points each: tick %d cut, %d booted new; power_down %d cut, %d booted new\n",
           s->name, lost, s->record + 5, tick_cuts, tick_new, down_cuts, down_new);
}

static void boundary(void) {
    Engine e;
    PaylockEntry entry;
    PaylockStatus status;
    Flash f;
    flash_blank(&f);
    memset(&e, 0, sizeof e);
    const uint8_t *t = (const uint8_t *)"662486790";
    CHECK(paylock_openpaygo_engine_enter(&e.openpaygo, t, 9, 0, &entry) == PAYLOCK_ERR_ARGUMENT, "never booted");
    CHECK(paylock_nexus_engine_enter(&e.nexus, t, 9, 0, &entry) == PAYLOCK_ERR_ARGUMENT, "nexus never booted");
    CHECK(paylock_ast_engine_status(&e.ast, 0, &status) == PAYLOCK_ERR_ARGUMENT, "ast never booted");
    CHECK(paylock_openpaygo_engine_status(&e.openpaygo, 0, &status) == PAYLOCK_ERR_ARGUMENT, "status before boot");
    CHECK(paylock_openpaygo_engine_tick(&e.openpaygo, 0) == PAYLOCK_ERR_ARGUMENT, "tick before boot");
    CHECK(paylock_nexus_engine_power_down(&e.nexus, 0) == PAYLOCK_ERR_ARGUMENT, "nexus power_down before boot");
    CHECK(paylock_ast_engine_tick(&e.ast, 0) == PAYLOCK_ERR_ARGUMENT, "ast tick before boot");
    CHECK(paylock_openpaygo_engine_tick(NULL, 0) == PAYLOCK_ERR_NULL, "tick: null engine");
    CHECK(paylock_openpaygo_engine_power_down(NULL, 0) == PAYLOCK_ERR_NULL, "power_down: null engine");
    CHECK(paylock_nexus_engine_tick(NULL, 0) == PAYLOCK_ERR_NULL, "nexus tick: null engine");
    CHECK(paylock_nexus_engine_power_down(NULL, 0) == PAYLOCK_ERR_NULL, "nexus power_down: null engine");
    CHECK(paylock_ast_engine_tick(NULL, 0) == PAYLOCK_ERR_NULL, "ast tick: null engine");
    CHECK(paylock_ast_engine_power_down(NULL, 0) == PAYLOCK_ERR_NULL, "ast power_down: null engine");
    PaylockStoragePort port = {&f, SLOT_LEN, flash_read, NULL, flash_program};
    CHECK(paylock_openpaygo_engine_boot(&e.openpaygo, &OP_SECRET, &CONFIG, &port, 0, NULL) == PAYLOCK_ERR_NULL, "no erase");
    CHECK(paylock_nexus_engine_boot(&e.nexus, NX_KEY, &NX_FULL, 1, &CONFIG, &port, 0, NULL) == PAYLOCK_ERR_NULL,
          "nexus: no erase");
    CHECK(paylock_ast_engine_boot(&e.ast, &AST_TOKENS, &CONFIG, &port, 0, NULL) == PAYLOCK_ERR_NULL, "ast: no erase");
    port.erase = flash_erase;
    CHECK(paylock_nexus_engine_boot(&e.nexus, NULL, &NX_FULL, 1, &CONFIG, &port, 0, NULL) == PAYLOCK_ERR_NULL, "no key");
    CHECK(paylock_nexus_engine_boot(&e.nexus, NX_KEY, NULL, 1, &CONFIG, &port, 0, NULL) == PAYLOCK_ERR_NULL,
          "no nexus config");
    CHECK(paylock_nexus_engine_boot(NULL, NX_KEY, &NX_FULL, 1, &CONFIG, &port, 0, NULL) == PAYLOCK_ERR_NULL, "no engine");
    CHECK(paylock_ast_engine_boot(&e.ast, NULL, &CONFIG, &port, 0, NULL) == PAYLOCK_ERR_NULL, "no ast secret");
    CHECK(paylock_ast_engine_boot(&e.ast, &AST_TOKENS, NULL, &port, 0, NULL) == PAYLOCK_ERR_NULL, "no config");
    CHECK(paylock_ast_engine_boot(&e.ast, &AST_TOKENS, &CONFIG, NULL, 0, NULL) == PAYLOCK_ERR_NULL, "no port");
    PaylockNexusConfig unknown = NX_FULL;
    unknown.protocol = 7;
    CHECK(paylock_nexus_engine_boot(&e.nexus, NX_KEY, &unknown, 1, &CONFIG, &port, 0, NULL) == PAYLOCK_ERR_ARGUMENT,
          "unknown protocol");
    PaylockAstSecret bad = AST_TOKENS;
    bad.suite = 9;
    CHECK(paylock_ast_engine_boot(&e.ast, &bad, &CONFIG, &port, 0, NULL) == PAYLOCK_ERR_ARGUMENT, "unknown suite");
    for (size_t i = 0; i < sizeof SCHEMES / sizeof SCHEMES[0]; i++) {
        const Scheme *s = &SCHEMES[i];
        port.slot_len = s->record - 1;
        CHECK(s->boot(&e, 0, &port, 0, NULL) == PAYLOCK_ERR_ARGUMENT, "%s: small slots", s->name);
        port.slot_len = s->record;
        CHECK(s->boot(&e, 0, &port, 0, NULL) == 0, "%s: slots of one record", s->name);
        flash_blank(&f);
    }
    /* An engine of one scheme is refused by another's calls. */
    CHECK(boot(&SCHEMES[0], &e, 0, &f, 0, NULL) == 0, "boot");
    CHECK(paylock_nexus_engine_enter(&e.nexus, t, 9, 0, &entry) == PAYLOCK_ERR_ARGUMENT, "OpenPAYGO engine as Nexus");
    CHECK(paylock_ast_engine_status(&e.ast, 0, &status) == PAYLOCK_ERR_ARGUMENT, "OpenPAYGO engine as AST");
    CHECK(paylock_nexus_engine_tick(&e.nexus, DAY) == PAYLOCK_ERR_ARGUMENT, "OpenPAYGO engine ticked as Nexus");
    CHECK(paylock_ast_engine_power_down(&e.ast, DAY) == PAYLOCK_ERR_ARGUMENT, "OpenPAYGO engine powered down as AST");
    CHECK(paylock_openpaygo_engine_enter(&e.openpaygo, NULL, 9, 0, &entry) == PAYLOCK_ERR_NULL, "null token");
    CHECK(paylock_nexus_engine_enter(NULL, t, 9, 0, &entry) == PAYLOCK_ERR_NULL, "null engine");
    CHECK(paylock_ast_engine_status(&e.ast, 0, NULL) == PAYLOCK_ERR_NULL, "null status");
    CHECK(enter(&SCHEMES[0], &e, "12345", 0, &entry) == 0 && entry.kind == PAYLOCK_ENTRY_MALFORMED, "malformed");
    /* The lockout survives a reboot. */
    for (int i = 0; i < 4; i++) CHECK(enter(&SCHEMES[0], &e, "111111111", 100, &entry) == 0, "wrong code");
    CHECK(boot(&SCHEMES[0], &e, 0, &f, 110, NULL) == 0 && enter(&SCHEMES[0], &e, "662486790", 110, &entry) == 0 &&
              entry.kind == PAYLOCK_ENTRY_LOCKED_OUT,
          "the lockout survives a reboot (%d)", entry.kind);
    /* Slots damaged by hand (not a power cut): the MAC refuses them; every scheme's engine. */
    for (size_t i = 0; i < sizeof SCHEMES / sizeof SCHEMES[0]; i++) {
        const Scheme *s = &SCHEMES[i];
        int32_t found = -1;
        flash_blank(&f);
        CHECK(boot(s, &e, 0, &f, 0, NULL) == 0 && enter(s, &e, s->t1, 10, &entry) == 0, "%s: token", s->name);
        f.slot[0][10] ^= 1;
        f.slot[1][10] ^= 1;
        CHECK(boot(s, &e, 0, &f, 20, &found) == 0 && found == PAYLOCK_BOOT_CORRUPT, "%s: tampered slots: %d", s->name,
              found);
        CHECK(enter(s, &e, s->t2, 20, &entry) == 0 && entry.kind == PAYLOCK_ENTRY_UNAVAILABLE,
              "%s: a corrupt store refuses tokens", s->name);
        long programs = f.programs;
        CHECK(s->tick(&e, DAY) == 0 && s->power_down(&e, DAY) == 0 && f.programs == programs,
              "%s: a corrupt store takes no checkpoint", s->name);
    }
}

int main(void) {
    int bad = 0;
    for (size_t i = 0; i < sizeof SCHEMES / sizeof SCHEMES[0]; i++) {
        const Scheme *s = &SCHEMES[i];
        int took_effect = 0, cuts = 0;
        int interrupted = replays(s, &took_effect);
        int revealed = attack(s, &cuts);
        printf("%s engine power cuts: %zu cut points (%d interrupted a write, %d left the token applied); "
               "attacker: %d cut entries, %d INVALID answers before the lockout\n",
               s->name, 2 * s->record + 5, interrupted, took_effect, cuts, revealed);
        bad |= interrupted != 2 * (int)s->record;
        checkpoint_suite(s);
    }
    boundary();
    printf("engine power cuts: %d failures\n", failures);
    return failures != 0 || bad;
}

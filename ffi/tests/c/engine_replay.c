/*
 * The published Nexus and AST v1 device scenarios through paylock.h's device-lock engine
 * (lines from ffi/tests/engine_lines.py on stdin). Each scenario starts a new device on two
 * blank RAM flash slots and reboots it from the slots before every entry (RAM is lost, the
 * record decides): valid codes apply with the vector's credit, a replay is DUPLICATE, wrong
 * codes are INVALID and count towards the scheme's lockout. Nexus: after the scenario the
 * published negative vectors (`wrong`) are entered until the bucket of a new device (6
 * attempts, nexus-embedded's grace) is spent, counting the scenario's own wrong codes: each is
 * INVALID until then, and the next entry is locked out. AST: the engine's lockout must give
 * the vectors' waits (spec §10). Built with -fsanitize=address,undefined.
 *
 * With the argument `keys` the Nexus codes go in key by key (paylock_nexus_engine_press_key)
 * and must give the same verdicts, credit and lockout. By the keypad rules (spec §6) a code
 * finishes at its end key (`#`, or the 14th small symbol) after a start key: every earlier key
 * answers PENDING or KEY_REJECTED and writes nothing. A published wrong code that the rules
 * never finish (no start key first, a small code short of 14 symbols) is never checked: all its
 * keys answer so, nothing is written and it does not count towards the lockout.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "flash.h"

static const PaylockEngineConfig RTC_LOCKOUT = {0, 1, 0, 3600};
#define NEXUS_CLOCK 1000u
/* Published wrong codes the keypad rules never finish, among those entered before a
 * scenario's lockout: the small `15425322534354` (13 symbols), `154251225343542` (a start key
 * `1` among the symbols restarts it, 9 follow) and `254253225343542` (no start key). */
#define UNFINISHED 3

static int scenarios, steps, lockouts, by_key, unfinished;

/* Blank while nothing was ever written (entries refused on their shape write nothing), then
 * the newest record, never corrupt. */
static int32_t expected_boot(const Flash *f) {
    for (size_t i = 0; i < sizeof f->slot; i++)
        if (f->slot[i / SLOT_LEN][i % SLOT_LEN] != 0xFF) return PAYLOCK_BOOT_RESTORED;
    return PAYLOCK_BOOT_BLANK;
}

/* ---- Nexus ---- */

typedef struct NexusDevice {
    PaylockNexusEngine engine;
    Flash flash;
    uint8_t key[16];
    PaylockNexusConfig nexus;
    uint32_t user_facing_id;
} NexusDevice;

static void nexus_boot(NexusDevice *d, int line) {
    PaylockStoragePort port = flash_port(&d->flash, SLOT_LEN);
    int32_t found = -1;
    CHECK(paylock_nexus_engine_boot(&d->engine, d->key, &d->nexus, d->user_facing_id, &RTC_LOCKOUT, &port,
                                    NEXUS_CLOCK, &found) == 0 &&
              found == expected_boot(&d->flash),
          "line %d: nexus boot (%d)", line, found);
}

/* The key at which the keypad rules (spec §6) finish `keys`, or -1 if none does: the start key
 * (`*`, small `1`) begins a code and restarts one begun, keys before it are ignored, `#` ends a
 * full code, the 14th symbol a small one. */
static long end_key(const char *keys, int small) {
    long since = -1; /* keys since the last start key; -1 before one */
    for (long i = 0; keys[i]; i++) {
        if (keys[i] == (small ? '1' : '*')) {
            since = 0;
        } else if (since >= 0) {
            if (!small && keys[i] == '#') return i;
            if (small && ++since == 14) return i;
        }
    }
    return -1;
}

/* Returns the entry's result, or 1 for a code the keypad rules do not finish (key by key). */
static int nexus_enter(NexusDevice *d, const char *keys, PaylockEntry *e) {
    if (!by_key) return paylock_nexus_engine_enter(&d->engine, (const uint8_t *)keys, strlen(keys), NEXUS_CLOCK, e);
    long end = end_key(keys, d->nexus.protocol == PAYLOCK_NEXUS_SMALL);
    int result = 1;
    for (long i = 0; keys[i]; i++) {
        PaylockEntry k = {-1, 0, 0, 0, 0};
        long programs = d->flash.programs;
        int32_t r = paylock_nexus_engine_press_key(&d->engine, (uint8_t)keys[i], NEXUS_CLOCK, &k);
        if (i == end) {
            *e = k;
            result = r;
            continue;
        }
        CHECK(r == 0 && (k.kind == PAYLOCK_ENTRY_PENDING || k.kind == PAYLOCK_ENTRY_KEY_REJECTED) &&
                  d->flash.programs == programs,
              "key %ld of %s: %d, kind %d, %ld writes", i, keys, r, k.kind, d->flash.programs - programs);
    }
    unfinished += result == 1;
    return result;
}

/* A published wrong code after the scenario: INVALID while the bucket lasts, then locked out. */
static void nexus_wrong(NexusDevice *d, const char *rest, int *counted, int line) {
    char keys[64];
    PaylockEntry e;
    if (*counted > 6 || sscanf(rest, "%63s", keys) != 1) return;
    nexus_boot(d, line);
    int r = nexus_enter(d, keys, &e);
    if (r == 1 && by_key) return; /* never finished: not entered, not counted */
    CHECK(r == 0, "line %d: enter", line);
    if (*counted < 6) {
        CHECK(e.kind == PAYLOCK_ENTRY_INVALID, "line %d: wrong code %d (%s): %d", line, *counted + 1, keys, e.kind);
    } else {
        CHECK(e.kind == PAYLOCK_ENTRY_LOCKED_OUT && e.seconds_left > 0 && e.seconds_left <= 720,
              "line %d: the 7th wrong code is locked out (%d, %" PRIu32 " s)", line, e.kind, e.seconds_left);
        lockouts++;
    }
    (*counted)++;
}

static void nexus_step(NexusDevice *d, const char *rest, int line, int *counted) {
    char keys[64], response[32];
    uint32_t credit;
    int unlocked;
    if (sscanf(rest, "%63s %31s %" SCNu32 " %d", keys, response, &credit, &unlocked) != 4) {
        CHECK(0, "line %d: bad step", line);
        return;
    }
    PaylockStatus before, after;
    PaylockEntry e;
    nexus_boot(d, line);
    CHECK(paylock_nexus_engine_status(&d->engine, NEXUS_CLOCK, &before) == 0, "line %d: status", line);
    CHECK(nexus_enter(d, keys, &e) == 0, "line %d: enter %s", line, keys);
    if (strcmp(response, "VALID_APPLIED") == 0) {
        CHECK(e.kind == PAYLOCK_ENTRY_APPLIED, "line %d: %s applied, got %d", line, keys, e.kind);
    } else if (strcmp(response, "VALID_DUPLICATE") == 0) {
        /* An ADD entered while unlocked: nexus-embedded answers VALID_DUPLICATE but uses up its
         * ID; the engine reports it applied with no credit (PAYLOCK_COMMAND_OTHER). */
        int no_credit = before.unlocked && e.kind == PAYLOCK_ENTRY_APPLIED && e.command == PAYLOCK_COMMAND_OTHER;
        CHECK(e.kind == PAYLOCK_ENTRY_DUPLICATE || no_credit, "line %d: %s duplicate, got %d", line, keys, e.kind);
    } else {
        CHECK(e.kind == PAYLOCK_ENTRY_INVALID, "line %d: %s invalid, got %d", line, keys, e.kind);
        (*counted)++;
    }
    CHECK(paylock_nexus_engine_status(&d->engine, NEXUS_CLOCK, &after) == 0, "line %d: status", line);
    CHECK(after.unlocked == unlocked, "line %d: unlocked %d, want %d", line, after.unlocked, unlocked);
    if (!unlocked)
        CHECK(after.credit_seconds_left == credit, "line %d: credit %" PRIu32 ", want %" PRIu32, line,
              after.credit_seconds_left, credit);
    steps++;
}

/* ---- AST ---- */

typedef struct AstDevice {
    PaylockAstEngine engine;
    Flash flash;
    PaylockAstSecret secret;
} AstDevice;

static void ast_boot(AstDevice *d, uint32_t clock, int line) {
    PaylockStoragePort port = flash_port(&d->flash, SLOT_LEN);
    int32_t found = -1;
    CHECK(paylock_ast_engine_boot(&d->engine, &d->secret, &RTC_LOCKOUT, &port, clock, &found) == 0 &&
              found == expected_boot(&d->flash),
          "line %d: ast boot (%d)", line, found);
}

static int field(const char *s, long *out) {
    if (strcmp(s, "-") == 0) return 0;
    *out = strtol(s, NULL, 10);
    return 1;
}

static void ast_step(AstDevice *d, const char *rest, int line) {
    char input[64], status[16], type_s[8], counter_s[16], value_s[16], retry_s[16];
    uint32_t now;
    int mode;
    if (sscanf(rest, "%63s %" SCNu32 " %15s %7s %15s %15s %15s %d", input, &now, status, type_s, counter_s, value_s,
               retry_s, &mode) != 8) {
        CHECK(0, "line %d: bad step", line);
        return;
    }
    if (strcmp(input, "@") == 0) input[0] = 0;
    for (char *c = input; *c; c++)
        if (*c == '~') *c = ' ';
    long type = -1, counter = -1, value = -1, retry = -1;
    field(type_s, &type);
    field(counter_s, &counter);
    field(value_s, &value);
    field(retry_s, &retry);
    PaylockEntry e;
    PaylockStatus st;
    ast_boot(d, now, line);
    CHECK(paylock_ast_engine_enter(&d->engine, (const uint8_t *)input, strlen(input), now, &e) == 0, "line %d: enter",
          line);
    uint32_t unit = d->secret.unit ? 86400u : 3600u;
    if (strcmp(status, "APPLIED") == 0) {
        static const uint32_t commands[] = {PAYLOCK_COMMAND_ADD_CREDIT, PAYLOCK_COMMAND_SET_CREDIT, PAYLOCK_COMMAND_UNLOCK,
                                            PAYLOCK_COMMAND_COUNTER_SYNC};
        uint32_t command = type >= 0 && type < 4 ? commands[type] : PAYLOCK_COMMAND_OTHER;
        CHECK(e.kind == PAYLOCK_ENTRY_APPLIED && e.command == command && e.sequence == (uint32_t)counter,
              "line %d: applied type %ld counter %ld, got %d %" PRIu32 " %" PRIu32, line, type, counter, e.kind,
              e.command, e.sequence);
        if (type == 0 || type == 1)
            CHECK(e.seconds == (uint32_t)value * unit, "line %d: %" PRIu32 " s, want %ld units", line, e.seconds,
                  value);
    } else if (strcmp(status, "DUPLICATE") == 0) {
        CHECK(e.kind == PAYLOCK_ENTRY_DUPLICATE, "line %d: duplicate, got %d", line, e.kind);
    } else if (strcmp(status, "MALFORMED") == 0) {
        CHECK(e.kind == PAYLOCK_ENTRY_MALFORMED, "line %d: malformed, got %d", line, e.kind);
    } else if (strcmp(status, "INVALID") == 0) {
        CHECK(e.kind == PAYLOCK_ENTRY_INVALID, "line %d: invalid, got %d", line, e.kind);
        CHECK(paylock_ast_engine_status(&d->engine, now, &st) == 0 && st.lockout_seconds_left == (uint32_t)retry,
              "line %d: a wrong code locks for %" PRIu32 " s, want %ld", line, st.lockout_seconds_left, retry);
    } else if (strcmp(status, "LOCKED") == 0 && type == 5) {
        CHECK(e.kind == PAYLOCK_ENTRY_REFUSED, "line %d: TEST over its quota, got %d", line, e.kind);
    } else {
        CHECK(e.kind == PAYLOCK_ENTRY_LOCKED_OUT && e.seconds_left == (uint32_t)(retry - (long)now),
              "line %d: locked out until %ld, got %d %" PRIu32, line, retry, e.kind, e.seconds_left);
    }
    CHECK(paylock_ast_engine_status(&d->engine, now, &st) == 0 && st.unlocked == mode, "line %d: unlocked %d", line,
          st.unlocked);
    steps++;
}

int main(int argc, char **argv) {
    by_key = argc > 1 && strcmp(argv[1], "keys") == 0;
    static char buf[512];
    static NexusDevice nexus;
    static AstDevice ast;
    enum { NONE, NEXUS, AST } scheme = NONE;
    int counted = 0, line = 0;
    while (fgets(buf, sizeof buf, stdin)) {
        line++;
        if (strncmp(buf, "nexus ", 6) == 0 || strncmp(buf, "ast ", 4) == 0) {
            scenarios++;
        }
        if (strncmp(buf, "nexus ", 6) == 0) {
            char key[40];
            unsigned protocol;
            memset(&nexus, 0, sizeof nexus);
            flash_blank(&nexus.flash);
            CHECK(sscanf(buf + 6, "%u %39s %" SCNu32, &protocol, key, &nexus.user_facing_id) == 3, "line %d", line);
            hex_key(key, nexus.key);
            PaylockNexusConfig config = {(uint8_t)protocol, 5, 5, 1, 0, 16};
            nexus.nexus = config;
            scheme = NEXUS;
            counted = 0;
        } else if (strncmp(buf, "ast ", 4) == 0) {
            char key[40];
            unsigned suite, profile, key_rev, unit;
            memset(&ast, 0, sizeof ast);
            flash_blank(&ast.flash);
            CHECK(sscanf(buf + 4, "%u %u %" SCNu32 " %39s %u %u", &suite, &profile, &ast.secret.device_id, key, &key_rev,
                         &unit) == 6,
                  "line %d", line);
            hex_key(key, ast.secret.key);
            ast.secret.suite = (uint8_t)suite;
            ast.secret.profile = (uint8_t)profile;
            ast.secret.key_rev = (uint8_t)key_rev;
            ast.secret.unit = (uint8_t)unit;
            scheme = AST;
        } else if (strncmp(buf, "step ", 5) == 0 && scheme == NEXUS) {
            nexus_step(&nexus, buf + 5, line, &counted);
        } else if (strncmp(buf, "wrong ", 6) == 0 && scheme == NEXUS) {
            nexus_wrong(&nexus, buf + 6, &counted, line);
        } else if (strncmp(buf, "step ", 5) == 0 && scheme == AST) {
            ast_step(&ast, buf + 5, line);
        } else {
            CHECK(0, "line %d: unknown line", line);
        }
    }
    printf("engine replay%s: %d scenarios, %d entries (Nexus and AST, a reboot before each), %d Nexus lockouts, "
           "%d codes the keypad rules never finish, %d failures\n",
           by_key ? " (Nexus key by key)" : "", scenarios, steps, lockouts, unfinished, failures);
    return failures != 0 || scenarios < 100 || lockouts != 3 || unfinished != (by_key ? UNFINISHED : 0);
}

<?php
// A PHP CRM calling paylock through FFI, no co-process: the published OpenPAYGO encode vectors
// through paylock_openpaygo_generate and through paylock_batch, the Nexus encode vectors through
// paylock_batch (and those of the credit, unlock and wipe types through paylock_nexus_generate),
// the AST v1 vectors through paylock_ast_generate, and a JSON Lines text through
// paylock_batch_lines.
//
//   php -d ffi.enable=1 ffi/php/vectors.php target/debug/libpaylock_ffi.so
// (the library built with `cargo build -p paylock-ffi --features issuer`).

$lib = $argv[1] ?? 'target/debug/libpaylock_ffi.so';
$root = dirname(__DIR__, 2);
$ffi = FFI::cdef('
    typedef struct PaylockOpenPaygoSecret { uint8_t key[16]; uint32_t starting_code; } PaylockOpenPaygoSecret;
    int32_t paylock_batch(const char *request, size_t request_len, uint8_t *out, size_t out_cap, size_t *written);
    int32_t paylock_batch_lines(const char *requests, size_t requests_len, uint8_t *out, size_t out_cap, size_t *written);
    int32_t paylock_openpaygo_generate(const PaylockOpenPaygoSecret *secret, uint32_t form, uint32_t count,
        uint32_t kind, uint32_t value, uint8_t *out, size_t out_cap, size_t *written, uint32_t *new_count);
    int32_t paylock_nexus_generate(const uint8_t *key, uint32_t protocol, uint32_t kind, uint32_t message_id,
        uint32_t value, uint8_t *out, size_t out_cap, size_t *written);
    typedef struct PaylockAstSecret { uint8_t key[16]; uint32_t device_id; uint8_t suite; uint8_t profile;
        uint8_t key_rev; uint8_t unit; } PaylockAstSecret;
    int32_t paylock_ast_generate(const PaylockAstSecret *secret, uint32_t counter, uint32_t token_type,
        uint32_t value, uint32_t param_id, uint8_t *out, size_t out_cap, size_t *written);
', $lib);

$failures = 0;
function fail(string $what): void { global $failures; $failures++; fwrite(STDERR, "FAIL $what\n"); }

// One call into a buffer that grows when paylock says it is too small (-6, PAYLOCK_ERR_BUFFER).
function call_text(callable $call, int $cap = 64): array {
    global $ffi;
    for (;;) {
        $out = $ffi->new("uint8_t[$cap]");
        $written = $ffi->new('size_t');
        $r = $call($out, $cap, FFI::addr($written));
        if ($r === -6) { $cap = $written->cdata + 1; continue; }
        return [$r, $r === 0 ? FFI::string($out, $written->cdata) : null];
    }
}

function batch(string $request): array {
    global $ffi;
    [$r, $text] = call_text(fn($out, $cap, $w) => $ffi->paylock_batch($request, strlen($request), $out, $cap, $w));
    if ($r !== 0) { fail("paylock_batch returned $r"); return []; }
    return json_decode($text, true);
}

// OpenPAYGO: direct and through the batch protocol.
$opg = json_decode(file_get_contents("$root/test-vectors/openpaygo/openpaygo_generated_vectors.json"), true);
$kinds = ['ADD_TIME' => 1, 'SET_TIME' => 2, 'DISABLE_PAYG' => 3, 'COUNTER_SYNC' => 4];
$opg_cases = 0;
foreach ($opg['encode'] as $i => $v) {
    if (($v['value_divider'] ?? 1) != 1 || !isset($v['expected_token'])) continue;
    $opg_cases++;
    $secret = $ffi->new('PaylockOpenPaygoSecret');
    $key = hex2bin($v['key']);
    for ($b = 0; $b < 16; $b++) $secret->key[$b] = ord($key[$b]);
    $secret->starting_code = $v['starting_code_effective'];
    $form = ($v['extended_token'] ? 2 : 0) + ($v['restricted_digit_set'] ? 1 : 0);
    $count = $ffi->new('uint32_t');
    [$r, $token] = call_text(fn($out, $cap, $w) => $ffi->paylock_openpaygo_generate(
        FFI::addr($secret), $form, $v['count'], $kinds[$v['token_type']], $v['value_raw'] ?? 0,
        $out, $cap, $w, FFI::addr($count)), 8);
    if ($r !== 0 || $token !== $v['expected_token'] || $count->cdata !== $v['expected_new_count']) {
        fail("openpaygo encode $i: direct gives $r $token {$count->cdata}, want {$v['expected_token']} {$v['expected_new_count']}");
    }
    $request = ['scheme' => 'openpaygo', 'op' => 'generate', 'key' => $v['key'],
        'starting_code' => $v['starting_code_effective'], 'count' => $v['count'], 'token_type' => $v['token_type'],
        'restricted_digit_set' => $v['restricted_digit_set'], 'extended_token' => $v['extended_token']];
    if (in_array($v['token_type'], ['ADD_TIME', 'SET_TIME'])) $request['value'] = $v['value_raw'];
    $a = batch(json_encode($request));
    if (($a['token'] ?? null) !== $v['expected_token'] || ($a['count'] ?? null) !== $v['expected_new_count']) {
        fail("openpaygo encode $i: batch gives " . json_encode($a));
    }
}

// Nexus: the encode vectors of the full and small protocols, through the batch protocol.
// Decoded as objects, so that an empty or keyed `params` member is re-encoded as it was.
$nx = json_decode(file_get_contents("$root/test-vectors/nexus/nexus_keycode_vectors.json"), false);
$nexus_cases = 0;
foreach ($nx->encode_vectors as $v) {
    if (!in_array($v->protocol, ['full', 'small']) || !isset($v->secret_key_hex)) continue;
    $nexus_cases++;
    $request = ['scheme' => 'nexus', 'op' => 'generate', 'protocol' => $v->protocol,
        'message_type' => $v->message_type, 'secret_key_hex' => $v->secret_key_hex,
        'message_id' => $v->message_id ?? 0, 'params' => $v->params ?? new stdClass(),
        'allow_ids_above_65534' => true, 'allow_demo_codes' => true];
    $a = batch(json_encode($request));
    if (($a['keycode'] ?? null) !== $v->keycode) {
        fail("nexus {$v->id}: batch gives " . json_encode($a) . ", want {$v->keycode}");
    }
}

// Nexus, direct: the types a CRM issues every day. IDs above 65,534 are refused by design
// (nexus-embedded 2.0.1 keeps 16-bit IDs; the batch protocol issues them on request).
$nexus_kinds = ['full' => ['ADD_CREDIT' => [1, 'hours'], 'SET_CREDIT' => [2, 'hours'], 'UNLOCK' => [3, null],
                           'WIPE_STATE' => [4, 'target']],
                'small' => ['ADD_CREDIT' => [1, 'days'], 'SET_CREDIT' => [2, 'days'], 'SET_CREDIT_LOCK' => [2, 'days'],
                            'UNLOCK' => [3, null], 'CUSTOM_WIPE_RESTRICTED_FLAG' => [5, null]]];
$nexus_direct = $nexus_refused = 0;
foreach ($nx->encode_vectors as $v) {
    $kind = $nexus_kinds[$v->protocol][$v->message_type] ?? null;
    if ($kind === null || isset($v->params->prefix) || isset($v->params->key_dict)) continue;  // standard keys only
    $key = $ffi->new('uint8_t[16]');
    $raw = hex2bin($v->secret_key_hex);
    for ($b = 0; $b < 16; $b++) $key[$b] = ord($raw[$b]);
    $value = $kind[1] === null ? 0 : $v->params->{$kind[1]};
    [$r, $keycode] = call_text(fn($out, $cap, $w) => $ffi->paylock_nexus_generate(
        $key, $v->protocol === 'full' ? 0 : 1, $kind[0], $v->message_id ?? 0, $value, $out, $cap, $w), 8);
    if (($v->message_id ?? 0) > 65534) {
        $nexus_refused++;
        if ($r !== -3) fail("nexus {$v->id} direct: ID {$v->message_id} gives $r, want -3 (PAYLOCK_ERR_ARGUMENT)");
        continue;
    }
    $nexus_direct++;
    if ($r !== 0 || $keycode !== $v->keycode) fail("nexus {$v->id} direct: gives $r $keycode, want {$v->keycode}");
}

// AST v1: every published vector (three suites, three profiles, six types), direct.
$ast = json_decode(file_get_contents("$root/test-vectors/access/ast_v1_vectors.json"), true);
$ast_cases = 0;
foreach ($ast['vectors'] as $v) {
    $ast_cases++;
    $secret = $ffi->new('PaylockAstSecret');
    // TEST codes are public (K_TEST, device 0xFFFFFFFF): any device's secret gives them.
    $test = $v['type'] === 5;
    $raw = $test ? random_bytes(16) : hex2bin($v['device_key_hex']);
    for ($b = 0; $b < 16; $b++) $secret->key[$b] = ord($raw[$b]);
    $secret->device_id = $test ? random_int(0, 0xFFFFFFFE) : $v['device_id'];
    $secret->suite = $v['suite'];
    $secret->profile = strpos('LMS', $v['profile']);
    $secret->key_rev = $v['key_rev'];
    $value = $v['type'] === 4 ? $v['param_value'] : $v['value'];
    [$r, $token] = call_text(fn($out, $cap, $w) => $ffi->paylock_ast_generate(
        FFI::addr($secret), $v['counter'], $v['type'], $value, $v['param_id'] ?? 0, $out, $cap, $w), 8);
    if ($r !== 0 || $token !== $v['text']) fail("ast {$v['id']}: gives $r $token, want {$v['text']}");
}

// A JSON Lines text: three requests, one refused, answered line by line in order.
$first = $opg['encode'][0];
$lines = json_encode(['scheme' => 'openpaygo', 'op' => 'generate', 'key' => $first['key'],
        'starting_code' => $first['starting_code_effective'], 'count' => $first['count'],
        'token_type' => $first['token_type'], 'value' => $first['value_raw'],
        'restricted_digit_set' => $first['restricted_digit_set'], 'extended_token' => $first['extended_token']]) . "\n"
    . "{\"scheme\":\"openpaygo\",\"op\":\"generate\"}\n"
    . "not json\n";
[$r, $text] = call_text(fn($out, $cap, $w) => $ffi->paylock_batch_lines($lines, strlen($lines), $out, $cap, $w));
$answers = array_map(fn($l) => json_decode($l, true), explode("\n", rtrim((string)$text, "\n")));
if ($r !== 0 || count($answers) !== 3 || ($answers[0]['token'] ?? null) !== $first['expected_token']
    || $answers[1]['ok'] !== false || $answers[2]['ok'] !== false) {
    fail("paylock_batch_lines gives $r " . json_encode($answers));
}

// The boundary: a too-small buffer is an error code with the size needed, never an overflow.
$out = $ffi->new('uint8_t[4]');
$written = $ffi->new('size_t');
$req = '{"scheme":"openpaygo","op":"generate"}';
$r = $ffi->paylock_batch($req, strlen($req), $out, 4, FFI::addr($written));
if ($r !== -6 || $written->cdata < 10) fail("short buffer gives $r, {$written->cdata}");

printf("PHP FFI: %d OpenPAYGO encode vectors (direct and batch), %d Nexus encode vectors (batch; %d direct, %d IDs above 65,534 refused direct), %d AST vectors (direct), JSON Lines, %d failures\n",
    $opg_cases, $nexus_cases, $nexus_direct, $nexus_refused, $ast_cases, $failures);
exit($failures ? 1 : 0);

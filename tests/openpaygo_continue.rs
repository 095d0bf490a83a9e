//! Continuing a token chain from a stored point gives exactly the tokens of a walk from the
//! starting code (`OpenPaygoIssuer::generate`, itself proven byte-exact with `openpaygo` 0.6.3).

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)] // test code

use paylock::Key;
use paylock::openpaygo::{ChainPoint, Form, OpenPaygoIssuer, OpenPaygoMessage, OpenPaygoSecret};
use proptest::prelude::*;
use serde_json::Value;

fn forms() -> impl Strategy<Value = Form> {
    (any::<bool>(), any::<bool>()).prop_map(|(extended, restricted_digit_set)| Form {
        extended,
        restricted_digit_set,
    })
}

fn secrets() -> impl Strategy<Value = OpenPaygoSecret> {
    (any::<[u8; 16]>(), 0..=999_999_999u32)
        .prop_map(|(k, sc)| OpenPaygoSecret::new(Key::new(k), sc).unwrap())
}

fn messages(form: Form) -> impl Strategy<Value = OpenPaygoMessage> {
    let max = form.max_value();
    prop_oneof![
        (0..=max).prop_map(OpenPaygoMessage::AddTime),
        (0..=max).prop_map(OpenPaygoMessage::SetTime),
        Just(OpenPaygoMessage::DisablePayg),
        Just(OpenPaygoMessage::CounterSync),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn continuing_matches_generate(
        secret in secrets(),
        (form, message) in forms().prop_flat_map(|f| (Just(f), messages(f))),
        earlier in 0..30_000u32,
        gap in 0..2_000u32,
    ) {
        let encoder = OpenPaygoIssuer::new(form);
        // A point left by an earlier token of the same value, then the next token from it.
        let (first, point) = encoder.generate_from(&secret, earlier, message, None).unwrap();
        prop_assert_eq!(first, encoder.generate(&secret, earlier, message).unwrap());
        prop_assert_eq!(point.count(), first.count);
        let count = first.count + gap;
        let (next, moved) = encoder.generate_from(&secret, count, message, Some(&point)).unwrap();
        prop_assert_eq!(next, encoder.generate(&secret, count, message).unwrap());
        prop_assert_eq!(moved.count(), next.count);
        // Advancing a point gets where the walk from the start gets.
        let advanced = encoder.advance(&secret, point, next.count);
        prop_assert_eq!(advanced, moved);
    }

    #[test]
    fn unusable_points_are_ignored(
        secret in secrets(),
        form in forms(),
        count in 0..5_000u32,
        value in 0..=995u32,
        other in 0..=995u32,
        ahead in 3..100u32,
    ) {
        let encoder = OpenPaygoIssuer::new(form);
        let message = OpenPaygoMessage::AddTime(value);
        let expected = encoder.generate(&secret, count, message).unwrap();
        // Another value's chain, and a point past the new count, cannot be continued.
        let wrong_value = ChainPoint::new(other, 0, 12_345);
        let too_far = ChainPoint::new(value, count + ahead, 12_345);
        for from in [wrong_value, too_far] {
            if from.value() == value && from.count() <= expected.count {
                continue;
            }
            let (got, _) = encoder.generate_from(&secret, count, message, Some(&from)).unwrap();
            prop_assert_eq!(got, expected);
        }
    }
}

/// The `openpaygo` package's own vectors, each reached from a point kept at an earlier count.
#[test]
fn published_vectors_from_kept_points() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test-vectors/openpaygo/OpenPAYGO-python__test__test_tokens.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        let secret = OpenPaygoSecret::new(
            Key::from_hex(v["key"].as_str().unwrap()).unwrap(),
            u32::try_from(v["starting_code"].as_u64().unwrap()).unwrap(),
        )
        .unwrap();
        let form = Form {
            extended: v["extended_token"].as_bool().unwrap(),
            restricted_digit_set: v["restricted_digit_set"].as_bool().unwrap(),
        };
        let value = v["value_raw"].as_u64().map(|x| u32::try_from(x).unwrap());
        let message = match v["token_type"].as_str().unwrap() {
            "ADD_TIME" => OpenPaygoMessage::AddTime(value.unwrap()),
            "SET_TIME" => OpenPaygoMessage::SetTime(value.unwrap()),
            "DISABLE_PAYG" => OpenPaygoMessage::DisablePayg,
            _ => OpenPaygoMessage::CounterSync,
        };
        let count = u32::try_from(v["count"].as_u64().unwrap()).unwrap();
        let encoder = OpenPaygoIssuer::new(form);
        let kept = encoder.advance(
            &secret,
            encoder.generate_from(&secret, 0, message, None).unwrap().1,
            count / 2,
        );
        let (got, _) = encoder
            .generate_from(&secret, count, message, Some(&kept))
            .unwrap();
        assert_eq!(got.token.as_str(), v["token"].as_str().unwrap(), "{line}");
        assert_eq!(
            u64::from(got.count),
            v["new_count"].as_u64().unwrap(),
            "{line}"
        );
        checked += 1;
    }
    assert_eq!(checked, 80);
}

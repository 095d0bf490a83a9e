//! The device-lock engine reading damaged flash: a real device writes a few records, then any
//! bytes of either slot are changed and the engine boots from what is left. Booting never
//! panics; `Blank` only when no slot holds a completed record; any other store with no intact
//! record boots `Corrupt` (inactive, every entry
//! `Unavailable`); only a record the device itself wrote is restored (damage cannot forge one
//! past the MAC); entries afterwards never panic and never apply the same text twice.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use paylock::device::{
    Boot, ClockModel, Config, Engine, Entry, Lockout, MemStorage, Slot, Storage,
};
use paylock::persist::{Persist, RecordKey};
use paylock::{Key, Verifier};

const SLOT: usize = 128;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    /// Scheme: 0 OpenPAYGO, 1 Nexus full, 2 Nexus small, 3 AST (SipHash, profile S).
    scheme: u8,
    runtime: bool,
    /// 0 the scheme's lockout, 1 none, 2 blank store counts as corrupt.
    policy: u8,
    key: [u8; 16],
    /// Entries made before the damage (each writes a record when it changes the state).
    before: Vec<&'a [u8]>,
    /// (slot, offset, xor) changes to the stored bytes.
    damage: Vec<(bool, u8, u8)>,
    /// Erase slot A / slot B entirely.
    erase: (bool, bool),
    now: u32,
    after: Vec<&'a [u8]>,
}

fn run<V>(verifier: V, secret: V::Secret, lockout: Lockout, input: &Input<'_>)
where
    V: Verifier + Clone,
    V::Secret: Clone + RecordKey,
    V::State: Persist,
{
    let clock = if input.runtime {
        ClockModel::Runtime
    } else {
        ClockModel::Rtc
    };
    let mut config = Config::new(clock, lockout);
    config.blank_is_corrupt = input.policy % 3 == 2;
    let store = MemStorage::<SLOT>::new();
    let Ok((mut device, _)) = Engine::boot(verifier.clone(), secret.clone(), config, store, 0)
    else {
        panic!("a blank store of {SLOT} bytes always boots");
    };
    for (t, entry) in input.before.iter().take(16).enumerate() {
        let _ = device.enter(entry, u32::try_from(t).unwrap_or(0) * 7);
    }
    let written = device.sequence();
    let mut store = device.into_storage();
    for &(b, offset, xor) in &input.damage {
        let slot = if b { Slot::B } else { Slot::A };
        if let Some(byte) = store.slot_mut(slot).get_mut(usize::from(offset) % SLOT) {
            *byte ^= xor;
        }
    }
    for (erase, slot) in [(input.erase.0, Slot::A), (input.erase.1, Slot::B)] {
        if erase {
            store.erase(slot).expect("erasing memory works");
        }
    }
    // Blank means no slot holds a completed record: each record area is erased, or holds a
    // first write cut short (it begins like this scheme's header and its last byte is erased).
    let len = Engine::<V, MemStorage<SLOT>>::record_len();
    let header = [b'P', b'L', 3, <V::State as Persist>::TAG]; // record format 3 (docs/device.md)
    let erased = |s: &[u8]| s.iter().all(|&b| b == 0xFF);
    let unwritten = |s: &[u8]| {
        let programmed = s.iter().position(|&b| b == 0xFF).unwrap_or(s.len());
        erased(s)
            || (s.last() == Some(&0xFF)
                && s.iter().zip(header).take(programmed).all(|(&b, h)| b == h))
    };
    let slots = [*store.slot_mut(Slot::A), *store.slot_mut(Slot::B)];
    let areas = slots.each_ref().map(|s| s.get(..len).unwrap_or_default());
    let blank = areas.iter().all(|a| erased(a));
    let unwritten_both = areas.iter().all(|a| unwritten(a));
    let (mut device, boot) =
        Engine::boot(verifier, secret, config, store, input.now).expect("boots");
    match boot {
        Boot::Blank => assert!(unwritten_both && !config.blank_is_corrupt),
        Boot::Corrupt => assert!(!blank || config.blank_is_corrupt),
        // One of the device's own records (the newest or the one before it).
        Boot::Restored { sequence } => {
            assert!(!blank && sequence >= 1 && sequence <= written && written - sequence <= 1);
        }
    }
    let mut applied: Vec<&[u8]> = Vec::new();
    for (t, entry) in input.after.iter().take(16).enumerate() {
        let at = input.now.saturating_add(u32::try_from(t).unwrap_or(0));
        let result = device
            .enter(entry, at)
            .expect("memory never fails without a cut");
        if boot == Boot::Corrupt {
            assert_eq!(result, Entry::Unavailable);
            assert!(!device.status(at).active);
        }
        if let Entry::Applied { .. } = result {
            assert!(
                !applied.contains(entry),
                "{entry:?} applied twice: {result:?}"
            );
            applied.push(entry);
        }
    }
}

fuzz_target!(|input: Input<'_>| {
    let key = Key::new(input.key);
    let none = input.policy % 3 == 1;
    let pick = |l: Lockout| if none { Lockout::None } else { l };
    match input.scheme % 4 {
        0 => {
            use paylock::openpaygo::{Form, OpenPaygoSecret, OpenPaygoVerifier};
            let secret = OpenPaygoSecret::new(key, 123_456_789).expect("valid starting code");
            run(
                OpenPaygoVerifier::new(Form::STANDARD),
                secret,
                pick(Lockout::OPENPAYGO),
                &input,
            );
        }
        1 => {
            let v = paylock::nexus::NexusVerifier::full(7);
            run(v, key, pick(Lockout::NEXUS), &input);
        }
        2 => {
            let v = paylock::nexus::NexusVerifier::small();
            run(v, key, pick(Lockout::NEXUS), &input);
        }
        _ => {
            use paylock::access::{AstConfig, AstSecret, AstVerifier, Profile, Suite, Unit};
            let config = AstConfig {
                suite: Suite::SipHash24,
                profile: Profile::S,
                device_id: 42,
                key_rev: 0,
                unit: Unit::Days,
            };
            let secret = AstSecret::new(key, config).expect("SipHash is compiled in");
            run(
                AstVerifier::without_lockout(),
                secret,
                pick(Lockout::AST),
                &input,
            );
        }
    }
});

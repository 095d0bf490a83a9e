//! Device time: the firmware's clock plus a correction that keeps it monotonic across resets
//! and power cycles. Credit expiries and lockouts are kept in device time.

/// The clock the firmware passes to the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClockModel {
    /// A real-time counter that keeps running while the device is off (battery-backed RTC):
    /// credit runs down in real time. A reading below the last checkpoint (a reset or
    /// wound-back RTC) resumes at the checkpoint, so winding the clock back gains nothing.
    Rtc,
    /// A counter that runs only while the device is on, restarting at any value on each boot:
    /// credit is consumed only while on. Device time resumes at the last checkpoint.
    Runtime,
}

/// The firmware clock's offset to device time, kept in RAM and persisted with each record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Clock {
    correction: u32,
    last: u32,
}

impl Clock {
    /// After boot at firmware reading `clock`, from the persisted checkpoint and correction.
    pub(crate) const fn boot(
        model: ClockModel,
        clock: u32,
        checkpoint: u32,
        correction: u32,
    ) -> Self {
        let correction = match model {
            ClockModel::Rtc => correction,
            ClockModel::Runtime => checkpoint.wrapping_sub(clock),
        };
        let mut c = Self {
            correction,
            last: checkpoint,
        };
        c.now(clock);
        c
    }

    /// Device time at firmware reading `clock`; never below an earlier reading.
    pub(crate) const fn now(&mut self, clock: u32) -> u32 {
        let t = clock.wrapping_add(self.correction);
        if t < self.last {
            self.correction = self.last.wrapping_sub(clock);
            return self.last;
        }
        self.last = t;
        t
    }

    pub(crate) const fn correction(&self) -> u32 {
        self.correction
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_resumes_at_the_checkpoint() {
        let mut c = Clock::boot(ClockModel::Runtime, 3, 1_000, 0);
        assert_eq!(c.now(3), 1_000);
        assert_eq!(c.now(10), 1_007);
    }

    #[test]
    fn rtc_runs_on_but_never_goes_back() {
        let mut c = Clock::boot(ClockModel::Rtc, 5_000, 1_000, 0);
        assert_eq!(c.now(5_000), 5_000);
        // Wound back while running: time stands still, then moves on from there.
        assert_eq!(c.now(100), 5_000);
        assert_eq!(c.now(160), 5_060);
        // A reset RTC at boot resumes at the checkpoint.
        let mut c = Clock::boot(ClockModel::Rtc, 0, 9_000, 0);
        assert_eq!(c.now(0), 9_000);
        assert_eq!(c.now(60), 9_060);
    }
}

//! Where the record lives: two flash pages ("slots") written alternately, behind a small
//! erase / program trait, with an in-memory flash (which can cut power after any byte) and,
//! with `std`, a file-backed one.

/// One of the two record slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    /// The first slot.
    A,
    /// The second slot.
    B,
}

impl Slot {
    /// The other slot.
    #[must_use]
    pub const fn other(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }

    const fn index(self) -> usize {
        match self {
            Self::A => 0,
            Self::B => 1,
        }
    }
}

/// Two erasable slots of NOR-flash-like memory: erase sets every byte of a slot to `0xFF`,
/// program can only clear bits. The engine erases a slot, programs one record into it from
/// offset 0, and reads it back a byte at a time.
pub trait Storage {
    /// The implementation's error, e.g. a flash controller fault.
    type Error: core::fmt::Debug;
    /// Bytes in each slot.
    fn slot_len(&self) -> usize;
    /// Reads `buf.len()` bytes of `slot` from `offset`.
    ///
    /// # Errors
    /// When the memory cannot be read or the range is outside the slot.
    fn read(&mut self, slot: Slot, offset: usize, buf: &mut [u8]) -> Result<(), Self::Error>;
    /// Erases `slot` to `0xFF`.
    ///
    /// # Errors
    /// When the erase fails.
    fn erase(&mut self, slot: Slot) -> Result<(), Self::Error>;
    /// Programs `data` into `slot` at `offset`.
    ///
    /// # Errors
    /// When programming fails or the range is outside the slot.
    fn program(&mut self, slot: Slot, offset: usize, data: &[u8]) -> Result<(), Self::Error>;

    /// A hardware monotonic counter that flash images cannot roll back (a secure element's,
    /// or OTP bits burnt one by one), for products that must detect rollback: an attacker
    /// restoring an old flash image, or damaging the newest slot so that the device falls back
    /// to the older one. The engine raises it to each record's sequence number once that record
    /// is written and read back, and at boot treats a record numbered below it as corrupt (and
    /// an erased store as corrupt once it is above 0). `Ok(None)`, the default: no counter.
    ///
    /// # Errors
    /// When the counter cannot be read.
    fn counter(&mut self) -> Result<Option<u32>, Self::Error> {
        Ok(None)
    }

    /// Raises the counter of [`Storage::counter`] to `sequence`; a counter already there (or
    /// past it) stays. Called after every record write (an error is reported as a failed
    /// write, the record being in the store already) and when boot restores a record numbered
    /// above the counter. The default does nothing.
    ///
    /// # Errors
    /// When the counter cannot be written.
    fn raise_counter(&mut self, sequence: u32) -> Result<(), Self::Error> {
        let _ = sequence;
        Ok(())
    }
}

/// Why an in-memory storage operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum MemError {
    /// The simulated power cut happened during this operation.
    #[error("power cut")]
    PowerCut,
    /// The range is outside the slot.
    #[error("range outside the slot")]
    OutOfRange,
}

/// Two slots of `N` bytes in RAM with flash semantics, and fault injection: after
/// [`MemStorage::cut_after`]`(n)` the `n + 1`-th programmed byte, and every later one, fails
/// with [`MemError::PowerCut`] (erases still complete, so `cut_after(0)` leaves an erased
/// slot); [`MemStorage::tear_next_erase`] makes the next erase stop half way.
/// [`MemStorage::power_on`] ends the cut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemStorage<const N: usize> {
    slots: [[u8; N]; 2],
    budget: Option<u32>,
    tear_erase: bool,
    /// Bytes programmed since creation.
    pub programmed: u64,
    /// Slot erases since creation.
    pub erases: u64,
}

impl<const N: usize> MemStorage<N> {
    /// Blank (erased) flash.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            slots: [[0xFF; N]; 2],
            budget: None,
            tear_erase: false,
            programmed: 0,
            erases: 0,
        }
    }

    /// Cuts power after `bytes` more programmed bytes.
    pub const fn cut_after(&mut self, bytes: u32) {
        self.budget = Some(bytes);
    }

    /// The next erase stops half way, then power is cut.
    pub const fn tear_next_erase(&mut self) {
        self.tear_erase = true;
    }

    /// Power is back: operations work again.
    pub const fn power_on(&mut self) {
        self.budget = None;
        self.tear_erase = false;
    }

    /// The raw bytes of `slot` (to corrupt them in tests, or to inspect).
    pub const fn slot_mut(&mut self, slot: Slot) -> &mut [u8; N] {
        match slot {
            Slot::A => &mut self.slots[0],
            Slot::B => &mut self.slots[1],
        }
    }

    fn range(&mut self, slot: Slot, offset: usize, len: usize) -> Result<&mut [u8], MemError> {
        let end = offset.checked_add(len).ok_or(MemError::OutOfRange)?;
        self.slots
            .get_mut(slot.index())
            .and_then(|s| s.get_mut(offset..end))
            .ok_or(MemError::OutOfRange)
    }
}

impl<const N: usize> Default for MemStorage<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Storage for MemStorage<N> {
    type Error = MemError;

    fn slot_len(&self) -> usize {
        N
    }

    fn read(&mut self, slot: Slot, offset: usize, buf: &mut [u8]) -> Result<(), MemError> {
        buf.copy_from_slice(self.range(slot, offset, buf.len())?);
        Ok(())
    }

    fn erase(&mut self, slot: Slot) -> Result<(), MemError> {
        self.erases += 1;
        let torn = core::mem::take(&mut self.tear_erase);
        let bytes = self.range(slot, 0, N)?;
        let stop = if torn { N / 2 } else { N };
        bytes.iter_mut().take(stop).for_each(|b| *b = 0xFF);
        if torn {
            self.budget = Some(0);
            return Err(MemError::PowerCut);
        }
        Ok(())
    }

    fn program(&mut self, slot: Slot, offset: usize, data: &[u8]) -> Result<(), MemError> {
        let mut budget = self.budget;
        let dst = self.range(slot, offset, data.len())?;
        let mut written = 0u64;
        let mut result = Ok(());
        for (d, s) in dst.iter_mut().zip(data) {
            if let Some(left) = budget.as_mut() {
                if *left == 0 {
                    result = Err(MemError::PowerCut);
                    break;
                }
                *left -= 1;
            }
            *d &= *s;
            written += 1;
        }
        self.budget = budget;
        self.programmed += written;
        result
    }
}

#[cfg(feature = "std")]
mod file {
    use super::{Slot, Storage};
    use alloc::{format, vec};
    use std::fs::{File, OpenOptions};
    use std::io::{self, Read, Seek, SeekFrom, Write};
    use std::path::Path;

    /// Two slots of `slot_len` bytes in a file, with flash semantics (erase to `0xFF`, program
    /// clears bits), synced to disk after every erase and program. For simulators, gateways
    /// and Linux-based controllers.
    #[derive(Debug)]
    pub struct FileStorage {
        file: File,
        slot_len: usize,
    }

    impl FileStorage {
        /// Opens `path`, creating a blank store of two `slot_len`-byte slots if it does not
        /// exist.
        ///
        /// # Errors
        /// I/O errors, or an existing file of another size.
        pub fn open(path: impl AsRef<Path>, slot_len: usize) -> io::Result<Self> {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)?;
            let want = u64::try_from(slot_len * 2).map_err(io::Error::other)?;
            match file.metadata()?.len() {
                0 => {
                    file.write_all(&vec![0xFF; slot_len * 2])?;
                    file.sync_data()?;
                }
                n if n == want => {}
                n => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("store is {n} bytes, expected {want}"),
                    ));
                }
            }
            Ok(Self { file, slot_len })
        }

        fn seek(&mut self, slot: Slot, offset: usize, len: usize) -> io::Result<()> {
            if offset
                .checked_add(len)
                .is_none_or(|end| end > self.slot_len)
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "range outside the slot",
                ));
            }
            let at = slot.index() * self.slot_len + offset;
            self.file.seek(SeekFrom::Start(
                u64::try_from(at).map_err(io::Error::other)?,
            ))?;
            Ok(())
        }
    }

    impl Storage for FileStorage {
        type Error = io::Error;

        fn slot_len(&self) -> usize {
            self.slot_len
        }

        fn read(&mut self, slot: Slot, offset: usize, buf: &mut [u8]) -> io::Result<()> {
            self.seek(slot, offset, buf.len())?;
            self.file.read_exact(buf)
        }

        fn erase(&mut self, slot: Slot) -> io::Result<()> {
            self.seek(slot, 0, self.slot_len)?;
            self.file.write_all(&vec![0xFF; self.slot_len])?;
            self.file.sync_data()
        }

        fn program(&mut self, slot: Slot, offset: usize, data: &[u8]) -> io::Result<()> {
            let mut cells = vec![0u8; data.len()];
            self.read(slot, offset, &mut cells)?;
            cells.iter_mut().zip(data).for_each(|(c, d)| *c &= *d);
            self.seek(slot, offset, data.len())?;
            self.file.write_all(&cells)?;
            self.file.sync_data()
        }
    }
}

#[cfg(feature = "std")]
pub use file::FileStorage;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_only_clears_bits_and_cut_stops_mid_write() {
        let mut s = MemStorage::<8>::new();
        s.program(Slot::A, 0, &[0x0F, 0xF0]).unwrap();
        s.program(Slot::A, 0, &[0xFF, 0x3C]).unwrap();
        assert_eq!(&s.slot_mut(Slot::A)[..3], &[0x0F, 0x30, 0xFF]);
        s.erase(Slot::A).unwrap();
        s.cut_after(2);
        assert_eq!(
            s.program(Slot::A, 0, &[1, 2, 3, 4]),
            Err(MemError::PowerCut)
        );
        assert_eq!(&s.slot_mut(Slot::A)[..4], &[1, 2, 0xFF, 0xFF]);
        s.power_on();
        s.erase(Slot::B).unwrap();
        assert_eq!(s.program(Slot::B, 7, &[0, 0]), Err(MemError::OutOfRange));
        s.tear_next_erase();
        s.program(Slot::B, 0, &[0; 8]).unwrap();
        assert_eq!(s.erase(Slot::B), Err(MemError::PowerCut));
        assert_eq!(s.slot_mut(Slot::B), &[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
    }

    #[test]
    fn file_storage_keeps_flash_semantics_across_reopen() {
        let path = std::env::temp_dir().join(std::format!("paylock-store-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        {
            let mut s = FileStorage::open(&path, 16).unwrap();
            let mut buf = [0u8; 4];
            s.read(Slot::B, 12, &mut buf).unwrap();
            assert_eq!(buf, [0xFF; 4]);
            s.program(Slot::B, 12, &[0xF0, 0x0F, 0, 0xFF]).unwrap();
            s.program(Slot::B, 12, &[0x3C, 0xFF, 0xFF, 0xFF]).unwrap();
            assert!(s.program(Slot::B, 13, &[0; 4]).is_err());
        }
        let mut s = FileStorage::open(&path, 16).unwrap();
        let mut buf = [0u8; 4];
        s.read(Slot::B, 12, &mut buf).unwrap();
        assert_eq!(buf, [0x30, 0x0F, 0, 0xFF]);
        s.erase(Slot::B).unwrap();
        s.read(Slot::B, 12, &mut buf).unwrap();
        assert_eq!(buf, [0xFF; 4]);
        assert!(FileStorage::open(&path, 32).is_err());
        std::fs::remove_file(&path).unwrap();
    }
}

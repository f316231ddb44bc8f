//! The one bounds-checked little-endian reader over a byte slice.
//!
//! Every parser of untrusted binlog or wire bytes (GTID events, GTID sets, row
//! images, partial JSON diffs, transaction payload headers) reads through
//! [`Cursor`], so a short input is reported the same way everywhere — as a
//! [`Truncated`] with the offset, the bytes needed and the bytes left, which each
//! module maps into its own error — and no length read from the input can make
//! a parser panic, wrap an offset, or allocate before the bytes are known to be
//! there. A failed read never moves the cursor.

/// A read ran past the end: at byte `offset`, `needed` bytes were asked for but
/// only `available` were left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated {
    pub offset: usize,
    pub needed: u64,
    pub available: usize,
}

/// Why [`Cursor::packed`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackedError {
    /// The first byte, or the bytes it announces, are past the end.
    Truncated(Truncated),
    /// The first byte is 0xfb or 0xff: not the start of a packed integer.
    Invalid(u8),
}

/// A position in a byte slice; every read checks the bounds first.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub const fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, pos: 0 }
    }

    /// Bytes read so far: the offset of the next read.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    #[inline]
    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    fn truncated(&self, needed: usize) -> Truncated {
        Truncated {
            offset: self.pos,
            needed: needed as u64,
            available: self.remaining(),
        }
    }

    /// The next `n` bytes.
    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Truncated> {
        match self.rest().get(..n) {
            Some(slice) => {
                self.pos = self.pos.saturating_add(n);
                Ok(slice)
            }
            None => Err(self.truncated(n)),
        }
    }

    /// Steps over the next `n` bytes.
    #[inline]
    pub fn skip(&mut self, n: usize) -> Result<(), Truncated> {
        self.take(n).map(|_| ())
    }

    /// The next `N` bytes, copied.
    #[inline]
    pub fn take_array<const N: usize>(&mut self) -> Result<[u8; N], Truncated> {
        match self.rest().first_chunk::<N>() {
            Some(array) => {
                self.pos = self.pos.saturating_add(N);
                Ok(*array)
            }
            None => Err(self.truncated(N)),
        }
    }

    #[inline]
    pub fn u8(&mut self) -> Result<u8, Truncated> {
        self.take_array().map(u8::from_le_bytes)
    }

    #[inline]
    pub fn u16(&mut self) -> Result<u16, Truncated> {
        self.take_array().map(u16::from_le_bytes)
    }

    #[inline]
    pub fn u32(&mut self) -> Result<u32, Truncated> {
        self.take_array().map(u32::from_le_bytes)
    }

    #[inline]
    pub fn u64(&mut self) -> Result<u64, Truncated> {
        self.take_array().map(u64::from_le_bytes)
    }

    #[inline]
    pub fn i64(&mut self) -> Result<i64, Truncated> {
        self.take_array().map(i64::from_le_bytes)
    }

    /// A packed integer of the MySQL protocol (`net_field_length`): one byte
    /// 0..=250, or 0xfc/0xfd/0xfe followed by 2/3/8 little-endian bytes.
    pub fn packed(&mut self) -> Result<u64, PackedError> {
        let start = self.pos;
        let first = self.u8().map_err(PackedError::Truncated)?;
        let n = match first {
            0..=250 => return Ok(u64::from(first)),
            0xfc => 2,
            0xfd => 3,
            0xfe => 8,
            _ => {
                self.pos = start;
                return Err(PackedError::Invalid(first));
            }
        };
        match self.take(n) {
            Ok(b) => Ok(b
                .iter()
                .rev()
                .fold(0u64, |acc, x| (acc << 8) | u64::from(*x))),
            Err(t) => {
                self.pos = start;
                Err(PackedError::Truncated(t))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_in_order() {
        let bytes = [
            0x01, // u8
            0x02, 0x01, // u16
            0x04, 0x03, 0x02, 0x01, // u32
            0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // u64
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // i64
            0xaa, 0xbb, 0xcc, 0xdd, // take, skip, take_array
        ];
        let mut c = Cursor::new(&bytes);
        assert_eq!(c.u8(), Ok(1));
        assert_eq!(c.u16(), Ok(0x0102));
        assert_eq!(c.u32(), Ok(0x0102_0304));
        assert_eq!(c.u64(), Ok(0x0102_0304_0506_0708));
        assert_eq!(c.i64(), Ok(-1));
        assert_eq!(c.pos(), 23);
        assert_eq!(c.take(1), Ok(&[0xaa][..]));
        assert_eq!(c.skip(1), Ok(()));
        assert_eq!(c.take_array::<2>(), Ok([0xcc, 0xdd]));
        assert_eq!((c.pos(), c.remaining()), (27, 0));
        assert_eq!(c.take(0), Ok(&[][..]));
    }

    #[test]
    fn truncation_at_each_width_reports_and_does_not_move() {
        let bytes = [0u8; 10];
        for (width, read) in [
            (
                1u64,
                (|c: &mut Cursor| c.u8().map(|_| ())) as fn(&mut Cursor) -> Result<(), Truncated>,
            ),
            (2, |c| c.u16().map(|_| ())),
            (4, |c| c.u32().map(|_| ())),
            (8, |c| c.u64().map(|_| ())),
            (8, |c| c.i64().map(|_| ())),
            (3, |c| c.take_array::<3>().map(|_| ())),
            (5, |c| c.take(5).map(|_| ())),
            (5, |c| c.skip(5)),
        ] {
            let at = 10 - (width as usize - 1);
            let mut c = Cursor::new(&bytes);
            c.skip(at).unwrap();
            let want = Truncated {
                offset: at,
                needed: width,
                available: width as usize - 1,
            };
            assert_eq!(read(&mut c), Err(want), "width {width}");
            assert_eq!(c.pos(), at);
            // One byte more and it fits.
            let mut c = Cursor::new(&bytes);
            c.skip(at - 1).unwrap();
            assert_eq!(read(&mut c), Ok(()), "width {width}");
            assert_eq!(c.remaining(), 0);
        }
        assert_eq!(
            Cursor::new(&[]).u8(),
            Err(Truncated {
                offset: 0,
                needed: 1,
                available: 0
            })
        );
    }

    #[test]
    fn huge_lengths_do_not_overflow() {
        let bytes = [0u8; 4];
        let mut c = Cursor::new(&bytes);
        c.skip(3).unwrap();
        let want = Truncated {
            offset: 3,
            needed: usize::MAX as u64,
            available: 1,
        };
        assert_eq!(c.take(usize::MAX), Err(want));
        assert_eq!(c.skip(usize::MAX), Err(want));
        assert_eq!(
            c.take(usize::MAX - 2).map(|_| ()),
            Err(Truncated {
                needed: (usize::MAX - 2) as u64,
                ..want
            })
        );
        assert_eq!(c.pos(), 3);
        assert_eq!(c.u8(), Ok(0));
    }

    #[test]
    fn packed_integers() {
        let mut c = Cursor::new(&[
            250, 0xfc, 0x34, 0x12, 0xfd, 1, 2, 3, 0xfe, 1, 0, 0, 0, 0, 0, 0, 0x80,
        ]);
        assert_eq!(c.packed(), Ok(250));
        assert_eq!(c.packed(), Ok(0x1234));
        assert_eq!(c.packed(), Ok(0x030201));
        assert_eq!(c.packed(), Ok(0x8000_0000_0000_0001));
        assert_eq!(
            c.packed(),
            Err(PackedError::Truncated(Truncated {
                offset: 17,
                needed: 1,
                available: 0
            }))
        );
        for bad in [0xfb, 0xff] {
            let bytes = [bad, 0, 0];
            let mut c = Cursor::new(&bytes);
            assert_eq!(c.packed(), Err(PackedError::Invalid(bad)));
            assert_eq!(c.pos(), 0);
        }
        // The announced bytes are missing: the cursor stays at the integer's start.
        let mut c = Cursor::new(&[7, 0xfd, 1, 2]);
        assert_eq!(c.packed(), Ok(7));
        assert_eq!(
            c.packed(),
            Err(PackedError::Truncated(Truncated {
                offset: 2,
                needed: 3,
                available: 2
            }))
        );
        assert_eq!(c.pos(), 1);
    }
}

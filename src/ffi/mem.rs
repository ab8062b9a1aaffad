//! Memory handed to C hosts: buffers and strings allocated with the C allocator (`malloc`/`realloc`), so a host
//! may release them with `free()` as well as with `svcshell_buffer_free` / `svcshell_string_free`.
//!
//! Nothing here panics on allocation failure: every allocation reports `None`/`Err(OutOfMemory)` instead, and the
//! caller turns that into `SVCSHELL_OUT_OF_MEMORY`.

use std::ffi::c_char;
use std::ptr;

/// `malloc` or `realloc` returned NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutOfMemory;

/// Copies `bytes` into a new `malloc`ed buffer (at least one byte is allocated, so the pointer is never NULL on
/// success).
pub(crate) fn malloc_copy(bytes: &[u8]) -> Option<*mut u8> {
    // SAFETY: malloc may be called with any size; a NULL result is checked before use.
    let p = unsafe { libc::malloc(bytes.len().max(1)) } as *mut u8;
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` is a fresh allocation of at least `bytes.len()` bytes, so it cannot overlap `bytes`.
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
    Some(p)
}

/// Copies `s` into a new `malloc`ed NUL-terminated string; interior NUL bytes become spaces so the C string holds
/// the whole text. NULL when out of memory.
pub(crate) fn malloc_cstring(s: &str) -> *mut c_char {
    let len = s.len();
    // SAFETY: malloc may be called with any size; a NULL result is checked before use.
    let p = unsafe { libc::malloc(len + 1) } as *mut u8;
    if p.is_null() {
        return ptr::null_mut();
    }
    for (i, &b) in s.as_bytes().iter().enumerate() {
        // SAFETY: `i < len` and the allocation holds `len + 1` bytes.
        unsafe { *p.add(i) = if b == 0 { b' ' } else { b } };
    }
    // SAFETY: offset `len` is the last byte of the `len + 1` byte allocation.
    unsafe { *p.add(len) = 0 };
    p as *mut c_char
}

/// A growable byte buffer in `malloc`ed memory: the output of a batch call, handed to the host without a copy.
pub(crate) struct MallocBuf {
    ptr: *mut u8,
    len: usize,
    cap: usize,
}

impl MallocBuf {
    /// An empty buffer with room for `cap` bytes (no allocation when `cap` is 0).
    pub(crate) fn with_capacity(cap: usize) -> Result<MallocBuf, OutOfMemory> {
        let mut b = MallocBuf {
            ptr: ptr::null_mut(),
            len: 0,
            cap: 0,
        };
        b.reserve(cap)?;
        Ok(b)
    }

    /// Makes room for `additional` more bytes (growing at least geometrically).
    fn reserve(&mut self, additional: usize) -> Result<(), OutOfMemory> {
        let need = self.len.checked_add(additional).ok_or(OutOfMemory)?;
        if need <= self.cap {
            return Ok(());
        }
        let new_cap = need.max(self.cap.saturating_mul(2)).max(64);
        if new_cap > isize::MAX as usize {
            return Err(OutOfMemory);
        }
        // SAFETY: `self.ptr` is NULL or a live allocation from malloc/realloc owned by this buffer; realloc(NULL, n)
        // is malloc(n). On failure realloc returns NULL and leaves the old block alone (still owned by `self`).
        let p = unsafe { libc::realloc(self.ptr as *mut libc::c_void, new_cap) } as *mut u8;
        if p.is_null() {
            return Err(OutOfMemory);
        }
        self.ptr = p;
        self.cap = new_cap;
        Ok(())
    }

    /// Appends `bytes`.
    pub(crate) fn extend(&mut self, bytes: &[u8]) -> Result<(), OutOfMemory> {
        self.reserve(bytes.len())?;
        if !bytes.is_empty() {
            // SAFETY: `reserve` made `len + bytes.len() <= cap`, so the destination range lies inside this buffer's
            // allocation, which `bytes` (borrowed from elsewhere) cannot overlap.
            unsafe {
                ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.add(self.len), bytes.len())
            };
            self.len += bytes.len();
        }
        Ok(())
    }

    /// Appends `bytes` then one `\n`.
    pub(crate) fn extend_line(&mut self, bytes: &[u8]) -> Result<(), OutOfMemory> {
        self.reserve(bytes.len() + 1)?;
        self.extend(bytes)?;
        self.extend(b"\n")
    }

    /// Hands the bytes over: `(NULL, 0)` when empty (the block, if any, is freed), else the `malloc`ed block and
    /// its length, which the receiver must `free`.
    pub(crate) fn into_raw(self) -> (*mut u8, usize) {
        let me = std::mem::ManuallyDrop::new(self);
        if me.len == 0 {
            // SAFETY: `me.ptr` is NULL or owned by this buffer, and `ManuallyDrop` keeps `Drop` from freeing it again.
            unsafe { libc::free(me.ptr as *mut libc::c_void) };
            return (ptr::null_mut(), 0);
        }
        (me.ptr, me.len)
    }
}

impl Drop for MallocBuf {
    fn drop(&mut self) {
        // SAFETY: `self.ptr` is NULL or a block from malloc/realloc that this buffer still owns.
        unsafe { libc::free(self.ptr as *mut libc::c_void) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malloc_buf_grows_and_hands_over() {
        let mut b = MallocBuf::with_capacity(0).unwrap();
        for i in 0..1000u32 {
            b.extend_line(i.to_string().as_bytes()).unwrap();
        }
        let expected: String = (0..1000u32).map(|i| format!("{i}\n")).collect();
        let (p, n) = b.into_raw();
        assert_eq!(n, expected.len());
        // SAFETY: `into_raw` returned a live block of `n` bytes, freed right after.
        let got = unsafe { std::slice::from_raw_parts(p, n) }.to_vec();
        // SAFETY: `p` came from malloc/realloc and is released once.
        unsafe { libc::free(p as *mut libc::c_void) };
        assert_eq!(got, expected.as_bytes());
        let (p, n) = MallocBuf::with_capacity(10).unwrap().into_raw();
        assert!(p.is_null() && n == 0);
    }

    #[test]
    fn strings_and_copies() {
        let s = malloc_cstring("a\0b");
        // SAFETY: `s` is a NUL-terminated malloc'd string, freed right after.
        let got = unsafe { std::ffi::CStr::from_ptr(s) }.to_bytes().to_vec();
        // SAFETY: `s` came from malloc and is released once.
        unsafe { libc::free(s as *mut libc::c_void) };
        assert_eq!(got, b"a b");
        let p = malloc_copy(b"").unwrap();
        assert!(!p.is_null());
        // SAFETY: `p` came from malloc and is released once.
        unsafe { libc::free(p as *mut libc::c_void) };
    }
}

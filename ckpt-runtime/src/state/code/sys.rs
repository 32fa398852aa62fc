//! The OS calls of the code-pointer module: the running executable's ELF program headers
//! (`dl_iterate_phdr`) and, when it has no build-id, its file (`/proc/self/exe`).

use std::io::Read;

/// What the process's own program headers say about its executable.
#[derive(Debug, Default)]
pub(super) struct Program {
    /// The GNU build-id note (`NT_GNU_BUILD_ID`), if the linker wrote one.
    pub build_id: Option<Vec<u8>>,
    /// The executable's code: address ranges `[start, end)` of its executable segments.
    pub text: Vec<(usize, usize)>,
}

/// Reads the main program's headers (the first object `dl_iterate_phdr` reports).
#[cfg(target_os = "linux")]
pub(super) fn main_program() -> Program {
    use std::os::raw::{c_int, c_void};

    /// `NT_GNU_BUILD_ID`, with the note name `"GNU\0"`.
    const NT_GNU_BUILD_ID: u32 = 3;

    unsafe extern "C" fn first_object(
        info: *mut libc::dl_phdr_info,
        _size: usize,
        data: *mut c_void,
    ) -> c_int {
        // SAFETY: `data` is the `&mut Program` passed below, alive for the whole call, and
        // `info` is valid for the duration of the callback (dl_iterate_phdr's contract).
        let (out, info) = unsafe { (&mut *data.cast::<Program>(), &*info) };
        if info.dlpi_phdr.is_null() {
            return 1;
        }
        // SAFETY: `dlpi_phdr` points at `dlpi_phnum` program headers of the loaded object.
        let phdrs = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize) };
        let base = info.dlpi_addr as usize;
        for ph in phdrs {
            let start = base.wrapping_add(ph.p_vaddr as usize);
            let len = ph.p_memsz as usize;
            if ph.p_type == libc::PT_LOAD && ph.p_flags & libc::PF_X != 0 {
                out.text.push((start, start.saturating_add(len)));
            }
            if ph.p_type == libc::PT_NOTE && out.build_id.is_none() {
                // SAFETY: a PT_NOTE segment of a loaded object is mapped readable at
                // `start` for `p_memsz` bytes (it lies inside a PT_LOAD segment).
                let notes = unsafe { std::slice::from_raw_parts(start as *const u8, len) };
                out.build_id = find_note(notes, NT_GNU_BUILD_ID, b"GNU\0").map(<[u8]>::to_vec);
            }
        }
        // The first object is the main program: stop.
        1
    }

    let mut out = Program::default();
    // SAFETY: the callback only reads the headers it is handed and writes `out`, which
    // outlives the call.
    unsafe {
        libc::dl_iterate_phdr(Some(first_object), (&mut out as *mut Program).cast());
    }
    out
}

#[cfg(not(target_os = "linux"))]
pub(super) fn main_program() -> Program {
    Program::default()
}

/// The descriptor of the note of type `ty` and name `name` in a note segment.
pub(super) fn find_note<'a>(mut notes: &'a [u8], ty: u32, name: &[u8]) -> Option<&'a [u8]> {
    let word = |b: &[u8], i: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(b.get(i..i + 4)?.try_into().ok()?))
    };
    let pad = |n: usize| n.checked_add(3).map(|n| n & !3);
    while notes.len() >= 12 {
        let (namesz, descsz, nty) = (
            word(notes, 0)? as usize,
            word(notes, 4)? as usize,
            word(notes, 8)?,
        );
        let name_end = 12usize.checked_add(namesz)?;
        let desc_start = 12usize.checked_add(pad(namesz)?)?;
        let desc_end = desc_start.checked_add(descsz)?;
        let next = desc_start.checked_add(pad(descsz)?)?;
        let this_name = notes.get(12..name_end)?;
        let desc = notes.get(desc_start..desc_end)?;
        if nty == ty && this_name == name {
            return Some(desc);
        }
        notes = notes.get(next..)?;
    }
    None
}

/// XXH3-64 of the running executable's file: `/proc/self/exe` on Linux (the file this
/// process runs, even if it was replaced or removed since), else `current_exe()`.
pub(super) fn exe_file_hash() -> Option<u64> {
    use std::hash::Hasher as _;
    #[cfg(target_os = "linux")]
    let path = std::path::PathBuf::from("/proc/self/exe");
    #[cfg(not(target_os = "linux"))]
    let path = std::env::current_exe().ok()?;
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = twox_hash::XxHash3_64::with_seed(0);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match f.read(&mut buf) {
            Ok(0) => return Some(h.finish()),
            Ok(n) => h.write(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}
